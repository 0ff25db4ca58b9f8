// Tag expiration: per tag (set through the API), or from the image's `quay.expires-after`
// label when the tag is pushed. A scheduled job removes tags whose time has come, through
// the registry (so guards hold: an immutable tag is not expired), records `tag-expired` in
// the action log and publishes `tag.expired`; the tag's history says `expire`, and the time
// machine can bring it back within its window.
import type { ActionRecorder } from '../audit/action.ts';
import { Denied } from '../core/errors.ts';
import type { Digest } from '../core/digest.ts';
import type { DomainEvent, EventPublisher } from '../core/events.ts';
import { parseLifetime } from '../core/lifetime.ts';
import { readImageConfig, readManifestJson } from '../core/manifest-reader.ts';
import type { LifecycleStore } from '../metadata/lifecycle-store.ts';
import type { Logger } from '../observability/logger.ts';
import type { Registry } from '../registry/registry.ts';

/** The label Quay reads; Custody reads it the same way. */
export const EXPIRES_AFTER_LABEL = 'quay.expires-after';
/** Image configurations larger than this are not read for the label. */
const MAX_CONFIG_BYTES = 1024 * 1024;
const BATCH = 500;

export interface TagExpiryOptions {
  readonly clock?: () => number;
  readonly events?: EventPublisher | undefined;
  readonly actions?: ActionRecorder | undefined;
  readonly logger?: Logger | undefined;
}

export class TagExpiry {
  private readonly registry: Registry;
  private readonly store: LifecycleStore;
  private readonly now: () => number;
  private readonly options: TagExpiryOptions;

  constructor(registry: Registry, store: LifecycleStore, options: TagExpiryOptions = {}) {
    this.registry = registry;
    this.store = store;
    this.now = options.clock ?? Date.now;
    this.options = options;
  }

  /** Sets or clears (null) a tag's expiry; false when the tag does not exist. */
  set(repository: string, tag: string, expiresAt: number | null): Promise<boolean> {
    return this.store.setTagExpiry(repository, tag, expiresAt);
  }

  get(repository: string, tag: string): Promise<number | null> {
    return this.store.tagExpiry(repository, tag);
  }

  /** After a push by tag: the image's `quay.expires-after` label, if any, sets the expiry. */
  async onManifestPushed(event: DomainEvent): Promise<void> {
    if (event.type !== 'manifest.pushed' || event.data.tag === undefined) return;
    const { repository, digest, tag } = event.data;
    const lifetime = await this.labelLifetime(repository, digest as Digest);
    if (lifetime === null) return;
    // Only while the tag still points at this push: a later push clears its own way.
    await this.store.setTagExpiry(repository, tag, event.time + lifetime, digest as Digest);
  }

  private async labelLifetime(repository: string, digest: Digest): Promise<number | null> {
    const manifest = await this.registry.metadata.getManifestByDigest(repository, digest);
    if (!manifest) return null;
    let config: { digest?: unknown; size?: unknown } | undefined;
    try {
      config = (readManifestJson(manifest.content) as { config?: { digest?: unknown; size?: unknown } }).config;
    } catch {
      return null;
    }
    if (!config || typeof config.digest !== 'string' || typeof config.size !== 'number' || config.size > MAX_CONFIG_BYTES) return null;
    let bytes: Buffer;
    try {
      const read = await this.registry.readBlob(repository, config.digest);
      const chunks: Buffer[] = [];
      for await (const chunk of read.body) chunks.push(chunk as Buffer);
      bytes = Buffer.concat(chunks);
    } catch {
      return null;
    }
    let image: ReturnType<typeof readImageConfig>;
    try {
      image = readImageConfig(bytes);
    } catch {
      return null;
    }
    const value = image?.config?.Labels?.[EXPIRES_AFTER_LABEL];
    return typeof value === 'string' ? parseLifetime(value) : null;
  }

  /** Removes every tag whose expiry has passed; returns how many went. */
  async expireDue(signal?: AbortSignal): Promise<number> {
    let removed = 0;
    for (;;) {
      const now = this.now();
      const due = await this.store.expiredTags(now, BATCH);
      let progressed = false;
      for (const entry of due) {
        if (signal?.aborted) return removed;
        try {
          await this.registry.deleteManifest(entry.repository, entry.tag, { kind: 'system', name: 'custody' }, { reason: 'expire', ifDigest: entry.digest, expiredBy: now });
        } catch (error) {
          // An immutable tag stays; its expiry is cleared so the job does not retry forever.
          if (error instanceof Denied) await this.store.setTagExpiry(entry.repository, entry.tag, null, entry.digest);
          else if ((error as { code?: unknown }).code !== 'NOT_FOUND') this.options.logger?.warn('tag expiry failed', { repository: entry.repository, tag: entry.tag, error });
          progressed = true;
          continue;
        }
        removed++;
        progressed = true;
        this.options.events?.publish('tag.expired', { repository: entry.repository, tag: entry.tag, digest: entry.digest }, { kind: 'system', name: 'custody' });
        this.options.actions?.record({
          kind: 'tag-expired',
          result: 'success',
          actor: { kind: 'system', name: 'custody' },
          repository: entry.repository,
          tag: entry.tag,
          digest: entry.digest,
          detail: { expiresAt: new Date(entry.expiresAt).toISOString() },
        });
      }
      if (due.length < BATCH || !progressed) return removed;
    }
  }
}
