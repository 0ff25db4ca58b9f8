// `docker-archive:` — the legacy `docker save` / `podman save` tar:
//
//   manifest.json            [{"Config": "<hex>.json", "RepoTags": [...], "Layers": ["<hex>/layer.tar", ...]}]
//   <hex>.json               the image config (hex = its sha256)
//   <hex>/layer.tar          each layer as an *uncompressed* tar (hex = its diff ID)
//   repositories             optional {"name": {"tag": "<top layer id>"}}
//
// Writing: compressed layers (gzip; zstd where node:zlib has it) are decompressed on the
// fly. The tar header needs the uncompressed size first, so each layer is read twice:
// once to measure it and compute its diff ID — checked against the config's
// rootfs.diff_ids before anything is written — and once to stream it into the archive,
// checked again. Nothing is spooled to disk.
//
// Reading: the archive file is indexed (headers only) and an image is picked by tag or
// `@N`; its layers are read in place and hashed to give their digests (the diff IDs, which
// must match the config). Layers are exposed uncompressed, as Docker
// `application/vnd.docker.image.rootfs.diff.tar` or OCI `...layer.v1.tar` blobs (or,
// should a layer file be gzip-compressed, as the corresponding gzip media type).
import type { Readable, Transform, Writable } from 'node:stream';
import * as zlib from 'node:zlib';
import { digestOf, parseDigest, type Digest } from '../../core/digest.ts';
import { MediaType } from '../../core/media-types.ts';
import type { Descriptor } from '../../core/manifest.ts';
import { readImageConfig, type ImageConfigJson as ImageConfig } from '../../core/manifest-reader.ts';
import { ArchiveContents, ArchiveError, digestStream, verifier } from './archive-contents.ts';
import { piped } from './oci-archive.ts';
import { ArchiveOutput } from './archive-output.ts';
import { TarWriter } from './tar-writer.ts';

export const DOCKER_LAYER_TAR = 'application/vnd.docker.image.rootfs.diff.tar';

export interface DockerArchiveManifestEntry {
  readonly Config: string;
  readonly RepoTags: readonly string[] | null;
  readonly Layers: readonly string[];
}

/** A layer as a transport hands it over: its descriptor and a way to (re)open it. */
export interface LayerSource {
  readonly descriptor: Descriptor;
  /** Opens the layer blob as stored (compressed or not); may be called more than once. */
  open(): Readable | Promise<Readable>;
}

export interface DockerArchiveImageInput {
  /** The image config, verbatim. */
  readonly config: Uint8Array;
  readonly layers: readonly LayerSource[];
  /** `name:tag` references recorded in RepoTags (and `repositories`). */
  readonly repoTags?: readonly string[];
}

type Compression = 'none' | 'gzip' | 'zstd';

function compressionOf(mediaType: string): Compression {
  if (mediaType.endsWith('+gzip') || mediaType.endsWith('.gzip')) return 'gzip';
  if (mediaType.endsWith('+zstd') || mediaType.endsWith('.zstd')) return 'zstd';
  if (mediaType.endsWith('.tar') || mediaType === MediaType.OciLayerTar || mediaType.startsWith('application/vnd.oci.image.layer.nondistributable.v1.tar')) return 'none';
  throw new ArchiveError(`layer media type ${mediaType} is not a tar layer docker-archive can hold`);
}

function decompressor(compression: Compression): Transform | undefined {
  if (compression === 'gzip') return zlib.createGunzip();
  if (compression === 'zstd') {
    const create = (zlib as unknown as { createZstdDecompress?: () => Transform }).createZstdDecompress;
    if (!create) throw new ArchiveError('zstd layers need a Node.js with zlib zstd support');
    return create();
  }
  return undefined;
}

/** The compression the layer's first bytes show (gzip or zstd magic), else none. */
async function sniffCompression(layer: LayerSource): Promise<Compression> {
  const stream = await layer.open();
  const chunks: Buffer[] = [];
  let got = 0;
  try {
    for await (const chunk of stream) {
      chunks.push(Buffer.from(chunk as Uint8Array));
      got += (chunk as Uint8Array).length;
      if (got >= 4) break;
    }
  } finally {
    stream.destroy();
  }
  const head = Buffer.concat(chunks);
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32BE(0) === 0x28b52ffd) return 'zstd';
  return 'none';
}

/**
 * The uncompressed content of a layer, as an async iterable. The media type must be a tar
 * layer's, but the compression is read from the bytes, as containers/image does: a
 * docker-archive read by containers/image labels its uncompressed layers `.tar.gzip`.
 */
