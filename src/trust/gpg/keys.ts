// OpenPGP keyrings: any number of transferable public keys (v4 as gpg makes them, v6 of
// RFC 9580), concatenated, armored or binary — what `gpg --export [--armor]` writes and
// what policy.json's `keyPath`/`keyPaths`/`keyData` name. OpenPGP.js parses the keys; their
// self-signatures, subkey bindings (with back-signatures), expiry and revocations are
// judged by the library when a signature is verified (verify.ts).
import { readFile } from 'node:fs/promises';
import type { PublicKey } from 'openpgp';
import { OPENPGP_CONFIG, openpgpLibrary } from './library.ts';

export type { PublicKey };

export interface PublicKeyring {
  readonly keys: readonly PublicKey[];
}

export class KeyringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyringError';
  }
}

// One block per key export: `cat a.asc b.asc` keyrings have several.
const ARMORED_KEY_BLOCK = /-----BEGIN PGP (PUBLIC|PRIVATE) KEY BLOCK-----[\s\S]*?-----END PGP \1 KEY BLOCK-----/g;

export function isArmored(data: Buffer): boolean {
  return data.subarray(0, 1024).toString('latin1').includes('-----BEGIN PGP ');
}

/** Parses a keyring. Secret keys in it are reduced to their public part. */
export async function parseKeyring(data: Buffer | string): Promise<PublicKeyring> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const openpgp = await openpgpLibrary();
  const keys: PublicKey[] = [];
  try {
    if (isArmored(bytes)) {
      const blocks = bytes.toString('latin1').match(ARMORED_KEY_BLOCK) ?? [];
      if (blocks.length === 0) throw new KeyringError('no ASCII-armored OpenPGP key block found');
      for (const block of blocks) keys.push(...(await openpgp.readKeys({ armoredKeys: block, config: OPENPGP_CONFIG })));
    } else {
      keys.push(...(await openpgp.readKeys({ binaryKeys: bytes, config: OPENPGP_CONFIG })));
    }
  } catch (error) {
    if (error instanceof KeyringError) throw error;
    throw new KeyringError(`not an OpenPGP keyring: ${(error as Error).message}`);
  }
  return { keys: keys.map((key) => (key.isPrivate() ? key.toPublic() : key)) };
}

export async function readKeyringFile(path: string): Promise<PublicKeyring> {
  return parseKeyring(await readFile(path));
}

/** Merges keyrings (policy.json `keyPaths`). */
export function mergeKeyrings(...keyrings: readonly PublicKeyring[]): PublicKeyring {
  return { keys: keyrings.flatMap((keyring) => keyring.keys) };
}

/** A key's fingerprint as containers/image and gpg print it: upper-case hex. */
export function fingerprintOf(key: { getFingerprint(): string }): string {
  return key.getFingerprint().toUpperCase();
}

/** All fingerprints (primary keys) in the keyring. */
export function keyringFingerprints(keyring: PublicKeyring): string[] {
  return keyring.keys.map(fingerprintOf);
}
