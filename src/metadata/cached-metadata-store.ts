// A MetadataStore decorator: manifest and tag lookups (what every pull asks first) are
// answered from a RepositoryCache shared by the replicas (Redis), and every write through
// this store drops the repository's entries once the write committed. Writes that do not
// come through a MetadataStore (garbage collection of untagged manifests, deleting a
// namespace) are bounded by the cache's time to live instead. A cache that fails is
// skipped: the database answers, and the registry never fails because of its cache.
import type { Digest } from '../core/digest.ts';
import type { BlobRecord, ManifestHead, ManifestRecord, MetadataStore, NewManifest, Page, ReferrerRecord, TagHistoryEntry, UploadRecord } from './metadata-store.ts';
import type { RepositoryCache } from './repository-cache.ts';

export interface CachedMetadataStoreOptions {
  /** Called when the cache fails (the lookup or write goes on without it). */
  readonly onError?: (error: unknown) => void;
}

export class CachedMetadataStore implements MetadataStore {
  private readonly inner: MetadataStore;
  private readonly cache: RepositoryCache;
  private readonly onError: (error: unknown) => void;

  constructor(inner: MetadataStore, cache: RepositoryCache, options: CachedMetadataStoreOptions = {}) {
    this.inner = inner;
    this.cache = cache;
    this.onError = options.onError ?? (() => {});
  }

  getManifestByTag(repository: string, tag: string): Promise<ManifestRecord | null> {
    return this.cached(repository, `t:${tag}`, () => this.inner.getManifestByTag(repository, tag));
  }
  getManifestByDigest(repository: string, digest: Digest): Promise<ManifestRecord | null> {
    return this.cached(repository, `d:${digest}`, () => this.inner.getManifestByDigest(repository, digest));
  }
  async headManifestByTag(repository: string, tag: string): Promise<ManifestHead | null> {
    return head(await this.getManifestByTag(repository, tag));
  }
  async headManifestByDigest(repository: string, digest: Digest): Promise<ManifestHead | null> {
    return head(await this.getManifestByDigest(repository, digest));
  }

  async putManifest(manifest: NewManifest): Promise<void> {
    await this.inner.putManifest(manifest);
    await this.invalidate(manifest.repository);
  }
  async deleteManifest(repository: string, digest: Digest, now: number): Promise<boolean> {
    const removed = await this.inner.deleteManifest(repository, digest, now);
    await this.invalidate(repository);
    return removed;
  }
  async deleteTag(repository: string, tag: string, now: number): Promise<boolean> {
    const removed = await this.inner.deleteTag(repository, tag, now);
    await this.invalidate(repository);
    return removed;
  }

  // Everything else goes straight to the database.
  findRepositoryBlob(repository: string, digest: Digest): Promise<{ readonly size: number } | null> {
    return this.inner.findRepositoryBlob(repository, digest);
  }
  findBlob(digest: Digest): Promise<BlobRecord | null> {
    return this.inner.findBlob(digest);
  }
  linkBlob(repository: string, digest: Digest, size: number, now: number): Promise<void> {
    return this.inner.linkBlob(repository, digest, size, now);
  }
  unlinkBlob(repository: string, digest: Digest): Promise<boolean> {
    return this.inner.unlinkBlob(repository, digest);
  }
  createUpload(id: string, repository: string, now: number): Promise<void> {
    return this.inner.createUpload(id, repository, now);
  }
  getUpload(id: string): Promise<UploadRecord | null> {
    return this.inner.getUpload(id);
  }
  setUploadSize(id: string, size: number, now: number, from?: number): Promise<boolean> {
    return this.inner.setUploadSize(id, size, now, from);
  }
  deleteUpload(id: string): Promise<void> {
    return this.inner.deleteUpload(id);
  }
  uploadsUpdatedBefore(time: number, limit: number): Promise<UploadRecord[]> {
    return this.inner.uploadsUpdatedBefore(time, limit);
  }
  tagHistory(repository: string, tag?: string): Promise<TagHistoryEntry[]> {
    return this.inner.tagHistory(repository, tag);
  }
  repositoryExists(repository: string): Promise<boolean> {
    return this.inner.repositoryExists(repository);
  }
  listTags(repository: string, page: Page): Promise<string[] | null> {
    return this.inner.listTags(repository, page);
  }
  listRepositories(page: Page): Promise<string[]> {
    return this.inner.listRepositories(page);
  }
  listReferrers(repository: string, subject: Digest, artifactType?: string): Promise<ReferrerRecord[]> {
    return this.inner.listReferrers(repository, subject, artifactType);
  }
  close(): Promise<void> {
    return this.inner.close();
  }

  private async cached(repository: string, field: string, load: () => Promise<ManifestRecord | null>): Promise<ManifestRecord | null> {
    let generation: string | undefined;
    try {
      const found = await this.cache.get(repository, field);
      if (found.value) return decode(found.value);
      generation = found.generation;
    } catch (error) {
      this.onError(error);
    }
    const record = await load();
    // Absent manifests are not cached: a push must be visible at once, and 404s are cheap.
    if (record && generation !== undefined) await this.cache.fill(repository, field, encode(record), generation).catch(this.onError);
    return record;
  }

  private async invalidate(repository: string): Promise<void> {
    // A failed invalidation leaves entries that the time to live ends; the write stands.
    await this.cache.invalidate(repository).catch(this.onError);
  }
}

function head(record: ManifestRecord | null): ManifestHead | null {
  return record ? { digest: record.digest, mediaType: record.mediaType, size: record.size } : null;
}

/** One line of JSON (digest, media type, size), then the manifest's bytes as stored. */
function encode(record: ManifestRecord): Buffer {
  return Buffer.concat([Buffer.from(`${JSON.stringify([record.digest, record.mediaType, record.size])}\n`), record.content]);
}

function decode(value: Buffer): ManifestRecord {
  const end = value.indexOf(10);
  const [digest, mediaType, size] = JSON.parse(value.subarray(0, end).toString('utf8')) as [Digest, string, number];
  return { digest, mediaType, size, content: new Uint8Array(value.subarray(end + 1)) };
}
