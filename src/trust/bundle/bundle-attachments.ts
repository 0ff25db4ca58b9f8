// Sigstore bundles in a registry, laid out as cosign v3 does (specs/BUNDLE_SPEC.md): one
// OCI 1.1 referrer manifest per bundle, artifactType = the bundle's media type, the empty
// config, one layer holding the bundle's JSON, subject = the image, annotations naming the
// content (`dsse-envelope` or `message-signature`), the predicate type and the creation
// time. A registry without the referrers API gets the `sha256-<hex>` referrers tag schema
// index updated, as the distribution spec asks of clients.
import { digestOf } from '../../core/digest.ts';
import type { Descriptor } from '../../core/manifest.ts';
import { EMPTY_JSON_CONTENT, EMPTY_JSON_DIGEST, MediaType } from '../../core/media-types.ts';
import { addToReferrersTag, isNotFound, pushBlobIfMissing, readBlob, type AttachmentTarget } from '../sigstore/attachments.ts';
import { BUNDLE_CONTENT_ANNOTATION, BUNDLE_MEDIA_TYPE_V03, BUNDLE_PREDICATE_TYPE_ANNOTATION, isBundleMediaType } from './bundle-types.ts';

export interface StoredBundle {
  /** The referrer manifest holding it. */
  readonly manifest: string;
  readonly mediaType: string;
  readonly bytes: Buffer;
  readonly annotations: Readonly<Record<string, string>>;
}

interface ReferrerManifest {
  readonly artifactType?: string;
  readonly layers?: readonly Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Record<string, string>;
}

/** Every bundle attached to the manifest (any bundle version), bytes unparsed. */
export async function readBundles(target: AttachmentTarget, manifestDigest: string): Promise<StoredBundle[]> {
  let descriptors: readonly Descriptor[];
  try {
    descriptors = (await target.client.referrers(target.repository, manifestDigest)).manifests;
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
  const bundles: StoredBundle[] = [];
  for (const descriptor of descriptors) {
    if (!isBundleMediaType(descriptor.artifactType)) continue;
    const { bytes } = await target.client.getManifest(target.repository, descriptor.digest, [MediaType.OciManifest]);
    let manifest: ReferrerManifest;
    try {
      manifest = JSON.parse(bytes.toString('utf8')) as ReferrerManifest;
    } catch {
      continue;
    }
    // The index is the registry's word; the manifest is what was signed into place.
    if (!isBundleMediaType(manifest.artifactType) || manifest.subject?.digest !== manifestDigest) continue;
    const layer = manifest.layers?.find((entry) => isBundleMediaType(entry.mediaType));
    if (layer === undefined) continue;
    bundles.push({ manifest: descriptor.digest, mediaType: layer.mediaType, bytes: await readBlob(target, layer.digest), annotations: { ...manifest.annotations } });
  }
  return bundles;
}

/** Whether the registry answers the referrers API (else bundles go through the tag schema). */
export async function hasReferrersApi(target: AttachmentTarget, manifestDigest: string): Promise<boolean> {
  return (await target.client.referrers(target.repository, manifestDigest)).api;
}

/** Stores a v0.3 bundle as a referrer of `subject`; returns the referrer manifest's digest. */
export async function writeBundle(target: AttachmentTarget, subject: Descriptor, bundle: Buffer, predicateType: string, content: 'dsse-envelope' | 'message-signature' = 'dsse-envelope'): Promise<string> {
  const bundleDigest = await pushBlobIfMissing(target, bundle);
  await pushBlobIfMissing(target, Buffer.from(EMPTY_JSON_CONTENT));
  const annotations = {
    [BUNDLE_CONTENT_ANNOTATION]: content,
    [BUNDLE_PREDICATE_TYPE_ANNOTATION]: predicateType,
    'org.opencontainers.image.created': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    artifactType: BUNDLE_MEDIA_TYPE_V03,
    config: { mediaType: MediaType.OciEmpty, digest: EMPTY_JSON_DIGEST, size: EMPTY_JSON_CONTENT.length },
    layers: [{ mediaType: BUNDLE_MEDIA_TYPE_V03, digest: bundleDigest, size: bundle.length, annotations: { 'org.opencontainers.image.title': `${bundleDigest.replace(':', '-')}.sigstore.json` } }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations,
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const digest = digestOf(bytes);
  const result = await target.client.putManifest(target.repository, digest, bytes, MediaType.OciManifest);
  if (result.subject === undefined) {
    await addToReferrersTag(target, subject.digest, { mediaType: MediaType.OciManifest, size: bytes.length, digest: digest as Descriptor['digest'], artifactType: BUNDLE_MEDIA_TYPE_V03, annotations });
  }
  return digest;
}
