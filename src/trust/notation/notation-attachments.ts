// Notation signatures in a registry: OCI referrers of the signed manifest whose
// artifactType is application/vnd.cncf.notary.signature (older notation wrote it as the
// config media type), each with one application/jose+json layer, the envelope.
import type { Descriptor } from '../../core/manifest.ts';
import { MediaType } from '../../core/media-types.ts';
import { isNotFound, readBlob, type AttachmentTarget } from '../sigstore/attachments.ts';
import { JWS_MEDIA_TYPE, NOTATION_ARTIFACT_TYPE } from './envelope.ts';

export interface StoredNotationSignature {
  readonly manifest: string;
  readonly envelope: Buffer;
}

/** Whether a (referrer) manifest is a notation signature, and its envelope layer if so. */
export function notationEnvelopeLayer(manifest: { artifactType?: unknown; config?: { mediaType?: unknown }; layers?: unknown }): Descriptor | undefined {
  const type = manifest.artifactType ?? manifest.config?.mediaType;
  if (type !== NOTATION_ARTIFACT_TYPE || !Array.isArray(manifest.layers)) return undefined;
  return (manifest.layers as Descriptor[]).find((layer) => layer.mediaType === JWS_MEDIA_TYPE);
}

export async function readNotationSignatures(target: AttachmentTarget, manifestDigest: string): Promise<StoredNotationSignature[]> {
  let descriptors: readonly Descriptor[];
  try {
    descriptors = (await target.client.referrers(target.repository, manifestDigest, NOTATION_ARTIFACT_TYPE)).manifests;
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
  const found: StoredNotationSignature[] = [];
  for (const descriptor of descriptors) {
    const { bytes } = await target.client.getManifest(target.repository, descriptor.digest, [MediaType.OciManifest]);
    let manifest: { subject?: Descriptor; artifactType?: unknown; config?: { mediaType?: unknown }; layers?: unknown };
    try {
      manifest = JSON.parse(bytes.toString('utf8')) as typeof manifest;
    } catch {
      continue;
    }
    const layer = notationEnvelopeLayer(manifest);
    if (layer === undefined || manifest.subject?.digest !== manifestDigest) continue;
    found.push({ manifest: descriptor.digest, envelope: await readBlob(target, layer.digest) });
  }
  return found;
}
