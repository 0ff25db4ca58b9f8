// The passphrase-encrypted container cosign puts inside its private key PEM: the JSON
// of go-securesystemslib's (formerly go-tuf's) `encrypted` package,
//   {"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":"<32 bytes, base64>"},
//    "cipher":{"name":"nacl/secretbox","nonce":"<24 bytes, base64>"},
//    "ciphertext":"<secretbox tag || ciphertext, base64>"}
// with Go's json.Marshal field order and standard padded base64 for []byte. The scrypt
// key is 32 bytes. We write the "legacy" parameters (N=2^15): go-tuf's Decrypt, which
// skopeo 1.9 vendors, accepts nothing else; we read the three sets the current library
// accepts (2^15, 2^16, 2^17 with r=8, p=1) and refuse others, which an attacker could
// otherwise set to make decryption take forever.
import { randomBytes, scrypt } from 'node:crypto';
import { secretboxOpen, secretboxSeal, SECRETBOX_NONCE_BYTES } from './secretbox.ts';

export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

export const LEGACY_SCRYPT: ScryptParams = { N: 32768, r: 8, p: 1 };
const ACCEPTED: readonly ScryptParams[] = [LEGACY_SCRYPT, { N: 65536, r: 8, p: 1 }, { N: 131072, r: 8, p: 1 }];

export class DecryptionError extends Error {}

function deriveKey(passphrase: Buffer, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // scrypt needs 128·N·r bytes; node's default maxmem (32 MiB) is exactly that for N=2^15.
    scrypt(passphrase, salt, 32, { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 * 1024 }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** The encrypted JSON document for `plaintext`. */
export async function encryptWithPassphrase(plaintext: Buffer, passphrase: Buffer, params: ScryptParams = LEGACY_SCRYPT): Promise<Buffer> {
  const salt = randomBytes(32);
  const nonce = randomBytes(SECRETBOX_NONCE_BYTES);
  const key = await deriveKey(passphrase, salt, params);
  const ciphertext = await secretboxSeal(plaintext, nonce, key);
  const document = {
    kdf: { name: 'scrypt', params: { N: params.N, r: params.r, p: params.p }, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: ciphertext.toString('base64'),
  };
  return Buffer.from(JSON.stringify(document));
}

/** The plaintext; throws DecryptionError for a wrong passphrase or a malformed document. */
export async function decryptWithPassphrase(document: Buffer, passphrase: Buffer): Promise<Buffer> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(document.toString('utf8'));
  } catch {
    throw new DecryptionError('the encrypted key is not valid JSON');
  }
  const data = parsed as { kdf?: { name?: unknown; params?: Partial<Record<'N' | 'r' | 'p', unknown>>; salt?: unknown }; cipher?: { name?: unknown; nonce?: unknown }; ciphertext?: unknown };
  if (data.kdf?.name !== 'scrypt') throw new DecryptionError(`unknown key derivation "${String(data.kdf?.name)}" (expected scrypt)`);
  if (data.cipher?.name !== 'nacl/secretbox') throw new DecryptionError(`unknown cipher "${String(data.cipher?.name)}" (expected nacl/secretbox)`);
  const params = data.kdf.params ?? {};
  const chosen = ACCEPTED.find((candidate) => candidate.N === params.N && candidate.r === params.r && candidate.p === params.p);
  if (chosen === undefined) throw new DecryptionError(`unsupported scrypt parameters N=${String(params.N)} r=${String(params.r)} p=${String(params.p)}`);
  if (typeof data.kdf.salt !== 'string' || typeof data.cipher.nonce !== 'string' || typeof data.ciphertext !== 'string') {
    throw new DecryptionError('the encrypted key lacks its salt, nonce or ciphertext');
  }
  const nonce = Buffer.from(data.cipher.nonce, 'base64');
  if (nonce.length !== SECRETBOX_NONCE_BYTES) throw new DecryptionError('the encrypted key has a nonce of the wrong size');
  const key = await deriveKey(passphrase, Buffer.from(data.kdf.salt, 'base64'), chosen);
  const plaintext = await secretboxOpen(Buffer.from(data.ciphertext, 'base64'), nonce, key);
  if (plaintext === undefined) throw new DecryptionError('decryption failed: wrong password?');
  return plaintext;
}
