// The signatures the registry's signing policy weighs for one manifest, read from its own
// metadata and blobs, in every format a client may have written:
// - cosign legacy: the `sha256-<hex>.sig` tag and cosign referrers (simple-signing layers),
//   checked against the policy's sigstore keys (cosign-check.ts);
// - sigstore bundles (cosign v3, `custody sign --bundle`): referrers whose artifactType is a
//   bundle; a key-based bundle signing this digest (@sigstore/verify, through
//   verify-bundle.ts) counts for the policy's sigstore keys;
// - notation: referrers of artifactType application/vnd.cncf.notary.signature, whose JWS
//   envelope's certificate chain must lead to one of the policy's notation certificates.
import { X509Certificate } from 'node:crypto';
import { createHash } from 'node:crypto';
import { RegistryError } from '../../core/errors.ts';
import { SIGSTORE_ARTIFACT_TYPE, SIGSTORE_PAYLOAD_MEDIA_TYPE, SIGSTORE_SIGNATURE_ANNOTATION } from '../../core/signatures.ts';
import { isBundleMediaType } from '../bundle/bundle-types.ts';
import { checkBundleSignsImage, describeSigner, ImageVerificationError } from '../bundle/image-verify.ts';
import { BundleVerificationError, verifyBundle } from '../bundle/verify-bundle.ts';
import { NotationError, NOTATION_ARTIFACT_TYPE } from '../notation/envelope.ts';
import { notationEnvelopeLayer } from '../notation/notation-attachments.ts';
import { verifyNotationSignature } from '../notation/verify-notation.ts';
import { checkCosignSignature } from './cosign-check.ts';
import type { ParsedPublicKey } from './trusted-key.ts';

export type SignatureFormat = 'sigstore' | 'sigstore-bundle' | 'notation';

/** A manifest that may hold signatures for the subject, with its bytes. */
export interface SignatureManifest {
  readonly source: 'tag' | 'referrer';
  readonly digest: string;
  readonly content: Uint8Array;
}

export interface Verdict {
  readonly format: SignatureFormat;
  readonly layer: string;
  /** The trusted key or certificate that made (or anchors) it, or null. */
  readonly keyId: string | null;
  /** Who signed: the docker-reference a legacy payload claims, a certificate subject... */
  readonly identity: string | null;
  readonly reason: string | null;
}

export interface PolicyTrust {
  readonly keys: readonly ParsedPublicKey[];
  readonly notation: readonly NotationAnchor[];
}

export interface NotationAnchor {
  readonly id: string;
  readonly certificate: X509Certificate;
}

/** Reads a blob the repository links, up to `limit` bytes; null when it is missing or larger. */
export type BlobReader = (digest: string, limit: number) => Promise<Buffer | null>;

const MAX_PAYLOAD_BYTES = 256 * 1024;
const MAX_ENVELOPE_BYTES = 1024 * 1024;

/** Whether a referrer's artifactType makes it a signature the policy weighs. */
export function isSignatureArtifact(artifactType: string | undefined): boolean {
  return artifactType === SIGSTORE_ARTIFACT_TYPE || artifactType === NOTATION_ARTIFACT_TYPE || isBundleMediaType(artifactType);
}

/** A notation trust anchor from a policy: a PEM certificate, named by the sha256 of its DER. */
export function parseNotationCertificate(pem: string, where = 'certificate'): NotationAnchor {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch (error) {
    throw new RegistryError('INVALID_REQUEST', `${where}: not a readable X.509 certificate (${(error as Error).message})`);
  }
  return { id: `sha256:${createHash('sha256').update(certificate.raw).digest('hex')}`, certificate };
}

