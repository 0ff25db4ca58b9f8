// A mirrored repository is read-only to users: only the mirror itself (the system actor
// RegistryImageDestination writes as) may push, tag, delete or link blobs into it. A
// write guard, so the rule holds on every write path, not only over HTTP.
import { Denied } from '../core/errors.ts';
import type { EventActor } from '../core/events.ts';
import type { BlobLink, ManifestRemoval, ManifestWrite, WriteGuard } from '../registry/write-guard.ts';
import { MIRROR_ACTOR } from './registry-image-destination.ts';

/** What the guard needs to know: the remote a repository mirrors, if it is a mirror. */
export type MirrorLookup = (repository: string) => Promise<string | undefined>;

export class MirrorReadOnlyGuard implements WriteGuard {
  private readonly lookup: MirrorLookup;

  constructor(lookup: MirrorLookup) {
    this.lookup = lookup;
  }

  async beforeManifestWrite(write: ManifestWrite): Promise<void> {
    await this.check(write.repository, write.actor);
  }

  async beforeManifestRemoval(removal: ManifestRemoval): Promise<void> {
    await this.check(removal.repository, removal.actor);
  }

  async beforeBlobLink(link: BlobLink): Promise<void> {
    await this.check(link.repository, link.actor);
  }

  private async check(repository: string, actor: EventActor | undefined): Promise<void> {
    if (actor !== undefined && actor.kind === MIRROR_ACTOR.kind && actor.name === MIRROR_ACTOR.name) return;
    const source = await this.lookup(repository);
    if (source !== undefined) throw new Denied('repository', `repository ${repository} is a mirror of ${source} (read-only)`);
  }
}
