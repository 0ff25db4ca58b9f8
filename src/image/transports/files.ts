// Atomic file writes for the dir: and oci: transports and the local store: content goes
// to a temporary file beside the target, is fsynced and renamed into place only once
// complete (and verified). Blob writes may leave their fsync and rename running
// (PendingWrites) so the next blob streams meanwhile; the destination settles them before
// it writes the file that references the blobs.
import { randomBytes } from 'node:crypto';
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

function tempPath(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp-${randomBytes(6).toString('hex')}`);
}

/** Bytes gathered before one write(v) call: one thread-pool request per MiB, not per socket read. */
const WRITE_BATCH = 512 * 1024;

/**
 * A Writable into an open file that gathers chunks and writes them with one `writev` per
 * MiB. Network streams deliver 16–64 KiB chunks, and one fs request per chunk costs more
 * main-thread time than hashing them.
 */
class BatchedFileWriter extends Writable {
  readonly #handle: FileHandle;
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  constructor(handle: FileHandle) {
    super({ highWaterMark: WRITE_BATCH });
    this.#handle = handle;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#add(chunk);
    if (this.#pendingBytes < WRITE_BATCH) callback();
    else this.#flush().then(() => callback(), callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    for (const { chunk } of chunks) this.#add(chunk);
    if (this.#pendingBytes < WRITE_BATCH) callback();
    else this.#flush().then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#flush().then(() => callback(), callback);
  }

  #add(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
  }

  async #flush(): Promise<void> {
    let buffers = this.#pending;
    let left = this.#pendingBytes;
    this.#pending = [];
    this.#pendingBytes = 0;
    while (left > 0) {
      const { bytesWritten } = await this.#handle.writev(buffers);
      left -= bytesWritten;
      if (left === 0) break;
      // A short write (rare on regular files): go on from where it stopped.
      let skip = bytesWritten;
      while (skip >= buffers[0]!.length) skip -= buffers.shift()!.length;
      buffers = [buffers[0]!.subarray(skip), ...buffers.slice(1)];
    }
  }
}

/**
 * Blob files whose fsync and rename are still running. A destination lets each blob's
 * fsync run while the next blob streams, and settles them all before its commit point
 * (index.json, manifest.json) so nothing is referenced before it is durable and in place.
 */
export class PendingWrites {
  readonly #pending = new Set<Promise<void>>();
  #failure: { error: unknown } | undefined;

  add(work: Promise<void>): void {
    const tracked = work.then(
      () => {
        this.#pending.delete(tracked);
      },
      (error: unknown) => {
        this.#pending.delete(tracked);
        this.#failure ??= { error };
      },
    );
    this.#pending.add(tracked);
  }

  /** Waits for every write started so far; throws the first failure. */
  async settle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
    if (this.#failure !== undefined) throw this.#failure.error;
  }
}

export interface StreamWriteOptions {
  /** The file's mode, exactly (whatever the umask). */
  readonly mode?: number;
  /**
   * When given, the function returns once the bytes are written to the temporary file;
   * the fsync and the rename into place finish later, tracked here (settle() before the
   * commit point). Without it, they are done before the function returns.
   */
  readonly pending?: PendingWrites;
}

/**
 * Streams into `target` atomically: a temporary file beside it (created exclusively),
 * fsynced, then renamed into place. On failure no file (partial or temporary) remains.
 */
export async function writeStreamAtomic(target: string, stream: Readable, options: StreamWriteOptions = {}): Promise<void> {
  const temp = tempPath(target);
  const { mode, pending } = options;
  let handle: FileHandle | undefined;
  try {
    handle = await open(temp, 'wx', mode);
    if (mode !== undefined) await handle.chmod(mode);
    await pipeline(stream, new BatchedFileWriter(handle));
  } catch (error) {
    stream.destroy();
    await handle?.close().catch(() => {});
    await rm(temp, { force: true });
    throw error;
  }
  const file = handle;
  const finish = async (): Promise<void> => {
    try {
      try {
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  };
  if (pending === undefined) await finish();
  else pending.add(finish());
}

/** Writes `bytes` to `target` atomically (with `mode` exactly, whatever the umask, when given). */
export async function writeFileAtomic(target: string, bytes: Buffer | string, mode?: number): Promise<void> {
  const temp = tempPath(target);
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      if (mode !== undefined) await handle.chmod(mode);
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Whether a regular file of exactly `size` bytes is at `path`. */
export async function fileHasSize(path: string, size: number): Promise<boolean> {
  try {
    const info = await stat(path);
    return info.isFile() && info.size === size;
  } catch {
    return false;
  }
}