/** Every signature the manifests hold for `subject`, each with why it counts or does not. */
export async function checkSignatures(manifests: readonly SignatureManifest[], subject: { readonly digest: string; readonly repository: string; readonly content: () => Promise<Uint8Array | null> }, trust: PolicyTrust, readBlob: BlobReader): Promise<(Verdict & { manifest: SignatureManifest })[]> {
  const verdicts: (Verdict & { manifest: SignatureManifest })[] = [];
  for (const manifest of manifests) {
    let parsed: { artifactType?: unknown; config?: { mediaType?: unknown }; layers?: unknown };
    try {
      parsed = JSON.parse(Buffer.from(manifest.content).toString('utf8')) as typeof parsed;
    } catch {
      continue;
    }
    const layers = Array.isArray(parsed.layers) ? (parsed.layers as { mediaType?: unknown; digest?: unknown; size?: unknown; annotations?: Record<string, unknown> }[]) : [];
    const notationLayer = notationEnvelopeLayer(parsed);
    if (notationLayer !== undefined) {
      const envelope = await readBlob(notationLayer.digest, MAX_ENVELOPE_BYTES);
      if (envelope !== null) verdicts.push({ manifest, ...(await notationVerdict(envelope, notationLayer.digest, subject.digest, trust)) });
      continue;
    }
    if (typeof parsed.artifactType === 'string' && isBundleMediaType(parsed.artifactType)) {
      const layer = layers.find((entry) => typeof entry.mediaType === 'string' && isBundleMediaType(entry.mediaType));
      if (layer === undefined || typeof layer.digest !== 'string') continue;
      const bundle = await readBlob(layer.digest, MAX_ENVELOPE_BYTES);
      if (bundle !== null) verdicts.push({ manifest, ...(await bundleVerdict(bundle, layer.digest, subject, trust)) });
      continue;
    }
    for (const layer of layers) {
      if (layer.mediaType !== SIGSTORE_PAYLOAD_MEDIA_TYPE || typeof layer.digest !== 'string') continue;
      if (typeof layer.size === 'number' && layer.size > MAX_PAYLOAD_BYTES) continue;
      const annotations: Record<string, string> = {};
      for (const [name, value] of Object.entries(layer.annotations ?? {})) if (typeof value === 'string') annotations[name] = value;
      const payload = await readBlob(layer.digest, MAX_PAYLOAD_BYTES);
      if (payload === null) continue;
      const signature = { format: 'sigstore' as const, payload, signature: Buffer.from(annotations[SIGSTORE_SIGNATURE_ANNOTATION] ?? '', 'base64'), annotations };
      verdicts.push({ manifest, format: 'sigstore', layer: layer.digest, ...checkCosignSignature(signature, subject.digest, subject.repository, trust.keys) });
    }
  }
  return verdicts;
}

async function bundleVerdict(bytes: Buffer, layer: string, subject: { readonly digest: string; readonly content: () => Promise<Uint8Array | null> }, trust: PolicyTrust): Promise<Verdict> {
  const base = { format: 'sigstore-bundle' as const, layer };
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { ...base, keyId: null, identity: null, reason: 'the bundle is not JSON' };
  }
  if (trust.keys.length === 0) return { ...base, keyId: null, identity: null, reason: 'no trusted sigstore keys to verify against' };
  try {
    const content = await subject.content();
    const bundle = await verifyBundle(json, { keys: trust.keys.map((key) => key.key) }, content === null ? undefined : Buffer.from(content));
    const keyId = bundle.signer.kind === 'key' ? bundle.signer.keyId : null;
    checkBundleSignsImage(bundle, { digest: subject.digest, bytes: Buffer.from(content ?? new Uint8Array()) });
    return { ...base, keyId, identity: describeSigner(bundle.signer), reason: null };
  } catch (error) {
    if (error instanceof BundleVerificationError || error instanceof ImageVerificationError) {
      const reason = /signed keyless/.test(error.message) ? 'signed keyless: a registry signing policy trusts keys and notation certificates' : error.message;
      return { ...base, keyId: null, identity: null, reason };
    }
    throw error;
  }
}

async function notationVerdict(envelope: Buffer, layer: string, digest: string, trust: PolicyTrust): Promise<Verdict> {
  const base = { format: 'notation' as const, layer };
  if (trust.notation.length === 0) return { ...base, keyId: null, identity: null, reason: 'no trusted notation certificates to verify against' };
  for (const anchor of trust.notation) {
    try {
      const verified = await verifyNotationSignature(envelope, digest, [anchor.certificate]);
      return { ...base, keyId: anchor.id, identity: verified.signer, reason: null };
    } catch (error) {
      if (!(error instanceof NotationError)) throw error;
      if (!/trust store/.test(error.message)) return { ...base, keyId: null, identity: null, reason: error.message };
    }
  }
  return { ...base, keyId: null, identity: null, reason: 'not signed under a trusted notation certificate' };
}
