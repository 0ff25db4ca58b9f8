// `docker-archive:PATH[:REF]`, the `docker save` / `podman save` tar (see
// ../archive/docker-archive.ts).
//
// Reading picks an image by tag (`name:tag`) or `@N` (or the only one) and serves a
// Docker schema2 manifest — byte for byte the one containers/image makes up, so its digest
// is skopeo's — or, with manifestFormat 'oci', an OCI one; its layers are the archive's
// uncompressed layer tars and the config is served verbatim.
//
// Writing holds one image: blobs are spooled to a private temporary directory as they
// arrive, and on commit the archive is written (layers uncompressed, checked against the
// config's diff IDs) to a temporary file beside PATH, renamed into place; a failed copy
// leaves no archive. REF, a `name:tag`, is recorded in RepoTags.
import { createReadStream } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { parseDigest } from '../../core/digest.ts';
import { UsageError } from '../../core/errors.ts';
import { MediaType } from '../../core/media-types.ts';
import type { Descriptor } from '../../core/manifest.ts';
import { readManifestJson } from '../../core/manifest-reader.ts';
import { DockerArchiveReader, DockerArchiveWriter, normaliseRepoTag, type DockerArchiveImage, type ManifestFormat } from '../archive/docker-archive.ts';
import { PendingWrites, writeStreamAtomic } from './files.ts';
import { parseArchiveReference } from './oci-archive.ts';
import type { BlobInfo, ImageDestination, ImageSource, ManifestData } from '../transport.ts';

export class DockerArchiveSource implements ImageSource {
  readonly name: string;
  readonly path: string;
  readonly ref: string | undefined;
  /** The manifest served: Docker schema2 (default) or OCI. */
  manifestFormat: ManifestFormat = 'docker';
  /**
   * Layer media types in a Docker schema2 manifest: containers/image's made-up manifest
   * labels every layer `.tar.gzip` (the default, so inspect gives skopeo's digest); 'stored'
   * gives the real type (`...rootfs.diff.tar` for uncompressed layers), for a registry.
   */
  layerTypes: 'containers-image' | 'stored' = 'containers-image';
  #opened: Promise<{ reader: DockerArchiveReader; image: DockerArchiveImage; manifest: ManifestData }> | undefined;

  constructor(spec: string) {
    const { path, ref } = parseArchiveReference('docker-archive', spec);
    this.path = resolve(path);
    this.ref = ref;
    this.name = `docker-archive:${spec}`;
  }

  #open(): Promise<{ reader: DockerArchiveReader; image: DockerArchiveImage; manifest: ManifestData }> {
    this.#opened ??= (async () => {
      const reader = await DockerArchiveReader.open(this.path);
      try {
        const image = await reader.getImage(this.ref);
        return { reader, image, manifest: reader.manifestFor(image, this.manifestFormat, this.layerTypes) };
      } catch (error) {
        await reader.close();
        throw error;
      }
    })().catch((error: unknown) => {
      throw new Error(`${this.name}: ${(error as Error).message}`, { cause: error });
    });
    return this.#opened;
  }

  async listReferences(): Promise<string[]> {
    const { reader } = await this.#open();
    return reader.manifest.flatMap((entry) => entry.RepoTags ?? []);
  }

  async getManifest(instanceDigest?: string): Promise<ManifestData> {
    const { manifest } = await this.#open();
    if (instanceDigest !== undefined && instanceDigest !== manifest.digest) throw new Error(`${this.name}: no manifest ${instanceDigest} (a docker-archive holds single images)`);
    return manifest;
  }

  async getBlob(blob: BlobInfo): Promise<Readable> {
    const { reader, image } = await this.#open();
    if (blob.digest === image.configDescriptor.digest) return Readable.from([image.config]);
    if (!image.layers.some((layer) => layer.descriptor.digest === blob.digest)) throw new Error(`${this.name}: blob ${blob.digest} is not in the image`);
    return reader.openLayer(image, blob.digest);
  }

  async close(): Promise<void> {
    const opened = this.#opened;
    this.#opened = undefined;
    if (opened !== undefined) await (await opened.catch(() => undefined))?.reader.close();
  }
}

interface ImageManifestJson {
  mediaType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
}

