// Sigstore signatures in a registry, stored the two ways cosign does:
// - the `sha256-<hex>.sig` tag: an OCI image manifest whose layers are the payloads
//   (application/vnd.dev.cosign.simplesigning.v1+json, each with the
//   dev.cosignproject.cosign/signature annotation) and whose config lists them as
//   rootfs.diff_ids. A new signature is appended (read, add a layer, re-push), as cosign
//   and containers/image do; this is what skopeo's `use-sigstore-attachments` reads.
// - an OCI 1.1 referrer: one manifest per signature with artifactType
//   application/vnd.dev.cosign.artifact.sig.v1+json, the empty config, the payload layer
//   and subject = the signed manifest (cosign's --registry-referrers-mode=oci-1-1). When
//   the registry does not process subjects (no OCI-Subject header), the referrers tag
//   schema index `sha256-<hex>` is updated, as the distribution spec asks of clients.
// Reading takes both and removes duplicates (same payload, signature and annotations).
import { Readable } from 'node:stream';
import { digestOf } from '../../core/digest.ts';
import type { Descriptor } from '../../core/manifest.ts';
import { indexEntries, readImageConfig, readManifestJson, type DescriptorJson } from '../../core/manifest-reader.ts';
import { EMPTY_JSON_CONTENT, EMPTY_JSON_DIGEST, MediaType } from '../../core/media-types.ts';
import { SIGSTORE_ARTIFACT_TYPE, SIGSTORE_PAYLOAD_MEDIA_TYPE, SIGSTORE_SIGNATURE_ANNOTATION, sigstoreTag, type SigstoreSignature } from '../../core/signatures.ts';
import { RegistryClientError, type RegistryClient } from '../../client/registry-client/index.ts';

/** Where signatures of an image live: a repository at one registry endpoint. */
export interface AttachmentTarget {
  readonly client: RegistryClient;
  readonly repository: string;
}

export type AttachmentMode = 'tag' | 'referrer' | 'both';

const MAX_PAYLOAD_BYTES = 4 * 1024 * 1024;

/** A signature manifest: as read (DescriptorJson) or as written (Descriptor). */
interface OciManifest {
  schemaVersion: number;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor | DescriptorJson;
  layers: readonly (Descriptor | DescriptorJson)[];
  subject?: Descriptor;
  annotations?: Readonly<Record<string, string>>;
}

export function isNotFound(error: unknown): boolean {
  return error instanceof RegistryClientError && (error.status === 404 || error.code === 'MANIFEST_UNKNOWN' || error.code === 'NAME_UNKNOWN');
}

