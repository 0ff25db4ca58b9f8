// The registry domain: the OCI distribution operations, independent of HTTP. The HTTP
// layer parses requests into these calls; storage and metadata come in through seams.
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { InvalidInput, NotFound, TooLarge, UploadRangeInvalid } from '../core/errors.ts';
import { hashToDigest, newHash, parseDigest, type Digest } from '../core/digest.ts';
import { isTag, validateRepositoryName, validateTag } from '../core/names.ts';
import { EMPTY_JSON_CONTENT, EMPTY_JSON_DIGEST } from '../core/media-types.ts';
import { parseManifest } from '../core/manifest.ts';
import { UploadInterruptedError, type BlobStore, type ByteRange } from '../storage/blob-store.ts';
import type { ManifestHead, ManifestRecord, MetadataStore, ReferrerRecord, TagChange, TagChangeReason } from '../metadata/metadata-store.ts';
import { UploadHashes } from './upload-hashes.ts';
import { KeyedLock } from './keyed-lock.ts';
import { NO_EVENTS, type EventActor, type EventPublisher } from '../core/events.ts';
import type { WriteGuard } from './write-guard.ts';
import type { BlobHandle, BlobRead, Listing, PutManifestResult, Registry, UploadState } from './registry-interface.ts';

export type { BlobHandle, BlobRead, Listing, PutManifestResult, Registry, UploadState } from './registry-interface.ts';

export interface RegistryOptions {
  /** Largest manifest accepted, in bytes. */
  readonly maxManifestBytes: number;
  /** Largest blob accepted, in bytes; undefined for no limit. */
  readonly maxBlobBytes?: number | undefined;
  /** Largest page a listing returns, whatever `n` asks for. */
  readonly maxPageSize: number;
  /** Mount a blob the registry already stores when a client asks `?mount=` without `from`. */
  readonly automaticMount: boolean;
  readonly clock?: () => number;
  /** Where committed changes are announced (domain events); nowhere by default. */
  readonly events?: EventPublisher | undefined;
  /** Checks run before every write, whatever the entry point. */
  readonly guards?: readonly WriteGuard[] | undefined;
}

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

export class CoreRegistry implements Registry {
  readonly blobs: BlobStore;
  readonly metadata: MetadataStore;
  readonly options: RegistryOptions;
  private readonly hashes = new UploadHashes();
  private readonly uploadLocks = new KeyedLock();
  private readonly now: () => number;
  private readonly events: EventPublisher;
  private readonly guards: readonly WriteGuard[];

  constructor(blobs: BlobStore, metadata: MetadataStore, options: RegistryOptions) {
    this.blobs = blobs;
    this.metadata = metadata;
    this.options = options;
    this.now = options.clock ?? Date.now;
    this.events = options.events ?? NO_EVENTS;
    this.guards = options.guards ?? [];
  }

  // ---- blobs -------------------------------------------------------------------------

  async statBlob(repository: string, digest: string): Promise<BlobHandle> {
    validateRepositoryName(repository);
    const parsed = parseDigestParam(digest);
    const found = await this.metadata.findRepositoryBlob(repository, parsed);
    if (!found) throw new NotFound('blob', `blob ${digest} is not in repository ${repository}`, { detail: { digest } });
    return { digest: parsed, size: found.size };
  }

  async readBlob(repository: string, digest: string, range?: ByteRange): Promise<BlobRead> {
    const handle = await this.statBlob(repository, digest);
    const body = await this.blobs.read(handle.digest, range);
    return { ...handle, body, ...(range ? { range } : {}) };
  }

  /** Streams a blob already checked with statBlob to `destination`, ending it. */
  async sendBlob(digest: Digest, destination: NodeJS.WritableStream, range?: ByteRange): Promise<void> {
    await this.blobs.send(digest, destination, range);
  }

  async blobRedirect(digest: Digest): Promise<string | null> {
    return this.blobs.redirectUrl(digest);
  }

  async deleteBlob(repository: string, digest: string): Promise<void> {
    validateRepositoryName(repository);
    const parsed = parseDigestParam(digest);
    if (!(await this.metadata.unlinkBlob(repository, parsed))) {
      throw new NotFound('blob', `blob ${digest} is not in repository ${repository}`, { detail: { digest } });
    }
  }

