// Repository mirroring: a local repository follows a remote one. A sync lists the remote
// tags, keeps those the globs choose, skips a tag whose remote digest (HEAD) is the local
// one, and copies the others by digest with copyImage (every blob's digest and size checked
// on the way, manifests byte for byte) into the registry through RegistryImageDestination,
// so guards and events apply as to a push. Each image's cosign tags (`sha256-<hex>.sig`,
// `.att`, `.sbom`) and OCI referrers come with it. A sync cut short resumes: blobs already
// stored are skipped (hasBlob), tags already equal are skipped (HEAD).
import { NotFound, InvalidInput } from '../core/errors.ts';
import type { EventPublisher } from '../core/events.ts';
import type { Logger } from '../observability/logger.ts';
import type { Registry } from '../registry/registry-interface.ts';
import type { MirrorDefinition, MirrorRecord, MirrorRun, MirrorStore, NewMirror } from '../metadata/mirror-store.ts';
import { copyImage } from '../client/copy.ts';
import { RegistryClient, type Credentials } from '../client/registry-client/index.ts';
import { RegistryImageDestination } from './registry-image-destination.ts';
import { RemoteImageSource } from './remote-image-source.ts';
import { isDomainError } from './domain-errors.ts';
import { selectTags } from './tag-filter.ts';
import type { SecretBox } from './secret-box.ts';

/** cosign's attachment tags beside an image: `sha256-<hex>.<suffix>`. */
const ATTACHMENT_SUFFIXES = ['sig', 'att', 'sbom'] as const;

export type { NewMirror } from '../metadata/mirror-store.ts';

export interface SyncReport {
  readonly run: number;
  readonly status: 'succeeded' | 'failed';
  readonly tagsCopied: number;
  readonly tagsSkipped: number;
  readonly bytes: number;
  readonly errors: readonly string[];
}

export interface MirrorServiceOptions {
  readonly store: MirrorStore;
  readonly registry: Registry;
  readonly box: SecretBox;
  readonly events: EventPublisher;
  readonly logger: Logger;
  readonly clock?: () => number;
  /** Client tuning (tests: timeouts, retries). */
  readonly clientOptions?: { readonly timeoutMs?: number; readonly userAgent?: string };
}

export const DEFAULT_MIRROR_INTERVAL_MS = 60 * 60_000;

export class MirrorService {
  private readonly options: MirrorServiceOptions;
  private readonly now: () => number;
  /** Repositories syncing in this process: a second trigger waits for the first. */
  private readonly running = new Map<string, Promise<SyncReport>>();

  constructor(options: MirrorServiceOptions) {
    this.options = options;
    this.now = options.clock ?? Date.now;
  }

  async create(input: NewMirror): Promise<MirrorRecord> {
    const definition: MirrorDefinition = {
      repository: input.repository,
      remoteRegistry: input.remoteRegistry,
      remoteRepository: input.remoteRepository,
      include: input.include ?? ['*'],
      exclude: input.exclude ?? [],
      intervalMs: input.intervalMs ?? DEFAULT_MIRROR_INTERVAL_MS,
      username: input.username,
      sealedSecret: input.password === undefined ? undefined : this.options.box.seal(input.password, input.repository),
      enabled: input.enabled ?? true,
    };
    if (definition.intervalMs < 1000) throw new InvalidInput('repository', 'a mirror interval must be at least one second');
    return this.options.store.create(definition, this.now());
  }

  list(): Promise<MirrorRecord[]> {
    return this.options.store.list();
  }

  async get(repository: string): Promise<MirrorRecord> {
    const found = await this.options.store.get(repository);
    if (!found) throw new NotFound('repository', `repository ${repository} is not a mirror`);
    return found;
  }

  async delete(repository: string): Promise<void> {
    if (!(await this.options.store.delete(repository))) throw new NotFound('repository', `repository ${repository} is not a mirror`);
  }

  runs(repository: string, limit = 50): Promise<MirrorRun[]> {
    return this.options.store.listRuns(repository, limit);
  }

  /** The remote a repository mirrors (`host/repository`), for the read-only guard. */
  async sourceOf(repository: string): Promise<string | undefined> {
    const found = await this.options.store.get(repository);
    return found ? describeSource(found) : undefined;
  }

  /** Syncs the mirror now (joining a sync of it already running in this process). */
  sync(repository: string, signal?: AbortSignal): Promise<SyncReport> {
    const current = this.running.get(repository);
    if (current) return current;
    const started = this.runSync(repository, signal).finally(() => this.running.delete(repository));
    this.running.set(repository, started);
    return started;
  }

  /** Syncs every enabled mirror whose interval has passed (the scheduled job). */
  async syncDue(signal?: AbortSignal): Promise<void> {
    for (const mirror of await this.options.store.due(this.now())) {
      if (signal?.aborted) return;
      await this.sync(mirror.repository, signal).catch((error: unknown) => this.options.logger.error('mirror sync failed', { repository: mirror.repository, error }));
    }
  }

