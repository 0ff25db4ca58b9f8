// Making a sigstore signature as cosign does: the payload's bytes are signed with the
// private key, ECDSA over SHA-256 with an ASN.1 DER signature (RSA: PKCS#1 v1.5 SHA-256;
// Ed25519: the bytes themselves), and the signature travels base64-encoded in the
// dev.cosignproject.cosign/signature annotation of the payload's layer.
import { sign as cryptoSign, type KeyObject } from 'node:crypto';
import { SIGSTORE_SIGNATURE_ANNOTATION, type SigstoreSignature } from '../../core/signatures.ts';
import { serializePayload } from './payload.ts';

export interface SignRequest {
  /** critical.identity.docker-reference. */
  readonly identity: string;
  /** critical.image.docker-manifest-digest. */
  readonly manifestDigest: string;
  /** The optional section (cosign's -a annotations); null when there are none. */
  readonly optional?: Readonly<Record<string, unknown>> | null;
}

export function signBytes(privateKey: KeyObject, bytes: Buffer): Buffer {
  return cryptoSign(privateKey.asymmetricKeyType === 'ed25519' ? null : 'sha256', bytes, privateKey);
}

export function createSigstoreSignature(privateKey: KeyObject, request: SignRequest): SigstoreSignature {
  const payload = serializePayload(request.identity, request.manifestDigest, request.optional ?? null);
  const signature = signBytes(privateKey, payload);
  return { format: 'sigstore', payload, signature, annotations: { [SIGSTORE_SIGNATURE_ANNOTATION]: signature.toString('base64') } };
}
