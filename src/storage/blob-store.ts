// The blob storage seam. Content-addressed and shared by every repository: which
// repository may see which blob is metadata (SQL), never the object store's business.
//
// Uploads are written in appended parts and committed under their digest atomically.
// The shape maps onto S3 (s3-blob-store.ts): an upload is a multipart upload, `append`
// adds parts, `commit` is CompleteMultipartUpload plus a copy to the content address,
// `redirectUrl` a presigned GET, `deleteMany` DeleteObjects.
import type { Readable } from 'node:stream';
import type { Digest } from '../core/digest.ts';

export interface BlobStat {
  readonly size: number;
  readonly modifiedAt: Date;
}

export interface ByteRange {
  /** First byte, inclusive. */
  readonly start: number;
  /** Last byte, inclusive. */
  readonly end: number;
}

export interface StoredBlob {
  readonly digest: Digest;
  readonly size: number;
  readonly modifiedAt: Date;
}

/** Space where blobs are stored, for health and metrics. */
export interface StorageSpace {
  /** Bytes this process may still write. */
  readonly freeBytes: number;
  readonly totalBytes: number;
}

/**
 * appendUpload's failure when the body stream broke (the client went away or stalled):
 * `size` bytes are in the upload and may be kept, so the client can resume from there.
 * A failure of the store itself is thrown as is: then nothing of the request is kept.
 */
export class UploadInterruptedError extends Error {
  readonly size: number;
  constructor(size: number, cause: unknown) {
    super(`the upload's body stream broke after ${size} bytes`, { cause });
    this.name = 'UploadInterruptedError';
    this.size = size;
  }
}

export interface BlobStore {
  /** Size of a committed blob, or null when absent. */
  stat(digest: Digest): Promise<BlobStat | null>;
  /** Streams a committed blob, or a byte range of it. Rejects with NotFound('blob') when absent. */
  read(digest: Digest, range?: ByteRange): Promise<Readable>;
  /**
   * Writes a committed blob (or a byte range of it) to `destination` and ends it, with
   * bounded memory; drivers pick their most efficient way (pooled buffers, zero copy).
   * Rejects with NotFound('blob') before writing anything when the blob is absent.
   */
  send(digest: Digest, destination: NodeJS.WritableStream, range?: ByteRange): Promise<void>;
  /** A URL the client may fetch the blob from directly (presigned), or null to stream it. */
  redirectUrl(digest: Digest): Promise<string | null>;
  /** Removes a committed blob; absent blobs are not an error. */
  delete(digest: Digest): Promise<void>;
  /** Removes many committed blobs, in batches where the store has them (S3 DeleteObjects). */
  deleteMany(digests: readonly Digest[]): Promise<void>;
  /** Every committed blob, for garbage collection and fsck. */
  list(): AsyncIterable<StoredBlob>;

  /** Starts an empty upload. */
  createUpload(uploadId: string): Promise<void>;
  /**
   * Appends a stream at `offset`, which must equal the upload's current durable size
   * (anything past it, left by a crash, is discarded first). Resolves with the new size
   * once the bytes would survive a crash of this process; durability against an OS crash
   * comes at commitUpload, and the digest check before it catches anything lost in
   * between. `onData` sees every byte as it passes (for hashing). When `body` fails,
   * rejects with UploadInterruptedError carrying the size the upload now holds; past
   * `maxBytes`, with TooLarge('upload'). An unknown upload is NotFound('upload').
   */
  appendUpload(uploadId: string, offset: number, body: Readable, onData?: (chunk: Buffer) => void, maxBytes?: number): Promise<number>;
  /** Streams the first `length` bytes of an upload (to re-hash it after a restart). */
  readUpload(uploadId: string, length: number): Readable;
  /** Current size of an upload's data, or null when it does not exist. */
  uploadSize(uploadId: string): Promise<number | null>;
  /** Moves the first `size` bytes of a verified upload to its content address atomically. */
  commitUpload(uploadId: string, digest: Digest, size: number): Promise<void>;
  /** Writes small content straight to its content address (manifests' known blobs). */
  putBlob(digest: Digest, content: Uint8Array): Promise<void>;
  deleteUpload(uploadId: string): Promise<void>;
  /** Upload ids with their last change, for cleaning up abandoned uploads. */
  listUploads(): AsyncIterable<{ readonly uploadId: string; readonly modifiedAt: Date }>;
  /** Checks the store is reachable and writable; throws otherwise. */
  check(): Promise<void>;
  /**
   * Readiness, asked by every /healthz: cheaper than check() (no write), and it must
   * fail when the store cannot be reached (S3: HEAD on the bucket). check() when absent.
   */
  ready?(): Promise<void>;
  /** Releases what the driver holds open (connections), when it holds anything. */
  close?(): void;
  /** Free and total space, or null where the store cannot tell (object storage). */
  space(): Promise<StorageSpace | null>;
}
