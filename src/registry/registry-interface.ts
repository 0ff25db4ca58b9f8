// The registry's operations as an interface, so that a pull-through cache, a mirror's
// read-only rule or a policy layer can wrap the core (RegistryDecorator) and every entry
// point still talks to one `Registry`.
import type { Readable } from 'node:stream';
import type { Digest } from '../core/digest.ts';
import type { EventActor } from '../core/events.ts';
import type { BlobStore, ByteRange } from '../storage/blob-store.ts';
import type { ManifestHead, ManifestRecord, MetadataStore, ReferrerRecord, TagChange, TagChangeReason } from '../metadata/metadata-store.ts';
import type { RegistryOptions } from './registry.ts';

export interface UploadState {
  readonly id: string;
  readonly repository: string;
  readonly size: number;
}

export interface BlobHandle {
  readonly digest: Digest;
  readonly size: number;
}

export interface BlobRead extends BlobHandle {
  readonly body: Readable;
  readonly range?: ByteRange;
}

export interface PutManifestResult {
  readonly digest: Digest;
  readonly subject?: Digest;
}

export interface Listing {
  readonly entries: string[];
  /** The `last` value for the next page, when there may be one. */
  readonly next?: string;
}

export interface Registry {
  readonly blobs: BlobStore;
  readonly metadata: MetadataStore;
  readonly options: RegistryOptions;
  statBlob(repository: string, digest: string): Promise<BlobHandle>;
  readBlob(repository: string, digest: string, range?: ByteRange): Promise<BlobRead>;
  /** Streams a blob already checked with statBlob to `destination`, ending it. */
  sendBlob(digest: Digest, destination: NodeJS.WritableStream, range?: ByteRange): Promise<void>;
  blobRedirect(digest: Digest): Promise<string | null>;
  deleteBlob(repository: string, digest: string, actor?: EventActor): Promise<void>;
  mountBlob(repository: string, digest: string, from: string | undefined, mayRead?: (repository: string) => Promise<boolean>, actor?: EventActor): Promise<BlobHandle | null>;
  startUpload(repository: string): Promise<UploadState>;
  uploadStatus(repository: string, uploadId: string): Promise<UploadState>;
  appendChunk(repository: string, uploadId: string, body: Readable, contentRange?: string, contentLength?: number): Promise<UploadState>;
  completeUpload(repository: string, uploadId: string, digest: string | undefined, body?: Readable, contentRange?: string, contentLength?: number, actor?: EventActor): Promise<BlobHandle>;
  uploadMonolithic(repository: string, digest: string, body: Readable, contentLength?: number, actor?: EventActor): Promise<BlobHandle>;
  cancelUpload(repository: string, uploadId: string): Promise<void>;
  getManifest(repository: string, reference: string, actor?: EventActor): Promise<ManifestRecord>;
  headManifest(repository: string, reference: string): Promise<ManifestHead>;
  /** `reason`: how the tag's history tells the change (default push; the time machine says restore). */
  putManifest(repository: string, reference: string, contentType: string | undefined, content: Uint8Array, actor?: EventActor, reason?: TagChangeReason): Promise<PutManifestResult>;
  /** `condition`: the history's reason, and for a tag, delete only while it points at `ifDigest` (and expires by `expiredBy`). */
  deleteManifest(repository: string, reference: string, actor?: EventActor, condition?: Omit<TagChange, 'actor'>): Promise<void>;
  /** Points a tag back at a stored manifest it held (the time machine), through every check a push passes. */
  restoreTag(repository: string, tag: string, digest: string, actor?: EventActor): Promise<PutManifestResult>;
  listTags(repository: string, n?: number, last?: string): Promise<Listing>;
  listRepositories(n?: number, last?: string, visible?: (repository: string) => Promise<boolean>): Promise<Listing>;
  listReferrers(repository: string, subject: string, artifactType?: string): Promise<ReferrerRecord[]>;
}
