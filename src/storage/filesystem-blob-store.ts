// Filesystem driver: blobs at <root>/blobs/<algorithm>/<2 hex>/<hex>, uploads at
// <root>/uploads/<id>. Every write lands in a temporary file, is fsynced, then renamed
// into place and the directory fsynced: a crash leaves either the old state or the new,
// never a half-written blob under its digest.
import { createReadStream, createWriteStream, constants as fsConstants } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, statfs, truncate, unlink, utimes, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { finished, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseDigest, type Digest } from '../core/digest.ts';
import { InvalidInput, NotFound, TooLarge } from '../core/errors.ts';
import { UploadInterruptedError, type BlobStat, type BlobStore, type ByteRange, type StorageSpace, type StoredBlob } from './blob-store.ts';
import { BufferPool } from './buffer-pool.ts';

const UPLOAD_ID = /^[A-Za-z0-9-]{1,64}$/;
const READ_CHUNK = 1024 * 1024;
/** Buffers a single transfer keeps in flight (one on the socket, one being read). */
const TRANSFER_DEPTH = 2;
/** Bytes an upload writes between two background write-back requests. */
const BACKGROUND_FLUSH_BYTES = 16 * 1024 * 1024;
/** Shared by all transfers; at most 16 MiB stays idle, more is left to the GC. */
const transferBuffers = new BufferPool(READ_CHUNK, 16);

export class FilesystemBlobStore implements BlobStore {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  async init(): Promise<void> {
    await mkdir(join(this.root, 'blobs'), { recursive: true, mode: 0o700 });
    await mkdir(join(this.root, 'uploads'), { recursive: true, mode: 0o700 });
  }

  private blobPath(digest: Digest): string {
    const { algorithm, hex } = parseDigest(digest);
    return join(this.root, 'blobs', algorithm, hex.slice(0, 2), hex);
  }

  private uploadPath(uploadId: string): string {
    if (!UPLOAD_ID.test(uploadId)) throw new NotFound('upload', 'malformed upload id');
    return join(this.root, 'uploads', uploadId);
  }

