// Which manifests a signing policy guards: images and indexes people run. Signatures,
// attestations, SBOMs and other artifacts stay readable, or nobody could fetch the very
// signatures that make an image pullable. Decided from the content, never from the tag
// name: an image pushed under a `sha256-….sig` tag is still an image.
import { readJsonObject } from '../../core/manifest-reader.ts';
import { IMAGE_CONFIG_TYPES, INDEX_TYPES } from '../../core/media-types.ts';

const IMAGE_LAYER_PREFIXES = ['application/vnd.oci.image.layer.', 'application/vnd.docker.image.rootfs.'];

export type GuardedKind = 'image' | 'index';

/** 'image' or 'index' when the policy applies, null for an artifact (or unparseable bytes,
 * which the registry's own validation refuses anyway). */
export function guardedKind(content: Uint8Array, mediaType: string | undefined): GuardedKind | null {
  let parsed: Record<string, unknown>;
  try {
    // The raw object, not readManifestJson's view: a `subject` or `artifactType` of any
    // JSON type makes an artifact, exactly as before.
    parsed = readJsonObject(content);
  } catch {
    return null;
  }
  // A referrer (subject) or a declared artifact type is an artifact by its own account.
  if (parsed.subject !== undefined || parsed.artifactType !== undefined) return null;
  const type = typeof parsed.mediaType === 'string' ? parsed.mediaType : mediaType;
  if (parsed.schemaVersion === 1) return 'image';
  if ((type !== undefined && INDEX_TYPES.has(type)) || Array.isArray(parsed.manifests)) return 'index';
  const config = parsed.config as { mediaType?: unknown } | undefined;
  if (typeof config?.mediaType !== 'string' || !IMAGE_CONFIG_TYPES.has(config.mediaType)) return null;
  const layers = Array.isArray(parsed.layers) ? (parsed.layers as { mediaType?: unknown }[]) : [];
  // cosign's signatures use an image config with simplesigning layers: artifacts.
  if (layers.some((layer) => typeof layer.mediaType !== 'string' || !IMAGE_LAYER_PREFIXES.some((prefix) => (layer.mediaType as string).startsWith(prefix)))) return null;
  return 'image';
}
