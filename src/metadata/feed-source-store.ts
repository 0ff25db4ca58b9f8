// The feed source seam: the advisory updater's state per source (redhat-csaf, debian,
// osv...), shared by every replica. SQL implementation (SQLite and PostgreSQL, migration
// 11): sql-feed-source-store.ts.

/** An HTTP validator pair for one URL, sent back as If-None-Match / If-Modified-Since. */
export interface HttpValidators {
  readonly etag?: string | undefined;
  readonly lastModified?: string | undefined;
}

export interface FeedSourceState {
  /** The source's name: redhat-csaf, redhat-vex, debian, alpine, osv. */
  readonly name: string;
  /** The base URL last fetched from (a mirror's, or the publisher's). */
  readonly baseUrl: string;
  /** Validators per URL path under the base (index files: changes.csv, data/json...). */
  readonly validators: Readonly<Record<string, HttpValidators>>;
  /** The fetcher's own progress (JSON text): how far a first load got, what to retry. */
  readonly cursor: string | null;
  readonly lastAttempt: number | null;
  /** The last run that completed: the data was as current as the publisher's then. */
  readonly lastSuccess: number | null;
  /** The last run's error (null after a success). */
  readonly lastError: string | null;
  /** Documents imported from this source so far (all runs). */
  readonly documents: number;
}

export interface FeedSourceStore {
  get(name: string): Promise<FeedSourceState | null>;
  /** Every source with state, by name. */
  list(): Promise<FeedSourceState[]>;
  /** Inserts or replaces the source's state. */
  save(state: FeedSourceState): Promise<void>;
}
