// `custody verify --notation-trust-policy FILE [--trust-store DIR]`: the image's notation
// signatures judged as `notation verify` would: the trust policy for the image's repository
// (host/path), its level (skip: accepted unchecked; audit: integrity only, authenticity
// reported; permissive and strict: both enforced, strict also the signer's expiry), its
// trust stores and trusted identities.
import { NotationError } from './envelope.ts';
import { defaultTrustStore, identityTrusted, loadTrustPolicy, loadTrustStores, policyFor } from './trust-policy.ts';
import { readNotationSignatures } from './notation-attachments.ts';
import { verifyNotationSignature } from './verify-notation.ts';
import type { SignableImage } from '../sigstore/image-target.ts';
import type { AttachmentTarget } from '../sigstore/attachments.ts';

export interface NotationResult {
  readonly signer: string;
  readonly policy: string;
  readonly level: string;
  readonly verified: boolean;
  readonly reason?: string;
}

export async function verifyNotationImage(image: SignableImage, policyPath: string, trustStore: string | undefined): Promise<NotationResult[]> {
  if (image.kind !== 'docker') throw new Error('notation signatures are registry referrers: give a docker:// image');
  return verifyNotation(image.target, `${image.reference.registry}/${image.reference.repository}`, image.manifest.digest, policyPath, trustStore);
}

/**
 * The notation signatures of `digest` at `target`, judged by the trust policy that applies
 * to `repository` (host/path as the user named it, which is what trust policies scope).
 */
export async function verifyNotation(target: AttachmentTarget, repository: string, digest: string, policyPath: string, trustStore: string | undefined): Promise<NotationResult[]> {
  const policies = await loadTrustPolicy(policyPath).catch(rethrow);
  const policy = (() => {
    try {
      return policyFor(policies, repository);
    } catch (error) {
      return rethrow(error);
    }
  })();
  if (policy.level === 'skip') return [{ signer: 'not verified', policy: policy.name, level: 'skip', verified: false, reason: 'the trust policy skips verification' }];
  const anchors = await loadTrustStores(trustStore ?? defaultTrustStore(), policy.trustStores).catch(rethrow);
  const signatures = await readNotationSignatures(target, digest);
  if (signatures.length === 0) throw new Error(`no notation signature found for ${digest}`);
  const reasons: string[] = [];
  const results: NotationResult[] = [];
  for (const signature of signatures) {
    try {
      const verified = await verifyNotationSignature(signature.envelope, digest, policy.level === 'audit' ? [] : anchors, {
        identityTrusted: (subject) => identityTrusted(policy, subject),
        enforceExpiry: policy.level === 'strict',
      });
      results.push({ signer: verified.signer, policy: policy.name, level: policy.level, verified: true });
    } catch (error) {
      if (!(error instanceof NotationError)) throw error;
      // audit: integrity is what counts; an untrusted signer is reported, not refused.
      if (policy.level === 'audit' && /trust store|trusted identity/.test(error.message)) {
        results.push({ signer: 'unverified signer', policy: policy.name, level: 'audit', verified: false, reason: error.message });
        continue;
      }
      reasons.push(error.message);
    }
  }
  if (results.length > 0) return results;
  throw new Error(`${digest}: no notation signature verified (trust policy ${policy.name}): ${reasons.join('; ')}`);
}

function rethrow(error: unknown): never {
  if (error instanceof NotationError) throw new Error(error.message);
  throw error;
}
