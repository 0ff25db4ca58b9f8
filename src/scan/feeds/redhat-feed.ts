// Red Hat's CSAF directories, advisories and VEX alike (security.access.redhat.com/data/
// csaf/v2/advisories and .../vex):
//   archive_latest.txt   names csaf_..._YYYY-MM-DD.tar.zst, every document as of that day
//   changes.csv          "YEAR/name.json","modified time", for increments
//   deletions.csv        the same, for documents withdrawn
//   YEAR/name.json       each document, with YEAR/name.json.sha256 beside it
// A first load streams the archive (downloaded to a file, resumed after a cut; its own
// .sha256 checked when published), then applies changes since its day. Later runs ask
// for changes.csv conditionally and fetch only the documents modified since; a document
// whose .sha256 does not match is not imported, and is tried again next run.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createZstdDecompress } from 'node:zlib';
import { readTar } from '../../image/archive/tar-reader.ts';
import { FeedReader } from '../advisories/feed-reader.ts';
import type { HttpValidators } from '../../metadata/feed-source-store.ts';
import { parseCsvRows, parseSha256File, type FeedFetcher, type FetchContext, type FetchOutcome } from './feed-fetcher.ts';

interface RedHatCursor {
  /** A first load in progress: the archive and how many of its entries are imported. */
  readonly archive?: string | undefined;
  readonly done?: number | undefined;
  /** Changes up to this instant (ms, inclusive) are in; absent until the first load completed. */
  readonly since?: number | undefined;
  /** Documents that failed their check, to fetch again. */
  readonly retry?: readonly string[] | undefined;
}

const SAVE_EVERY = 200;

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/** The document key a path names: 2024/rhsa-2024_0010.json → redhat:RHSA-2024:0010,
 * 2024/cve-2024-1234.json → redhat:CVE-2024-1234 (as the importer keys them). */
export function redhatKeyOfPath(path: string): string {
  const base = path.split('/').pop()!.replace(/\.json$/, '').toUpperCase();
  return `redhat:${/^RH[SBE]A-\d{4}_\d+$/.test(base) ? base.replace('_', ':') : base}`;
}

async function importBytes(context: FetchContext, name: string, bytes: Uint8Array): Promise<number> {
  const reader = new FeedReader();
  let count = 0;
  for (const document of reader.read({ name, bytes })) {
    await context.importDocument(document);
    count++;
  }
  if (reader.skipped.length > 0) context.warn(`${name}: not a CSAF document; skipped`);
  return count;
}

export class RedHatCsafFeed implements FeedFetcher {
  readonly advisorySource = 'redhat' as const;
  readonly name: string;
  readonly defaultBaseUrl: string;

  constructor(name: 'redhat-csaf' | 'redhat-vex') {
    this.name = name;
    this.defaultBaseUrl = `https://security.access.redhat.com/data/csaf/v2/${name === 'redhat-csaf' ? 'advisories' : 'vex'}`;
  }

  async run(context: FetchContext): Promise<FetchOutcome> {
    let cursor = (context.cursor ?? {}) as RedHatCursor;
    const validators: Record<string, HttpValidators> = { ...context.validators };
    if (cursor.since === undefined) {
      cursor = await this.firstLoad(context, cursor, validators);
      // Every change since the archive's day applies, whatever validators said before.
      delete validators['changes.csv'];
      delete validators['deletions.csv'];
    }
    const rejected: string[] = [];
    const base = context.baseUrl;
    const changes = await context.http.text(`${base}/changes.csv`, validators['changes.csv']);
    let since = cursor.since!;
    const wanted = new Map<string, number>();
    for (const path of cursor.retry ?? []) wanted.set(path, since);
    if (!changes.notModified && changes.value !== null) {
      validators['changes.csv'] = changes.validators;
      for (const [path, modified] of parseCsvRows(changes.value)) {
        const at = Date.parse(modified ?? '');
        if (!path || Number.isNaN(at) || at <= cursor.since!) continue;
        wanted.set(path, at);
      }
    }
    let done = 0;
    for (const [path, at] of [...wanted].sort((a, b) => a[1] - b[1])) {
      context.signal.throwIfAborted();
      const ok = await this.fetchDocument(context, path);
      if (!ok) rejected.push(path);
      since = Math.max(since, at);
      context.progress(++done, wanted.size);
    }
    const deletions = await context.http.text(`${base}/deletions.csv`, validators['deletions.csv'], { optional: true });
    if (!deletions.notModified && deletions.value !== null) {
      validators['deletions.csv'] = deletions.validators;
      for (const [path, modified] of parseCsvRows(deletions.value)) {
        const at = Date.parse(modified ?? '');
        if (!path || Number.isNaN(at) || at <= cursor.since!) continue;
        // A withdrawn document: importing it empty removes what it contributed.
        await context.importDocument({ source: 'redhat', key: redhatKeyOfPath(path), hash: `deleted:${modified}`, advisories: [] });
      }
    }
    return { validators, cursor: { since, retry: rejected }, rejected };
  }

