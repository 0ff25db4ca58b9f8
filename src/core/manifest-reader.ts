// The one reader of manifest, index and image-configuration JSON, for everyone who only
// looks at one (the client, the scanner, trust, the CLI): bytes → a JSON object → a typed
// view. The registry judges what it stores with parseManifest (manifest.ts), which decodes
// through the same readJsonObject and then validates every field.
//
// The view is honest about the top level: a well-known field of the wrong JSON type
// (`"mediaType": 5`, `"layers": {}`) reads as absent, so `Array.isArray` and `typeof`
// checks are not repeated at every caller. Entries of `layers` and `manifests` are typed as
// well-formed descriptors but are what the document says: a caller reading a manifest the
// registry did not validate (a remote registry's, a file's) checks what it relies on.
import { MediaType } from './media-types.ts';

/** Why bytes are not a JSON object: not JSON at all, or JSON of another kind (array, string, null). */
export class ManifestJsonError extends Error {
  override readonly name = 'ManifestJsonError';
  readonly reason: 'syntax' | 'not-an-object';

  constructor(reason: 'syntax' | 'not-an-object', message: string, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}

export interface PlatformJson {
  readonly os?: string;
  readonly architecture?: string;
  readonly variant?: string;
  readonly [field: string]: unknown;
}

/** A descriptor as a manifest or index lists it. */
export interface DescriptorJson {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly urls?: readonly string[];
  readonly annotations?: Readonly<Record<string, string>>;
  readonly platform?: PlatformJson;
  readonly artifactType?: string;
  readonly [field: string]: unknown;
}

/** An image manifest or an index (an OCI layout's index.json too), every field optional. */
export interface ManifestJson {
  readonly schemaVersion?: number;
  readonly mediaType?: string;
  readonly artifactType?: string;
  readonly config?: DescriptorJson;
  readonly layers?: readonly DescriptorJson[];
  readonly manifests?: readonly DescriptorJson[];
  readonly subject?: DescriptorJson;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly [field: string]: unknown;
}

/** The fields of an image configuration that Custody reads (OCI image-spec config.md). */
export interface ImageConfigJson {
  readonly created?: string;
  readonly author?: string;
  readonly architecture?: string;
  readonly variant?: string;
  readonly os?: string;
  readonly docker_version?: string;
  readonly config?: { readonly Labels?: Readonly<Record<string, string>> | null; readonly Env?: readonly string[] | null; readonly [field: string]: unknown };
  readonly rootfs?: { readonly type?: string; readonly diff_ids?: readonly string[] };
  readonly [field: string]: unknown;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * UTF-8 JSON text → the object it holds. Throws ManifestJsonError: `syntax` with
 * JSON.parse's own message, or `not-an-object`.
 */
export function readJsonObject(content: Uint8Array | string): Record<string, unknown> {
  const text = typeof content === 'string' ? content : Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ManifestJsonError('syntax', (error as Error).message, { cause: error });
  }
  if (!isPlainObject(value)) throw new ManifestJsonError('not-an-object', 'not a JSON object');
  return value;
}

/** Well-known fields and the JSON type each must have to be read at all. */
const FIELD_TYPES: Readonly<Record<string, (value: unknown) => boolean>> = {
  schemaVersion: (value) => typeof value === 'number',
  mediaType: (value) => typeof value === 'string',
  artifactType: (value) => typeof value === 'string',
  config: isPlainObject,
  subject: isPlainObject,
  annotations: isPlainObject,
  layers: Array.isArray,
  manifests: Array.isArray,
};

/** A manifest, an index or an OCI layout's index.json. Throws ManifestJsonError. */
export function readManifestJson(content: Uint8Array | string): ManifestJson {
  const object = readJsonObject(content);
  let view = object;
  for (const [field, hasType] of Object.entries(FIELD_TYPES)) {
    if (object[field] === undefined || hasType(object[field])) continue;
    // A copy, so fields keep their order and the caller's bytes mean what they said.
    if (view === object) view = { ...object };
    delete view[field];
  }
  return view as ManifestJson;
}

/** An image configuration blob. Throws ManifestJsonError. */
export function readImageConfig(content: Uint8Array | string): ImageConfigJson {
  return readJsonObject(content) as ImageConfigJson;
}

/** An index's entries; none for an image manifest. */
export function indexEntries(manifest: ManifestJson): readonly DescriptorJson[] {
  return manifest.manifests ?? [];
}

/**
 * The media type a manifest declares, else `fallback`, else a guess from its shape (dir:
 * and oci: files, and index.json entries, may carry none).
 */
export function manifestMediaType(content: Uint8Array, fallback?: string): string {
  let manifest: ManifestJson;
  try {
    manifest = readManifestJson(content);
  } catch {
    throw new Error('the manifest is not valid JSON');
  }
  if (manifest.mediaType !== undefined && manifest.mediaType !== '') return manifest.mediaType;
  if (fallback !== undefined) return fallback;
  if (manifest.manifests !== undefined) return MediaType.OciIndex;
  if (manifest.config?.mediaType === MediaType.DockerConfig) return MediaType.DockerManifest;
  return MediaType.OciManifest;
}
