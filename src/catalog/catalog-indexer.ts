// Keeps the search index (CatalogIndexStore, rows in SQL) current: a subscriber on the
// events that change what Explore shows about a repository re-summarises that repository
// and writes its row, so every replica sees the change at once; the rebuild (a job the
// composition root registers on the one scheduler) fills rows for data that predates the
// index or for changes no event reports (an admin's description).
import type { DomainEventType, EventSubscriber } from '../core/events.ts';
import type { Logger } from '../observability/logger.ts';
import type { CatalogIndexRow, CatalogIndexStore } from '../metadata/catalog-index-store.ts';
import type { CatalogService, RepositoryInfo } from './catalog-service.ts';

export const INDEXED_EVENTS: readonly DomainEventType[] = ['manifest.pushed', 'tag.moved', 'tag.deleted', 'manifest.deleted', 'scan.completed', 'grade.dropped', 'signature.added'];
const REBUILD_PAGE = 200;
/**
 * How long a refresh waits after the first event before summarising. A push is several
 * events (manifest.pushed, tag.moved, later scan.completed) and pushes come in bursts (CI
 * tagging hundreds of tags): each summary reads the whole repository, so one per burst,
 * not one per event, keeps that work off the push path. Searches wait for it (settled()).
 */
const QUIET_MS = 200;

/** The index row of a summarised repository. */
export function indexRowOf(info: RepositoryInfo): CatalogIndexRow {
  const os = new Set<string>();
  const arch = new Set<string>();
  for (const tag of info.tags) for (const platform of tag.platforms) {
    const [o, a] = platform.split('/');
    if (o) os.add(o);
    if (a) arch.add(a);
  }
  const latest = info.latest;
  return {
    repository: info.name,
    namespace: info.namespace,
    description: info.description,
    title: info.title,
    vendor: info.vendor,
    latestTag: latest?.tag ?? null,
    latestDigest: latest?.digest ?? null,
    pushedAt: latest?.pushedAt ?? null,
    grade: latest?.grade ?? null,
    signed: latest ? latest.signature !== 'unsigned' : null,
    os: [...os],
    arch: [...arch],
  };
}

export class CatalogIndexer {
  private readonly catalog: CatalogService;
  private readonly store: CatalogIndexStore;
  private readonly logger: Logger | undefined;
  /** Per repository: the refresh running, and whether another must follow it (an event came meanwhile). */
  private readonly running = new Map<string, { done: Promise<void>; again: boolean }>();

  private readonly quietMs: number;

  constructor(catalog: CatalogService, store: CatalogIndexStore, options: { logger?: Logger | undefined; quietMs?: number } = {}) {
    this.catalog = catalog;
    this.store = store;
    this.logger = options.logger;
    this.quietMs = options.quietMs ?? QUIET_MS;
  }

  /** Refreshes a repository's row at each event about it; returns the unsubscribe. */
  subscribe(events: EventSubscriber): () => void {
    return events.subscribe((event) => {
      const repository = (event.data as { repository?: string }).repository;
      return repository === undefined ? undefined : this.refresh(repository);
    }, INDEXED_EVENTS);
  }

  /**
   * Writes the repository's row from a fresh summary (or removes it once the repository
   * holds nothing). Refreshes of one repository never overlap: one asked for while another
   * runs follows it, so the last write reflects the last event.
   */
  refresh(repository: string, options: { immediately?: boolean } = {}): Promise<void> {
    const current = this.running.get(repository);
    if (current) {
      current.again = true;
      return current.done;
    }
    const entry = { done: Promise.resolve(), again: false };
    entry.done = (async () => {
      try {
        // Events arriving meanwhile join this refresh instead of starting their own.
        if (this.quietMs > 0 && options.immediately !== true) await new Promise((resolve) => setTimeout(resolve, this.quietMs));
        do {
          entry.again = false;
          await this.write(repository).catch((error: unknown) => this.logger?.warn('catalog index refresh failed', { repository, error: String(error) }));
        } while (entry.again);
      } finally {
        this.running.delete(repository);
      }
    })();
    this.running.set(repository, entry);
    return entry.done;
  }

  /**
   * Resolves when the refreshes running now have written their rows (or after `capMs`):
   * a search on this replica waits for them, so a push is found by the next request.
   */
  async settled(capMs = 2_000): Promise<void> {
    if (this.running.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const cap = new Promise<void>((done) => {
      timer = setTimeout(done, capMs);
    });
    await Promise.race([Promise.all([...this.running.values()].map((entry) => entry.done)), cap]);
    clearTimeout(timer);
  }

  private async write(repository: string): Promise<void> {
    if (!(await this.catalog.repositoryExists(repository))) return this.store.remove(repository);
    await this.store.put(indexRowOf(await this.catalog.repository(repository)));
  }

  /**
   * Refreshes every repository's row (only those without one when `missingOnly`), a page at
   * a time, stopping when `signal` aborts; returns how many it wrote.
   */
  async rebuild(signal?: AbortSignal, options: { missingOnly?: boolean } = {}): Promise<number> {
    let last: string | undefined;
    let count = 0;
    for (;;) {
      const names = await this.catalog.allRepositories(last, REBUILD_PAGE);
      for (const name of names) {
        if (signal?.aborted) return count;
        if (options.missingOnly && (await this.store.get(name)) !== null) continue;
        await this.refresh(name, { immediately: true });
        count++;
      }
      if (names.length < REBUILD_PAGE) return count;
      last = names[names.length - 1];
    }
  }

  /**
   * The rebuild as a job for the one scheduler (the composition root registers it): soon
   * after start it fills the rows missing (data pushed before the index, or while no
   * replica ran), then every `intervalMs` it refreshes all (what no event reports).
   */
  rebuildJob(intervalMs = 6 * 3_600_000): { name: string; intervalMs: number; initialDelayMs: number; run(context: { signal: AbortSignal }): Promise<void> } {
    let first = true;
    return {
      name: 'catalog-index-rebuild',
      intervalMs,
      initialDelayMs: 1_000,
      run: async ({ signal }) => {
        const missingOnly = first;
        first = false;
        await this.rebuild(signal, { missingOnly });
      },
    };
  }
}
