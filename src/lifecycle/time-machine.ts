// The time machine: every tag change is in tag_history; within its namespace's window a
// tag can be pointed back at any digest it held, including after it was deleted or
// expired. The collector keeps what the window can still restore (sql-maintenance-store.ts
// marks it), so a restore within the window always finds the manifest and its blobs.
import { InvalidInput, NotFound } from '../core/errors.ts';
import type { Digest } from '../core/digest.ts';
import type { EventActor } from '../core/events.ts';
import type { LifecycleStore } from '../metadata/lifecycle-store.ts';
import type { MetadataStore, TagChangeReason } from '../metadata/metadata-store.ts';
import { namespaceOf } from '../metadata/namespace-usage.ts';
import type { Registry } from '../registry/registry.ts';

export interface HistoryEntry {
  readonly tag: string;
  /** Milliseconds since the epoch. */
  readonly time: number;
  /** What the tag points at after the change; null when it was removed. */
  readonly digest: Digest | null;
  readonly previousDigest: Digest | null;
  readonly how: TagChangeReason;
  readonly who: string | null;
  /** The previous digest can still be restored (the change is within the window). */
  readonly restorable: boolean;
}

export interface TimeMachineOptions {
  /** The registry's default window (milliseconds). */
  readonly defaultWindowMs: number;
  readonly clock?: () => number;
}

export class TimeMachine {
  private readonly registry: Registry;
  private readonly metadata: MetadataStore;
  private readonly store: LifecycleStore;
  private readonly defaultWindowMs: number;
  private readonly now: () => number;

  constructor(registry: Registry, store: LifecycleStore, options: TimeMachineOptions) {
    this.registry = registry;
    this.metadata = registry.metadata;
    this.store = store;
    this.defaultWindowMs = options.defaultWindowMs;
    this.now = options.clock ?? Date.now;
  }

  async window(namespace: string): Promise<{ windowMs: number; isDefault: boolean }> {
    const own = await this.store.timeMachineWindow(namespace);
    return own === null ? { windowMs: this.defaultWindowMs, isDefault: true } : { windowMs: own, isDefault: false };
  }

  async setWindow(namespace: string, windowMs: number | null): Promise<void> {
    if (windowMs !== null && (!Number.isSafeInteger(windowMs) || windowMs < 0)) throw new InvalidInput('repository', 'a time-machine window is a non-negative duration');
    await this.store.setTimeMachineWindow(namespace, windowMs, this.now());
  }

  /** The changes of a repository's tags (or one tag), newest first. */
  async history(repository: string, tag?: string): Promise<HistoryEntry[]> {
    if (!(await this.metadata.repositoryExists(repository))) throw new NotFound('repository', `repository ${repository} is not known to the registry`);
    const { windowMs } = await this.window(namespaceOf(repository));
    const since = this.now() - windowMs;
    const entries = await this.metadata.tagHistory(repository, tag);
    return entries
      .map((entry) => ({
        tag: entry.tag,
        time: entry.changedAt,
        digest: entry.digest,
        previousDigest: entry.previousDigest,
        how: entry.reason ?? (entry.digest === null ? 'delete' : 'push'),
        who: entry.actor,
        restorable: entry.previousDigest !== null && entry.changedAt > since,
      }))
      .reverse();
  }

  /**
   * Points `tag` back at `digest`, when the tag pointed at it within the window (or points
   * at it now: then nothing changes).
   */
  async restore(repository: string, tag: string, digest: string, actor?: EventActor): Promise<{ digest: Digest; changed: boolean }> {
    const history = await this.history(repository, tag);
    const current = await this.metadata.headManifestByTag(repository, tag);
    if (current?.digest === digest) return { digest: current.digest, changed: false };
    if (!history.some((entry) => entry.previousDigest === digest && entry.restorable)) {
      const { windowMs } = await this.window(namespaceOf(repository));
      throw new NotFound('manifest', `tag ${tag} did not point at ${digest} within the time-machine window (${Math.round(windowMs / 1000)} s)`, {
        detail: { name: repository, reference: digest },
      });
    }
    const result = await this.registry.restoreTag(repository, tag, digest, actor);
    return { digest: result.digest, changed: true };
  }
}
