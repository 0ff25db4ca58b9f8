// `dir:PATH`, containers/image's directory transport: `manifest.json` (the top-level
// manifest), each blob in a file named by the hex of its digest, per-instance manifests of
// a multi-arch copy as `<hex>.manifest.json`, and a `version` file.
import { createReadStream } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { digestOf, type Digest } from '../../core/digest.ts';
import { UsageError } from '../../core/errors.ts';
import { digestHex, type BlobInfo, type ImageDestination, type ImageSource, type ManifestData } from '../transport.ts';
import { manifestMediaType } from '../../core/manifest-reader.ts';
import { fileHasSize, PendingWrites, writeFileAtomic, writeStreamAtomic } from './files.ts';

const DIR_VERSION = 'Directory Transport Version: 1.1\n';

export class DirImageSource implements ImageSource {
  readonly name: string;
  readonly path: string;

  constructor(path: string) {
    this.path = resolve(path);
    this.name = `dir:${path}`;
  }

  async getManifest(instanceDigest?: string): Promise<ManifestData> {
    const file = instanceDigest === undefined ? 'manifest.json' : `${digestHex(instanceDigest)}.manifest.json`;
    let bytes: Buffer;
    try {
      bytes = await readFile(join(this.path, file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${this.name}: no ${file} (is this a dir: image?)`);
      throw error;
    }
    const digest = digestOf(bytes);
    if (instanceDigest !== undefined && digest !== instanceDigest) throw new Error(`${this.name}: ${file} hashes to ${digest}, not ${instanceDigest}`);
    return { bytes, mediaType: manifestMediaType(bytes), digest };
  }

  async getBlob(blob: BlobInfo): Promise<Readable> {
    const path = join(this.path, digestHex(blob.digest));
    await stat(path).catch((error: NodeJS.ErrnoException) => {
      throw new Error(`${this.name}: blob ${blob.digest} is missing${error.code === 'ENOENT' ? '' : ` (${error.message})`}`);
    });
    return createReadStream(path, { highWaterMark: 256 * 1024 });
  }

  async close(): Promise<void> {}
}

export class DirImageDestination implements ImageDestination {
  /** Each blob goes to its own file or request: several can be written at once. */
  readonly parallelBlobs = 4;
  readonly name: string;
  readonly path: string;
  /** One preparation, shared by every caller (blobs are written in parallel). */
  #preparing: Promise<void> | undefined;
  /** Blob fsyncs and renames still running; settled before a manifest is written. */
  readonly #pending = new PendingWrites();

  constructor(path: string) {
    this.path = resolve(path);
    this.name = `dir:${path}`;
  }

  /**
   * As containers/image: a missing directory is created; an empty one is used; one that
   * already holds a dir: image (has `version`) is emptied; anything else is refused.
   */
  #prepare(): Promise<void> {
    this.#preparing ??= this.#prepareOnce();
    return this.#preparing;
  }

  async #prepareOnce(): Promise<void> {
    await mkdir(this.path, { recursive: true });
    const entries = await readdir(this.path);
    if (entries.length > 0) {
      if (!entries.includes('version')) throw new UsageError(`${this.name}: the directory is not empty and does not hold a dir: image; refusing to overwrite it`);
      for (const entry of entries) await rm(join(this.path, entry), { recursive: true, force: true });
    }
    await writeFileAtomic(join(this.path, 'version'), DIR_VERSION);
  }

  async hasBlob(blob: BlobInfo): Promise<boolean> {
    await this.#prepare();
    return fileHasSize(join(this.path, digestHex(blob.digest)), blob.size);
  }

  async tryReuseBlob(): Promise<boolean> {
    return false;
  }

  async putBlob(blob: BlobInfo, stream: Readable): Promise<void> {
    await this.#prepare();
    await writeStreamAtomic(join(this.path, digestHex(blob.digest)), stream, { pending: this.#pending });
  }

  async putManifest(manifest: ManifestData, instanceDigest?: string): Promise<void> {
    await this.#prepare();
    // A manifest comes after its blobs: they must be durable and in place first.
    await this.#pending.settle();
    const file = instanceDigest === undefined ? 'manifest.json' : `${digestHex(instanceDigest)}.manifest.json`;
    await writeFileAtomic(join(this.path, file), manifest.bytes);
  }

  async commit(): Promise<void> {
    await this.#pending.settle();
  }

  async close(): Promise<void> {
    await this.#pending.settle().catch(() => {});
  }
}

export type { Digest };
