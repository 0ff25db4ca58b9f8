// Which manifests the quality service indexes: image manifests (an image configuration
// and layers), not artifacts (signatures, SBOMs) and not indexes (their images are
// indexed one by one). Decided from the stored bytes, since media types are optional.
import { RegistryError } from '../core/errors.ts';
import { indexEntries, readManifestJson, type ManifestJson } from '../core/manifest-reader.ts';
import { IMAGE_CONFIG_TYPES, IMAGE_MANIFEST_TYPES, INDEX_TYPES } from '../core/media-types.ts';
import type { Registry } from '../registry/registry.ts';

function parse(content: Uint8Array): ManifestJson {
  try {
    return readManifestJson(content);
  } catch {
    return {};
  }
}

/** An image manifest (config is an image configuration), not an artifact or an index. */
export function isImageManifest(mediaType: string, content: Uint8Array): boolean {
  const parsed = parse(content);
  const type = IMAGE_MANIFEST_TYPES.has(mediaType) ? mediaType : parsed.mediaType ?? mediaType;
  if (!IMAGE_MANIFEST_TYPES.has(type)) return false;
  if (parsed.artifactType !== undefined) return false;
  return Array.isArray(parsed.layers) && IMAGE_CONFIG_TYPES.has(parsed.config?.mediaType ?? '');
}

function isIndexContent(content: Uint8Array): boolean {
  return Array.isArray(parse(content).manifests);
}

function childDigests(content: Uint8Array): string[] {
  return indexEntries(parse(content)).map((entry) => entry.digest ?? '').filter((digest) => digest !== '');
}

/** Throws INVALID_REQUEST unless the manifest in `repository` is an image (MANIFEST_UNKNOWN if absent). */
export async function requireImageManifest(registry: Registry, repository: string, digest: string): Promise<void> {
  const record = await registry.getManifest(repository, digest);
  if (INDEX_TYPES.has(record.mediaType) || isIndexContent(record.content)) {
    throw new RegistryError('INVALID_REQUEST', `${digest} is an image index: ask for one of its images`, { detail: { manifests: childDigests(record.content) } });
  }
  if (!isImageManifest(record.mediaType, record.content)) throw new RegistryError('INVALID_REQUEST', `${digest} is not an image (an artifact has no file system to index)`);
}