  private async runSync(repository: string, signal: AbortSignal | undefined): Promise<SyncReport> {
    const mirror = await this.get(repository);
    const source = describeSource(mirror);
    const { store, events, logger } = this.options;
    const run = await store.startRun(repository, this.now());
    events.publish('mirror.sync.started', { repository, source });
    const client = this.clientFor(mirror);
    let tagsCopied = 0;
    let tagsSkipped = 0;
    let bytes = 0;
    const errors: string[] = [];
    try {
      const tags = selectTags(await client.listTags(mirror.remoteRepository), mirror.include, mirror.exclude);
      for (const tag of tags) {
        if (signal?.aborted) throw new Error('the sync was stopped');
        try {
          const outcome = await this.syncTag(client, mirror, tag);
          if (outcome.copied) tagsCopied++;
          else tagsSkipped++;
          bytes += outcome.bytes;
        } catch (error) {
          errors.push(`${tag}: ${(error as Error).message}`);
        }
      }
    } catch (error) {
      errors.push((error as Error).message);
    } finally {
      client.close();
    }
    const status = errors.length === 0 ? 'succeeded' : 'failed';
    const error = errors.length === 0 ? undefined : errors.slice(0, 5).join('; ').slice(0, 2000);
    await store.finishRun(run, { status, finishedAt: this.now(), tagsCopied, bytes, error });
    if (status === 'succeeded') events.publish('mirror.sync.succeeded', { repository, source, tags: tagsCopied, bytes });
    else events.publish('mirror.sync.failed', { repository, source, error: error! });
    logger.info('mirror sync', { repository, source, status, tagsCopied, tagsSkipped, bytes, errors: errors.length });
    return { run, status, tagsCopied, tagsSkipped, bytes, errors };
  }

  /** One tag: the image when its digest changed, then its attachments and referrers. */
  private async syncTag(client: RegistryClient, mirror: MirrorRecord, tag: string): Promise<{ copied: boolean; bytes: number }> {
    const remote = await client.headManifest(mirror.remoteRepository, tag);
    if (remote === undefined) return { copied: false, bytes: 0 }; // deleted since the listing
    const local = await this.localDigest(mirror.repository, tag);
    let bytes = 0;
    let copied = false;
    if (local !== remote.digest) {
      bytes += await this.copy(client, mirror, remote.digest, tag);
      copied = true;
    }
    bytes += await this.syncAttachments(client, mirror, remote.digest);
    return { copied, bytes };
  }

  private async syncAttachments(client: RegistryClient, mirror: MirrorRecord, digest: string): Promise<number> {
    let bytes = 0;
    const hex = digest.slice(digest.indexOf(':') + 1);
    for (const suffix of ATTACHMENT_SUFFIXES) {
      const tag = `sha256-${hex}.${suffix}`;
      const remote = await client.headManifest(mirror.remoteRepository, tag);
      if (remote === undefined) continue;
      if ((await this.localDigest(mirror.repository, tag)) !== remote.digest) bytes += await this.copy(client, mirror, remote.digest, tag);
    }
    const referrers = await client.referrers(mirror.remoteRepository, digest);
    for (const referrer of referrers.manifests) {
      if ((await this.localDigest(mirror.repository, referrer.digest)) === referrer.digest) continue;
      bytes += await this.copy(client, mirror, referrer.digest, undefined);
    }
    return bytes;
  }

  /** Copies the manifest `digest` (an index with all its instances) under `tag`, or by digest. */
  private async copy(client: RegistryClient, mirror: MirrorRecord, digest: string, tag: string | undefined): Promise<number> {
    const destination = new RegistryImageDestination(this.options.registry, mirror.repository, tag);
    const result = await copyImage(new RemoteImageSource(client, mirror.remoteRepository, digest), destination, { all: true });
    if (result.digest !== digest) throw new Error(`copied ${digest} but wrote ${result.digest}`);
    return destination.bytesWritten;
  }

  private async localDigest(repository: string, reference: string): Promise<string | undefined> {
    try {
      return (await this.options.registry.headManifest(repository, reference)).digest;
    } catch (error) {
      if (isDomainError(error, 'NOT_FOUND')) return undefined;
      throw error;
    }
  }

  private clientFor(mirror: MirrorRecord): RegistryClient {
    const { box, clientOptions } = this.options;
    let credentials: Credentials | undefined;
    if (mirror.username !== undefined && mirror.sealedSecret !== undefined) {
      credentials = { username: mirror.username, password: box.open(mirror.sealedSecret, mirror.repository) };
    }
    return new RegistryClient({
      registry: mirror.remoteRegistry,
      ...(credentials === undefined ? {} : { credentials: async () => credentials }),
      userAgent: clientOptions?.userAgent ?? 'custody-mirror',
      ...(clientOptions?.timeoutMs === undefined ? {} : { timeoutMs: clientOptions.timeoutMs }),
    });
  }
}

/** `host[:port]/repository`, without the scheme. */
export function describeSource(mirror: Pick<MirrorDefinition, 'remoteRegistry' | 'remoteRepository'>): string {
  const host = mirror.remoteRegistry.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/\/+$/, '');
  return `${host}/${mirror.remoteRepository}`;
}
