// `oci-archive:` — a tar of an OCI image layout (oci-layout, index.json, blobs/ALG/HEX).
//
// Reading: a tar file is indexed once (headers only) and blobs are then read in place
// with ranged reads, so the order of the entries does not matter and nothing is copied.
// A non-seekable stream is spooled to a private 0700 temporary directory first (see
// archive-contents.ts), since writers put index.json after the blobs as often as not.
// Blobs are verified against their digest as they are read.
//
// Writing: oci-layout first, then the blobs as they are streamed in (verified against
// their digests, each written once), and index.json — with the
// `org.opencontainers.image.ref.name` annotation — last, once all manifests are known.
import { join } from 'node:path';
import type { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { digestOf, parseDigest, type Digest } from '../../core/digest.ts';
import { MediaType } from '../../core/media-types.ts';
import { parseDescriptor, type Descriptor } from '../../core/manifest.ts';
import { ManifestJsonError, readJsonObject, readManifestJson } from '../../core/manifest-reader.ts';
import { ArchiveContents, ArchiveError, verifier } from './archive-contents.ts';
import { ArchiveOutput } from './archive-output.ts';
import { TarWriter, type TarBody } from './tar-writer.ts';

const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
const OCI_LAYOUT = JSON.stringify({ imageLayoutVersion: '1.0.0' });

export interface OciIndexFile {
  readonly schemaVersion: number;
  readonly mediaType?: string;
  readonly manifests: readonly Descriptor[];
  readonly annotations?: Readonly<Record<string, string>>;
}

function blobName(digest: string): string {
  const { algorithm, hex } = parseDigest(digest);
  return `blobs/${algorithm}/${hex}`;
}

export class OciArchiveReader {
  readonly contents: ArchiveContents;
  readonly index: OciIndexFile;

  private constructor(contents: ArchiveContents, index: OciIndexFile) {
    this.contents = contents;
    this.index = index;
  }

  /** Opens an oci-archive file. */
  static async open(path: string): Promise<OciArchiveReader> {
    return OciArchiveReader.fromContents(await ArchiveContents.scanFile(path), path);
  }

  /** Reads an oci-archive from a stream, spooling it to a private temporary directory. */
  static async fromStream(input: AsyncIterable<Uint8Array>, options: { tempRoot?: string } = {}): Promise<OciArchiveReader> {
    return OciArchiveReader.fromContents(await ArchiveContents.spoolStream(input, options), 'stream');
  }

  private static async fromContents(contents: ArchiveContents, where: string): Promise<OciArchiveReader> {
    try {
      if (!contents.has('oci-layout')) throw new ArchiveError(`${where} is not an oci-archive: no oci-layout file`);
      const layout = readJsonObject(await contents.read('oci-layout', 65536));
      if (typeof layout.imageLayoutVersion !== 'string') throw new ArchiveError(`${where}: oci-layout has no imageLayoutVersion`);
      if (!contents.has('index.json')) throw new ArchiveError(`${where} is not an oci-archive: no index.json`);
      const raw = readManifestJson(await contents.read('index.json'));
      if (raw.schemaVersion !== 2 || raw.manifests === undefined) throw new ArchiveError(`${where}: index.json is not an OCI image index`);
      const manifests = raw.manifests.map((entry, i) => parseDescriptor(entry, `index.json manifests[${i}]`));
      return new OciArchiveReader(contents, { ...(raw as object), schemaVersion: 2, manifests } as OciIndexFile);
    } catch (error) {
      await contents.close();
      if (error instanceof ManifestJsonError) throw new ArchiveError(`${where}: invalid JSON: ${error.message}`, { cause: error });
      throw error;
    }
  }

  /** The ref names (tags) in index.json, in order. */
  refs(): string[] {
    return this.index.manifests.map((entry) => entry.annotations?.[REF_NAME_ANNOTATION]).filter((ref): ref is string => ref !== undefined);
  }

  /**
   * The index entry for `ref`: a ref.name annotation, `@N` (position in index.json), or a
   * manifest digest; with no ref, the only entry.
   */
  resolve(ref?: string): Descriptor {
    const entries = this.index.manifests;
    if (ref === undefined || ref === '') {
      if (entries.length !== 1) throw new ArchiveError(`the archive holds ${entries.length} images (${this.refs().join(', ') || 'untagged'}): say which one`);
      return entries[0]!;
    }
    if (/^@[0-9]+$/.test(ref)) {
      const entry = entries[Number(ref.slice(1))];
      if (!entry) throw new ArchiveError(`the archive has no image ${ref} (it holds ${entries.length})`);
      return entry;
    }
    const byName = entries.filter((entry) => entry.annotations?.[REF_NAME_ANNOTATION] === ref);
    if (byName.length > 1) throw new ArchiveError(`the archive has ${byName.length} images named "${ref}"`);
    if (byName[0]) return byName[0];
    const byDigest = entries.find((entry) => entry.digest === ref);
    if (byDigest) return byDigest;
    throw new ArchiveError(`the archive has no image "${ref}" (it has: ${this.refs().join(', ') || 'no tags'})`);
  }

  /** The manifest (or index) for `ref`, verified against its descriptor. */
  async getManifest(ref?: string): Promise<{ descriptor: Descriptor; bytes: Buffer; mediaType: string }> {
    const descriptor = this.resolve(ref);
    const bytes = await this.readBlob(descriptor.digest, descriptor.size);
    return { descriptor, bytes, mediaType: descriptor.mediaType };
  }

  hasBlob(digest: string): boolean {
    return this.contents.has(blobName(digest));
  }

  blobSize(digest: string): number {
    return this.contents.size(blobName(digest));
  }

  /** Streams a blob; the stream fails at its end if the content does not match the digest. */
  openBlob(digest: string, size?: number): Readable {
    if (!this.hasBlob(digest)) throw new ArchiveError(`the archive has no blob ${digest}`);
    return this.contents.openVerified(blobName(digest), digest, size);
  }

  /** A small blob (manifest, config) in memory, verified. */
  async readBlob(digest: string, size?: number): Promise<Buffer> {
    if (!this.hasBlob(digest)) throw new ArchiveError(`the archive has no blob ${digest}`);
    const bytes = await this.contents.read(blobName(digest));
    if (size !== undefined && bytes.length !== size) throw new ArchiveError(`blob ${digest} is ${bytes.length} bytes, expected ${size}`);
    const actual = digestOf(bytes, parseDigest(digest).algorithm);
    if (actual !== digest) throw new ArchiveError(`blob ${digest} has digest ${actual}`);
    return bytes;
  }

  async close(): Promise<void> {
    await this.contents.close();
  }
}

export interface OciArchiveManifestOptions {
  /** Tag recorded as the org.opencontainers.image.ref.name annotation. */
  readonly ref?: string;
  readonly platform?: Readonly<Record<string, unknown>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** Writes an oci-archive to a stream or, with toFile(), atomically to a file. */
export class OciArchiveWriter {
  private readonly output: ArchiveOutput;
  private readonly written = new Set<string>();
  private readonly directories = new Set<string>();
  private readonly manifests: Descriptor[] = [];
  private started = false;

  constructor(destination: Writable | ArchiveOutput) {
    this.output = destination instanceof ArchiveOutput ? destination : new ArchiveOutput(destination);
  }

  private get tar(): TarWriter {
    return this.output.tar;
  }

  /** Writes to `path` through a temporary file renamed into place by finish(). */
  static toFile(path: string): OciArchiveWriter {
    return new OciArchiveWriter(ArchiveOutput.toFile(path));
  }

  private async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.tar.add({ name: 'oci-layout', size: Buffer.byteLength(OCI_LAYOUT) }, OCI_LAYOUT);
    await this.directory('blobs/');
  }

  private async directory(name: string): Promise<void> {
    if (this.directories.has(name)) return;
    this.directories.add(name);
    await this.tar.add({ name, type: 'dir' });
  }

  hasBlob(digest: string): boolean {
    return this.written.has(digest);
  }

  /**
   * Streams a blob into the archive, verifying its digest and size; a blob already
   * written is not written again (a stream body is then destroyed, unread).
   */
  async addBlob(digest: string, size: number, body: TarBody | (() => Readable | Promise<Readable>)): Promise<void> {
    const { algorithm } = parseDigest(digest);
    if (this.written.has(digest)) {
      if (typeof body === 'object' && 'destroy' in body && typeof body.destroy === 'function') body.destroy();
      return;
    }
    await this.start();
    await this.directory(`blobs/${algorithm}/`);
    const source = typeof body === 'function' ? await body() : body;
    const data = typeof source === 'string' || source instanceof Uint8Array ? Buffer.from(source) : source;
    if (Buffer.isBuffer(data)) {
      const actual = digestOf(data, algorithm);
      if (actual !== digest) throw new ArchiveError(`blob ${digest}: content has digest ${actual}`);
      await this.tar.add({ name: blobName(digest), size }, data);
    } else {
      const check = verifier(digest, size, `blob ${digest}`);
      await this.tar.add({ name: blobName(digest), size }, piped(data, check));
    }
    this.written.add(digest);
  }

  /** Writes a manifest (or index) blob and lists it in index.json. */
  async addManifest(bytes: Uint8Array, mediaType: string, options: OciArchiveManifestOptions = {}): Promise<Descriptor> {
    const digest = digestOf(bytes) as Digest;
    await this.addBlob(digest, bytes.length, bytes);
    const annotations = { ...options.annotations, ...(options.ref !== undefined ? { [REF_NAME_ANNOTATION]: options.ref } : {}) };
    const descriptor: Descriptor = {
      mediaType,
      digest,
      size: bytes.length,
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      ...(options.platform ? { platform: options.platform } : {}),
    };
    if (options.ref !== undefined) {
      // A tag names one image: a later one replaces it, as in a layout directory.
      const existing = this.manifests.findIndex((entry) => entry.annotations?.[REF_NAME_ANNOTATION] === options.ref);
      if (existing >= 0) this.manifests.splice(existing, 1);
    }
    this.manifests.push(descriptor);
    return descriptor;
  }

  /** Writes index.json and the end of the archive; renames the file into place. */
  async finish(): Promise<void> {
    try {
      await this.start();
      const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: this.manifests }));
      await this.tar.add({ name: 'index.json', size: index.length }, index);
      await this.output.finish();
    } catch (error) {
      await this.abort(error as Error);
      throw error;
    }
  }

  /** Abandons the archive (and removes the temporary file). */
  async abort(error: Error = new Error('oci-archive writing abandoned')): Promise<void> {
    await this.output.abort(error);
  }
}

/** `input` through a transform, as an async iterable of what comes out. */
export async function* piped(input: AsyncIterable<Uint8Array>, through: Transform): AsyncGenerator<Uint8Array> {
  const feeding = pipeline(input, through).catch(() => {});
  yield* through as AsyncIterable<Uint8Array>;
  await feeding;
}