async function uncompressed(layer: LayerSource): Promise<AsyncIterable<Uint8Array>> {
  compressionOf(layer.descriptor.mediaType);
  const compression = await sniffCompression(layer);
  const raw = await layer.open();
  const checked = piped(raw, verifier(layer.descriptor.digest, layer.descriptor.size, `layer ${layer.descriptor.digest}`));
  const through = decompressor(compression);
  return through ? piped(checked, through) : checked;
}

function parseConfig(bytes: Uint8Array): ImageConfig {
  try {
    return readImageConfig(bytes);
  } catch (error) {
    throw new ArchiveError(`image config is not valid: ${(error as Error).message}`, { cause: error });
  }
}

function diffIdsOf(config: ImageConfig): string[] {
  const ids = config.rootfs?.diff_ids;
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) throw new ArchiveError('image config has no rootfs.diff_ids');
  return [...ids];
}

/** `name:tag` as RepoTags wants it (docker.io/library/ dropped, :latest added). */
export function normaliseRepoTag(reference: string): string {
  let ref = reference.replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '');
  if (ref.includes('@')) throw new ArchiveError(`docker-archive tags cannot hold a digest: ${reference}`);
  const lastSlash = ref.lastIndexOf('/');
  if (!ref.slice(lastSlash + 1).includes(':')) ref += ':latest';
  return ref;
}

/** Writes a docker-archive to a stream or, with toFile(), atomically to a file. */
export class DockerArchiveWriter {
  private readonly output: ArchiveOutput;
  private readonly written = new Set<string>();
  private readonly entries: DockerArchiveManifestEntry[] = [];
  private readonly repositories: Record<string, Record<string, string>> = {};

  constructor(destination: Writable | ArchiveOutput) {
    this.output = destination instanceof ArchiveOutput ? destination : new ArchiveOutput(destination);
  }

  private get tar(): TarWriter {
    return this.output.tar;
  }

  static toFile(path: string): DockerArchiveWriter {
    return new DockerArchiveWriter(ArchiveOutput.toFile(path));
  }

  /** Adds an image: its config and its layers, uncompressed and checked against the diff IDs. */
  async addImage(image: DockerArchiveImageInput): Promise<void> {
    const config = parseConfig(image.config);
    const diffIds = diffIdsOf(config);
    if (diffIds.length !== image.layers.length) throw new ArchiveError(`the config lists ${diffIds.length} diff IDs for ${image.layers.length} layers`);
    const configDigest = digestOf(image.config);
    const configName = `${parseDigest(configDigest).hex}.json`;
    const layerNames: string[] = [];
    for (const [i, layer] of image.layers.entries()) {
      const diffId = diffIds[i]!;
      const { hex } = parseDigest(diffId);
      const name = `${hex}/layer.tar`;
      layerNames.push(name);
      if (this.written.has(name)) continue;
      // Pass 1: size and diff ID.
      const measured = await digestStream(await uncompressed(layer));
      if (measured.digest !== diffId) throw new ArchiveError(`layer ${i} (${layer.descriptor.digest}) uncompresses to ${measured.digest}, but the config's rootfs.diff_ids[${i}] is ${diffId}`);
      // Pass 2: into the archive, checked again (the source could change under us).
      await this.tar.add({ name: `${hex}/`, type: 'dir' });
      await this.tar.add({ name, size: measured.size }, piped(await uncompressed(layer), verifier(diffId, measured.size, `layer ${i} uncompressed`)));
      this.written.add(name);
    }
    if (!this.written.has(configName)) {
      await this.tar.add({ name: configName, size: image.config.length }, Buffer.from(image.config));
      this.written.add(configName);
    }
    const repoTags = (image.repoTags ?? []).map(normaliseRepoTag);
    for (const tag of repoTags) {
      // A tag names one image: drop it from any earlier one.
      for (const [index, entry] of this.entries.entries()) {
        if (entry.RepoTags?.includes(tag)) this.entries[index] = { ...entry, RepoTags: entry.RepoTags.filter((t) => t !== tag) };
      }
      const colon = tag.lastIndexOf(':');
      const top = layerNames.at(-1);
      if (top) (this.repositories[tag.slice(0, colon)] ??= {})[tag.slice(colon + 1)] = top.slice(0, top.indexOf('/'));
    }
    this.entries.push({ Config: configName, RepoTags: repoTags, Layers: layerNames });
  }

