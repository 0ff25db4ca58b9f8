// `custody vulndb update` and the feed sources part of `custody vulndb status`: the
// updater (src/scan/feeds) run once from the command line, with progress on a terminal
// and one line per source otherwise; exit 1 when a source failed (the others are updated).
import { join } from 'node:path';
import { homedir } from 'node:os';
import { UsageError } from '../core/errors.ts';
import { formatBytes } from '../core/size.ts';
import type { AdvisoryStore } from '../metadata/advisory-store.ts';
import type { FeedSourceState, FeedSourceStore } from '../metadata/feed-source-store.ts';
import { FEED_SOURCE_NAMES, FeedUpdater, parseSourceSpec, type SourceReport, type SourceSpec } from '../scan/feeds/feed-updater.ts';
import { formatDay } from './scan-command.ts';
import { table } from './output.ts';

export const UPDATE_USAGE = [
  '       custody vulndb update [--source NAME[:PART,...][=BASE_URL]]... [--work-dir DIR] [database options]',
  '',
  'update fetches advisories from the publishers in their own layouts (sources:',
  `${FEED_SOURCE_NAMES.join(', ')}; all by default): conditional requests, only changed`,
  'documents, checksums verified, interrupted first loads resumed. BASE_URL points a source',
  'at a mirror; PART limits alpine to releases (v3.19) and osv to ecosystems (npm, PyPI,',
  'Ubuntu...). A failing source does not stop the others; its last good data stays, with',
  'its age. With --config and no --source: the sources the server\'s stored images need,',
  'at the base URLs of its vulndb.sources.',
  'Exit 1 when a source failed or a document failed its checksum.',
];

export function parseSources(texts: readonly string[]): SourceSpec[] {
  const specs: SourceSpec[] = [];
  for (const text of texts) {
    try {
      specs.push(parseSourceSpec(text));
    } catch (error) {
      throw new UsageError(`--source ${(error as Error).message}`);
    }
  }
  if (new Set(specs.map((spec) => spec.name)).size !== specs.length) throw new UsageError('--source: each source once');
  return specs.length > 0 ? specs : FEED_SOURCE_NAMES.map((name) => ({ name }));
}

/** Downloads in progress live beside the SQLite file, else in the user's cache. */
export function defaultWorkDir(dbFile: string | null, env: NodeJS.ProcessEnv = process.env): string {
  if (dbFile !== null) return `${dbFile}.feeds`;
  const cache = env.XDG_CACHE_HOME ? env.XDG_CACHE_HOME : join(env.HOME ?? homedir(), '.cache');
  return join(cache, 'custody', 'feeds');
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function reportLine(report: SourceReport): string {
  const moved = `${formatBytes(report.bytes)} in ${seconds(report.ms)}`;
  if (!report.ok) return `${report.source}: FAILED: ${report.error} (${report.imported} documents imported before; its last good data stays, with its age)`;
  const rejected = report.error ? `; ${report.error}` : '';
  return `${report.source}: ${report.imported} documents imported, ${report.unchanged} unchanged; ${moved}${rejected}`;
}

export async function runUpdate(store: AdvisoryStore, sources: FeedSourceStore, specs: readonly SourceSpec[], workDir: string): Promise<{ ok: boolean; lines: string[] }> {
  const tty = process.stderr.isTTY === true;
  let last = 0;
  const updater = new FeedUpdater({
    advisories: store,
    sources,
    workDir,
    onProgress: (source, done, total) => {
      // A terminal sees the count move, at most ten times a second; a log sees nothing until the end.
      if (!tty || Date.now() - last < 100) return;
      last = Date.now();
      process.stderr.write(`\r\x1b[K${source}: ${done}${total === null ? '' : `/${total}`}`);
    },
    warn: (message) => process.stderr.write(`${tty ? '\r\x1b[K' : ''}custody vulndb update: warning: ${message}\n`),
  });
  const controller = new AbortController();
  const abort = (): void => controller.abort(new Error('interrupted'));
  process.once('SIGINT', abort);
  try {
    const reports = await updater.update(specs, controller.signal);
    if (tty) process.stderr.write('\r\x1b[K');
    return { ok: reports.every((report) => report.ok && report.error === null), lines: reports.map(reportLine) };
  } finally {
    process.off('SIGINT', abort);
  }
}

function age(ms: number | null, now: number): string {
  if (ms === null) return 'never';
  const days = Math.floor((now - ms) / 86_400_000);
  return days <= 0 ? 'today' : days === 1 ? '1 day old' : `${days} days old`;
}

/** The updater's view: per source, where from, how old, how many documents, the last error. */
export function formatSources(states: readonly FeedSourceState[], now: number = Date.now()): string {
  if (states.length === 0) return 'feed sources: never updated (`custody vulndb update`)\n';
  const rows = [['FEED SOURCE', 'BASE URL', 'LAST SUCCESS', 'AGE', 'DOCUMENTS', 'LAST ERROR']];
  for (const state of states) rows.push([state.name, state.baseUrl, formatDay(state.lastSuccess), age(state.lastSuccess, now), String(state.documents), state.lastError ?? '-']);
  return `${table(rows)}\n`;
}