export class DockerArchiveDestination implements ImageDestination {
  readonly name: string;
  readonly path: string;
  readonly ref: string | undefined;
  #spool: Promise<string> | undefined;
  readonly #blobs = new Set<string>();
  #top: ImageManifestJson | undefined;
  #writer: DockerArchiveWriter | undefined;
  #committed = false;
  readonly #pending = new PendingWrites();

  constructor(spec: string) {
    const { path, ref } = parseArchiveReference('docker-archive', spec);
    if (ref !== undefined && (ref.startsWith('@') || ref.includes('@'))) throw new UsageError(`docker-archive:${spec}: a docker-archive destination is named by a tag (name:tag), not "${ref}"`);
    this.path = resolve(path);
    this.ref = ref === undefined ? undefined : normaliseRepoTag(ref);
    this.name = `docker-archive:${spec}`;
  }

  #spoolDir(): Promise<string> {
    this.#spool ??= (async () => {
      const dir = await mkdtemp(join(tmpdir(), 'custody-docker-archive-'));
      await chmod(dir, 0o700);
      return dir;
    })();
    return this.#spool;
  }

  async #blobFile(digest: string): Promise<string> {
    const { algorithm, hex } = parseDigest(digest);
    return join(await this.#spoolDir(), `${algorithm}-${hex}`);
  }

  async hasBlob(blob: BlobInfo): Promise<boolean> {
    return this.#blobs.has(blob.digest);
  }

  async tryReuseBlob(): Promise<boolean> {
    return false;
  }

  async putBlob(blob: BlobInfo, stream: Readable): Promise<void> {
    await writeStreamAtomic(await this.#blobFile(blob.digest), stream, { pending: this.#pending });
    this.#blobs.add(blob.digest);
  }

  async putManifest(manifest: ManifestData, instanceDigest?: string): Promise<void> {
    if (instanceDigest !== undefined || (manifest.mediaType !== MediaType.DockerManifest && manifest.mediaType !== MediaType.OciManifest)) {
      throw new Error(`${this.name}: a docker-archive holds a single image (a Docker or OCI image manifest), not a ${manifest.mediaType}${instanceDigest === undefined ? '' : ' instance of an index'}`);
    }
    const parsed = readManifestJson(manifest.bytes) as ImageManifestJson;
    if (parsed.config === undefined || !Array.isArray(parsed.layers)) throw new Error(`${this.name}: the manifest has no config or layers`);
    if (parsed.config.mediaType !== MediaType.DockerConfig && parsed.config.mediaType !== MediaType.OciConfig) {
      throw new Error(`${this.name}: the image config has media type ${parsed.config.mediaType}; a docker-archive needs an image configuration`);
    }
    this.#top = parsed;
  }

  /** Writes the archive from the spooled blobs and renames it into place. */
  async commit(): Promise<void> {
    const top = this.#top;
    if (top === undefined) throw new Error(`${this.name}: nothing to commit`);
    await this.#pending.settle();
    const missing = [top.config!, ...top.layers!].find((blob) => !this.#blobs.has(blob.digest));
    if (missing !== undefined) throw new Error(`${this.name}: blob ${missing.digest} was not copied (foreign layers cannot go into a docker-archive)`);
    const config = await readFile(await this.#blobFile(top.config!.digest));
    const layers = await Promise.all(
      top.layers!.map(async (layer) => {
        const file = await this.#blobFile(layer.digest);
        return { descriptor: layer, open: () => createReadStream(file, { highWaterMark: 256 * 1024 }) };
      }),
    );
    this.#writer = DockerArchiveWriter.toFile(this.path);
    try {
      await this.#writer.addImage({ config, layers, ...(this.ref === undefined ? {} : { repoTags: [this.ref] }) });
      await this.#writer.finish();
    } catch (error) {
      throw new Error(`${this.name}: ${(error as Error).message}`, { cause: error });
    }
    this.#committed = true;
  }

  /** Removes the spooled blobs and, without a commit, the temporary archive. */
  async close(): Promise<void> {
    await this.#pending.settle().catch(() => {});
    if (!this.#committed && this.#writer !== undefined) await this.#writer.abort();
    this.#writer = undefined;
    const spool = this.#spool;
    this.#spool = undefined;
    if (spool !== undefined) await rm(await spool, { recursive: true, force: true });
  }
}
