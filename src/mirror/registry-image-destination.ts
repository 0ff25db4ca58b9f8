// An ImageDestination (the image module's transport seam, which copyImage writes to) over
// the local Registry: the counterpart of src/scan/registry-image-source.ts. Blobs stream
// into an upload and are completed under their digest, manifests are put through
// Registry.putManifest, all as the system mirror actor, so mirrored content passes the
// write guards and publishes the same events (indexing, grading, audit) as pushed content.
import type { Readable } from 'node:stream';
import type { EventActor } from '../core/events.ts';
import { isDomainError } from './domain-errors.ts';
import type { Registry } from '../registry/registry-interface.ts';
import type { BlobInfo, ImageDestination, ImageSource, ManifestData } from '../image/transport.ts';

/** Who writes mirrored content: the mirror's read-only guard lets only this actor through. */
export const MIRROR_ACTOR: EventActor = { kind: 'system', name: 'mirror' };

export class RegistryImageDestination implements ImageDestination {
  readonly name: string;
  /** Each blob is its own upload: several may be written at once. */
  readonly parallelBlobs = 4;
  private readonly registry: Registry;
  private readonly repository: string;
  /** The tag the top-level manifest is put under; undefined: by digest only. */
  private readonly tag: string | undefined;
  /** Bytes of blobs actually uploaded (those already present are not counted). */
  bytesWritten = 0;

  constructor(registry: Registry, repository: string, tag: string | undefined) {
    this.registry = registry;
    this.repository = repository;
    this.tag = tag;
    this.name = `custody:${repository}${tag === undefined ? '' : `:${tag}`}`;
  }

  async hasBlob(blob: BlobInfo): Promise<boolean> {
    try {
      const handle = await this.registry.statBlob(this.repository, blob.digest);
      return handle.size === blob.size;
    } catch (error) {
      if (isDomainError(error, 'NOT_FOUND')) return false;
      throw error;
    }
  }

  async tryReuseBlob(blob: BlobInfo, _source: ImageSource): Promise<boolean> {
    // A blob stored for another repository is linked without moving bytes (a resumed
    // sync, or a layer shared with another mirror). No source repository is named: the
    // registry's automatic mount decides, under the write guards.
    try {
      const mounted = await this.registry.mountBlob(this.repository, blob.digest, undefined, async () => true, MIRROR_ACTOR);
      return mounted !== null && mounted.size === blob.size;
    } catch (error) {
      if (isDomainError(error, 'NOT_FOUND')) return false;
      throw error;
    }
  }

  async putBlob(blob: BlobInfo, stream: Readable): Promise<void> {
    const upload = await this.registry.startUpload(this.repository);
    try {
      // The registry hashes what it stores and refuses a digest mismatch at completion;
      // copyImage has already checked size and digest on the way.
      await this.registry.completeUpload(this.repository, upload.id, blob.digest, stream, undefined, undefined, MIRROR_ACTOR);
      this.bytesWritten += blob.size;
    } catch (error) {
      await this.registry.cancelUpload(this.repository, upload.id).catch(() => {});
      stream.destroy();
      throw error;
    }
  }

  async putManifest(manifest: ManifestData, instanceDigest?: string): Promise<void> {
    const reference = instanceDigest ?? this.tag ?? manifest.digest;
    const result = await this.registry.putManifest(this.repository, reference, manifest.mediaType, manifest.bytes, MIRROR_ACTOR);
    if (result.digest !== manifest.digest) throw new Error(`${this.name}: stored manifest digest ${result.digest} differs from the source's ${manifest.digest}`);
  }

  async commit(): Promise<void> {}

  async close(): Promise<void> {}
}