  /** Fetches one document and its checksum; false when it failed the check. */
  private async fetchDocument(context: FetchContext, path: string): Promise<boolean> {
    const url = `${context.baseUrl}/${path}`;
    const [document, checksum] = [await context.http.bytes(url), await context.http.text(`${url}.sha256`, {}, { optional: true })];
    const expected = checksum.value === null ? null : parseSha256File(checksum.value);
    if (checksum.value !== null && expected === null) {
      context.warn(`${path}: unreadable .sha256; not imported`);
      return false;
    }
    const actual = createHash('sha256').update(document.value!).digest('hex');
    if (expected !== null && expected !== actual) {
      context.warn(`${path}: sha256 ${actual} does not match the published ${expected}; not imported`);
      return false;
    }
    await importBytes(context, path, document.value!);
    return true;
  }

  /** The archive of every document, streamed from a downloaded file; returns the cursor after it. */
  private async firstLoad(context: FetchContext, cursor: RedHatCursor, validators: Record<string, HttpValidators>): Promise<RedHatCursor> {
    const base = context.baseUrl;
    const latest = (await context.http.text(`${base}/archive_latest.txt`)).value!.trim();
    if (!/^[\w.-]+\.tar\.zst$/.test(latest)) throw new Error(`${base}/archive_latest.txt: unexpected content "${latest.slice(0, 80)}"`);
    const day = /(\d{4}-\d{2}-\d{2})/.exec(latest)?.[1];
    if (!day) throw new Error(`${latest}: no date in the archive's name`);
    const file = join(context.workDir, latest);
    await context.http.download(`${base}/${latest}`, file);
    try {
      const published = await context.http.text(`${base}/${latest}.sha256`, {}, { optional: true });
      if (published.value !== null) {
        const expected = parseSha256File(published.value);
        const actual = await sha256File(file);
        if (expected !== actual) throw new Error(`${latest}: sha256 ${actual} does not match the published ${expected ?? '(unreadable)'}; not imported`);
      }
      // Resuming the same archive: the entries already imported are passed over unread.
      const skip = cursor.archive === latest ? cursor.done ?? 0 : 0;
      let index = 0;
      for await (const entry of readTar(createReadStream(file).pipe(createZstdDecompress()))) {
        if (entry.type !== 'file' || !entry.name.endsWith('.json')) {
          entry.body.resume();
          continue;
        }
        index++;
        if (index <= skip) {
          entry.body.resume();
          continue;
        }
        const chunks: Buffer[] = [];
        for await (const chunk of entry.body) chunks.push(chunk as Buffer);
        await importBytes(context, entry.name.replace(/^\.\//, ''), Buffer.concat(chunks));
        context.progress(index, null);
        if (index % SAVE_EVERY === 0) await context.saveProgress({ archive: latest, done: index }, validators);
      }
    } catch (error) {
      // A bad archive (checksum, truncated) is fetched afresh next run, not resumed.
      await rm(file, { force: true });
      throw error;
    }
    await rm(file, { force: true });
    // Changes from the archive's day on (inclusive: the archive may predate some of that day's).
    return { since: Date.parse(`${day}T00:00:00Z`) - 1 };
  }
}
