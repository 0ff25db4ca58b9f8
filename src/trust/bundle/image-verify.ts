// What `custody verify` checks for a sigstore-signed image: every signature of the manifest,
// whatever its format, against what the user trusts:
// - legacy cosign signatures (`.sig` tag, cosign referrers, dir: files): with a public key,
//   the simple-signing payload's signature; keyless ones (a Fulcio certificate and a Rekor
//   bundle in the annotations) through legacy-bundle.ts and @sigstore/verify;
// - sigstore bundles attached as referrers (cosign v3): a DSSE in-toto statement of type
//   https://sigstore.dev/cosign/sign/v1 about this digest, or a message signature over the
//   manifest itself.
// At least one must verify; otherwise the most telling reason is reported.
import type { KeyObject } from 'node:crypto';
import { digestOf } from '../../core/digest.ts';
import type { SigstoreSignature, VerifiedSignature } from '../../core/signatures.ts';
import { identityMatches, type IdentityRequirement } from '../sigstore/identity.ts';
import { parsePayload, PayloadError } from '../sigstore/payload.ts';
import { requireVerified, verifySigstoreSignatures, type VerificationResult } from '../sigstore/verify.ts';
import type { CertificateIdentity } from '../keyless/identity.ts';
import { isKeyless, LegacyBundleError, legacyToBundle } from '../keyless/legacy-bundle.ts';
import type { KeylessTrust } from '../keyless/trusted-root.ts';
import type { StoredBundle } from './bundle-attachments.ts';
import { COSIGN_SIGN_PREDICATE_TYPE } from './bundle-types.ts';
import { BundleVerificationError, statementNames, verifyBundle, type BundleSigner, type VerifiedBundle } from './verify-bundle.ts';

export interface ImageTrust {
  readonly keys: readonly KeyObject[];
  readonly root?: KeylessTrust | undefined;
  readonly identity?: CertificateIdentity | undefined;
}

export interface ImageVerification {
  readonly format: 'legacy' | 'bundle';
  readonly signer: string;
  /** The docker-reference a legacy payload claims. */
  readonly reference?: string;
  readonly signature?: VerifiedSignature;
  readonly bundle?: VerifiedBundle;
}

export class ImageVerificationError extends Error {
  override readonly name = 'ImageVerificationError';
}

export function describeSigner(signer: BundleSigner): string {
  return signer.kind === 'key' ? `key ${signer.keyId}` : `${signer.subject} (issuer ${signer.issuer ?? 'unknown'})`;
}

