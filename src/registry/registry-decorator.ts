// The base for layers around a Registry: every operation passes to the inner registry
// unchanged. A decorator (a pull-through cache, a read-only mirror, a policy) extends this
// and overrides only what it changes.
import type { Readable } from 'node:stream';
import type { Digest } from '../core/digest.ts';
import type { EventActor } from '../core/events.ts';
import type { BlobStore, ByteRange } from '../storage/blob-store.ts';
import type { ManifestHead, ManifestRecord, MetadataStore, ReferrerRecord, TagChange, TagChangeReason } from '../metadata/metadata-store.ts';
import type { RegistryOptions } from './registry.ts';
import type { BlobHandle, BlobRead, Listing, PutManifestResult, Registry, UploadState } from './registry-interface.ts';

export class RegistryDecorator implements Registry {
  protected readonly inner: Registry;

  constructor(inner: Registry) {
    this.inner = inner;
  }

  get blobs(): BlobStore { return this.inner.blobs; }
  get metadata(): MetadataStore { return this.inner.metadata; }
  get options(): RegistryOptions { return this.inner.options; }

  statBlob(repository: string, digest: string): Promise<BlobHandle> { return this.inner.statBlob(repository, digest); }
  readBlob(repository: string, digest: string, range?: ByteRange): Promise<BlobRead> { return this.inner.readBlob(repository, digest, range); }
  sendBlob(digest: Digest, destination: NodeJS.WritableStream, range?: ByteRange): Promise<void> { return this.inner.sendBlob(digest, destination, range); }
  blobRedirect(digest: Digest): Promise<string | null> { return this.inner.blobRedirect(digest); }
  deleteBlob(repository: string, digest: string, actor?: EventActor): Promise<void> { return this.inner.deleteBlob(repository, digest, actor); }
  mountBlob(repository: string, digest: string, from: string | undefined, mayRead?: (repository: string) => Promise<boolean>, actor?: EventActor): Promise<BlobHandle | null> {
    return this.inner.mountBlob(repository, digest, from, mayRead, actor);
  }
  startUpload(repository: string): Promise<UploadState> { return this.inner.startUpload(repository); }
  uploadStatus(repository: string, uploadId: string): Promise<UploadState> { return this.inner.uploadStatus(repository, uploadId); }
  appendChunk(repository: string, uploadId: string, body: Readable, contentRange?: string, contentLength?: number): Promise<UploadState> {
    return this.inner.appendChunk(repository, uploadId, body, contentRange, contentLength);
  }
  completeUpload(repository: string, uploadId: string, digest: string | undefined, body?: Readable, contentRange?: string, contentLength?: number, actor?: EventActor): Promise<BlobHandle> {
    return this.inner.completeUpload(repository, uploadId, digest, body, contentRange, contentLength, actor);
  }
  uploadMonolithic(repository: string, digest: string, body: Readable, contentLength?: number, actor?: EventActor): Promise<BlobHandle> {
    return this.inner.uploadMonolithic(repository, digest, body, contentLength, actor);
  }
  cancelUpload(repository: string, uploadId: string): Promise<void> { return this.inner.cancelUpload(repository, uploadId); }
  getManifest(repository: string, reference: string, actor?: EventActor): Promise<ManifestRecord> { return this.inner.getManifest(repository, reference, actor); }
  headManifest(repository: string, reference: string): Promise<ManifestHead> { return this.inner.headManifest(repository, reference); }
  putManifest(repository: string, reference: string, contentType: string | undefined, content: Uint8Array, actor?: EventActor, reason?: TagChangeReason): Promise<PutManifestResult> {
    return this.inner.putManifest(repository, reference, contentType, content, actor, reason);
  }
  deleteManifest(repository: string, reference: string, actor?: EventActor, condition?: Omit<TagChange, 'actor'>): Promise<void> { return this.inner.deleteManifest(repository, reference, actor, condition); }
  restoreTag(repository: string, tag: string, digest: string, actor?: EventActor): Promise<PutManifestResult> { return this.inner.restoreTag(repository, tag, digest, actor); }
  listTags(repository: string, n?: number, last?: string): Promise<Listing> { return this.inner.listTags(repository, n, last); }
  listRepositories(n?: number, last?: string, visible?: (repository: string) => Promise<boolean>): Promise<Listing> { return this.inner.listRepositories(n, last, visible); }
  listReferrers(repository: string, subject: string, artifactType?: string): Promise<ReferrerRecord[]> { return this.inner.listReferrers(repository, subject, artifactType); }
}
