// What `custody evaluate` shows of an image's newer signatures, beside the cosign legacy and
// GPG ones: sigstore bundles (cosign v3 signatures and in-toto attestations), verified with
// the --key keys where given, and notation signatures, judged by notation's trust policy and
// trust store when given (--notation-trust-policy, --trust-store), else listed with the
// signer their (intact) envelope names.
import type { KeyObject } from 'node:crypto';
import type { AttachmentTarget } from '../sigstore/attachments.ts';
import { readBundles } from '../bundle/bundle-attachments.ts';
import { COSIGN_SIGN_PREDICATE_TYPE } from '../bundle/bundle-types.ts';
import { checkBundleSignsImage, describeSigner, ImageVerificationError } from '../bundle/image-verify.ts';
import { BundleVerificationError, verifyBundle } from '../bundle/verify-bundle.ts';
import { NotationError, verifyEnvelope } from '../notation/envelope.ts';
import { oneLine } from '../notation/chain.ts';
import { readNotationSignatures } from '../notation/notation-attachments.ts';
import { identityTrusted, loadTrustStores, policyFor, type NotationPolicy } from '../notation/trust-policy.ts';
import { verifyNotationSignature } from '../notation/verify-notation.ts';
import type { SignatureReport } from './report.ts';

export interface NotationTrust {
  readonly policies: readonly NotationPolicy[];
  readonly trustStore: string;
  /** `host/repository`, as trust policy scopes name it. */
  readonly repository: string;
}

export async function probeBundles(target: AttachmentTarget, manifest: { digest: string; bytes: Buffer }, keys: readonly { source: string; key: KeyObject }[]): Promise<SignatureReport[]> {
  const reports: SignatureReport[] = [];
  for (const stored of await readBundles(target, manifest.digest).catch(() => [])) {
    const predicateType = stored.annotations['dev.sigstore.bundle.predicateType'];
    const format = predicateType === undefined || predicateType === COSIGN_SIGN_PREDICATE_TYPE ? 'sigstore-bundle' : 'attestation';
    const identity = format === 'attestation' ? predicateType! : null;
    if (keys.length === 0) {
      reports.push({ format, identity, verified: null, keyId: null, keySource: null, reason: 'no key to verify with (give --key)' });
      continue;
    }
    let report: SignatureReport | undefined;
    let reason = 'not signed by a given key';
    for (const { source, key } of keys) {
      try {
        const verified = await verifyBundle(JSON.parse(stored.bytes.toString('utf8')), { keys: [key] }, manifest.bytes);
        if (format === 'sigstore-bundle') checkBundleSignsImage(verified, manifest);
        report = { format, identity: identity ?? describeSigner(verified.signer), verified: true, keyId: verified.signer.kind === 'key' ? verified.signer.keyId : null, keySource: source, reason: null };
        break;
      } catch (error) {
        if (error instanceof SyntaxError || error instanceof BundleVerificationError || error instanceof ImageVerificationError) reason = error.message;
        else throw error;
      }
    }
    reports.push(report ?? { format, identity, verified: false, keyId: null, keySource: null, reason });
  }
  return reports;
}

export async function probeNotation(target: AttachmentTarget, digest: string, trust: NotationTrust | undefined): Promise<SignatureReport[]> {
  const reports: SignatureReport[] = [];
  for (const stored of await readNotationSignatures(target, digest).catch(() => [])) {
    try {
      if (trust === undefined) {
        const envelope = await verifyEnvelope(stored.envelope);
        reports.push({ format: 'notation', identity: oneLine(envelope.chain[0]!.subject), verified: null, keyId: null, keySource: null, reason: 'no notation trust policy to judge it (give --notation-trust-policy)' });
        continue;
      }
      const policy = policyFor(trust.policies, trust.repository);
      if (policy.level === 'skip') {
        reports.push({ format: 'notation', identity: null, verified: null, keyId: null, keySource: `trust policy ${policy.name}`, reason: 'the trust policy skips verification' });
        continue;
      }
      const anchors = await loadTrustStores(trust.trustStore, policy.trustStores);
      const verified = await verifyNotationSignature(stored.envelope, digest, anchors, { identityTrusted: (subject) => identityTrusted(policy, subject), enforceExpiry: policy.level === 'strict' });
      reports.push({ format: 'notation', identity: verified.signer, verified: true, keyId: verified.signer, keySource: `trust policy ${policy.name}`, reason: null });
    } catch (error) {
      if (!(error instanceof NotationError)) throw error;
      reports.push({ format: 'notation', identity: null, verified: false, keyId: null, keySource: null, reason: error.message });
    }
  }
  return reports;
}