export async function verifyImage(
  manifest: { readonly digest: string; readonly bytes: Buffer },
  signatures: readonly SigstoreSignature[],
  bundles: readonly StoredBundle[],
  trust: ImageTrust,
  identity: IdentityRequirement | undefined,
): Promise<ImageVerification[]> {
  const verified: ImageVerification[] = [];
  const reasons: string[] = [];
  const keyed = signatures.filter((signature) => !isKeyless(signature));
  let keyedResult: VerificationResult | undefined;
  if (trust.keys.length > 0 && keyed.length > 0) {
    keyedResult = verifySigstoreSignatures(keyed, trust.keys, manifest.digest, identity);
    for (const signature of keyedResult.verified) verified.push({ format: 'legacy', signer: `key ${signature.keyId}`, reference: signature.payload.critical.identity['docker-reference'], signature });
    reasons.push(...keyedResult.failures.map((failure) => failure.message));
  }
  for (const signature of signatures.filter(isKeyless)) {
    if (trust.root === undefined) {
      reasons.push('a keyless signature needs --trusted-root (or CUSTODY_TRUSTED_ROOT) and --certificate-identity/--certificate-oidc-issuer');
      continue;
    }
    try {
      verified.push(await verifyLegacyKeyless(signature, manifest.digest, trust, identity));
    } catch (error) {
      if (!(error instanceof BundleVerificationError || error instanceof LegacyBundleError || error instanceof ImageVerificationError)) throw error;
      reasons.push(error.message);
    }
  }
  for (const stored of bundles) {
    try {
      const bundle = await verifyBundle(JSON.parse(stored.bytes.toString('utf8')), trust, manifest.bytes);
      checkBundleSignsImage(bundle, manifest);
      verified.push({ format: 'bundle', signer: describeSigner(bundle.signer), bundle });
    } catch (error) {
      if (error instanceof SyntaxError) {
        reasons.push(`bundle ${stored.manifest} is not JSON`);
        continue;
      }
      if (!(error instanceof BundleVerificationError || error instanceof ImageVerificationError)) throw error;
      reasons.push(`bundle ${stored.manifest}: ${error.message}`);
    }
  }
  if (verified.length > 0) return verified;
  // Only key-signed legacy signatures: the sigstore verifier's own account of the deepest failure.
  if (keyedResult !== undefined && keyed.length === signatures.length && bundles.length === 0) requireVerified(keyedResult, manifest.digest);
  if (signatures.length === 0 && bundles.length === 0) throw new ImageVerificationError(`no signatures: no sigstore signature found for ${manifest.digest} (no .sig tag, cosign referrer or bundle)`);
  if (reasons.length === 0) throw new ImageVerificationError(`${manifest.digest}: no signature could be checked with what was given (keyless signatures need a trusted root, key signatures a key)`);
  const count = signatures.length + bundles.length;
  throw new ImageVerificationError(count === 1 ? reasons[0]! : `${reasons.at(-1)!} (none of ${count} signatures verified: ${reasons.join('; ')})`);
}

/** A bundle counts as the image's signature when it signs this manifest as cosign does. */
export function checkBundleSignsImage(bundle: VerifiedBundle, manifest: { readonly digest: string; readonly bytes: Buffer }): void {
  if (bundle.statement !== undefined) {
    if (bundle.statement.predicateType !== COSIGN_SIGN_PREDICATE_TYPE) throw new ImageVerificationError(`an attestation (${bundle.statement.predicateType}), not a signature`);
    if (!statementNames(bundle.statement, manifest.digest)) throw new ImageVerificationError(`digest mismatch: the signed statement is not about ${manifest.digest}`);
    return;
  }
  const signed = bundle.messageDigest;
  if (signed === undefined || `${signed.algorithm}:${signed.hex}` !== digestOf(manifest.bytes, signed.algorithm === 'sha512' ? 'sha512' : 'sha256')) {
    throw new ImageVerificationError(`digest mismatch: the message signature is not over ${manifest.digest}`);
  }
}

async function verifyLegacyKeyless(signature: SigstoreSignature, digest: string, trust: ImageTrust, identity: IdentityRequirement | undefined): Promise<ImageVerification> {
  const bundle = await verifyBundle(legacyToBundle(signature), { ...(trust.root ? { root: trust.root } : {}), ...(trust.identity ? { identity: trust.identity } : {}) }, signature.payload);
  let payload;
  try {
    payload = parsePayload(signature.payload);
  } catch (error) {
    if (error instanceof PayloadError) throw new ImageVerificationError(`invalid signed payload: ${error.message}`);
    throw error;
  }
  const signedDigest = payload.critical.image['docker-manifest-digest'];
  if (signedDigest !== digest) throw new ImageVerificationError(`digest mismatch: the signature is for ${signedDigest}, the image is ${digest}`);
  const claimed = payload.critical.identity['docker-reference'];
  if (identity !== undefined && !identityMatches(claimed, identity)) throw new ImageVerificationError(`identity mismatch: the signature is for "${claimed}", not "${identity.reference.toString()}"`);
  const signer = describeSigner(bundle.signer);
  return { format: 'legacy', signer, reference: claimed, bundle, signature: { format: 'sigstore', payload, keyId: signer, ...(bundle.loggedAt === undefined ? {} : { signedAt: bundle.loggedAt }) } };
}
