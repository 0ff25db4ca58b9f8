// Copies an image between transports: one image (an index's instance for a platform, or
// with `all` the index and every instance), streaming each blob from source to destination
// through a digest-and-size check (never buffered whole), skipping blobs the destination
// has or can mount. Manifests are copied byte for byte unless a format conversion
// (Docker schema2 ↔ OCI) is asked for; the config blob is never changed. Hooks let the
// caller refuse an image before its blobs are read (the trust policy) and act around each
// manifest written (signatures copied and made).
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { digestOf } from '../core/digest.ts';
import { indexEntries, readManifestJson, type DescriptorJson, type ManifestJson, type PlatformJson } from '../core/manifest-reader.ts';
import { MediaType } from '../core/media-types.ts';
import { chooseInstance, targetPlatform, type Platform } from '../image/platform.ts';
import { isIndex, sizeCheckingStream, verifyingStream, type BlobInfo, type ImageDestination, type ImageSource, type ManifestData } from '../image/transport.ts';

export type ManifestFormat = 'oci' | 'v2s2';

export type CopyEvent =
  | { readonly kind: 'blob-skipped'; readonly blob: BlobInfo; readonly reason: 'exists' | 'mounted' }
  | { readonly kind: 'blob-copied'; readonly blob: BlobInfo }
  | { readonly kind: 'blob-start'; readonly blob: BlobInfo }
  | { readonly kind: 'manifest'; readonly digest: string; readonly mediaType: string };

/** One manifest of the copy, as the hooks see it. */
export interface ManifestStep {
  /** The manifest as the source has it. */
  readonly source: ManifestData;
  /** Whether the source holds it as an index's instance (not as its top-level manifest). */
  readonly sourceInstance: boolean;
  /** Whether it is written as an instance of an index (copy --all), not as the top level. */
  readonly destinationInstance: boolean;
}

export interface CopyOptions {
  /** Copy an index and every instance (else: the instance for `platform`). */
  readonly all?: boolean;
  readonly format?: ManifestFormat;
  /** Platform to choose from an index without `all`; default the current one. */
  readonly platform?: Partial<Platform>;
  readonly onEvent?: (event: CopyEvent) => void;
  /** Byte-level progress of a blob being copied (after blob-start): bytes read from the source so far. */
  readonly onProgress?: (blob: BlobInfo, bytesSoFar: number) => void;
  /**
   * Called for every image and index to copy before anything else of it is read (its blobs,
   * its instances); throwing refuses it. This is where the trust policy is enforced, as
   * containers/image checks IsRunningImageAllowed before reading the image.
   */
  readonly checkImage?: (step: ManifestStep) => Promise<void>;
  /** Called before a manifest is written with what will be written (signatures: refuse a conversion that invalidates them). */
  readonly beforeManifest?: (step: ManifestStep, written: ManifestData) => Promise<void>;
  /** Called once a manifest is written at the destination (signatures are copied and made then). */
  readonly afterManifest?: (step: ManifestStep, written: ManifestData) => Promise<void>;
}

export interface CopyResult {
  /** Digest of the top-level manifest written. */
  readonly digest: string;
  readonly mediaType: string;
  readonly blobsCopied: number;
  readonly blobsSkipped: number;
}

export class ConversionError extends Error {
  override readonly name = 'ConversionError';
}

/** A descriptor as it is written into a converted manifest. */
interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: PlatformJson;
  annotations?: Readonly<Record<string, string>>;
  urls?: readonly string[];
  [key: string]: unknown;
}

/** A converted manifest or index, keys in the order they are written. */
interface ManifestOut {
  schemaVersion: number;
  mediaType: string;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
  annotations?: Readonly<Record<string, string>>;
}

function parse(manifest: ManifestData, where: string): ManifestJson {
  try {
    return readManifestJson(manifest.bytes);
  } catch (error) {
    throw new Error(`${where}: the manifest is not valid JSON (${(error as Error).message})`);
  }
}

// ---- format conversion -------------------------------------------------------------

const TO_OCI_LAYER: Readonly<Record<string, string>> = {
  [MediaType.DockerLayer]: MediaType.OciLayerTarGzip,
  [MediaType.DockerForeignLayer]: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  [MediaType.OciLayerTarGzip]: MediaType.OciLayerTarGzip,
  [MediaType.OciLayerTar]: MediaType.OciLayerTar,
  [MediaType.OciLayerTarZstd]: MediaType.OciLayerTarZstd,
};

