// Long random secrets (robot tokens, personal access tokens, refresh tokens). They carry
// 256 bits of entropy, so a sha256 of the secret is a safe verifier and a direct lookup key.
import { createHash, randomBytes } from 'node:crypto';
import { SECRET_PREFIX, type CredentialKind } from '../core/identity.ts';

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
