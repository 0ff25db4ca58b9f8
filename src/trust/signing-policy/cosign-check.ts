// Verifies one cosign (sigstore) signature for the registry's signing policy with the
// sigstore verifier (src/trust/sigstore/verify.ts): made by one of the trusted keys, over
// a payload naming the image's digest. The identity rule is the registry's own: the
// signed docker-reference must name this repository, on whatever host the signer reached
// the registry by (a registry cannot know all its names: proxies, ports, DNS aliases).
// Fulcio certificates and Rekor bundles are not consulted: a registry policy trusts keys and
// notation certificates, so a keyless signature never satisfies it (no trusted key matches).
import type { SigstoreSignature } from '../../core/signatures.ts';
import { claimedIdentity } from '../sigstore/payload.ts';
import { checkSignedPayload, SignatureVerificationError, verifyBytes } from '../sigstore/verify.ts';
import type { ParsedPublicKey } from './trusted-key.ts';

export interface SignatureVerdict {
  /** The trusted key that made the signature, or null. */
  readonly keyId: string | null;
  /** The docker-reference the payload claims, when it could be read. */
  readonly identity: string | null;
  /** Why it does not count, when it does not. */
  readonly reason: string | null;
}

export function checkCosignSignature(signature: SigstoreSignature, manifestDigest: string, repository: string, keys: readonly ParsedPublicKey[]): SignatureVerdict {
  const identity = claimedIdentity(signature.payload);
  if (keys.length === 0) return { keyId: null, identity, reason: 'no trusted keys to verify against' };
  const key = keys.find((candidate) => verifyBytes(candidate.key, signature.payload, signature.signature));
  if (key === undefined) return { keyId: null, identity, reason: 'not signed by a trusted key' };
  try {
    checkSignedPayload(signature, key.key, manifestDigest);
  } catch (error) {
    if (!(error instanceof SignatureVerificationError)) throw error;
    // The key is trusted but the payload is wrong: say which key, and why it does not count.
    return { keyId: key.id, identity, reason: error.message };
  }
  if (identity === null || repositoryPath(identity) !== repository) return { keyId: key.id, identity, reason: `signs another repository (${identity ?? 'none'})` };
  return { keyId: key.id, identity, reason: null };
}

/** `registry.example:5000/acme/app:1.0` → `acme/app`: the repository a docker-reference names. */
function repositoryPath(reference: string): string {
  let name = reference;
  const at = name.indexOf('@');
  if (at >= 0) name = name.slice(0, at);
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > slash) name = name.slice(0, colon);
  const first = name.indexOf('/');
  if (first >= 0) {
    const host = name.slice(0, first);
    if (host.includes('.') || host.includes(':') || host === 'localhost') name = name.slice(first + 1);
  }
  return name;
}
