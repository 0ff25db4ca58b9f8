// The registry domain: the OCI distribution operations, independent of HTTP. The HTTP
// layer parses requests into these calls; storage and metadata come in through seams.
import type { Readable } from 'node:stream';
import { InvalidInput, NotFound, TooLarge } from '../core/errors.ts';
import { hashToDigest, newHash, parseDigest, type Digest } from '../core/digest.ts';
import { isTag, validateRepositoryName, validateTag } from '../core/names.ts';
import { EMPTY_JSON_CONTENT, EMPTY_JSON_DIGEST } from '../core/media-types.ts';
import { parseManifest } from '../core/manifest.ts';
import type { BlobStore, ByteRange } from '../storage/blob-store.ts';
import type { ManifestHead, ManifestRecord, MetadataStore, ReferrerRecord } from '../metadata/metadata-store.ts';
import type { NamedLocks } from '../core/coordination.ts';
import { LocalLocks } from '../cluster/local-coordination.ts';
import { UploadSessions } from './uploads.ts';
import { NO_EVENTS, type EventActor, type EventPublisher } from '../core/events.ts';
import type { WriteGuard } from './write-guard.ts';
import type { BlobHandle, BlobRead, Listing, PutManifestResult, Registry, UploadState } from './registry-interface.ts';

export type { BlobHandle, BlobRead, Listing, PutManifestResult, Registry, UploadState } from './registry-interface.ts';
export { parseContentRange, uploadLocation, uploadRange } from './uploads.ts';

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
  /**
   * Who may touch an upload: one chunk at a time across every replica. In-process by
   * default (one process); PostgreSQL advisory locks when replicas share the database.
   */
  readonly locks?: NamedLocks | undefined;
}

export class CoreRegistry implements Registry {
  readonly blobs: BlobStore;
  readonly metadata: MetadataStore;
  readonly options: RegistryOptions;
  private readonly uploads: UploadSessions;
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
    this.uploads = new UploadSessions({ blobs, metadata, options, now: this.now, events: this.events, guards: this.guards, locks: options.locks ?? new LocalLocks() });
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

  async deleteBlob(repository: string, digest: string, actor?: EventActor): Promise<void> {
    validateRepositoryName(repository);
    const parsed = parseDigestParam(digest);
    if (!(await this.metadata.unlinkBlob(repository, parsed))) {
      throw new NotFound('blob', `blob ${digest} is not in repository ${repository}`, { detail: { digest } });
    }
    this.events.publish('blob.deleted', { repository, digest: parsed }, actor);
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

  // ---- uploads (uploads.ts) -----------------------------------------------------------

  startUpload(repository: string): Promise<UploadState> {
    return this.uploads.start(repository);
  }

  uploadStatus(repository: string, uploadId: string): Promise<UploadState> {
    return this.uploads.status(repository, uploadId);
  }

  /** Appends a chunk at the durable offset (UploadRangeInvalid, the spec's 416, otherwise). */
  appendChunk(repository: string, uploadId: string, body: Readable, contentRange?: string, contentLength?: number): Promise<UploadState> {
    return this.uploads.append(repository, uploadId, body, contentRange, contentLength);
  }

  /** Finishes an upload (with an optional last chunk) and verifies its digest. */
  completeUpload(repository: string, uploadId: string, digest: string | undefined, body?: Readable, contentRange?: string, contentLength?: number, actor?: EventActor): Promise<BlobHandle> {
    return this.uploads.complete(repository, uploadId, digest, body, contentRange, contentLength, actor);
  }

  /** POST ?digest= : the whole blob in one request. */
  uploadMonolithic(repository: string, digest: string, body: Readable, contentLength?: number, actor?: EventActor): Promise<BlobHandle> {
    return this.uploads.monolithic(repository, digest, body, contentLength, actor);
  }

  cancelUpload(repository: string, uploadId: string): Promise<void> {
    return this.uploads.cancel(repository, uploadId);
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
    // A pull is someone's request (HTTP passes who, anonymous included); the registry's own
    // readers (the scanner, replication) pass no actor and are not pulls.
    if (actor !== undefined) this.events.publish('manifest.pulled', { repository, digest: found.digest, reference, mediaType: found.mediaType, size: found.size }, actor);
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

  async putManifest(repository: string, reference: string, contentType: string | undefined, content: Uint8Array, actor?: EventActor): Promise<PutManifestResult> {
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
      await guard.beforeManifestWrite?.({ repository, digest, tag, mediaType: parsed.mediaType, size: content.byteLength, content, contentType, blobs: blobSizes, actor });
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
  async deleteManifest(repository: string, reference: string, actor?: EventActor): Promise<void> {
    validateRepositoryName(repository);
    const target = parseReference(reference);
    for (const guard of this.guards) {
      await guard.beforeManifestRemoval?.(target.kind === 'digest' ? { repository, digest: target.digest, actor } : { repository, tag: target.tag, actor });
    }
    const removed =
      target.kind === 'digest'
        ? await this.metadata.deleteManifest(repository, target.digest, this.now())
      : await this.metadata.deleteTag(repository, target.tag, this.now());
    if (!removed) throw manifestUnknown(repository, reference);
    if (target.kind === 'digest') this.events.publish('manifest.deleted', { repository, digest: target.digest }, actor);
    else this.events.publish('tag.deleted', { repository, tag: target.tag }, actor);
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