const TO_DOCKER_LAYER: Readonly<Record<string, string>> = {
  [MediaType.OciLayerTarGzip]: MediaType.DockerLayer,
  [MediaType.DockerLayer]: MediaType.DockerLayer,
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip': MediaType.DockerForeignLayer,
  [MediaType.DockerForeignLayer]: MediaType.DockerForeignLayer,
};

function targetManifestType(format: ManifestFormat, index: boolean): string {
  if (format === 'oci') return index ? MediaType.OciIndex : MediaType.OciManifest;
  return index ? MediaType.DockerManifestList : MediaType.DockerManifest;
}

/**
 * A descriptor with keys in the order Go's encoding/json writes containers/image's structs,
 * so a converted manifest is byte for byte skopeo's: `mediaType, digest, size` for OCI,
 * `mediaType, size, digest` for Docker schema2 (keepAnnotations is false only for Docker).
 */
function descriptor(source: DescriptorJson, mediaType: string, keepAnnotations: boolean, docker = !keepAnnotations): Descriptor {
  const out: Descriptor = docker ? { mediaType, size: source.size, digest: source.digest } : { mediaType, digest: source.digest, size: source.size };
  if (source.urls !== undefined) out.urls = source.urls;
  if (keepAnnotations && source.annotations !== undefined) out.annotations = source.annotations;
  if (source.platform !== undefined) out.platform = source.platform;
  return out;
}

/** An image manifest in `format`; throws ConversionError for what the format cannot express. */
function convertImageManifest(manifest: ManifestData, format: ManifestFormat, where: string): ManifestData {
  const target = targetManifestType(format, false);
  if (manifest.mediaType === target) return manifest;
  if (manifest.mediaType !== MediaType.OciManifest && manifest.mediaType !== MediaType.DockerManifest) {
    throw new ConversionError(`${where}: cannot convert a manifest of type ${manifest.mediaType} to ${format}`);
  }
  const parsed = parse(manifest, where);
  if (parsed.config === undefined || !Array.isArray(parsed.layers)) throw new ConversionError(`${where}: the manifest has no config or layers`);
  let out: ManifestOut;
  if (format === 'oci') {
    const configType = parsed.config.mediaType === MediaType.DockerConfig ? MediaType.OciConfig : undefined;
    if (configType === undefined) throw new ConversionError(`${where}: cannot convert to OCI: unknown config media type ${parsed.config.mediaType}`);
    out = {
      schemaVersion: 2,
      mediaType: target,
      config: descriptor(parsed.config, configType, false, false),
      layers: parsed.layers.map((layer) => {
        const type = TO_OCI_LAYER[layer.mediaType];
        if (type === undefined) throw new ConversionError(`${where}: cannot convert to OCI: unsupported layer media type ${layer.mediaType}`);
        return descriptor(layer, type, true);
      }),
    };
  } else {
    if (parsed.config.mediaType !== MediaType.OciConfig) {
      throw new ConversionError(`${where}: cannot convert to Docker schema2 (v2s2): the config media type ${parsed.config.mediaType} is not an image configuration`);
    }
    if (parsed.subject !== undefined) throw new ConversionError(`${where}: cannot convert to Docker schema2 (v2s2): the manifest has a subject, which v2s2 cannot express`);
    if (parsed.artifactType !== undefined) throw new ConversionError(`${where}: cannot convert to Docker schema2 (v2s2): the manifest is an artifact (${parsed.artifactType})`);
    out = {
      schemaVersion: 2,
      mediaType: target,
      config: descriptor(parsed.config, MediaType.DockerConfig, false),
      layers: parsed.layers.map((layer) => {
        const type = TO_DOCKER_LAYER[layer.mediaType];
        if (type === undefined) {
          const why = layer.mediaType.endsWith('+zstd') ? 'zstd-compressed layers' : layer.mediaType === MediaType.OciLayerTar ? 'uncompressed layers' : `layers of type ${layer.mediaType}`;
          throw new ConversionError(`${where}: cannot convert to Docker schema2 (v2s2): it does not support ${why} (layer ${layer.digest}); copy with --format oci`);
        }
        return descriptor(layer, type, false);
      }),
    };
  }
  if (format === 'oci' && parsed.annotations !== undefined) out.annotations = parsed.annotations;
  const bytes = Buffer.from(JSON.stringify(out));
  return { bytes, mediaType: target, digest: digestOf(bytes) };
}