  /**
   * Links a blob stored elsewhere into `repository` without transferring it. `from`
   * undefined is the automatic mount: any stored blob, when enabled. Returns false when
   * the blob cannot be mounted (the client then uploads it).
   */
  async mountBlob(repository: string, digest: string, from: string | undefined, mayRead: (repository: string) => Promise<boolean> = async () => true, actor?: EventActor): Promise<BlobHandle | null> {
    validateRepositoryName(repository);
    let parsed: Digest;
    try {
      parsed = parseDigestParam(digest);
    } catch {
      return null;
    }
    let size: number | undefined;
    if (from !== undefined) {
      try {
        validateRepositoryName(from);
      } catch {
        return null;
      }
      if (!(await mayRead(from))) return null;
      size = (await this.metadata.findRepositoryBlob(from, parsed))?.size;
    } else if (this.options.automaticMount) {
      size = (await this.metadata.findBlob(parsed))?.size;
    }
    if (size === undefined) return null;
    if ((await this.blobs.stat(parsed)) === null) return null;
    for (const guard of this.guards) await guard.beforeBlobLink?.({ repository, digest: parsed, size, actor });
    await this.metadata.linkBlob(repository, parsed, size, this.now());
    // A collector may have removed the content between the check and the link (which
    // now protects it): then undo the link and let the client upload.
    if ((await this.blobs.stat(parsed)) === null) {
      await this.metadata.unlinkBlob(repository, parsed);
      return null;
    }
    this.events.publish('blob.mounted', { repository, digest: parsed, from, size }, actor);
    return { digest: parsed, size };
  }

  // ---- uploads -----------------------------------------------------------------------

  async startUpload(repository: string): Promise<UploadState> {
    validateRepositoryName(repository);
    const id = randomUUID();
    await this.blobs.createUpload(id);
    await this.metadata.createUpload(id, repository, this.now());
    return { id, repository, size: 0 };
  }

  async uploadStatus(repository: string, uploadId: string): Promise<UploadState> {
    validateRepositoryName(repository);
    const upload = await this.metadata.getUpload(uploadId);
    if (!upload || upload.repository !== repository) {
      throw new NotFound('upload', `upload ${uploadId} is not in progress for ${repository}`);
    }
    return { id: upload.id, repository, size: upload.size };
  }