export async function readBlob(target: AttachmentTarget, digest: string): Promise<Buffer> {
  const reader = await target.client.getBlob(target.repository, digest);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of reader as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_PAYLOAD_BYTES) {
      reader.destroy();
      throw new Error(`signature payload ${digest} is larger than ${MAX_PAYLOAD_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export async function pushBlobIfMissing(target: AttachmentTarget, bytes: Buffer): Promise<string> {
  const digest = digestOf(bytes);
  if (!(await target.client.blobExists(target.repository, digest))) {
    await target.client.pushBlob(target.repository, digest, bytes.length, () => Readable.from([bytes]));
  }
  return digest;
}

/** The signatures a manifest's layers carry (layers of other types are other attachments). */
async function signaturesOf(target: AttachmentTarget, manifest: OciManifest): Promise<SigstoreSignature[]> {
  const signatures: SigstoreSignature[] = [];
  for (const layer of manifest.layers ?? []) {
    if (layer.mediaType !== SIGSTORE_PAYLOAD_MEDIA_TYPE) continue;
    const encoded = layer.annotations?.[SIGSTORE_SIGNATURE_ANNOTATION];
    if (encoded === undefined) continue;
    signatures.push({ format: 'sigstore', payload: await readBlob(target, layer.digest), signature: Buffer.from(encoded, 'base64'), annotations: { ...layer.annotations } });
  }
  return signatures;
}

function parseOciManifest(bytes: Buffer, what: string): OciManifest {
  const parsed = readManifestJson(bytes);
  if (parsed.mediaType !== undefined && parsed.mediaType !== MediaType.OciManifest) throw new Error(`${what}: unexpected media type ${parsed.mediaType}`);
  if (parsed.layers === undefined) throw new Error(`${what}: not an image manifest`);
  return parsed as OciManifest;
}

function key(signature: SigstoreSignature): string {
  return keyOf(digestOf(signature.payload), signature.signature, signature.annotations);
}

function keyOf(payloadDigest: string, signature: Buffer, annotations: Readonly<Record<string, string>>): string {
  const sorted = Object.entries(annotations).sort(([a], [b]) => (a < b ? -1 : 1));
  return `${payloadDigest}|${signature.toString('base64')}|${JSON.stringify(sorted)}`;
}

/** key() of the signature a layer carries, from its descriptor (the layer digest is the payload's): no blob read. */
function layerKeys(manifest: OciManifest): Set<string> {
  const keys = new Set<string>();
  for (const layer of manifest.layers ?? []) {
    const encoded = layer.annotations?.[SIGSTORE_SIGNATURE_ANNOTATION];
    if (layer.mediaType === SIGSTORE_PAYLOAD_MEDIA_TYPE && encoded !== undefined) keys.add(keyOf(layer.digest, Buffer.from(encoded, 'base64'), layer.annotations!));
  }
  return keys;
}

export function dedupeSignatures(signatures: readonly SigstoreSignature[]): SigstoreSignature[] {
  const seen = new Set<string>();
  return signatures.filter((signature) => {
    const id = key(signature);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/** The `.sig` tag's signatures ([] when there is no tag). */
export async function readTagSignatures(target: AttachmentTarget, manifestDigest: string): Promise<SigstoreSignature[]> {
  const tag = sigstoreTag(manifestDigest);
  let bytes: Buffer;
  try {
    bytes = (await target.client.getManifest(target.repository, tag, [MediaType.OciManifest])).bytes;
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
  return signaturesOf(target, parseOciManifest(bytes, `${target.repository}:${tag}`));
}

/** The signatures stored as referrers of the manifest. */
export async function readReferrerSignatures(target: AttachmentTarget, manifestDigest: string): Promise<SigstoreSignature[]> {
  let descriptors: readonly Descriptor[];
  try {
    descriptors = (await target.client.referrers(target.repository, manifestDigest, SIGSTORE_ARTIFACT_TYPE)).manifests;
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
  const signatures: SigstoreSignature[] = [];
  for (const descriptor of descriptors) {
    if (descriptor.artifactType !== undefined && descriptor.artifactType !== SIGSTORE_ARTIFACT_TYPE) continue;
    const { bytes } = await target.client.getManifest(target.repository, descriptor.digest, [MediaType.OciManifest]);
    const manifest = parseOciManifest(bytes, `${target.repository}@${descriptor.digest}`);
    if (manifest.artifactType !== SIGSTORE_ARTIFACT_TYPE || manifest.subject?.digest !== manifestDigest) continue;
    signatures.push(...(await signaturesOf(target, manifest)));
  }
  return signatures;
}

/** Every sigstore signature of the manifest, from the `.sig` tag and the referrers, without duplicates. */
export async function readSigstoreSignatures(target: AttachmentTarget, manifestDigest: string): Promise<SigstoreSignature[]> {
  return dedupeSignatures([...(await readTagSignatures(target, manifestDigest)), ...(await readReferrerSignatures(target, manifestDigest))]);
}

function payloadLayer(signature: SigstoreSignature, digest: string): Descriptor {
  return { mediaType: SIGSTORE_PAYLOAD_MEDIA_TYPE, size: signature.payload.length, digest: digest as Descriptor['digest'], annotations: { ...signature.annotations } };
}

/** Appends the signature to the `.sig` tag's manifest (creating it); false when it was already there. */
export async function writeTagSignature(target: AttachmentTarget, manifestDigest: string, signature: SigstoreSignature): Promise<boolean> {
  const tag = sigstoreTag(manifestDigest);
  let manifest: OciManifest | undefined;
  let config: { rootfs?: { type?: string; diff_ids?: string[] } } & Record<string, unknown> = {};
  try {
    const existing = await target.client.getManifest(target.repository, tag, [MediaType.OciManifest]);
    manifest = parseOciManifest(existing.bytes, `${target.repository}:${tag}`);
    config = readImageConfig(await readBlob(target, manifest.config.digest)) as typeof config;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  if (manifest !== undefined && layerKeys(manifest).has(key(signature))) return false;
  const payloadDigest = await pushBlobIfMissing(target, signature.payload);
  if (manifest === undefined) {
    // containers/image's fresh attachment config: an empty image config, layers as diff_ids.
    config = { architecture: '', os: '', config: {}, rootfs: { type: 'layers', diff_ids: [] } };
  }
  config.rootfs = { ...config.rootfs, type: config.rootfs?.type ?? 'layers', diff_ids: [...(config.rootfs?.diff_ids ?? []), payloadDigest] };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDigest = await pushBlobIfMissing(target, configBytes);
  const next: OciManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, size: configBytes.length, digest: configDigest as Descriptor['digest'] },
    layers: [...(manifest?.layers ?? []), payloadLayer(signature, payloadDigest)],
    ...(manifest?.annotations === undefined ? {} : { annotations: manifest.annotations }),
  };
  await target.client.putManifest(target.repository, tag, Buffer.from(JSON.stringify(next)), MediaType.OciManifest);
  return true;
}

/** Stores the signature as a referrer of `subject`; returns the referrer manifest's digest. */
export async function writeReferrerSignature(target: AttachmentTarget, subject: Descriptor, signature: SigstoreSignature): Promise<string> {
  const payloadDigest = await pushBlobIfMissing(target, signature.payload);
  await pushBlobIfMissing(target, Buffer.from(EMPTY_JSON_CONTENT));
  const manifest: OciManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    artifactType: SIGSTORE_ARTIFACT_TYPE,
    config: { mediaType: MediaType.OciEmpty, size: EMPTY_JSON_CONTENT.length, digest: EMPTY_JSON_DIGEST as Descriptor['digest'] },
    layers: [payloadLayer(signature, payloadDigest)],
    subject: { mediaType: subject.mediaType, size: subject.size, digest: subject.digest },
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const digest = digestOf(bytes);
  const result = await target.client.putManifest(target.repository, digest, bytes, MediaType.OciManifest);
  if (result.subject === undefined) await addToReferrersTag(target, subject.digest, { mediaType: MediaType.OciManifest, size: bytes.length, digest, artifactType: SIGSTORE_ARTIFACT_TYPE });
  return digest;
}

/** The referrers tag schema fallback: the `<alg>-<hex>` index lists the subject's referrers. */
export async function addToReferrersTag(target: AttachmentTarget, subjectDigest: string, descriptor: Descriptor): Promise<void> {
  const tag = subjectDigest.replace(':', '-');
  let manifests: readonly DescriptorJson[] = [];
  try {
    const existing = await target.client.getManifest(target.repository, tag, [MediaType.OciIndex]);
    manifests = indexEntries(readManifestJson(existing.bytes));
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  if (manifests.some((entry) => entry.digest === descriptor.digest)) return;
  const index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [...manifests, descriptor] };
  await target.client.putManifest(target.repository, tag, Buffer.from(JSON.stringify(index)), MediaType.OciIndex);
}

/** Writes the signature the ways `mode` asks. */
export async function writeSigstoreSignature(target: AttachmentTarget, subject: Descriptor, signature: SigstoreSignature, mode: AttachmentMode = 'both'): Promise<void> {
  if (mode === 'tag' || mode === 'both') await writeTagSignature(target, subject.digest, signature);
  if (mode === 'referrer' || mode === 'both') await writeReferrerSignature(target, subject, signature);
}