  async stat(digest: Digest): Promise<BlobStat | null> {
    try {
      const info = await stat(this.blobPath(digest));
      return { size: info.size, modifiedAt: info.mtime };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async read(digest: Digest, range?: ByteRange): Promise<Readable> {
    const path = this.blobPath(digest);
    // Open first so a missing blob is an error here, not a stream error after headers.
    let handle;
    try {
      handle = await open(path, fsConstants.O_RDONLY);
    } catch (error) {
      if (isNotFound(error)) throw new NotFound('blob', `blob ${digest} is not in storage`);
      throw error;
    }
    return createReadStream('', {
      fd: handle,
      highWaterMark: READ_CHUNK,
      ...(range ? { start: range.start, end: range.end } : {}),
    });
  }

  async send(digest: Digest, destination: NodeJS.WritableStream, range?: ByteRange): Promise<void> {
    let handle;
    try {
      handle = await open(this.blobPath(digest), fsConstants.O_RDONLY);
    } catch (error) {
      if (isNotFound(error)) throw new NotFound('blob', `blob ${digest} is not in storage`);
      throw error;
    }
    try {
      const end = range ? range.end + 1 : (await handle.stat()).size;
      let position = range?.start ?? 0;
      // Double buffering: one buffer is being written to the socket while the next is
      // read from disk. A buffer returns to the pool only once the socket is done with it.
      const pending = new Set<Buffer>();
      let wake: (() => void) | undefined;
      const signal = (): void => {
        wake?.();
        wake = undefined;
      };
      const gone = (): boolean => (destination as { destroyed?: boolean }).destroyed === true;
      const onClose = (): void => signal();
      destination.on('close', onClose);
      destination.on('drain', signal);
      try {
        while (position < end) {
          while (pending.size >= TRANSFER_DEPTH && !gone()) await new Promise<void>((resolve) => (wake = resolve));
          if (gone()) throw Object.assign(new Error('client went away before the blob was sent'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
          const buffer = transferBuffers.take();
          const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, end - position), position);
          if (bytesRead === 0) throw new Error(`blob ${digest} is shorter than expected`);
          position += bytesRead;
          pending.add(buffer);
          destination.write(buffer.subarray(0, bytesRead), (error?: Error | null) => {
            pending.delete(buffer);
            if (!error) transferBuffers.give(buffer);
            signal();
          });
        }
        while (pending.size > 0 && !gone()) await new Promise<void>((resolve) => (wake = resolve));
      } finally {
        destination.off('close', onClose);
        destination.off('drain', signal);
      }
      destination.end();
    } finally {
      await handle.close();
    }
  }

  async redirectUrl(): Promise<string | null> {
    return null;
  }

  async delete(digest: Digest): Promise<void> {
    await rm(this.blobPath(digest), { force: true });
  }

  async deleteMany(digests: readonly Digest[]): Promise<void> {
    for (const digest of digests) await this.delete(digest);
  }

  async *list(): AsyncIterable<StoredBlob> {
    const blobsRoot = join(this.root, 'blobs');
    for (const algorithm of await readdirOrEmpty(blobsRoot)) {
      for (const prefix of await readdirOrEmpty(join(blobsRoot, algorithm))) {
        for (const name of await readdirOrEmpty(join(blobsRoot, algorithm, prefix))) {
          if (name.includes('.tmp-')) continue;
          const digest = `${algorithm}:${name}`;
          try {
            parseDigest(digest);
          } catch {
            continue;
          }
          const info = await stat(join(blobsRoot, algorithm, prefix, name)).catch(() => null);
          if (info) yield { digest: digest as Digest, size: info.size, modifiedAt: info.mtime };
        }
      }
    }
  }

  async createUpload(uploadId: string): Promise<void> {
    const handle = await open(this.uploadPath(uploadId), 'wx', 0o600);
    await handle.close();
  }

  async uploadSize(uploadId: string): Promise<number | null> {
    try {
      return (await stat(this.uploadPath(uploadId))).size;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async appendUpload(uploadId: string, offset: number, body: Readable, onData?: (chunk: Buffer) => void, maxBytes?: number): Promise<number> {
    const path = this.uploadPath(uploadId);
    const current = await this.uploadSize(uploadId);
    if (current === null) throw new NotFound('upload', `upload ${uploadId} is not in storage`);
    if (current < offset) throw new InvalidInput('upload', `upload ${uploadId} holds ${current} bytes, expected ${offset}`);
    // Bytes past the durable offset come from a request that never completed.
    if (current > offset) await truncate(path, offset);
    let written = 0;
    // Write-back in the background while the upload streams in: the kernel would hold
    // the dirty pages until the commit's fsync, which would then pay for all of them at
    // once. Flushing every few MiB overlaps the disk with the network and the hashing.
    const flusher = await open(path, 'r').catch((error: unknown) => {
      if (isNotFound(error)) throw new NotFound('upload', `upload ${uploadId} is not in storage`);
      throw error;
    });
    let flushed = 0;
    let flushing: Promise<void> | undefined;
    // Which side failed decides what is kept: a broken body keeps what reached the file
    // (the client resumes from there); a store failure or the size limit keeps nothing.
    let bodyFailed = false;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        written += chunk.length;
        if (maxBytes !== undefined && written > maxBytes) {
          callback(new TooLarge('upload', `upload exceeds the ${maxBytes}-byte limit`));
          return;
        }
        onData?.(chunk);
        if (!flushing && written - flushed >= BACKGROUND_FLUSH_BYTES) {
          flushed = written;
          flushing = flusher.datasync().then(
            () => (flushing = undefined),
            () => (flushing = undefined),
          );
        }
        callback(null, chunk);
      },
    });
    const file = createWriteStream(path, { flags: 'r+', start: offset, highWaterMark: READ_CHUNK });
    // The body is piped in rather than made part of the pipeline, which would destroy it
    // when the store side fails: the caller can then still answer (507, 413) on the same
    // connection. Its own failure (the client hung up, or stalled) is passed on here.
    const unwatch = finished(body, { writable: false }, (error) => {
      if (!error) return;
      bodyFailed = true;
      meter.destroy(error);
    });
    body.pipe(meter);
    try {
      // No fsync per chunk: written bytes survive a process crash (they are in the page
      // cache before the caller records the new size), commitUpload fsyncs before the blob
      // becomes visible, and anything an OS crash lost is caught by the digest check then.
      await pipeline(meter, file);
    } catch (error) {
      body.unpipe(meter);
      if (!file.closed) await once(file, 'close').catch(() => {});
      // Removed meanwhile (cancelled, or expired by the collector): a client error, not a 500.
      if (isNotFound(error)) throw new NotFound('upload', `upload ${uploadId} is not in storage`);
      if (!bodyFailed) {
        // Give the space back now (a full disk most of all); the next append would.
        await truncate(path, offset).catch(() => {});
        throw error;
      }
      const size = await this.uploadSize(uploadId);
      if (size === null) throw new NotFound('upload', `upload ${uploadId} is not in storage`);
      throw new UploadInterruptedError(Math.max(size, offset), error);
    } finally {
      unwatch();
      await flushing;
      await flusher.close();
    }
    return offset + written;
  }

  readUpload(uploadId: string, length: number): Readable {
    if (length === 0) return createReadStream('/dev/null');
    return createReadStream(this.uploadPath(uploadId), { start: 0, end: length - 1, highWaterMark: READ_CHUNK });
  }

  async commitUpload(uploadId: string, digest: Digest, size: number): Promise<void> {
    const source = this.uploadPath(uploadId);
    const target = this.blobPath(digest);
    const info = await stat(source).catch(() => null);
    if (!info) throw new NotFound('upload', `upload ${uploadId} is not in storage`);
    if (info.size > size) await truncate(source, size);
    await mkdir(join(target, '..'), { recursive: true, mode: 0o700 });
    const handle = await open(source, 'r+').catch((error: unknown) => {
      if (isNotFound(error)) throw new NotFound('upload', `upload ${uploadId} is not in storage`);
      throw error;
    });
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    // The blob's age starts now: the collector's grace period for files it finds without
    // a record (between this rename and the caller's insert) counts from here.
    const now = new Date();
    try {
      await utimes(source, now, now);
      await rename(source, target);
    } catch (error) {
      // Expired meanwhile (a collector in another process): a client error, not a 500.
      if (isNotFound(error)) throw new NotFound('upload', `upload ${uploadId} is not in storage`);
      throw error;
    }
    await syncDirectory(join(target, '..'));
  }

  async putBlob(digest: Digest, content: Uint8Array): Promise<void> {
    const target = this.blobPath(digest);
    await mkdir(join(target, '..'), { recursive: true, mode: 0o700 });
    const temporary = `${target}.tmp-${randomBytes(8).toString('hex')}`;
    await writeFile(temporary, content, { mode: 0o600, flush: true });
    await rename(temporary, target);
    await syncDirectory(join(target, '..'));
  }

  async deleteUpload(uploadId: string): Promise<void> {
    await unlink(this.uploadPath(uploadId)).catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
  }

  async *listUploads(): AsyncIterable<{ readonly uploadId: string; readonly modifiedAt: Date }> {
    const root = join(this.root, 'uploads');
    for (const name of await readdirOrEmpty(root)) {
      if (!UPLOAD_ID.test(name)) continue;
      const info = await stat(join(root, name)).catch(() => null);
      if (info) yield { uploadId: name, modifiedAt: info.mtime };
    }
  }

  async space(): Promise<StorageSpace> {
    const info = await statfs(this.root);
    return { freeBytes: info.bavail * info.bsize, totalBytes: info.blocks * info.bsize };
  }

  async check(): Promise<void> {
    const probe = join(this.root, 'uploads', `.health-${randomBytes(6).toString('hex')}`);
    await writeFile(probe, '');
    await unlink(probe);
  }
}

async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, fsConstants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function readdirOrEmpty(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException)?.code === 'ENOENT';
}
