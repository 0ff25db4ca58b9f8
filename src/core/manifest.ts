// Parsing and schema validation of manifests (OCI image manifest and index, Docker
// schema2 manifest and manifest list) as the registry stores them. Pure: existence of
// referenced content is checked by the registry domain, which knows the repository.
// Decoding is manifest-reader.ts's, which everyone who only reads a manifest uses.
import { RegistryError } from './errors.ts';
import { ManifestJsonError, readJsonObject } from './manifest-reader.ts';
import { parseDigest, type Digest } from './digest.ts';
import {
  IMAGE_MANIFEST_TYPES,
  INDEX_TYPES,
  MediaType,
  NON_DISTRIBUTABLE_LAYER_TYPES,
  SCHEMA1_TYPES,
  isMediaType,
} from './media-types.ts';

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly urls?: readonly string[];
  readonly annotations?: Readonly<Record<string, string>>;
  readonly artifactType?: string;
  readonly platform?: Readonly<Record<string, unknown>>;
}

export interface ParsedManifest {
  readonly mediaType: string;
  readonly kind: 'image' | 'index';
  /** Blobs that must exist in the repository (config and distributable layers). */
  readonly blobs: readonly Descriptor[];
  /** Child manifests that must exist in the repository (index entries). */
  readonly manifests: readonly Descriptor[];
  readonly subject?: Descriptor;
  /** The artifact type a referrers listing shows for this manifest. */
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

function invalid(message: string): never {
  throw new RegistryError('MANIFEST_INVALID', message);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseAnnotations(value: unknown, where: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) invalid(`${where}: annotations must be an object of strings`);
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'string') invalid(`${where}: annotation "${key}" must be a string`);
  }
  return value as Record<string, string>;
}

export function parseDescriptor(value: unknown, where: string): Descriptor {
  if (!isPlainObject(value)) invalid(`${where}: descriptor must be an object`);
  const { mediaType, digest, size, urls, artifactType } = value;
  if (!isMediaType(mediaType)) invalid(`${where}: mediaType must be a valid media type`);
  if (typeof digest !== 'string') invalid(`${where}: digest must be a string`);
  try {
    parseDigest(digest);
  } catch (error) {
    invalid(`${where}: ${(error as Error).message}`);
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) invalid(`${where}: size must be a non-negative integer`);
  if (urls !== undefined && (!Array.isArray(urls) || urls.some((url) => typeof url !== 'string'))) invalid(`${where}: urls must be an array of strings`);
  if (artifactType !== undefined && !isMediaType(artifactType)) invalid(`${where}: artifactType must be a valid media type`);
  const annotations = parseAnnotations(value.annotations, where);
  const platform = value.platform;
  if (platform !== undefined && !isPlainObject(platform)) invalid(`${where}: platform must be an object`);
  if (isPlainObject(platform) && (typeof platform.architecture !== 'string' || typeof platform.os !== 'string')) {
    invalid(`${where}: platform needs architecture and os strings`);
  }
  return {
    mediaType,
    digest: digest as Digest,
    size,
    ...(urls === undefined ? {} : { urls: urls as string[] }),
    ...(annotations === undefined ? {} : { annotations }),
    ...(artifactType === undefined ? {} : { artifactType: artifactType as string }),
    ...(platform === undefined ? {} : { platform: platform as Record<string, unknown> }),
  };
}

/**
 * Works out the manifest's media type from the Content-Type header and the body's own
 * `mediaType` field, and refuses what the registry does not store.
 */
function resolveMediaType(contentType: string | undefined, body: Record<string, unknown>): string {
  const header = contentType?.split(';')[0]?.trim().toLowerCase() || undefined;
  const field = body.mediaType;
  if (field !== undefined && typeof field !== 'string') invalid('mediaType must be a string');
  if ((header && SCHEMA1_TYPES.has(header)) || (field && SCHEMA1_TYPES.has(field)) || body.schemaVersion === 1) {
    invalid('Docker image manifest schema 1 is deprecated and not accepted: push the image again with a current client, or convert it to schema 2 or OCI (skopeo copy --format v2s2)');
  }
  if (field !== undefined && header !== undefined && header !== 'application/json' && header !== 'application/octet-stream' && field !== header) {
    invalid(`Content-Type "${header}" does not match the manifest's mediaType "${field}"`);
  }
  let mediaType = field ?? (header !== 'application/json' && header !== 'application/octet-stream' ? header : undefined);
  if (mediaType === undefined) {
    // OCI manifests may omit mediaType; tell the two OCI kinds apart by their shape.
    mediaType = Array.isArray(body.manifests) ? MediaType.OciIndex : MediaType.OciManifest;
  }
  if (!IMAGE_MANIFEST_TYPES.has(mediaType) && !INDEX_TYPES.has(mediaType)) {
    invalid(`unsupported manifest media type "${mediaType}": expected an OCI image manifest or index, or a Docker schema 2 manifest or manifest list`);
  }
  return mediaType;
}

export function parseManifest(content: Uint8Array, contentType?: string): ParsedManifest {
  let body: Record<string, unknown>;
  try {
    body = readJsonObject(content);
  } catch (error) {
    if (error instanceof ManifestJsonError && error.reason === 'not-an-object') invalid('manifest must be a JSON object');
    invalid(`manifest is not valid JSON: ${(error as Error).message}`);
  }
  const mediaType = resolveMediaType(contentType, body);
  if (body.schemaVersion !== 2) invalid('schemaVersion must be 2');
  const isDocker = mediaType === MediaType.DockerManifest || mediaType === MediaType.DockerManifestList;
  if (isDocker && body.mediaType !== mediaType) invalid(`Docker manifests must carry mediaType "${mediaType}"`);
  const annotations = parseAnnotations(body.annotations, 'manifest');
  const subject = body.subject === undefined ? undefined : parseDescriptor(body.subject, 'subject');
  if (body.artifactType !== undefined && !isMediaType(body.artifactType)) invalid('artifactType must be a valid media type');
  const declaredArtifactType = body.artifactType as string | undefined;

  if (INDEX_TYPES.has(mediaType)) {
    if (!Array.isArray(body.manifests)) invalid('index: manifests must be an array');
    if (body.config !== undefined || body.layers !== undefined) invalid('index must not carry config or layers');
    const manifests = body.manifests.map((entry, i) => parseDescriptor(entry, `manifests[${i}]`));
    return {
      mediaType,
      kind: 'index',
      blobs: [],
      manifests,
      ...(subject ? { subject } : {}),
      ...(declaredArtifactType ? { artifactType: declaredArtifactType } : {}),
      ...(annotations ? { annotations } : {}),
    };
  }

  if (body.manifests !== undefined) invalid('image manifest must not carry manifests');
  const config = parseDescriptor(body.config, 'config');
  if (!Array.isArray(body.layers)) invalid('layers must be an array');
  const layers = body.layers.map((entry, i) => parseDescriptor(entry, `layers[${i}]`));
  if (isDocker && layers.length === 0) invalid('Docker schema 2 manifests need at least one layer');
  const blobs = [config, ...layers.filter((layer) => !NON_DISTRIBUTABLE_LAYER_TYPES.has(layer.mediaType))];
  // The referrers API shows artifactType, falling back to the config's media type.
  const artifactType = declaredArtifactType ?? config.mediaType;
  return {
    mediaType,
    kind: 'image',
    blobs,
    manifests: [],
    ...(subject ? { subject } : {}),
    artifactType,
    ...(annotations ? { annotations } : {}),
  };
}