  /** Writes manifest.json (and repositories) and ends the archive. */
  async finish(): Promise<void> {
    try {
      const manifest = Buffer.from(JSON.stringify(this.entries));
      await this.tar.add({ name: 'manifest.json', size: manifest.length }, manifest);
      if (Object.keys(this.repositories).length > 0) {
        const repositories = Buffer.from(JSON.stringify(this.repositories));
        await this.tar.add({ name: 'repositories', size: repositories.length }, repositories);
      }
      await this.output.finish();
    } catch (error) {
      await this.abort(error as Error);
      throw error;
    }
  }

  async abort(error: Error = new Error('docker-archive writing abandoned')): Promise<void> {
    await this.output.abort(error);
  }
}

export interface DockerArchiveLayer {
  /** The blob as served: digest and size of the file in the archive. */
  readonly descriptor: Descriptor;
  /** Its diff ID (the uncompressed digest): equal to descriptor.digest for plain tars. */
  readonly diffId: Digest;
  /** The member name in the archive. */
  readonly path: string;
}

export interface DockerArchiveImage {
  readonly index: number;
  readonly repoTags: readonly string[];
  readonly config: Buffer;
  readonly configDescriptor: Descriptor;
  readonly layers: readonly DockerArchiveLayer[];
}

export type ManifestFormat = 'docker' | 'oci';

export class DockerArchiveReader {
  readonly contents: ArchiveContents;
  readonly manifest: readonly DockerArchiveManifestEntry[];

  private constructor(contents: ArchiveContents, manifest: DockerArchiveManifestEntry[]) {
    this.contents = contents;
    this.manifest = manifest;
  }

  static async open(path: string): Promise<DockerArchiveReader> {
    return DockerArchiveReader.fromContents(await ArchiveContents.scanFile(path), path);
  }

  /** Reads a docker-archive from a stream, spooling it to a private temporary directory. */
  static async fromStream(input: AsyncIterable<Uint8Array>, options: { tempRoot?: string } = {}): Promise<DockerArchiveReader> {
    return DockerArchiveReader.fromContents(await ArchiveContents.spoolStream(input, options), 'stream');
  }