  /**
   * Appends a chunk. `contentRange` (when the client sends one) must start at the current
   * size; otherwise UploadRangeInvalid (the spec's 416 with the current Range).
   */
  async appendChunk(repository: string, uploadId: string, body: Readable, contentRange?: string, contentLength?: number): Promise<UploadState> {
    return this.uploadLocks.run(uploadId, async () => {
      const upload = await this.uploadStatus(repository, uploadId);
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
    const remaining = this.options.maxBlobBytes === undefined ? undefined : this.options.maxBlobBytes - upload.size;
    let size: number;
    try {
      size = await this.blobs.appendUpload(upload.id, upload.size, body, hash ? (chunk) => hash.update(chunk) : undefined, remaining);
    } catch (error) {
      if (!(error instanceof UploadInterruptedError)) throw error;
      // The client went away or stalled: keep what arrived, so it can resume from the
      // Range a status request reports. The running hash saw bytes that may not have
      // reached the file, so it is dropped; completion re-hashes the file instead.
      if (error.size > upload.size) await this.metadata.setUploadSize(upload.id, error.size, this.now());
      throw error.cause;
    }
    if (expected !== undefined && size - upload.size !== expected) {
      throw new InvalidInput('upload', `chunk carried ${size - upload.size} bytes, Content-Range announced ${expected}`);
    }
    await this.metadata.setUploadSize(upload.id, size, this.now());
    if (hash) this.hashes.put(upload.id, size, hash);
    return size;
  }

  /** Finishes an upload (with an optional last chunk) and verifies its digest. */
  async completeUpload(repository: string, uploadId: string, digest: string | undefined, body?: Readable, contentRange?: string, contentLength?: number, actor?: EventActor): Promise<BlobHandle> {
    if (digest === undefined || digest === '') {
      throw new InvalidInput('digest', 'completing an upload needs the digest query parameter');
    }
    const expected = parseDigestParam(digest);
    return this.uploadLocks.run(uploadId, async () => {
      let upload = await this.uploadStatus(repository, uploadId);
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
        for await (const chunk of this.blobs.readUpload(upload.id, upload.size)) hash.update(chunk as Buffer);
      }
      const actual = hashToDigest(algorithm, hash);
      if (actual !== expected) {
        throw new InvalidInput('digest', `upload content has digest ${actual}, not ${expected}`, { detail: { expected, actual } });
      }
      try {
        for (const guard of this.guards) await guard.beforeBlobLink?.({ repository, digest: expected, size: upload.size, actor });
      } catch (error) {
        // Refused at commit (a quota): nothing of the upload stays behind.
        this.hashes.forget(upload.id);
        await this.blobs.deleteUpload(upload.id).catch(() => {});
        await this.metadata.deleteUpload(upload.id);
        throw error;
      }
      const existing = await this.blobs.stat(expected);
      if (existing && existing.size === upload.size) {
        // Already stored (deduplicated). Link first, which touches the blob's row and so
        // stops a collector from deleting it; if one got there before the link, the
        // content is gone and this upload's copy takes its place.
        await this.metadata.linkBlob(repository, expected, upload.size, this.now());
        if (await this.blobs.stat(expected)) await this.blobs.deleteUpload(upload.id);
        else await this.blobs.commitUpload(upload.id, expected, upload.size);
      } else {
        await this.blobs.commitUpload(upload.id, expected, upload.size);
        await this.metadata.linkBlob(repository, expected, upload.size, this.now());
        // The link protects the file from now on. A collector with no grace period may
        // have taken it between the rename and the link: then the data is gone, and the
        // record must go too rather than point at nothing.
        if (!(await this.blobs.stat(expected))) {
          await this.metadata.unlinkBlob(repository, expected);
          await this.metadata.deleteUpload(upload.id);
          this.hashes.forget(upload.id);
          throw new NotFound('upload', `upload ${upload.id} was removed by garbage collection while it completed; upload the blob again`);
        }
      }
      await this.metadata.deleteUpload(upload.id);
      this.hashes.forget(upload.id);
      this.events.publish('upload.completed', { repository, digest: expected, size: upload.size }, actor);
      return { digest: expected, size: upload.size };
    });
  }

  /** POST ?digest= : the whole blob in one request. */
  async uploadMonolithic(repository: string, digest: string, body: Readable, contentLength?: number, actor?: EventActor): Promise<BlobHandle> {
    const declared = parseDigestParam(digest);
    // The size is declared: a guard (a quota) can refuse before a byte is stored.
    if (contentLength !== undefined) {
      for (const guard of this.guards) await guard.beforeBlobLink?.({ repository, digest: declared, size: contentLength, actor });
    }
    const upload = await this.startUpload(repository);
    try {
      return await this.completeUpload(repository, upload.id, digest, body, undefined, contentLength, actor);
    } catch (error) {
      await this.cancelUpload(repository, upload.id).catch(() => {});
      throw error;
    }
  }

  async cancelUpload(repository: string, uploadId: string): Promise<void> {
    await this.uploadLocks.run(uploadId, async () => {
      await this.uploadStatus(repository, uploadId);
      this.hashes.forget(uploadId);
      await this.blobs.deleteUpload(uploadId);
      await this.metadata.deleteUpload(uploadId);
    });
  }

  // ---- manifests ---------------------------------------------------------------------

  async getManifest(repository: string, reference: string, actor?: EventActor): Promise<ManifestRecord> {
    validateRepositoryName(repository);
    const target = parseReference(reference);
    const found =
      target.kind === 'digest'
        ? await this.metadata.getManifestByDigest(repository, target.digest)
      : await this.metadata.getManifestByTag(repository, target.tag);
    if (!found) throw manifestUnknown(repository, reference);
    this.events.publish('manifest.pulled', { repository, digest: found.digest, reference }, actor);
    return found;
  }

  async headManifest(repository: string, reference: string): Promise<ManifestHead> {
    validateRepositoryName(repository);
    const target = parseReference(reference);
    const found =
      target.kind === 'digest'
        ? await this.metadata.headManifestByDigest(repository, target.digest)
      : await this.metadata.headManifestByTag(repository, target.tag);
    if (!found) throw manifestUnknown(repository, reference);
    return found;
  }

  async putManifest(repository: string, reference: string, contentType: string | undefined, content: Uint8Array, actor?: EventActor, reason?: TagChangeReason): Promise<PutManifestResult> {
    validateRepositoryName(repository);
    let tag: string | undefined;
    let algorithm: 'sha256' | 'sha512' = 'sha256';
    let expected: Digest | undefined;
    if (reference.includes(':')) {
      expected = parseDigestParam(reference);
      algorithm = parseDigest(expected).algorithm;
    } else {
      tag = validateTag(reference);
    }
    if (content.byteLength > this.options.maxManifestBytes) {
      throw new TooLarge('manifest', `manifest is ${content.byteLength} bytes, over the ${this.options.maxManifestBytes}-byte limit`);
    }
    const digest = hashToDigest(algorithm, newHash(algorithm).update(content));
    if (expected && expected !== digest) {
      throw new InvalidInput('digest', `manifest content has digest ${digest}, not ${expected}`, { detail: { expected, actual: digest } });
    }
    const parsed = parseManifest(content, contentType);
    const blobSizes = new Map(parsed.blobs.map((blob) => [blob.digest, blob.size]));
    for (const guard of this.guards) {
      await guard.beforeManifestWrite?.({ repository, digest, tag, mediaType: parsed.mediaType, size: content.byteLength, blobs: blobSizes, actor });
    }
    // The OCI 1.1 empty descriptor needs no upload: its content is known.
    if (parsed.blobs.some((blob) => blob.digest === EMPTY_JSON_DIGEST)) await this.ensureEmptyJsonBlob(repository);
    await this.metadata.putManifest({
      repository,
      digest,
      mediaType: parsed.mediaType,
      content,
      artifactType: parsed.artifactType,
      subject: parsed.subject?.digest,
      annotations: parsed.annotations,
      blobs: parsed.blobs.map((blob) => blob.digest),
      blobSizes,
      manifests: parsed.manifests.map((entry) => entry.digest),
      tag,
      change: { reason: reason ?? 'push', actor: actor?.name },
      now: this.now(),
    });
    this.events.publish('manifest.pushed', { repository, digest, mediaType: parsed.mediaType, size: content.byteLength, tag, subject: parsed.subject?.digest, artifactType: parsed.artifactType }, actor);
    if (tag !== undefined) this.events.publish('tag.moved', { repository, tag, digest }, actor);
    return { digest, ...(parsed.subject ? { subject: parsed.subject.digest } : {}) };
  }

  private async ensureEmptyJsonBlob(repository: string): Promise<void> {
    if (await this.metadata.findRepositoryBlob(repository, EMPTY_JSON_DIGEST as Digest)) return;
    if (!(await this.blobs.stat(EMPTY_JSON_DIGEST as Digest))) await this.blobs.putBlob(EMPTY_JSON_DIGEST as Digest, EMPTY_JSON_CONTENT);
    await this.metadata.linkBlob(repository, EMPTY_JSON_DIGEST as Digest, EMPTY_JSON_CONTENT.byteLength, this.now());
    // The link protects it from now on; restore it if a collector took it just before.
    if (!(await this.blobs.stat(EMPTY_JSON_DIGEST as Digest))) await this.blobs.putBlob(EMPTY_JSON_DIGEST as Digest, EMPTY_JSON_CONTENT);
  }

  /** DELETE by digest removes the manifest (and its tags); DELETE by tag removes the tag. */
  async deleteManifest(repository: string, reference: string, actor?: EventActor, condition: Omit<TagChange, 'actor'> = {}): Promise<void> {
    validateRepositoryName(repository);
    const target = parseReference(reference);
    for (const guard of this.guards) {
      await guard.beforeManifestRemoval?.(target.kind === 'digest' ? { repository, digest: target.digest, actor } : { repository, tag: target.tag, actor });
    }
    const change: TagChange = { reason: 'delete', ...condition, actor: actor?.name };
    const removed =
      target.kind === 'digest'
        ? await this.metadata.deleteManifest(repository, target.digest, this.now(), change)
      : await this.metadata.deleteTag(repository, target.tag, this.now(), change);
    if (!removed) throw manifestUnknown(repository, reference);
    if (target.kind === 'digest') this.events.publish('manifest.deleted', { repository, digest: target.digest }, actor);
    else this.events.publish('tag.deleted', { repository, tag: target.tag }, actor);
  }

  /**
   * Points `tag` at a manifest it pointed at before (the time machine): the stored bytes are
   * pushed again under the tag, through the same guards and checks as any push, so a
   * manifest whose content was collected meanwhile cannot come back half.
   */
  async restoreTag(repository: string, tag: string, digest: string, actor?: EventActor): Promise<PutManifestResult> {
    validateRepositoryName(repository);
    const stored = await this.metadata.getStoredManifest(parseDigestParam(digest));
    if (!stored) throw new NotFound('manifest', `manifest ${digest} is no longer stored`, { detail: { name: repository, reference: digest } });
    return this.putManifest(repository, validateTag(tag), stored.mediaType, stored.content, actor, 'restore');
  }

  // ---- discovery ---------------------------------------------------------------------

  async listTags(repository: string, n?: number, last?: string): Promise<Listing> {
    validateRepositoryName(repository);
    const limit = this.pageLimit(n);
    if (limit === 0) {
      if (!(await this.metadata.repositoryExists(repository))) throw nameUnknown(repository);
      return { entries: [] };
    }
    const tags = await this.metadata.listTags(repository, { limit: limit + 1, last });
    if (tags === null) throw nameUnknown(repository);
    return page(tags, limit);
  }

  async listRepositories(n?: number, last?: string, visible?: (repository: string) => Promise<boolean>): Promise<Listing> {
    const limit = this.pageLimit(n);
    if (limit === 0) return { entries: [] };
    if (!visible) return page(await this.metadata.listRepositories({ limit: limit + 1, last }), limit);
    const entries: string[] = [];
    let cursor = last;
    // Filter page by page so hidden repositories never shorten a page wrongly.
    for (;;) {
      const batch = await this.metadata.listRepositories({ limit: limit + 1, last: cursor });
      for (const name of batch) {
        if (await visible(name)) entries.push(name);
        if (entries.length > limit) return page(entries, limit);
      }
      if (batch.length <= limit) return { entries };
      cursor = batch[batch.length - 1];
    }
  }

  async listReferrers(repository: string, subject: string, artifactType?: string): Promise<ReferrerRecord[]> {
    validateRepositoryName(repository);
    const digest = parseDigestParam(subject);
    // No 404 even for an unknown repository: the spec forbids it on the referrers API
    // (clients take a 404 as "unsupported" and fall back to the referrers tag schema).
    return this.metadata.listReferrers(repository, digest, artifactType);
  }

  private pageLimit(n: number | undefined): number {
    if (n === undefined) return this.options.maxPageSize;
    if (!Number.isSafeInteger(n) || n < 0) throw new InvalidInput('page-size', `invalid page size ${n}`);
    return Math.min(n, this.options.maxPageSize);
  }
}

function page(entries: string[], limit: number): Listing {
  if (entries.length <= limit) return { entries };
  const kept = entries.slice(0, limit);
  return { entries: kept, next: kept[kept.length - 1]! };
}

export function uploadLocation(repository: string, uploadId: string): string {
  return `/v2/${repository}/blobs/uploads/${uploadId}`;
}

function parseDigestParam(value: string): Digest {
  parseDigest(value);
  return value as Digest;
}

type Reference = { readonly kind: 'digest'; readonly digest: Digest } | { readonly kind: 'tag'; readonly tag: string };

function parseReference(reference: string): Reference {
  if (reference.includes(':')) return { kind: 'digest', digest: parseDigestParam(reference) };
  if (!isTag(reference)) throw new NotFound('manifest', `"${reference.slice(0, 80)}" is neither a valid tag nor a digest`);
  return { kind: 'tag', tag: reference };
}

function manifestUnknown(repository: string, reference: string): NotFound {
  return new NotFound('manifest', `manifest ${reference} is not in repository ${repository}`, { detail: { name: repository, reference } });
}

function nameUnknown(repository: string): NotFound {
  return new NotFound('repository', `repository ${repository} is not known to the registry`, { detail: { name: repository } });
}

