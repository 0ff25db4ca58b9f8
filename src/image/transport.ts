// The two ends of a copy, in the manner of containers/image's ImageSource and
// ImageDestination: a source hands out manifests (the top-level one, or an index's
// instance by digest) and blob streams; a destination says which blobs it already has
// (or can reuse without upload), takes blob streams of known digest and size, then
// manifests, and makes the result visible on commit.
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { newHash, parseDigest, type Digest } from '../core/digest.ts';
import { INDEX_TYPES } from '../core/media-types.ts';

export interface ManifestData {
  readonly bytes: Buffer;
  readonly mediaType: string;
  readonly digest: Digest;
}

/** What a blob is, as its descriptor says. */
export interface BlobInfo {
  readonly digest: string;
  readonly size: number;
  readonly mediaType?: string;
}

export interface ImageSource {
  /** The transport-qualified name, for messages (`dir:/x`, `docker://host/repo:tag`). */
  readonly name: string;
  /** The top-level manifest (undefined), or an instance of an index by digest (verified). */
  getManifest(instanceDigest?: string): Promise<ManifestData>;
  /** A stream of the blob's bytes (callers verify digest and size, unless verifiesBlobs). */
  getBlob(blob: BlobInfo): Promise<Readable>;
  /**
   * True when getBlob's stream itself fails with a digest error, before it ends, unless
   * the bytes match the digest: the copy then counts bytes instead of hashing them twice.
   */
  readonly verifiesBlobs?: boolean;
  /** References the source holds, when it can hold several (an `oci:` layout). */
  listReferences?(): Promise<string[]>;
  close(): Promise<void>;
}

export interface ImageDestination {
  readonly name: string;
  /**
   * How many blobs the destination takes at once. Default 1: a destination that writes
   * one stream in order (a tar archive) must get its blobs one after another.
   */
  readonly parallelBlobs?: number;
  /** Whether the destination already holds the blob. */
  hasBlob(blob: BlobInfo): Promise<boolean>;
  /** Makes the blob present without uploading it (a cross-repository mount); true on success. */
  tryReuseBlob(blob: BlobInfo, source: ImageSource): Promise<boolean>;
  /** Stores the blob from a stream whose digest and size are checked; nothing is left behind on failure. */
  putBlob(blob: BlobInfo, stream: Readable): Promise<void>;
  /** Stores a manifest: an index's instance (by digest) or, without instanceDigest, the top-level one (tagged). */
  putManifest(manifest: ManifestData, instanceDigest?: string): Promise<void>;
  /** Makes the copied image visible (writes index.json, ...). */
  commit(): Promise<void>;
  close(): Promise<void>;
}

export class BlobDigestError extends Error {
  override readonly name = 'BlobDigestError';
}

/**
 * A pass-through that hashes what flows and fails at the end (or as soon as too many
 * bytes arrive) when the content does not have the expected digest and size.
 */
export function verifyingStream(blob: BlobInfo, what: string): Transform {
  const { algorithm } = parseDigest(blob.digest);
  const hash = newHash(algorithm);
  let received = 0;
  return new Transform({
    highWaterMark: 256 * 1024,
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      received += chunk.length;
      if (received > blob.size) {
        callback(new BlobDigestError(`${what}: blob ${blob.digest} is larger than the ${blob.size} bytes its descriptor gives`));
        return;
      }
      hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      if (received !== blob.size) {
        callback(new BlobDigestError(`${what}: blob ${blob.digest} has ${received} bytes, its descriptor gives ${blob.size}`));
        return;
      }
      const computed = `${algorithm}:${hash.digest('hex')}`;
      if (computed !== blob.digest) callback(new BlobDigestError(`${what}: digest mismatch for blob ${blob.digest}: the content hashes to ${computed}`));
      else callback();
    },
  });
}

/**
 * For a source that verifies digests itself: checks only the size on the way, so a short
 * or long stream still fails before the destination commits it.
 */
export function sizeCheckingStream(blob: BlobInfo, what: string): Transform {
  let received = 0;
  return new Transform({
    highWaterMark: 256 * 1024,
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      received += chunk.length;
      if (received > blob.size) callback(new BlobDigestError(`${what}: blob ${blob.digest} is larger than the ${blob.size} bytes its descriptor gives`));
      else callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      if (received !== blob.size) callback(new BlobDigestError(`${what}: blob ${blob.digest} has ${received} bytes, its descriptor gives ${blob.size}`));
      else callback();
    },
  });
}

export function isIndex(mediaType: string): boolean {
  return INDEX_TYPES.has(mediaType);
}

/** `sha256:abc` → `abc`, checking the digest. */
export function digestHex(digest: string): string {
  return parseDigest(digest).hex;
}
