// `custody images`: the images in the local store: REPOSITORY TAG DIGEST SIZE CREATED
// (size: the manifest's config and layers as stored, i.e. compressed), or JSON.
import { lstat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { UsageError } from '../core/errors.ts';
import { readImageConfig } from '../core/manifest-reader.ts';
import { defaultStoragePath, LocalStore } from '../client/local-store/index.ts';
import type { Command } from './main.ts';
import { table } from './output.ts';
import { STORAGE_USAGE } from './pull-command.ts';

interface ImageRow {
  name: string;
  repository: string;
  tag: string;
  digest: string;
  size: number;
  created: string | null;
}

export const imagesCommand: Command = {
  name: 'images',
  summary: 'list the images in the local image store',
  usage: ['Usage: custody images [--format table|json] [--storage DIR]', '', STORAGE_USAGE].join('\n'),
  async run(args) {
    const { values, positionals } = parseArgs({ args, options: { storage: { type: 'string' }, format: { type: 'string' } }, allowPositionals: true, strict: true });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const format = values.format ?? 'table';
    if (format !== 'table' && format !== 'json') throw new UsageError(`--format: expected "table" or "json", got "${format}"`);
    const store = new LocalStore(defaultStoragePath(values.storage));
    const rows: ImageRow[] = [];
    for (const { ref, entry } of await store.list()) rows.push({ ...splitRef(ref), digest: entry.digest, ...(await describe(store, entry.digest)) });
    rows.sort((a, b) => a.name.localeCompare(b.name));
    if (format === 'json') {
      process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return 0;
    }
    process.stdout.write(`${table([['REPOSITORY', 'TAG', 'DIGEST', 'SIZE', 'CREATED'], ...rows.map((row) => [row.repository, row.tag, row.digest.slice(0, 19), size(row.size), ago(row.created)])])}\n`);
    return 0;
  },
};

function splitRef(ref: string): { name: string; repository: string; tag: string } {
  const at = ref.indexOf('@');
  const named = at < 0 ? ref : ref.slice(0, at);
  const colon = named.lastIndexOf(':');
  const hasTag = colon > named.lastIndexOf('/');
  return { name: ref, repository: hasTag ? named.slice(0, colon) : named, tag: hasTag ? named.slice(colon + 1) : '<none>' };
}

async function describe(store: LocalStore, digest: string): Promise<{ size: number; created: string | null }> {
  const seen = new Set<string>();
  await store.reachable(digest, seen);
  let total = 0;
  let created: string | null = null;
  for (const blob of seen) {
    const path = store.blobPath(blob);
    total += (await lstat(path).catch(() => undefined))?.size ?? 0;
  }
  try {
    const { parsed } = await store.readManifest(digest);
    const configDigest = parsed.config?.digest ?? (parsed.manifests?.[0] === undefined ? undefined : (await store.readManifest(parsed.manifests[0].digest)).parsed.config?.digest);
    if (configDigest !== undefined) {
      const config = readImageConfig(await store.readBlob(configDigest));
      if (typeof config.created === 'string') created = config.created;
    }
  } catch {
    // unknown creation time
  }
  return { size: total, created };
}

/** Decimal units, as `podman images` shows sizes (not formatBytes' binary ones), so the two listings read alike. */
function size(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = -1;
  do {
    value /= 1000;
    unit += 1;
  } while (value >= 1000 && unit < units.length - 1);
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

function ago(created: string | null): string {
  if (created === null) return '-';
  const time = Date.parse(created);
  if (Number.isNaN(time)) return '-';
  const seconds = Math.max(0, Math.round((Date.now() - time) / 1000));
  const steps: [number, string][] = [[60, 'second'], [60, 'minute'], [24, 'hour'], [30, 'day'], [12, 'month'], [Infinity, 'year']];
  let value = seconds;
  for (const [limit, unit] of steps) {
    if (value < limit) return value <= 1 && unit === 'second' ? 'just now' : `${value} ${unit}${value === 1 ? '' : 's'} ago`;
    value = Math.floor(value / limit);
  }
  return created;
}