  private static async fromContents(contents: ArchiveContents, where: string): Promise<DockerArchiveReader> {
    try {
      if (!contents.has('manifest.json')) throw new ArchiveError(`${where} is not a docker-archive: no manifest.json`);
      let parsed: unknown;
      try {
        parsed = JSON.parse((await contents.read('manifest.json')).toString('utf8'));
      } catch (error) {
        throw new ArchiveError(`${where}: manifest.json is not valid JSON: ${(error as Error).message}`);
      }
      if (!Array.isArray(parsed)) throw new ArchiveError(`${where}: manifest.json must be an array`);
      const entries = parsed.map((entry: unknown, i): DockerArchiveManifestEntry => {
        const e = entry as Partial<Record<string, unknown>>;
        if (typeof e !== 'object' || e === null || typeof e.Config !== 'string' || !Array.isArray(e.Layers) || e.Layers.some((l) => typeof l !== 'string')) {
          throw new ArchiveError(`${where}: manifest.json entry ${i} needs Config and Layers`);
        }
        const tags = e.RepoTags;
        if (tags !== undefined && tags !== null && (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string'))) throw new ArchiveError(`${where}: manifest.json entry ${i}: RepoTags must be strings`);
        return { Config: e.Config, Layers: e.Layers as string[], RepoTags: (tags as string[] | null | undefined) ?? [] };
      });
      return new DockerArchiveReader(contents, entries);
    } catch (error) {
      await contents.close();
      throw error;
    }
  }

  /** The index in manifest.json for `ref`: `@N`, a tag (`name:tag`, docker.io/library/ optional), or the only image. */
  select(ref?: string): number {
    if (ref === undefined || ref === '') {
      if (this.manifest.length !== 1) throw new ArchiveError(`the archive holds ${this.manifest.length} images: say which one (a tag or @N)`);
      return 0;
    }
    if (/^@[0-9]+$/.test(ref)) {
      const index = Number(ref.slice(1));
      if (index >= this.manifest.length) throw new ArchiveError(`the archive has no image ${ref} (it holds ${this.manifest.length})`);
      return index;
    }
    const wanted = normaliseRepoTag(ref);
    const found = this.manifest.findIndex((entry) => (entry.RepoTags ?? []).some((tag) => tag === ref || normaliseRepoTag(tag) === wanted));
    if (found < 0) throw new ArchiveError(`the archive has no image tagged "${ref}" (it has: ${this.manifest.flatMap((e) => e.RepoTags ?? []).join(', ') || 'no tags'})`);
    return found;
  }

  /**
   * The image for `ref`, its config and layers; every layer is read and hashed here, and
   * the digests must match the config's diff IDs.
   */
  async getImage(ref?: string): Promise<DockerArchiveImage> {
    const index = this.select(ref);
    const entry = this.manifest[index]!;
    const config = await this.contents.read(entry.Config);
    const configDigest = digestOf(config);
    const diffIds = diffIdsOf(parseConfig(config));
    if (diffIds.length !== entry.Layers.length) throw new ArchiveError(`image ${index}: the config lists ${diffIds.length} diff IDs but manifest.json ${entry.Layers.length} layers`);
    const layers: DockerArchiveLayer[] = [];
    for (const [i, path] of entry.Layers.entries()) {
      const head = await this.peek(path, 4);
      const gzipped = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
      const blob = await digestStream(this.contents.open(path));
      const diffId = gzipped ? (await digestStream(piped(this.contents.open(path), zlib.createGunzip()))).digest : blob.digest;
      if (diffId !== diffIds[i]) throw new ArchiveError(`image ${index}: layer ${path} has diff ID ${diffId}, but the config's rootfs.diff_ids[${i}] is ${diffIds[i]}`);
      layers.push({ descriptor: { mediaType: gzipped ? MediaType.DockerLayer : DOCKER_LAYER_TAR, digest: blob.digest, size: blob.size }, diffId, path });
    }
    return {
      index,
      repoTags: entry.RepoTags ?? [],
      config,
      configDescriptor: { mediaType: MediaType.DockerConfig, digest: configDigest, size: config.length },
      layers,
    };
  }

  /**
   * A manifest for the image, Docker schema 2 (default) or OCI; its bytes and digest.
   *
   * The Docker one is what containers/image makes up for a docker-archive, byte for byte
   * (so `inspect` reports skopeo's Digest): Go's compact JSON of a schema2 manifest, keys
   * in struct order (`mediaType, size, digest` in descriptors) and every layer labelled
   * `...rootfs.diff.tar.gzip` whatever its compression (readers detect it from the bytes).
   * With `layerTypes: 'stored'` the layers carry their real type instead (`...diff.tar`
   * for the usual uncompressed ones): what a registry should be told. The OCI one (Go's
   * `mediaType, digest, size` order) always carries the real types.
   */
  manifestFor(image: DockerArchiveImage, format: ManifestFormat = 'docker', layerTypes: 'containers-image' | 'stored' = 'containers-image'): { bytes: Buffer; digest: Digest; mediaType: string } {
    let manifest: unknown;
    if (format === 'oci') {
      manifest = {
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config: { mediaType: MediaType.OciConfig, digest: image.configDescriptor.digest, size: image.configDescriptor.size },
        layers: image.layers.map((layer) => ({
          mediaType: layer.descriptor.mediaType === MediaType.DockerLayer ? MediaType.OciLayerTarGzip : MediaType.OciLayerTar,
          digest: layer.descriptor.digest,
          size: layer.descriptor.size,
        })),
      };
    } else {
      manifest = {
        schemaVersion: 2,
        mediaType: MediaType.DockerManifest,
        config: { mediaType: MediaType.DockerConfig, size: image.configDescriptor.size, digest: image.configDescriptor.digest },
        layers: image.layers.map((layer) => ({
          mediaType: layerTypes === 'stored' ? layer.descriptor.mediaType : MediaType.DockerLayer,
          size: layer.descriptor.size,
          digest: layer.descriptor.digest,
        })),
      };
    }
    const bytes = Buffer.from(JSON.stringify(manifest));
    return { bytes, digest: digestOf(bytes), mediaType: format === 'oci' ? MediaType.OciManifest : MediaType.DockerManifest };
  }

  /** Streams a layer blob of `image` by digest, verified. */
  openLayer(image: DockerArchiveImage, digest: string): Readable {
    const layer = image.layers.find((l) => l.descriptor.digest === digest);
    if (!layer) throw new ArchiveError(`image ${image.index} has no layer ${digest}`);
    return this.contents.openVerified(layer.path, digest, layer.descriptor.size);
  }

  private async peek(path: string, length: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let got = 0;
    const stream = this.contents.open(path);
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      got += (chunk as Buffer).length;
      if (got >= length) break;
    }
    stream.destroy();
    return Buffer.concat(chunks).subarray(0, length);
  }

  async close(): Promise<void> {
    await this.contents.close();
  }
}
