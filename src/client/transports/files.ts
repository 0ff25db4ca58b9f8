// Atomic file writes for the dir: and oci: transports: content goes to a temporary file
// beside the target and is renamed into place only once complete (and verified).
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

function tempPath(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp-${randomBytes(6).toString('hex')}`);
}

/** Streams into `target` atomically; on failure no file (partial or temporary) remains. */
export async function writeStreamAtomic(target: string, stream: Readable): Promise<void> {
  const temp = tempPath(target);
  try {
    await pipeline(stream, createWriteStream(temp, { flags: 'wx' }));
    await syncFile(temp);
    await rename(temp, target);
  } catch (error) {
    stream.destroy();
    await rm(temp, { force: true });
    throw error;
  }
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

async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
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
