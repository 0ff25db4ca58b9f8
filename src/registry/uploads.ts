// Uploads, the registry's part of a blob push: started, appended chunk by chunk at the
// durable offset (serialised per upload), completed against the digest the client names
// (with the running hash, or a re-hash after a restart or on another replica), then
// linked into the repository. CoreRegistry delegates its upload operations here.
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { InvalidInput, NotFound, UploadRangeInvalid } from '../core/errors.ts';
import { hashToDigest, newHash, parseDigest, type Digest } from '../core/digest.ts';
import { validateRepositoryName } from '../core/names.ts';
import { UploadInterruptedError, type BlobStore, type ByteRange } from '../storage/blob-store.ts';
import type { MetadataStore } from '../metadata/metadata-store.ts';
import type { EventActor, EventPublisher } from '../core/events.ts';
import { UploadHashes } from './upload-hashes.ts';
import type { NamedLocks } from '../core/coordination.ts';
import type { WriteGuard } from './write-guard.ts';
import type { BlobHandle, UploadState } from './registry-interface.ts';

/** Parses `start-end` (inclusive) from a Content-Range header, with or without `bytes `. */
export function parseContentRange(value: string): ByteRange | null {
  const match = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(value.trim());
  if (!match) return null;
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return null;
  return { start, end };
}

/** The Range header value describing an upload's progress (inclusive, as Distribution sends). */
export function uploadRange(size: number): string {
  return `0-${Math.max(size - 1, 0)}`;
}

export function uploadLocation(repository: string, uploadId: string): string {
  return `/v2/${repository}/blobs/uploads/${uploadId}`;
}

/** What uploads share with the rest of the registry. */
export interface UploadContext {
  readonly blobs: BlobStore;
  readonly metadata: MetadataStore;
  readonly options: { readonly maxBlobBytes?: number | undefined };
  readonly now: () => number;
  readonly events: EventPublisher;
  readonly guards: readonly WriteGuard[];
  /** One chunk at a time per upload across every replica (the lock `upload:<id>`). */
  readonly locks: NamedLocks;
}

export class UploadSessions {
  private readonly context: UploadContext;
  private readonly hashes = new UploadHashes();

  constructor(context: UploadContext) {
    this.context = context;
  }

  /** Runs `work` as the only holder of the upload, whichever replica the chunk reached. */
  private async withUpload<T>(uploadId: string, work: () => Promise<T>): Promise<T> {
    return (await this.context.locks.withLock(`upload:${uploadId}`, async () => ({ value: await work() })))!.value;
  }

  /**
   * Records the upload's new durable size, only if it is still the size this chunk
   * started from: a fence behind the lock, should a replica lose its lock (its database
   * connection dropped) while another took the upload over.
   */
  private async recordSize(upload: UploadState, size: number): Promise<void> {
    if (!(await this.context.metadata.setUploadSize(upload.id, size, this.context.now(), upload.size))) {
      this.hashes.forget(upload.id);
      const current = await this.context.metadata.getUpload(upload.id);
      // Expired or cancelled meanwhile (a collector with no grace period): the upload is unknown.
      if (!current) throw new NotFound('upload', `upload ${upload.id} ended while this chunk was stored`);
      throw new UploadRangeInvalid(`upload ${upload.id} moved on while this chunk was stored`, { id: upload.id, repository: upload.repository, size: current.size });
    }
  }

  async start(repository: string): Promise<UploadState> {
    validateRepositoryName(repository);
    const id = randomUUID();
    await this.context.blobs.createUpload(id);
    await this.context.metadata.createUpload(id, repository, this.context.now());
    return { id, repository, size: 0 };
  }

  async status(repository: string, uploadId: string): Promise<UploadState> {
    validateRepositoryName(repository);
    const upload = await this.context.metadata.getUpload(uploadId);
    if (!upload || upload.repository !== repository) {
      throw new NotFound('upload', `upload ${uploadId} is not in progress for ${repository}`);
    }
    return { id: upload.id, repository, size: upload.size };
  }

  /**
   * Appends a chunk. `contentRange` (when the client sends one) must start at the current
   * size; otherwise UploadRangeInvalid (the spec's 416 with the current Range).
   */
  async append(repository: string, uploadId: string, body: Readable, contentRange?: string, contentLength?: number): Promise<UploadState> {
    return this.withUpload(uploadId, async () => {
      const upload = await this.status(repository, uploadId);
      let expected: number | undefined;
      if (contentRange !== undefined) {
        const range = parseContentRange(contentRange);
        if (!range) {
          throw new UploadRangeInvalid(`malformed Content-Range "${contentRange.slice(0, 64)}"`, upload);
        }
        if (range.start !== upload.size) {
          throw new UploadRangeInvalid(`chunk starts at ${range.start} but the upload holds ${upload.size} bytes`, upload);
        }
        expected = range.end - range.start + 1;
        if (contentLength !== undefined && contentLength !== expected) {
          throw new UploadRangeInvalid(`Content-Range covers ${expected} bytes but Content-Length is ${contentLength}`, upload);
        }
      }
      const size = await this.receive(upload, body, expected);
      return { ...upload, size };
    });
  }

