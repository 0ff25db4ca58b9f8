// Long random secrets (robot tokens, personal access tokens, refresh tokens). They carry
// 256 bits of entropy, so a sha256 of the secret is a safe verifier and a direct lookup key.
import { createHash, randomBytes } from 'node:crypto';
import type { CredentialKind } from '../core/identity.ts';

// A recognisable prefix per kind: secret scanners can find leaked tokens, and the
// authenticator knows what it was given without trying every table.
export const SECRET_PREFIX: Readonly<Record<CredentialKind, string>> = {
  robot: 'cst_robot_',
  personal: 'cst_pat_',
  refresh: 'cst_refresh_',
};

export function generateSecret(kind: CredentialKind): string {
  return SECRET_PREFIX[kind] + randomBytes(32).toString('base64url');
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function secretKind(secret: string): CredentialKind | null {
  for (const [kind, prefix] of Object.entries(SECRET_PREFIX) as [CredentialKind, string][]) {
    if (secret.startsWith(prefix)) return kind;
  }
  return null;
}
