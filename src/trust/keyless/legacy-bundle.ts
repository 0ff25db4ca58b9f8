// cosign's legacy keyless signatures (the `sha256-<hex>.sig` tag, before bundles) carry
// their verification material as layer annotations: the Fulcio certificate and chain
// (PEM), and a "Rekor bundle", the log's signed entry timestamp over the entry it logged:
//   dev.sigstore.cosign/bundle = {"SignedEntryTimestamp": b64,
//     "Payload": {"body": b64 entry, "integratedTime": s, "logIndex": n, "logID": hex}}
// That is exactly a v0.1 sigstore bundle's content (message signature over the payload,
// certificate chain, one log entry with its inclusion promise) in another shape, so it is
// rewritten into one and verified by @sigstore/verify like any bundle. The library cannot
// take the annotations as they are: it reads bundles only, and the simple-signing payload's
// digest and docker-reference are containers' rules, checked by Custody after it.
import { createHash } from 'node:crypto';
import type { SigstoreSignature } from '../../core/signatures.ts';
import { BUNDLE_MEDIA_TYPE_V01 } from '../bundle/bundle-types.ts';

export const COSIGN_CERTIFICATE_ANNOTATION = 'dev.sigstore.cosign/certificate';
export const COSIGN_CHAIN_ANNOTATION = 'dev.sigstore.cosign/chain';
export const COSIGN_REKOR_BUNDLE_ANNOTATION = 'dev.sigstore.cosign/bundle';

export class LegacyBundleError extends Error {
  override readonly name = 'LegacyBundleError';
}

/** Whether the signature is keyless (carries a Fulcio certificate). */
export function isKeyless(signature: SigstoreSignature): boolean {
  return signature.annotations[COSIGN_CERTIFICATE_ANNOTATION] !== undefined;
}

interface RekorBundle {
  SignedEntryTimestamp?: unknown;
  Payload?: { body?: unknown; integratedTime?: unknown; logIndex?: unknown; logID?: unknown };
}

/** The v0.1 bundle (JSON) equivalent to a legacy signature; its artifact is `signature.payload`. */
export function legacyToBundle(signature: SigstoreSignature): unknown {
  const rekorText = signature.annotations[COSIGN_REKOR_BUNDLE_ANNOTATION];
  const tlogEntries = rekorText === undefined ? [] : [tlogEntry(rekorText)];
  const certificate = signature.annotations[COSIGN_CERTIFICATE_ANNOTATION];
  const verificationMaterial =
    certificate === undefined
      ? { publicKey: { hint: '' }, tlogEntries }
      : { x509CertificateChain: { certificates: [...pemBlocks(certificate), ...pemBlocks(signature.annotations[COSIGN_CHAIN_ANNOTATION] ?? '')].map((der) => ({ rawBytes: der.toString('base64') })) }, tlogEntries };
  if (certificate !== undefined && pemBlocks(certificate).length !== 1) throw new LegacyBundleError(`${COSIGN_CERTIFICATE_ANNOTATION} must hold one PEM certificate`);
  return {
    mediaType: BUNDLE_MEDIA_TYPE_V01,
    verificationMaterial,
    messageSignature: {
      messageDigest: { algorithm: 'SHA2_256', digest: createHash('sha256').update(signature.payload).digest('base64') },
      signature: signature.signature.toString('base64'),
    },
  };
}

function tlogEntry(text: string): unknown {
  let parsed: RekorBundle;
  try {
    parsed = JSON.parse(text) as RekorBundle;
  } catch {
    throw new LegacyBundleError(`${COSIGN_REKOR_BUNDLE_ANNOTATION} is not JSON`);
  }
  const payload = parsed.Payload;
  if (typeof parsed.SignedEntryTimestamp !== 'string' || typeof payload?.body !== 'string' || typeof payload.integratedTime !== 'number' || typeof payload.logIndex !== 'number' || typeof payload.logID !== 'string' || !/^[0-9a-f]+$/i.test(payload.logID)) {
    throw new LegacyBundleError(`${COSIGN_REKOR_BUNDLE_ANNOTATION} lacks SignedEntryTimestamp or Payload.{body,integratedTime,logIndex,logID}`);
  }
  let body: { kind?: unknown; apiVersion?: unknown };
  try {
    body = JSON.parse(Buffer.from(payload.body, 'base64').toString('utf8')) as typeof body;
  } catch {
    throw new LegacyBundleError('the logged entry is not JSON');
  }
  if (typeof body.kind !== 'string' || typeof body.apiVersion !== 'string') throw new LegacyBundleError('the logged entry names no kind and apiVersion');
  return {
    logIndex: String(payload.logIndex),
    logId: { keyId: Buffer.from(payload.logID, 'hex').toString('base64') },
    kindVersion: { kind: body.kind, version: body.apiVersion },
    integratedTime: String(payload.integratedTime),
    inclusionPromise: { signedEntryTimestamp: parsed.SignedEntryTimestamp },
    canonicalizedBody: payload.body,
  };
}

function pemBlocks(text: string): Buffer[] {
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/g)].map((match) => Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64'));
}