  /** Streams `body` onto the upload and records the new durable size. */
  private async receive(upload: UploadState, body: Readable, expected?: number): Promise<number> {
    const hash = this.hashes.take(upload.id, upload.size);
    const remaining = this.context.options.maxBlobBytes === undefined ? undefined : this.context.options.maxBlobBytes - upload.size;
    let size: number;
    try {
      size = await this.context.blobs.appendUpload(upload.id, upload.size, body, hash ? (chunk) => hash.update(chunk) : undefined, remaining);
    } catch (error) {
      if (!(error instanceof UploadInterruptedError)) throw error;
      // The client went away or stalled: keep what arrived, so it can resume from the
      // Range a status request reports. The running hash saw bytes that may not have
      // reached the file, so it is dropped; completion re-hashes the file instead.
      if (error.size > upload.size) await this.recordSize(upload, error.size);
      throw error.cause;
    }
    if (expected !== undefined && size - upload.size !== expected) {
      throw new InvalidInput('upload', `chunk carried ${size - upload.size} bytes, Content-Range announced ${expected}`);
    }
    await this.recordSize(upload, size);
    if (hash) this.hashes.put(upload.id, size, hash);
    return size;
  }

  /** Finishes an upload (with an optional last chunk) and verifies its digest. */
  async complete(repository: string, uploadId: string, digest: string | undefined, body?: Readable, contentRange?: string, contentLength?: number, actor?: EventActor): Promise<BlobHandle> {
    if (digest === undefined || digest === '') {
      throw new InvalidInput('digest', 'completing an upload needs the digest query parameter');
    }
    const expected = parseDigestParam(digest);
    return this.withUpload(uploadId, async () => {
      let upload = await this.status(repository, uploadId);
      if (body && (contentLength === undefined || contentLength > 0)) {
        let announced: number | undefined;
        if (contentRange !== undefined) {
          const range = parseContentRange(contentRange);
          if (!range || range.start !== upload.size) {
            throw new UploadRangeInvalid(`chunk does not start at ${upload.size}`, upload);
          }
          announced = range.end - range.start + 1;
        }
        upload = { ...upload, size: await this.receive(upload, body, announced) };
      } else {
        body?.resume();
      }
      const { algorithm } = parseDigest(expected);
      let hash = algorithm === 'sha256' ? this.hashes.take(upload.id, upload.size) : null;
      if (!hash) {
        hash = newHash(algorithm);
        for await (const chunk of this.context.blobs.readUpload(upload.id, upload.size)) hash.update(chunk as Buffer);
      }
      const actual = hashToDigest(algorithm, hash);
      if (actual !== expected) {
        throw new InvalidInput('digest', `upload content has digest ${actual}, not ${expected}`, { detail: { expected, actual } });
      }
      for (const guard of this.context.guards) await guard.beforeBlobLink?.({ repository, digest: expected, size: upload.size, actor });
      const existing = await this.context.blobs.stat(expected);
      if (existing && existing.size === upload.size) {
        // Already stored (deduplicated). Link first, which touches the blob's row and so
        // stops a collector from deleting it; if one got there before the link, the
        // content is gone and this upload's copy takes its place.
        await this.context.metadata.linkBlob(repository, expected, upload.size, this.context.now());
        if (await this.context.blobs.stat(expected)) await this.context.blobs.deleteUpload(upload.id);
        else await this.context.blobs.commitUpload(upload.id, expected, upload.size);
      } else {
        await this.context.blobs.commitUpload(upload.id, expected, upload.size);
        await this.context.metadata.linkBlob(repository, expected, upload.size, this.context.now());
        // The link protects the file from now on. A collector with no grace period may
        // have taken it between the rename and the link: then the data is gone, and the
        // record must go too rather than point at nothing.
        if (!(await this.context.blobs.stat(expected))) {
          await this.context.metadata.unlinkBlob(repository, expected);
          await this.context.metadata.deleteUpload(upload.id);
          this.hashes.forget(upload.id);
          throw new NotFound('upload', `upload ${upload.id} was removed by garbage collection while it completed; upload the blob again`);
        }
      }
      await this.context.metadata.deleteUpload(upload.id);
      this.hashes.forget(upload.id);
      this.context.events.publish('upload.completed', { repository, digest: expected, size: upload.size }, actor);
      return { digest: expected, size: upload.size };
    });
  }

  /** POST ?digest= : the whole blob in one request. */
  async monolithic(repository: string, digest: string, body: Readable, contentLength?: number, actor?: EventActor): Promise<BlobHandle> {
    parseDigestParam(digest);
    const upload = await this.start(repository);
    try {
      return await this.complete(repository, upload.id, digest, body, undefined, contentLength, actor);
    } catch (error) {
      await this.cancel(repository, upload.id).catch(() => {});
      throw error;
    }
  }

  async cancel(repository: string, uploadId: string): Promise<void> {
    await this.withUpload(uploadId, async () => {
      await this.status(repository, uploadId);
      this.hashes.forget(uploadId);
      await this.context.blobs.deleteUpload(uploadId);
      await this.context.metadata.deleteUpload(uploadId);
    });
  }
}

function parseDigestParam(value: string): Digest {
  parseDigest(value);
  return value as Digest;
}
