// Running digests of uploads in progress, so completing a chunked upload does not read
// the data back. Only an optimisation: after a restart, or when another replica took
// the previous chunk, the digest is recomputed from storage.
import type { Hash } from 'node:crypto';
import { newHash } from '../core/digest.ts';

interface RunningHash {
  offset: number;
  hash: Hash;
}

const MAX_TRACKED_UPLOADS = 4096;

export class UploadHashes {
  private readonly running = new Map<string, RunningHash>();

  /** A hash positioned at `offset`, or null if this process has not seen the bytes before it. */
  take(uploadId: string, offset: number): Hash | null {
    const entry = this.running.get(uploadId);
    this.running.delete(uploadId);
    if (offset === 0) return newHash('sha256');
    if (!entry || entry.offset !== offset) return null;
    return entry.hash;
  }

  put(uploadId: string, offset: number, hash: Hash): void {
    if (this.running.size >= MAX_TRACKED_UPLOADS) {
      const oldest = this.running.keys().next().value;
      if (oldest !== undefined) this.running.delete(oldest);
    }
    this.running.set(uploadId, { offset, hash });
  }

  forget(uploadId: string): void {
    this.running.delete(uploadId);
  }
}