/** An index in `format` whose entries point at the (possibly converted) instances. */
function convertIndex(manifest: ManifestData, format: ManifestFormat, instances: ReadonlyMap<string, ManifestData>, where: string): ManifestData {
  const parsed = parse(manifest, where);
  const target = targetManifestType(format, true);
  const changed = [...instances.entries()].some(([digest, written]) => written.digest !== digest);
  if (manifest.mediaType === target && !changed) return manifest;
  const entries = indexEntries(parsed).map((entry) => {
    const written = instances.get(entry.digest);
    const mediaType = written?.mediaType ?? entry.mediaType;
    if (format === 'v2s2' && entry.platform === undefined) throw new ConversionError(`${where}: cannot convert to a Docker manifest list: entry ${entry.digest} has no platform`);
    if (format === 'v2s2' && written === undefined && mediaType !== MediaType.DockerManifest) {
      throw new ConversionError(`${where}: cannot convert to a Docker manifest list: entry ${entry.digest} is a ${mediaType}`);
    }
    return { ...descriptor(entry, mediaType, format === 'oci'), digest: written?.digest ?? entry.digest, size: written?.bytes.length ?? entry.size };
  });
  const out: ManifestOut = { schemaVersion: 2, mediaType: target, manifests: entries };
  if (format === 'oci' && parsed.annotations !== undefined) out.annotations = parsed.annotations;
  if (format === 'v2s2' && parsed.subject !== undefined) throw new ConversionError(`${where}: cannot convert to a Docker manifest list: the index has a subject`);
  const bytes = Buffer.from(JSON.stringify(out));
  return { bytes, mediaType: target, digest: digestOf(bytes) };
}

// ---- copying ----------------------------------------------------------------------

/** A pass-through that reports the bytes gone through so far after each chunk. */
function countingStream(blob: BlobInfo, onProgress: (blob: BlobInfo, bytesSoFar: number) => void): Transform {
  let bytes = 0;
  return new Transform({
    highWaterMark: 256 * 1024,
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      bytes += chunk.length;
      onProgress(blob, bytes);
      callback(null, chunk);
    },
  });
}

/**
 * Runs `work` over `items`, at most `limit` at a time. After the first failure nothing new
 * starts; the ones running finish, then the first error is thrown.
 */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure !== undefined) throw failure.error;
}

class Copier {
  readonly #src: ImageSource;
  readonly #dst: ImageDestination;
  readonly #options: CopyOptions;
  readonly #done = new Set<string>();
  /** Blobs being copied, so two instances sharing a layer copy it once. */
  readonly #inFlight = new Map<string, Promise<void>>();
  copied = 0;
  skipped = 0;

  constructor(src: ImageSource, dst: ImageDestination, options: CopyOptions) {
    this.#src = src;
    this.#dst = dst;
    this.#options = options;
  }

