// Checks that must pass before the registry changes anything: immutability, quotas, a
// mirror's read-only rule. Guards run inside the domain on every write path (HTTP, the
// pull-through cache, mirroring, a tag restore), so no entry point can skip them. A guard
// refuses by throwing a typed domain error (usually `Denied`); it never writes.
import type { EventActor } from '../core/events.ts';

export interface ManifestWrite {
  readonly repository: string;
  readonly digest: string;
  /** The tag the push moves, when pushed by tag. */
  readonly tag?: string | undefined;
  readonly mediaType: string;
  readonly size: number;
  /** The manifest's bytes as pushed, and the Content-Type they came with. */
  readonly content: Uint8Array;
  readonly contentType?: string | undefined;
  /** Blobs the manifest references, with their sizes. */
  readonly blobs: ReadonlyMap<string, number>;
  readonly actor?: EventActor | undefined;
}

export interface ManifestRemoval {
  readonly repository: string;
  /** Set when a tag is deleted; `digest` when a manifest is deleted by digest. */
  readonly tag?: string | undefined;
  readonly digest?: string | undefined;
  readonly actor?: EventActor | undefined;
}

export interface BlobLink {
  readonly repository: string;
  readonly digest: string;
  /** Bytes the link adds; for an upload start, the declared size when the client gave one. */
  readonly size: number;
  readonly actor?: EventActor | undefined;
}

export interface WriteGuard {
  beforeManifestWrite?(write: ManifestWrite): Promise<void>;
  beforeManifestRemoval?(removal: ManifestRemoval): Promise<void>;
  /** Before an upload's content or a mount is linked into a repository. */
  beforeBlobLink?(link: BlobLink): Promise<void>;
}
