// Random access to the files in a tar archive, for the archive transports.
//
// - A tar *file* is scanned once (headers only; data is skipped) and each regular file's
//   data offset is remembered: files are then read straight from the archive with ranged
//   reads. Nothing is copied, whatever order the entries come in.
// - A tar *stream* (a pipe, stdin: no random access) is spooled: its regular files are
//   written to a private temporary directory (mkdtemp, mode 0700, files 0600) which
//   close() removes. This is the only way to serve, say, index.json when it comes after
//   the blobs, which is what most writers do (skopeo, podman, docker).
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseDigest, newHash, type Digest } from '../../core/digest.ts';
import { readTar, type ReadTarOptions } from './tar-reader.ts';

export class ArchiveError extends Error {
  override name = 'ArchiveError';
}

interface StoredFile {
  readonly size: number;
  /** In the archive file (scan mode). */
  readonly offset?: number;
  /** On disk (spool mode). */
  readonly path?: string;
}

/** Normalises an archive member name: no `./` prefix, no leading or trailing slashes. */
function normaliseName(name: string): string {
  let out = name.replace(/^(\.\/)+/, '').replace(/^\/+/, '').replace(/\/+$/, '');
  out = out.replace(/\/\.\//g, '/').replace(/\/{2,}/g, '/');
  return out;
}

export class ArchiveContents {
  private readonly files: Map<string, StoredFile>;
  private readonly archivePath: string | undefined;
  private readonly spoolDir: string | undefined;
  /** Member names in archive order. */
  readonly names: readonly string[];

  private constructor(files: Map<string, StoredFile>, names: string[], archivePath?: string, spoolDir?: string) {
    this.files = files;
    this.names = names;
    this.archivePath = archivePath;
    this.spoolDir = spoolDir;
  }

  /** Indexes a tar file (headers only). */
  static async scanFile(path: string, options: ReadTarOptions = {}): Promise<ArchiveContents> {
    const files = new Map<string, StoredFile>();
    const names: string[] = [];
    const input = createReadStream(path, { highWaterMark: 1024 * 1024 });
    try {
      for await (const entry of readTar(input, options)) {
        const name = normaliseName(entry.name);
        if (entry.type === 'file') {
          files.set(name, { size: entry.size, offset: entry.offset });
          names.push(name);
        } else if (entry.type === 'hardlink') {
          files.set(name, hardLinkTarget(files, entry.name, entry.linkname));
          names.push(name);
        }
      }
    } catch (error) {
      throw new ArchiveError(`cannot read tar archive ${path}: ${(error as Error).message}`, { cause: error });
    } finally {
      input.destroy();
    }
    return new ArchiveContents(files, names, path);
  }

  /** Spools the regular files of a tar stream to a private temporary directory. */
  static async spoolStream(input: AsyncIterable<Uint8Array>, options: ReadTarOptions & { tempRoot?: string } = {}): Promise<ArchiveContents> {
    const dir = await mkdtemp(join(options.tempRoot ?? tmpdir(), 'custody-archive-'));
    await chmod(dir, 0o700);
    const files = new Map<string, StoredFile>();
    const names: string[] = [];
    let counter = 0;
    try {
      for await (const entry of readTar(input, options)) {
        const name = normaliseName(entry.name);
        if (entry.type === 'file') {
          // Spooled under a counter, not the member name: no path traversal to worry about.
          const path = join(dir, String(counter++));
          await mkdir(dirname(path), { recursive: true });
          await pipeline(entry.body, createWriteStream(path, { mode: 0o600 }));
          files.set(name, { size: entry.size, path });
          names.push(name);
        } else if (entry.type === 'hardlink') {
          files.set(name, hardLinkTarget(files, entry.name, entry.linkname));
          names.push(name);
        }
      }
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw new ArchiveError(`cannot read tar archive: ${(error as Error).message}`, { cause: error });
    }
    return new ArchiveContents(files, names, undefined, dir);
  }

  /** The spool directory (stream mode), or undefined. */
  get spoolDirectory(): string | undefined {
    return this.spoolDir;
  }

  has(name: string): boolean {
    return this.files.has(normaliseName(name));
  }

  size(name: string): number {
    return this.get(name).size;
  }

  private get(name: string): StoredFile {
    const file = this.files.get(normaliseName(name));
    if (!file) throw new ArchiveError(`the archive has no file "${name}"`);
    return file;
  }

  /** Streams a member's data. */
  open(name: string): Readable {
    const file = this.get(name);
    if (file.path !== undefined) return createReadStream(file.path);
    if (file.size === 0) return Readable.from([]);
    return createReadStream(this.archivePath!, { start: file.offset!, end: file.offset! + file.size - 1 });
  }

  /** A member's data in memory (for small JSON files); refuses more than `limit` bytes. */
  async read(name: string, limit = 16 * 1024 * 1024): Promise<Buffer> {
    const file = this.get(name);
    if (file.size > limit) throw new ArchiveError(`archive member "${name}" is ${file.size} bytes, more than the ${limit} expected`);
    if (file.path !== undefined) return readFile(file.path);
    const chunks: Buffer[] = [];
    for await (const chunk of this.open(name)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /** Streams a member, failing the stream at its end if its content is not `digest`/`size`. */
  openVerified(name: string, digest: string, size?: number): Readable {
    return this.open(name).pipe(verifier(digest, size, `archive member "${name}"`));
  }

  /** Removes the spool directory, if any. */
  async close(): Promise<void> {
    if (this.spoolDir) await rm(this.spoolDir, { recursive: true, force: true });
  }
}

/** A pass-through that checks the digest and size of what went through it at the end. */
export function verifier(digest: string, size: number | undefined, what: string): Transform {
  const { algorithm } = parseDigest(digest);
  const hash = newHash(algorithm);
  let count = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      count += chunk.length;
      callback(null, chunk);
    },
    flush(callback) {
      const actual = `${algorithm}:${hash.digest('hex')}` as Digest;
      if (size !== undefined && count !== size) callback(new ArchiveError(`${what}: ${count} bytes, expected ${size}`));
      else if (actual !== digest) callback(new ArchiveError(`${what}: digest ${actual} does not match the expected ${digest}`));
      else callback();
    },
  });
}

/** The sha256 digest and size of a stream's content. */
export async function digestStream(input: AsyncIterable<Uint8Array>): Promise<{ digest: Digest; size: number }> {
  const hash = newHash('sha256');
  let size = 0;
  for await (const chunk of input) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { digest: `sha256:${hash.digest('hex')}` as Digest, size };
}

/** A hard link is another name for an earlier regular file of the same archive. */
function hardLinkTarget(files: ReadonlyMap<string, StoredFile>, name: string, linkname: string): StoredFile {
  const target = files.get(normaliseName(linkname));
  if (!target) throw new ArchiveError(`archive member "${name}" is a hard link to "${linkname}", which is not an earlier file of the archive`);
  return target;
}
