// A public key a signing policy trusts: parsed from PEM (what `cosign generate-key-pair`
// and `custody key generate` write as cosign.pub), checked to be a signing key cosign
// uses and the sigstore verifier checks (ECDSA P-256, Ed25519, RSA), and named by the sha256 of its DER
// SubjectPublicKeyInfo (`sha256:<hex>`, as src/trust/sigstore names keys): stable however
// the PEM is wrapped, and what signature listings show as the key id.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { RegistryError } from '../../core/errors.ts';
import { publicKeyId } from '../sigstore/keys.ts';

export interface ParsedPublicKey {
  readonly id: string;
  /** Normalised PEM (SPKI). */
  readonly pem: string;
  readonly key: KeyObject;
  /** Human description: "ECDSA P-256", "Ed25519", "RSA 4096". */
  readonly algorithm: string;
}

const CURVES: Readonly<Record<string, string>> = { prime256v1: 'P-256' };

export function parsePublicKey(pem: string, where = 'public key'): ParsedPublicKey {
  if (!/-----BEGIN PUBLIC KEY-----/.test(pem)) {
    throw new RegistryError('INVALID_REQUEST', `${where}: expected a PEM public key ("-----BEGIN PUBLIC KEY-----"), as cosign.pub holds`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (error) {
    throw new RegistryError('INVALID_REQUEST', `${where}: not a readable public key (${(error as Error).message})`);
  }
  const algorithm = describe(key);
  if (algorithm === null) throw new RegistryError('INVALID_REQUEST', `${where}: a ${key.asymmetricKeyType ?? 'unknown'} key cannot verify sigstore signatures (ECDSA P-256, Ed25519 or RSA)`);
  return { id: publicKeyId(key), pem: key.export({ type: 'spki', format: 'pem' }).toString(), key, algorithm };
}

function describe(key: KeyObject): string | null {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = CURVES[details.namedCurve ?? ''];
      return curve === undefined ? null : `ECDSA ${curve}`;
    }
    case 'ed25519':
      return 'Ed25519';
    case 'rsa':
      return (details.modulusLength ?? 0) >= 2048 ? `RSA ${details.modulusLength}` : null;
    default:
      return null;
  }
}
