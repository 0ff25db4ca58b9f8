// OSV's bucket (osv-vulnerabilities.storage.googleapis.com), per ecosystem:
//   ECOSYSTEM/all.zip           every record, for the first load
//   ECOSYSTEM/modified_id.csv   "modified time,ID", newest first, for increments
//   ECOSYSTEM/ID.json           one record
// all.zip is downloaded to a file (resumed after a cut) and read entry by entry with
// yauzl, which reads the zip's central directory and inflates one record at a time, so
// memory stays bounded whatever the archive's size. OSV publishes no checksums.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type yauzl from 'yauzl';
import type { HttpValidators } from '../../metadata/feed-source-store.ts';
import { FeedReader } from '../advisories/feed-reader.ts';
import { parseCsvRows, type FeedFetcher, type FetchContext, type FetchOutcome } from './feed-fetcher.ts';

/** The ecosystems whose packages Custody matches through OSV. */
export const OSV_ECOSYSTEMS = ['Ubuntu', 'AlmaLinux', 'Rocky Linux', 'SUSE', 'npm', 'PyPI', 'Go', 'Maven', 'crates.io', 'RubyGems'];

/** Per ecosystem: records modified up to this instant are in. */
type OsvCursor = Record<string, { readonly since: number } | undefined>;

/** Every entry of a zip file, its bytes read one entry at a time. */
async function* zipEntries(file: string): AsyncGenerator<{ name: string; bytes: Buffer }> {
  // Loaded on first use: only a first load of OSV data needs it.
  const { default: unzip } = await import('yauzl');
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) => unzip.open(file, { lazyEntries: true, autoClose: true }, (error, opened) => (error ? reject(error) : resolve(opened))));
  try {
    for (;;) {
      const entry = await new Promise<yauzl.Entry | null>((resolve, reject) => {
        const onEntry = (found: yauzl.Entry): void => { cleanup(); resolve(found); };
        const onEnd = (): void => { cleanup(); resolve(null); };
        const onError = (error: Error): void => { cleanup(); reject(error); };
        const cleanup = (): void => { zip.off('entry', onEntry); zip.off('end', onEnd); zip.off('error', onError); };
        zip.on('entry', onEntry).on('end', onEnd).on('error', onError);
        zip.readEntry();
      });
      if (entry === null) return;
      if (entry.fileName.endsWith('/')) continue;
      const stream = await new Promise<Readable>((resolve, reject) => zip.openReadStream(entry, (error, opened) => (error ? reject(error) : resolve(opened))));
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      yield { name: entry.fileName, bytes: Buffer.concat(chunks) };
    }
  } finally {
    zip.close();
  }
}

async function importRecord(context: FetchContext, name: string, bytes: Uint8Array): Promise<void> {
  const reader = new FeedReader();
  for (const document of reader.read({ name, bytes })) await context.importDocument(document);
  if (reader.skipped.length > 0) context.warn(`${name}: not an OSV record; skipped`);
}

/** The newest modification instant of modified_id.csv (null when empty). */
function newest(rows: string[][]): number | null {
  let latest: number | null = null;
  for (const [modified] of rows) {
    const at = Date.parse(modified ?? '');
    if (!Number.isNaN(at) && (latest === null || at > latest)) latest = at;
  }
  return latest;
}

export class OsvFeed implements FeedFetcher {
  readonly name = 'osv';
  readonly advisorySource = 'osv' as const;
  readonly defaultBaseUrl = 'https://osv-vulnerabilities.storage.googleapis.com';

  async run(context: FetchContext): Promise<FetchOutcome> {
    const cursor: OsvCursor = { ...((context.cursor ?? {}) as OsvCursor) };
    const validators: Record<string, HttpValidators> = { ...context.validators };
    const ecosystems = context.parts ?? OSV_ECOSYSTEMS;
    for (const [i, ecosystem] of ecosystems.entries()) {
      context.signal.throwIfAborted();
      const dir = `${context.baseUrl}/${encodeURIComponent(ecosystem)}`;
      const indexPath = `${ecosystem}/modified_id.csv`;
      const state = cursor[ecosystem];
      const index = await context.http.text(`${dir}/modified_id.csv`, state ? validators[indexPath] : {});
      if (index.notModified) {
        context.progress(i + 1, ecosystems.length);
        continue;
      }
      const rows = parseCsvRows(index.value!);
      const latest = newest(rows);
      if (!state) {
        // First load: every record as of the index just read.
        const file = join(context.workDir, `${ecosystem.replace(/[^\w.-]/g, '_')}-all.zip`);
        await context.http.download(`${dir}/all.zip`, file);
        try {
          for await (const entry of zipEntries(file)) {
            if (entry.name.endsWith('.json')) await importRecord(context, `${ecosystem}/${entry.name}`, entry.bytes);
          }
        } finally {
          await rm(file, { force: true });
        }
      } else {
        const changed = rows.filter(([modified, id]) => id && Date.parse(modified ?? '') > state.since);
        for (const [, id] of changed) {
          context.signal.throwIfAborted();
          const record = await context.http.bytes(`${dir}/${encodeURIComponent(id!)}.json`);
          await importRecord(context, `${ecosystem}/${id}.json`, record.value!);
        }
      }
      validators[indexPath] = index.validators;
      cursor[ecosystem] = { since: latest ?? state?.since ?? 0 };
      await context.saveProgress(cursor, validators);
      context.progress(i + 1, ecosystems.length);
    }
    return { validators, cursor, rejected: [] };
  }
}
