// The seam between the updater and each publisher's layout: a fetcher knows where its
// publisher keeps the index, the archive and the documents, and hands documents to the
// import one at a time; the updater owns state, errors, progress and the age of the data.
import type { AdvisorySource } from '../../core/quality.ts';
import type { DocumentImport, FeedDocument } from '../../metadata/advisory-store.ts';
import type { HttpValidators } from '../../metadata/feed-source-store.ts';
import type { PoliteHttp } from './polite-http.ts';

export interface FetchContext {
  readonly http: PoliteHttp;
  /** The base URL, without a trailing slash. */
  readonly baseUrl: string;
  /** Which parts (Alpine releases v3.N, OSV ecosystems); null: the fetcher's default. */
  readonly parts: readonly string[] | null;
  /** Validators from the last run, per path under the base. */
  readonly validators: Readonly<Record<string, HttpValidators>>;
  /** The fetcher's progress from the last run (its own JSON), null on a first load. */
  readonly cursor: unknown;
  /** A directory of its own for downloads (partial archives survive an interrupted run). */
  readonly workDir: string;
  importDocument(document: FeedDocument): Promise<DocumentImport>;
  /** Records progress now, so an interrupted run goes on from here. */
  saveProgress(cursor: unknown, validators: Readonly<Record<string, HttpValidators>>): Promise<void>;
  progress(done: number, total: number | null): void;
  warn(message: string): void;
  readonly signal: AbortSignal;
}

export interface FetchOutcome {
  readonly validators: Readonly<Record<string, HttpValidators>>;
  readonly cursor: unknown;
  /** Documents that failed their check (not imported; retried next run). */
  readonly rejected: readonly string[];
}

export interface FeedFetcher {
  /** The source's name on the command line and in `vulndb status`. */
  readonly name: string;
  /** Where its advisories are filed (and whose age it renews). */
  readonly advisorySource: AdvisorySource;
  readonly defaultBaseUrl: string;
  run(context: FetchContext): Promise<FetchOutcome>;
}

/** `sha256sum` output (or a bare digest): the hex digest, lower case. */
export function parseSha256File(text: string): string | null {
  const match = /^\s*([0-9a-fA-F]{64})\b/.exec(text);
  return match ? match[1]!.toLowerCase() : null;
}

/** CSV rows of quoted or bare fields (Red Hat's changes.csv, OSV's modified_id.csv). */
export function parseCsvRows(text: string): string[][] {
  const rows: string[][] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    rows.push(line.split(',').map((field) => field.trim().replace(/^"(.*)"$/, '$1')));
  }
  return rows;
}
