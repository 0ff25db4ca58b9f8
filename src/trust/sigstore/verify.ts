// Verifying sigstore signatures against public keys: the signature must verify over the
// payload's exact bytes with one of the keys, the payload must parse strictly, and its
// docker-manifest-digest must be the image's manifest digest. Identity is judged by the
// caller (policy signedIdentity, or the CLI's identity.ts rule) through the optional
// requirement here; failures carry a reason so a caller can say what failed.
import { verify as cryptoVerify, type KeyObject } from 'node:crypto';
import type { SigstoreSignature, VerifiedSignature } from '../../core/signatures.ts';
import { identityMatches, type IdentityRequirement } from './identity.ts';
import { publicKeyId } from './keys.ts';
import { parsePayload, PayloadError } from './payload.ts';

export type VerificationFailure = 'no-signatures' | 'untrusted-key' | 'invalid-payload' | 'digest-mismatch' | 'identity-mismatch';

export class SignatureVerificationError extends Error {
  readonly reason: VerificationFailure;
  constructor(reason: VerificationFailure, message: string) {
    super(message);
    this.name = 'SignatureVerificationError';
    this.reason = reason;
  }
}

export function verifyBytes(publicKey: KeyObject, bytes: Buffer, signature: Buffer): boolean {
  try {
    return cryptoVerify(publicKey.asymmetricKeyType === 'ed25519' ? null : 'sha256', bytes, publicKey, signature);
  } catch {
    // A malformed DER signature is simply not a valid signature.
    return false;
  }
}

/** One signature: verified, or a SignatureVerificationError saying why not. */
export function verifySigstoreSignature(
  signature: SigstoreSignature,
  publicKeys: readonly KeyObject[],
  manifestDigest: string,
  identity?: IdentityRequirement,
): VerifiedSignature {
  const key = publicKeys.find((candidate) => verifyBytes(candidate, signature.payload, signature.signature));
  if (key === undefined) throw new SignatureVerificationError('untrusted-key', 'signed by another key (or the signed payload was changed): the signature does not verify with the given public key');
  return checkSignedPayload(signature, key, manifestDigest, identity);
}

/**
 * The rest of verification once `key` is known to have made the signature: the payload
 * parsed strictly, its digest (unless `manifestDigest` is null: the caller checks it) and
 * the identity requirement.
 */
export function checkSignedPayload(signature: SigstoreSignature, key: KeyObject, manifestDigest: string | null, identity?: IdentityRequirement): VerifiedSignature {
  let payload;
  try {
    payload = parsePayload(signature.payload);
  } catch (error) {
    if (error instanceof PayloadError) throw new SignatureVerificationError('invalid-payload', `invalid signed payload: ${error.message}`);
    throw error;
  }
  const signedDigest = payload.critical.image['docker-manifest-digest'];
  if (manifestDigest !== null && signedDigest !== manifestDigest) {
    throw new SignatureVerificationError('digest-mismatch', `digest mismatch: the signature is for ${signedDigest}, the image is ${manifestDigest}`);
  }
  const claimed = payload.critical.identity['docker-reference'];
  if (identity !== undefined && !identityMatches(claimed, identity)) {
    throw new SignatureVerificationError('identity-mismatch', `identity mismatch: the signature is for "${claimed}", not "${identity.reference.toString()}"`);
  }
  const timestamp = payload.optional?.timestamp;
  return {
    format: 'sigstore',
    payload,
    keyId: publicKeyId(key),
    // containers/image records the signing time (seconds) in optional.timestamp.
    ...(typeof timestamp === 'number' ? { signedAt: timestamp * 1000 } : {}),
  };
}

// When nothing verifies, the most telling failure is reported: the one that got furthest.
const DEPTH: Readonly<Record<VerificationFailure, number>> = { 'no-signatures': 0, 'untrusted-key': 1, 'invalid-payload': 2, 'digest-mismatch': 3, 'identity-mismatch': 4 };

export interface VerificationResult {
  readonly verified: VerifiedSignature[];
  readonly failures: SignatureVerificationError[];
}

/** Every signature; `requireVerified` throws the deepest failure when none verifies. */
export function verifySigstoreSignatures(
  signatures: readonly SigstoreSignature[],
  publicKeys: readonly KeyObject[],
  manifestDigest: string,
  identity?: IdentityRequirement,
): VerificationResult {
  const verified: VerifiedSignature[] = [];
  const failures: SignatureVerificationError[] = [];
  for (const signature of signatures) {
    try {
      verified.push(verifySigstoreSignature(signature, publicKeys, manifestDigest, identity));
    } catch (error) {
      if (!(error instanceof SignatureVerificationError)) throw error;
      failures.push(error);
    }
  }
  return { verified, failures };
}

export function requireVerified(result: VerificationResult, manifestDigest: string): VerifiedSignature[] {
  if (result.verified.length > 0) return result.verified;
  if (result.failures.length === 0) throw new SignatureVerificationError('no-signatures', `no signatures: no sigstore signature found for ${manifestDigest}`);
  const deepest = result.failures.reduce((best, failure) => (DEPTH[failure.reason] > DEPTH[best.reason] ? failure : best));
  const count = result.failures.length;
  throw new SignatureVerificationError(deepest.reason, count === 1 ? deepest.message : `${deepest.message} (none of ${count} signatures verified)`);
}