  #emit(event: CopyEvent): void {
    this.#options.onEvent?.(event);
  }

  async blob(blob: DescriptorJson): Promise<void> {
    if (this.#done.has(blob.digest)) return;
    const running = this.#inFlight.get(blob.digest);
    if (running) return running;
    const work = this.#copyBlob(blob).finally(() => this.#inFlight.delete(blob.digest));
    this.#inFlight.set(blob.digest, work);
    return work;
  }

  async #copyBlob(blob: DescriptorJson): Promise<void> {
    const info: BlobInfo = { digest: blob.digest, size: blob.size, mediaType: blob.mediaType };
    if (await this.#dst.hasBlob(info)) {
      this.skipped += 1;
      this.#emit({ kind: 'blob-skipped', blob: info, reason: 'exists' });
    } else if (await this.#dst.tryReuseBlob(info, this.#src)) {
      this.skipped += 1;
      this.#emit({ kind: 'blob-skipped', blob: info, reason: 'mounted' });
    } else {
      this.#emit({ kind: 'blob-start', blob: info });
      const stream: Readable = await this.#src.getBlob(info);
      const verifier = this.#src.verifiesBlobs ? sizeCheckingStream(info, `copying from ${this.#src.name}`) : verifyingStream(info, `copying from ${this.#src.name}`);
      const verified = this.#dst.putBlob(info, verifier);
      // The source feeds the verifier; a failure on either side ends both.
      const onProgress = this.#options.onProgress;
      const feeding = (onProgress === undefined ? pipeline(stream, verifier) : pipeline(stream, countingStream(info, onProgress), verifier)).catch((error: unknown) => {
        verifier.destroy(error as Error);
        throw error;
      });
      const [fed, put] = await Promise.allSettled([feeding, verified]);
      // The source's or the digest check's error explains more than the destination's broken pipe, and vice versa.
      if (fed.status === 'rejected' && (fed.reason as { code?: string }).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw fed.reason;
      if (put.status === 'rejected') throw put.reason;
      if (fed.status === 'rejected') throw fed.reason;
      this.copied += 1;
      this.#emit({ kind: 'blob-copied', blob: info });
    }
    this.#done.add(blob.digest);
  }

  /** Copies an image manifest's blobs and the manifest (converted if asked); returns what was written. */
  async image(manifest: ManifestData, instance: boolean, sourceInstance = instance): Promise<ManifestData> {
    const where = `${this.#src.name}${instance ? `@${manifest.digest}` : ''}`;
    if (isIndex(manifest.mediaType)) throw new Error(`${where}: nested index inside an index is not supported`);
    const step: ManifestStep = { source: manifest, sourceInstance, destinationInstance: instance };
    await this.#options.checkImage?.(step);
    const written = this.#options.format === undefined ? manifest : convertImageManifest(manifest, this.#options.format, where);
    const parsed = parse(manifest, where);
    if (parsed.config === undefined || !Array.isArray(parsed.layers)) {
      throw new Error(`${where}: the manifest (${manifest.mediaType}) is not an image manifest`);
    }
    const blobs: DescriptorJson[] = [];
    for (const blob of [parsed.config, ...parsed.layers]) {
      if (blob.urls !== undefined && blob.urls.length > 0 && !(await this.#hasSourceBlob(blob))) continue; // foreign layer: stays where its URLs say
      blobs.push(blob);
    }
    await inParallel(blobs, this.#dst.parallelBlobs ?? 1, (blob) => this.blob(blob));
    await this.#options.beforeManifest?.(step, written);
    await this.#dst.putManifest(written, instance ? written.digest : undefined);
    this.#emit({ kind: 'manifest', digest: written.digest, mediaType: written.mediaType });
    await this.#options.afterManifest?.(step, written);
    return written;
  }

  async #hasSourceBlob(blob: DescriptorJson): Promise<boolean> {
    try {
      const stream = await this.#src.getBlob({ digest: blob.digest, size: blob.size });
      stream.destroy();
      return true;
    } catch {
      return false;
    }
  }

  async run(): Promise<CopyResult> {
    const top = await this.#src.getManifest();
    let written: ManifestData;
    if (isIndex(top.mediaType)) {
      const index = parse(top, this.#src.name);
      const entries = indexEntries(index);
      if (this.#options.all === true) {
        const step: ManifestStep = { source: top, sourceInstance: false, destinationInstance: false };
        await this.#options.checkImage?.(step);
        const instances = new Map<string, ManifestData>();
        for (const entry of entries) {
          const child = await this.#src.getManifest(entry.digest);
          instances.set(entry.digest, await this.image(child, true));
        }
        written = this.#options.format === undefined ? top : convertIndex(top, this.#options.format, instances, this.#src.name);
        await this.#options.beforeManifest?.(step, written);
        await this.#dst.putManifest(written);
        this.#emit({ kind: 'manifest', digest: written.digest, mediaType: written.mediaType });
        await this.#options.afterManifest?.(step, written);
      } else {
        const chosen = chooseInstance(entries, targetPlatform(this.#options.platform));
        written = await this.image(await this.#src.getManifest(chosen.digest), false, true);
      }
    } else {
      written = await this.image(top, false);
    }
    await this.#dst.commit();
    return { digest: written.digest, mediaType: written.mediaType, blobsCopied: this.copied, blobsSkipped: this.skipped };
  }
}

export async function copyImage(src: ImageSource, dst: ImageDestination, options: CopyOptions = {}): Promise<CopyResult> {
  return new Copier(src, dst, options).run();
}
