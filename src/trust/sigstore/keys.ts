// Sigstore key pairs in cosign's formats. The private key file is a PEM block whose body
// is the go-securesystemslib encrypted JSON (encrypted.ts) around the PKCS#8 DER key;
// cosign 2 labels it "ENCRYPTED SIGSTORE PRIVATE KEY", cosign 1 and containers/image up
// to skopeo 1.9 "ENCRYPTED COSIGN PRIVATE KEY" (we read both and write the label asked
// for). The public key is a PEM "PUBLIC KEY" (SPKI DER). ECDSA P-256 is cosign's default
// and what `cosign generate-key-pair` makes; Ed25519 and RSA keys are what cosign can
// import and sign with, so they are read too.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { decryptWithPassphrase, DecryptionError, encryptWithPassphrase } from './encrypted.ts';
import { decodePem, encodePem } from './pem.ts';

export const SIGSTORE_PRIVATE_KEY_PEM = 'ENCRYPTED SIGSTORE PRIVATE KEY';
export const COSIGN_PRIVATE_KEY_PEM = 'ENCRYPTED COSIGN PRIVATE KEY';
export const PUBLIC_KEY_PEM = 'PUBLIC KEY';

export type KeyAlgorithm = 'ecdsa-p256' | 'ed25519';

export interface GeneratedKeyPair {
  /** The encrypted private key PEM (cosign.key). */
  readonly privateKeyPem: string;
  /** The SPKI public key PEM (cosign.pub). */
  readonly publicKeyPem: string;
  readonly keyId: string;
}

export class KeyError extends Error {}

export async function generateKeyPair(password: Buffer, options: { algorithm?: KeyAlgorithm; label?: string } = {}): Promise<GeneratedKeyPair> {
  const { privateKey, publicKey } = options.algorithm === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  const encrypted = await encryptWithPassphrase(pkcs8, password);
  return {
    privateKeyPem: encodePem(options.label ?? SIGSTORE_PRIVATE_KEY_PEM, encrypted),
    publicKeyPem: encodePem(PUBLIC_KEY_PEM, publicKey.export({ type: 'spki', format: 'der' })),
    keyId: publicKeyId(publicKey),
  };
}

/** Decrypts a cosign private key file's contents. */
export async function loadPrivateKey(pem: string, password: Buffer): Promise<KeyObject> {
  const block = decodePem(pem)[0];
  if (block === undefined) throw new KeyError('the private key file holds no PEM block');
  if (block.type !== SIGSTORE_PRIVATE_KEY_PEM && block.type !== COSIGN_PRIVATE_KEY_PEM) {
    throw new KeyError(`unsupported private key type "${block.type}" (expected ${SIGSTORE_PRIVATE_KEY_PEM})`);
  }
  let der: Buffer;
  try {
    der = await decryptWithPassphrase(block.bytes, password);
  } catch (error) {
    if (error instanceof DecryptionError) throw new KeyError(`cannot decrypt the private key: ${error.message}`);
    throw error;
  }
  const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  checkSupported(key);
  return key;
}

/**
 * Every public key in a file: SPKI "PUBLIC KEY", PKCS#1 "RSA PUBLIC KEY", the public half
 * of an unencrypted private key, or an X.509 "CERTIFICATE"'s subject key.
 */
export function loadPublicKeys(text: string): KeyObject[] {
  const keys: KeyObject[] = [];
  for (const block of decodePem(text)) {
    switch (block.type) {
      case 'PUBLIC KEY':
        keys.push(createPublicKey({ key: block.bytes, format: 'der', type: 'spki' }));
        break;
      case 'RSA PUBLIC KEY':
        keys.push(createPublicKey({ key: block.bytes, format: 'der', type: 'pkcs1' }));
        break;
      case 'CERTIFICATE':
        keys.push(new X509Certificate(block.bytes).publicKey);
        break;
      case 'PRIVATE KEY':
      case 'EC PRIVATE KEY':
        keys.push(createPublicKey(createPrivateKey({ key: block.bytes, format: 'der', type: block.type === 'PRIVATE KEY' ? 'pkcs8' : 'sec1' })));
        break;
      default:
        break;
    }
  }
  if (keys.length === 0) throw new KeyError('no public key found (expected a PEM "PUBLIC KEY" block)');
  for (const key of keys) checkSupported(key);
  return keys;
}

function checkSupported(key: KeyObject): void {
  const type = key.asymmetricKeyType;
  if (type === 'ec' && key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new KeyError(`unsupported elliptic curve ${key.asymmetricKeyDetails?.namedCurve ?? '?'} (cosign keys are P-256)`);
  }
  if (type !== 'ec' && type !== 'ed25519' && type !== 'rsa') throw new KeyError(`unsupported key type ${type ?? '?'}`);
}

/** The key's identifier in VerifiedSignature: `sha256:` + hex of the SPKI DER. */
export function publicKeyId(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return `sha256:${createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex')}`;
}
