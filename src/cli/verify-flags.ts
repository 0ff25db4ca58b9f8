// What `custody verify` and `custody verify-attestation` are told to trust, from their
// flags (cosign's names where cosign has them): --key (a PEM public key, or an OpenPGP
// keyring for GPG), the keyless identity flags with a trusted root, or notation's trust
// policy and trust store.
import { readFile } from 'node:fs/promises';
import { UsageError } from '../core/errors.ts';
import { loadPublicKeys } from '../trust/sigstore/keys.ts';
import type { ImageTrust } from '../trust/bundle/image-verify.ts';
import { certificateIdentity } from '../trust/keyless/identity.ts';
import { defaultTrustedRootPath, loadTrustedRoot, TrustedRootError } from '../trust/keyless/trusted-root.ts';

export const VERIFY_FLAGS = {
  key: { type: 'string' },
  'trusted-root': { type: 'string' },
  'certificate-identity': { type: 'string' },
  'certificate-identity-regexp': { type: 'string' },
  'certificate-oidc-issuer': { type: 'string' },
  'certificate-oidc-issuer-regexp': { type: 'string' },
  'notation-trust-policy': { type: 'string' },
  'trust-store': { type: 'string' },
} as const;

export type VerifyTrust =
  | { readonly kind: 'gpg'; readonly keyring: Buffer }
  | { readonly kind: 'sigstore'; readonly sigstore: ImageTrust }
  | { readonly kind: 'notation'; readonly policy: string; readonly trustStore: string | undefined };

const KEYLESS_FLAGS = ['certificate-identity', 'certificate-identity-regexp', 'certificate-oidc-issuer', 'certificate-oidc-issuer-regexp'] as const;

export async function trustFromFlags(values: Readonly<Record<string, unknown>>, env: Readonly<Record<string, string | undefined>> = process.env): Promise<VerifyTrust> {
  const text = (name: string): string | undefined => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  const keyFile = text('key');
  const keyless = KEYLESS_FLAGS.some((flag) => text(flag) !== undefined);
  const notation = text('notation-trust-policy');
  if (notation !== undefined) {
    if (keyFile !== undefined || keyless) throw new UsageError('--notation-trust-policy verifies notation signatures: give it without --key or the certificate flags');
    return { kind: 'notation', policy: notation, trustStore: text('trust-store') };
  }
  if (text('trust-store') !== undefined) throw new UsageError('--trust-store goes with --notation-trust-policy');
  if (keyFile === undefined && !keyless) throw new UsageError('missing --key PUBKEY (or --certificate-identity and --certificate-oidc-issuer for keyless signatures, or --notation-trust-policy)');

  let keys: ImageTrust['keys'] = [];
  if (keyFile !== undefined) {
    let raw: Buffer;
    try {
      raw = await readFile(keyFile);
    } catch (error) {
      throw new Error(`cannot read the public key ${keyFile}: ${(error as Error).message}`);
    }
    // An OpenPGP key (armored, or a binary keyring: its first octet has bit 7 set) selects
    // GPG simple-signing signatures; a PEM key, sigstore ones.
    const gpg = raw.toString('latin1').includes('-----BEGIN PGP PUBLIC KEY BLOCK-----') || (raw.length > 0 && (raw[0]! & 0x80) !== 0);
    if (gpg) {
      if (keyless) throw new UsageError('an OpenPGP keyring verifies GPG signatures: give it without the certificate flags');
      return { kind: 'gpg', keyring: raw };
    }
    keys = loadPublicKeys(raw.toString('utf8'));
  }
  const rootFlag = text('trusted-root');
  // Keyless needs the root; key bundles use it for their log entries when one is given.
  const rootPath = rootFlag ?? (keyless ? defaultTrustedRootPath(env) : undefined);
  let root;
  if (rootPath !== undefined) {
    try {
      root = await loadTrustedRoot(rootPath);
    } catch (error) {
      if (error instanceof TrustedRootError) throw new UsageError(error.message);
      throw error;
    }
  }
  const identity = keyless
    ? certificateIdentity({
        identity: text('certificate-identity'),
        identityRegexp: text('certificate-identity-regexp'),
        issuer: text('certificate-oidc-issuer'),
        issuerRegexp: text('certificate-oidc-issuer-regexp'),
      })
    : undefined;
  return { kind: 'sigstore', sigstore: { keys, root, identity } };
}
