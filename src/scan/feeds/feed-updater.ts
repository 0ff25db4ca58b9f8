// The advisory updater: fetches each source from its publisher (or a mirror) in the
// publisher's own layout, imports what changed, and records where each source stands.
// Sources run one after another and independently: one that fails leaves the others
// updated, keeps its last good data, and that data keeps its age (it is not renewed by
// the documents a failed run imported), so grades built on it turn `?` once it is stale.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AdvisorySource } from '../../core/quality.ts';
import type { AdvisoryStore, FeedDocument } from '../../metadata/advisory-store.ts';
import type { FeedSourceState, FeedSourceStore, HttpValidators } from '../../metadata/feed-source-store.ts';
import { AlpineFeed } from './alpine-feed.ts';
import { DebianFeed } from './debian-feed.ts';
import type { FeedFetcher } from './feed-fetcher.ts';
import { OsvFeed } from './osv-feed.ts';
import { PoliteHttp, type PoliteHttpOptions } from './polite-http.ts';
import { RedHatCsafFeed } from './redhat-feed.ts';

export const FEED_FETCHERS: Readonly<Record<string, () => FeedFetcher>> = {
  'redhat-csaf': () => new RedHatCsafFeed('redhat-csaf'),
  'redhat-vex': () => new RedHatCsafFeed('redhat-vex'),
  debian: () => new DebianFeed(),
  alpine: () => new AlpineFeed(),
  osv: () => new OsvFeed(),
};

export const FEED_SOURCE_NAMES = Object.keys(FEED_FETCHERS);

/** One source to update: its name, a base URL other than the publisher's, and parts
 * (Alpine releases, OSV ecosystems) when not the default. */
export interface SourceSpec {
  readonly name: string;
  readonly baseUrl?: string | undefined;
  readonly parts?: readonly string[] | undefined;
}

/** `NAME[:PART,PART...][=BASE_URL]`, as `--source` and `vulndb.sources` spell it. */
export function parseSourceSpec(text: string): SourceSpec {
  const match = /^([a-z-]+)(?::([^=]+))?(?:=(.+))?$/.exec(text.trim());
  if (!match || !FEED_FETCHERS[match[1]!]) throw new Error(`"${text}": expected NAME[:PART,...][=BASE_URL] with NAME one of ${FEED_SOURCE_NAMES.join(', ')}`);
  const baseUrl = match[3]?.replace(/\/+$/, '');
  if (baseUrl !== undefined && !/^https?:\/\/[^/]+/.test(baseUrl)) throw new Error(`"${text}": the base URL must be http(s)://...`);
  const parts = match[2]?.split(',').map((part) => part.trim()).filter(Boolean);
  return { name: match[1]!, ...(baseUrl ? { baseUrl } : {}), ...(parts && parts.length > 0 ? { parts } : {}) };
}

export interface SourceReport {
  readonly source: string;
  readonly ok: boolean;
  /** Documents read into the database (changed), and read but unchanged. */
  readonly imported: number;
  readonly unchanged: number;
  readonly rejected: readonly string[];
  readonly error: string | null;
  /** Bytes received from the publisher. */
  readonly bytes: number;
  readonly ms: number;
}

export interface FeedUpdaterOptions {
  readonly advisories: AdvisoryStore;
  readonly sources: FeedSourceStore;
  /** Where downloads are kept while in progress (a partial archive survives a crash). */
  readonly workDir: string;
  readonly http?: Omit<PoliteHttpOptions, 'signal' | 'onBytes'>;
  readonly clock?: () => number;
  readonly onProgress?: (source: string, done: number, total: number | null) => void;
  readonly warn?: (message: string) => void;
}

export class FeedUpdater {
  private readonly options: FeedUpdaterOptions;
  private readonly now: () => number;

  constructor(options: FeedUpdaterOptions) {
    this.options = options;
    this.now = options.clock ?? Date.now;
  }

