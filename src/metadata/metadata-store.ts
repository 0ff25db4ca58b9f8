// The metadata seam: everything the registry knows about repositories, links, manifests,
// tags, referrers and uploads. Object storage holds bytes only; this holds the truth.
import type { Digest } from '../core/digest.ts';

export interface ManifestRecord {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly size: number;
  readonly content: Uint8Array;
}

export interface ManifestHead {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly size: number;
}

export interface UploadRecord {
  readonly id: string;
  readonly repository: string;
  /** Bytes durably received. */
  readonly size: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface ReferrerRecord {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly size: number;
  readonly artifactType: string | null;
  readonly annotations: Readonly<Record<string, string>> | null;
}

export interface NewManifest {
  readonly repository: string;
  readonly digest: Digest;
  readonly mediaType: string;
  readonly content: Uint8Array;
  readonly artifactType?: string | undefined;
  readonly subject?: Digest | undefined;
  readonly annotations?: Readonly<Record<string, string>> | undefined;
  /** Blobs the manifest needs in the repository (checked inside the write transaction). */
  readonly blobs: readonly Digest[];
  /** The sizes the manifest's descriptors declare; a stored blob of another size is MANIFEST_INVALID. */
  readonly blobSizes?: ReadonlyMap<string, number> | undefined;
  /** Child manifests the manifest needs in the repository. */
  readonly manifests: readonly Digest[];
  readonly tag?: string | undefined;
  readonly now: number;
}

export interface Page {
  /** Maximum number of entries. */
  readonly limit: number;
  /** Entries sort after this one. */
  readonly last?: string | undefined;
}

export interface TagHistoryEntry {
  readonly tag: string;
  readonly digest: Digest | null;
  readonly previousDigest: Digest | null;
  readonly changedAt: number;
}

export interface BlobRecord {
  readonly digest: Digest;
  readonly size: number;
  readonly refCount: number;
  readonly lastUsedAt: number;
}

export interface MetadataStore {
  // Blobs and their repository links.
  findRepositoryBlob(repository: string, digest: Digest): Promise<{ readonly size: number } | null>;
  findBlob(digest: Digest): Promise<BlobRecord | null>;
  /** Records a committed blob and links it into the repository (creating the repository). */
  linkBlob(repository: string, digest: Digest, size: number, now: number): Promise<void>;
  unlinkBlob(repository: string, digest: Digest): Promise<boolean>;

  // Uploads in progress.
  createUpload(id: string, repository: string, now: number): Promise<void>;
  getUpload(id: string): Promise<UploadRecord | null>;
  /**
   * Records an upload's durable size. With `from`, only while the recorded size is still
   * `from` (a compare-and-set: two replicas can never both advance an upload from one
   * offset). False when nothing was updated (no such upload, or it moved on).
   */
  setUploadSize(id: string, size: number, now: number, from?: number): Promise<boolean>;
  deleteUpload(id: string): Promise<void>;
  uploadsUpdatedBefore(time: number, limit: number): Promise<UploadRecord[]>;

  // Manifests and tags.
  getManifestByTag(repository: string, tag: string): Promise<ManifestRecord | null>;
  getManifestByDigest(repository: string, digest: Digest): Promise<ManifestRecord | null>;
  headManifestByTag(repository: string, tag: string): Promise<ManifestHead | null>;
  headManifestByDigest(repository: string, digest: Digest): Promise<ManifestHead | null>;
  /**
   * Stores a manifest, links it into the repository, records its references, its subject
   * and the tag, in one transaction. Throws NotFound('manifest-reference') if a referenced
   * blob or child manifest is not in the repository at that moment.
   */
  putManifest(manifest: NewManifest): Promise<void>;
  /** Removes the manifest from the repository with the tags pointing at it. */
  deleteManifest(repository: string, digest: Digest, now: number): Promise<boolean>;
  deleteTag(repository: string, tag: string, now: number): Promise<boolean>;
  tagHistory(repository: string, tag?: string): Promise<TagHistoryEntry[]>;

  // Discovery.
  repositoryExists(repository: string): Promise<boolean>;
  /** Null when the repository does not exist. */
  listTags(repository: string, page: Page): Promise<string[] | null>;
  listRepositories(page: Page): Promise<string[]>;
  listReferrers(repository: string, subject: Digest, artifactType?: string): Promise<ReferrerRecord[]>;

  close(): Promise<void>;
}
