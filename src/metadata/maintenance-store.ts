// The maintenance seam: what garbage collection and fsck ask of the metadata. Deletions
// re-check their condition atomically with the delete, so a push racing the collector
// either wins (it touched last_used_at first and the collector skips) or finds the content
// gone and is told so: never a manifest pointing at a deleted blob. SQL implementation:
// sql-maintenance-store.ts.
import type { Digest } from '../core/digest.ts';

export interface RepositoryManifestRef {
  readonly repositoryId: number;
  readonly repository: string;
  readonly digest: Digest;
}

export interface BlobRow {
  readonly digest: Digest;
  readonly size: number;
  readonly refCount: number;
  readonly linkCount: number;
}

export interface ManifestReferenceRow {
  readonly repositoryId: number;
  readonly repository: string;
  readonly digest: Digest;
  readonly childDigest: Digest;
  readonly kind: 'blob' | 'manifest';
  readonly linked: boolean;
}

export interface MaintenanceStore {
  // ---- garbage collection
  /** Manifests in a repository, linked before `createdBefore`, that no tag reaches, directly, through an index, or as a referrer. */
  unreachableManifests(createdBefore: number): Promise<RepositoryManifestRef[]>;
  /** Unlinks an untagged manifest from its repository unless it was used or tagged meanwhile. */
  removeRepositoryManifest(ref: RepositoryManifestRef, usedBefore: number): Promise<boolean>;
  /** Manifests no repository links any more, unused since `usedBefore`. */
  orphanManifests(usedBefore: number): Promise<Array<{ digest: Digest; size: number }>>;
  /** Deletes an orphan manifest unless it was used or linked meanwhile. */
  deleteOrphanManifest(digest: Digest, usedBefore: number): Promise<boolean>;
  /** Blobs no manifest references, unused since `usedBefore`. */
  unreferencedBlobs(usedBefore: number): Promise<Array<{ digest: Digest; size: number }>>;
  /**
   * Deletes the records and links of those `digests` still unreferenced and unused, running
   * `removeContent` (one batch delete in storage) on them before the deletion commits.
   * Blobs a push holds at that moment are skipped. Returns the digests removed.
   */
  deleteBlobs(digests: readonly Digest[], usedBefore: number, removeContent: (digests: Digest[]) => Promise<void>): Promise<Digest[]>;
  /**
   * Deletes stored content that has no record, unless one appears meanwhile: a push linking
   * the same digest waits, then finds the content gone. Returns the digests whose content
   * was removed.
   */
  deleteUnrecordedContents(digests: readonly Digest[], removeContent: (digests: Digest[]) => Promise<void>): Promise<Digest[]>;
  /** deleteUnrecordedContents for one digest. */
  deleteUnrecordedContent(digest: Digest, removeContent: () => Promise<void>): Promise<boolean>;
  /** Which of these digests have a blob record. */
  knownBlobs(digests: readonly Digest[]): Promise<Set<string>>;

  // ---- fsck
  /**
   * Whether the blob is still recorded and linked, read after any transaction holding its
   * row (a collector's batch deletes the content before it commits): what fsck asks
   * before reporting content missing, so a collection running beside it is no problem.
   */
  blobStillLinked(digest: Digest): Promise<boolean>;
  tagsWithoutManifest(): Promise<Array<{ repository: string; tag: string; digest: Digest }>>;
  /** Every reference of every linked manifest, with whether its target is linked in the same repository. */
  manifestReferences(): Promise<ManifestReferenceRow[]>;
  /** Every stored manifest's bytes, in digest order, a page at a time. */
  manifestContents(): AsyncIterable<{ digest: Digest; size: number; content: Uint8Array }>;
  /** Every blob record with its reference count and actual number of links, in digest order. */
  blobRows(): AsyncIterable<BlobRow>;
  uploadIds(): Promise<Set<string>>;
}