  /** Updates each source in turn; resolves with one report per source, failed or not. */
  async update(specs: readonly SourceSpec[], signal: AbortSignal = new AbortController().signal): Promise<SourceReport[]> {
    const reports: SourceReport[] = [];
    const fetchers = specs.map((spec) => ({ spec, fetcher: FEED_FETCHERS[spec.name]!() }));
    for (const { spec, fetcher } of fetchers) {
      signal.throwIfAborted();
      reports.push(await this.updateOne(spec, fetcher, signal));
    }
    // A source's data is current when every fetcher feeding it succeeded this run (a run
    // of 304s changes nothing, but says the data is as fresh as the publisher's).
    const now = this.now();
    for (const source of new Set(fetchers.map(({ fetcher }) => fetcher.advisorySource))) {
      const all = fetchers.map((entry, i) => ({ ...entry, report: reports[i]! })).filter(({ fetcher }) => fetcher.advisorySource === source);
      if (all.every(({ report }) => report.ok)) await this.options.advisories.markCurrent(source, now);
    }
    return reports;
  }

  private async updateOne(spec: SourceSpec, fetcher: FeedFetcher, signal: AbortSignal): Promise<SourceReport> {
    const started = this.now();
    const baseUrl = spec.baseUrl ?? fetcher.defaultBaseUrl;
    const previous = await this.options.sources.get(fetcher.name);
    // Validators belong to the server that gave them: another base URL starts afresh.
    const sameServer = previous?.baseUrl === baseUrl;
    let state: FeedSourceState = {
      name: fetcher.name,
      baseUrl,
      validators: sameServer ? previous.validators : {},
      cursor: previous?.cursor ?? null,
      lastAttempt: started,
      lastSuccess: previous?.lastSuccess ?? null,
      lastError: previous?.lastError ?? null,
      documents: previous?.documents ?? 0,
    };
    const freshBefore = (await this.options.advisories.status()).sources.find((source) => source.source === fetcher.advisorySource)?.lastImport ?? null;
    let bytes = 0;
    let imported = 0;
    let unchanged = 0;
    const http = new PoliteHttp({ ...this.options.http, signal, onBytes: (count) => (bytes += count) });
    const workDir = join(this.options.workDir, fetcher.name);
    await mkdir(workDir, { recursive: true });
    const save = async (cursor: unknown, validators: Readonly<Record<string, HttpValidators>>): Promise<void> => {
      state = { ...state, cursor: cursor === null || cursor === undefined ? null : JSON.stringify(cursor), validators, documents: state.documents };
      await this.options.sources.save(state);
    };
    try {
      const outcome = await fetcher.run({
        http,
        baseUrl,
        parts: spec.parts ?? null,
        validators: state.validators,
        cursor: state.cursor === null ? null : JSON.parse(state.cursor),
        workDir,
        importDocument: async (document: FeedDocument) => {
          const result = await this.options.advisories.importDocument(document, this.now());
          if (result.skipped) unchanged++;
          else imported++;
          state = { ...state, documents: state.documents + (result.skipped ? 0 : 1) };
          return result;
        },
        saveProgress: save,
        progress: (done, total) => this.options.onProgress?.(fetcher.name, done, total),
        warn: (message) => this.options.warn?.(`${fetcher.name}: ${message}`),
        signal,
      });
      const error = outcome.rejected.length === 0 ? null : `${outcome.rejected.length} document${outcome.rejected.length === 1 ? '' : 's'} failed its check and was not imported: ${outcome.rejected.slice(0, 5).join(', ')}${outcome.rejected.length > 5 ? ', ...' : ''}`;
      state = { ...state, lastSuccess: this.now(), lastError: error };
      await save(outcome.cursor, outcome.validators);
      return { source: fetcher.name, ok: true, imported, unchanged, rejected: outcome.rejected, error, bytes, ms: this.now() - started };
    } catch (error) {
      const message = (error as Error).message;
      state = { ...state, lastError: message };
      // The cursor and validators stay as last saved: the next run goes on from there.
      const latest = await this.options.sources.get(fetcher.name);
      await this.options.sources.save({ ...state, cursor: latest?.cursor ?? state.cursor, validators: latest?.validators ?? state.validators });
      // Documents a failed run imported do not make the source's data current.
      await this.options.advisories.markCurrent(fetcher.advisorySource as AdvisorySource, freshBefore ?? 0);
      return { source: fetcher.name, ok: false, imported, unchanged, rejected: [], error: message, bytes, ms: this.now() - started };
    }
  }
}
