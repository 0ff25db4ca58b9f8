// A MetadataStore decorator that adds nothing: every call goes to the inner store. Run
// through the metadata contract suite, it shows the suite depends only on the interface,
// so a real decorator (a cache, quotas) can be held to the same contract.
import type { Digest } from '../../src/core/digest.ts';
import type {
  BlobRecord,
  ManifestHead,
  ManifestRecord,
  MetadataStore,
  NewManifest,
  Page,
  ReferrerRecord,
  TagHistoryEntry,
  UploadRecord,
} from '../../src/metadata/metadata-store.ts';

export class PassThroughMetadataStore implements MetadataStore {
  private readonly inner: MetadataStore;
  /** Calls that went through, so a test can tell the decorator was in the path. */
  calls = 0;

  constructor(inner: MetadataStore) {
    this.inner = inner;
  }

  private pass<T>(result: Promise<T>): Promise<T> {
    this.calls++;
    return result;
  }

  findRepositoryBlob(repository: string, digest: Digest): Promise<{ readonly size: number } | null> {
    return this.pass(this.inner.findRepositoryBlob(repository, digest));
  }
  findBlob(digest: Digest): Promise<BlobRecord | null> {
    return this.pass(this.inner.findBlob(digest));
  }
  linkBlob(repository: string, digest: Digest, size: number, now: number): Promise<void> {
    return this.pass(this.inner.linkBlob(repository, digest, size, now));
  }
  unlinkBlob(repository: string, digest: Digest): Promise<boolean> {
    return this.pass(this.inner.unlinkBlob(repository, digest));
  }
  createUpload(id: string, repository: string, now: number): Promise<void> {
    return this.pass(this.inner.createUpload(id, repository, now));
  }
  getUpload(id: string): Promise<UploadRecord | null> {
    return this.pass(this.inner.getUpload(id));
  }
  setUploadSize(id: string, size: number, now: number, from?: number): Promise<boolean> {
    return this.pass(this.inner.setUploadSize(id, size, now, from));
  }
  deleteUpload(id: string): Promise<void> {
    return this.pass(this.inner.deleteUpload(id));
  }
  uploadsUpdatedBefore(time: number, limit: number): Promise<UploadRecord[]> {
    return this.pass(this.inner.uploadsUpdatedBefore(time, limit));
  }
  getManifestByTag(repository: string, tag: string): Promise<ManifestRecord | null> {
    return this.pass(this.inner.getManifestByTag(repository, tag));
  }
  getManifestByDigest(repository: string, digest: Digest): Promise<ManifestRecord | null> {
    return this.pass(this.inner.getManifestByDigest(repository, digest));
  }
  headManifestByTag(repository: string, tag: string): Promise<ManifestHead | null> {
    return this.pass(this.inner.headManifestByTag(repository, tag));
  }
  headManifestByDigest(repository: string, digest: Digest): Promise<ManifestHead | null> {
    return this.pass(this.inner.headManifestByDigest(repository, digest));
  }
  putManifest(manifest: NewManifest): Promise<void> {
    return this.pass(this.inner.putManifest(manifest));
  }
  deleteManifest(repository: string, digest: Digest, now: number): Promise<boolean> {
    return this.pass(this.inner.deleteManifest(repository, digest, now));
  }
  deleteTag(repository: string, tag: string, now: number): Promise<boolean> {
    return this.pass(this.inner.deleteTag(repository, tag, now));
  }
  tagHistory(repository: string, tag?: string): Promise<TagHistoryEntry[]> {
    return this.pass(this.inner.tagHistory(repository, tag));
  }
  repositoryExists(repository: string): Promise<boolean> {
    return this.pass(this.inner.repositoryExists(repository));
  }
  listTags(repository: string, page: Page): Promise<string[] | null> {
    return this.pass(this.inner.listTags(repository, page));
  }
  listRepositories(page: Page): Promise<string[]> {
    return this.pass(this.inner.listRepositories(page));
  }
  listReferrers(repository: string, subject: Digest, artifactType?: string): Promise<ReferrerRecord[]> {
    return this.pass(this.inner.listReferrers(repository, subject, artifactType));
  }
  close(): Promise<void> {
    return this.pass(this.inner.close());
  }
}
