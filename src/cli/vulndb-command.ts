// `custody vulndb import|status|export|push|pull`: the local advisory database, fed from
// the publishers' files (or a URL), exported as a portable bundle and carried between
// registries as an OCI artifact, so an air-gapped registry is fed by another. The age of
// the data is printed by every subcommand: stale advisories give a false sense of safety.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGzip, gunzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { pipeline } from 'node:stream/promises';
import { UsageError } from '../core/errors.ts';
import { readManifestJson } from '../core/manifest-reader.ts';
import { MediaType } from '../core/media-types.ts';
import { digestOf } from '../core/digest.ts';
import { digestStream } from '../image/archive/archive-contents.ts';
import { loadConfig } from '../config/config.ts';
import type { AdvisoryStore, FeedDocument, VulnDbStatus } from '../metadata/advisory-store.ts';
import { openAdvisoryDatabase, type OpenedAdvisoryDatabase } from '../app/advisory-databases.ts';
import { readFeeds, FeedReader } from '../scan/advisories/feed-reader.ts';
import { exportBundle } from '../scan/advisories/bundle.ts';
import { type ClientOptions } from '../client/image-resolver.ts';
import { CLIENT_FLAGS_USAGE, parseClientArgs } from './arguments.ts';
import { DockerImageDestination, DockerImageSource } from '../client/transports/docker.ts';
import type { Command } from './main.ts';
import { formatDay } from './scan-command.ts';
import { table } from './output.ts';
import { defaultVulnDbPath } from './vulndb-path.ts';
import { UPDATE_USAGE, defaultWorkDir, formatSources, parseSources, runUpdate } from './vulndb-update.ts';

export const VULNDB_ARTIFACT_TYPE = 'application/vnd.custody.vulndb.v1';
export const VULNDB_LAYER_TYPE = 'application/vnd.custody.vulndb.bundle.v1.jsonl+gzip';
// The OCI empty descriptor's content: an artifact needs a config, this one says nothing.
const EMPTY_CONFIG = Buffer.from('{}');

const DB_FLAGS = {
  db: { type: 'string' },
  'database-url': { type: 'string' },
  config: { type: 'string', short: 'c' },
} as const;

const USAGE = [
  'Usage: custody vulndb import FILE|DIR|URL [database options]',
  '       custody vulndb status [--json] [database options]',
  ...UPDATE_USAGE.slice(0, 1),
  '       custody vulndb export FILE [database options]',
  '       custody vulndb push docker://REGISTRY/REPOSITORY:TAG [database options] [global options]',
  '       custody vulndb pull docker://REGISTRY/REPOSITORY:TAG [database options] [global options]',
  '',
  'The local advisory database. import reads Red Hat CSAF/VEX, the Debian security tracker',
  'JSON and DSA/DLA lists, Alpine secdb (YAML or JSON), OSV JSON and Custody bundles (recognised by',
  'content; directories recursively; gzip allowed); documents unchanged since the last',
  'import are skipped. export writes a bundle (JSON Lines; gzip when FILE ends in .gz).',
  `push publishes the bundle as an OCI artifact (${VULNDB_ARTIFACT_TYPE}); pull imports one.`,
  ...UPDATE_USAGE.slice(1),
  'status shows each source\'s data age and counts, and the updater\'s state per feed source.',
  '',
  'Database options:',
  '  --db PATH                SQLite file (default $XDG_DATA_HOME/custody/vulndb.sqlite)',
  '  --database-url URL       PostgreSQL database (a registry server\'s)',
  '  --config FILE            use the database of a server configuration',
  '',
  CLIENT_FLAGS_USAGE,
].join('\n');

/** The database the flags name: --database-url, --config (a server's), or a SQLite file. */
function openDb(values: Record<string, unknown>): Promise<OpenedAdvisoryDatabase> {
  if (typeof values['database-url'] === 'string') return openAdvisoryDatabase({ kind: 'postgres', url: values['database-url'] });
  if (typeof values.config === 'string') return openAdvisoryDatabase({ kind: 'server', config: loadConfig({ file: values.config, env: process.env, flags: {} }) });
  return openAdvisoryDatabase({ kind: 'file', path: typeof values.db === 'string' ? values.db : defaultVulnDbPath() });
}

const DAY = 86_400_000;

function age(ms: number | null, now: number): string {
  if (ms === null) return 'unknown';
  const days = Math.floor((now - ms) / DAY);
  return days <= 0 ? 'today' : days === 1 ? '1 day old' : `${days} days old`;
}

/** One line per source: what the data is and how old it is. */
export function formatStatus(status: VulnDbStatus, where: string, now: number = Date.now()): string {
  if (status.sources.length === 0) return `advisory database ${where}: empty (revision ${status.revision}); import feeds with \`custody vulndb import\`\n`;
  const rows = [['SOURCE', 'DOCUMENTS', 'ADVISORIES', 'AFFECTED', 'LAST IMPORT', 'DATA AS OF', 'AGE']];
  for (const source of status.sources) {
    rows.push([source.source, String(source.documents), String(source.advisories), String(source.affected), formatDay(source.lastImport), formatDay(source.newest), age(source.newest, now)]);
  }
  return `advisory database ${where} (revision ${status.revision})\n${table(rows)}\n`;
}

function dataAge(status: VulnDbStatus, now: number): string {
  if (status.sources.length === 0) return 'no data';
  return status.sources.map((source) => `${source.source} ${formatDay(source.newest)} (${age(source.newest, now)})`).join(', ');
}

async function importInto(store: AdvisoryStore, documents: AsyncIterable<FeedDocument> | Iterable<FeedDocument>): Promise<string> {
  let imported = 0;
  let skipped = 0;
  let added = 0;
  let updated = 0;
  let removed = 0;
  for await (const document of documents) {
    const result = await store.importDocument(document);
    if (result.skipped) skipped++;
    else imported++;
    added += result.added;
    updated += result.updated;
    removed += result.removed;
  }
  return `${imported} documents imported, ${skipped} unchanged; advisories ${added} added, ${updated} updated, ${removed} removed`;
}

async function writeBundle(store: AdvisoryStore, file: string): Promise<void> {
  const output = createWriteStream(file, { mode: 0o600 });
  const lines = Readable.from(exportBundle(store));
  if (file.endsWith('.gz')) await pipeline(lines, createGzip(), output);
  else await pipeline(lines, output);
}

function requireDocker(reference: string | undefined): string {
  if (reference === undefined) throw new UsageError('missing docker://REGISTRY/REPOSITORY:TAG');
  if (/^[a-z-]+:(?!\/\/)/.test(reference) && !reference.startsWith('docker://') && !/^[^/]+:\d+\//.test(reference)) throw new UsageError(`${reference}: the advisory database travels through a registry (docker://...)`);
  return reference;
}

async function push(store: AdvisoryStore, reference: string, client: ClientOptions): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'custody-vulndb-'));
  const destination = new DockerImageDestination(reference, client);
  try {
    const file = join(directory, 'vulndb.jsonl.gz');
    await writeBundle(store, file);
    const layer = { ...(await digestStream(createReadStream(file))), mediaType: VULNDB_LAYER_TYPE };
    const config = { digest: digestOf(EMPTY_CONFIG), size: EMPTY_CONFIG.length, mediaType: MediaType.OciEmpty };
    const revision = await store.revision();
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        artifactType: VULNDB_ARTIFACT_TYPE,
        config,
        layers: [{ ...layer, annotations: { 'org.opencontainers.image.title': 'vulndb.jsonl.gz' } }],
        annotations: { 'org.opencontainers.image.created': new Date().toISOString(), 'io.custody.vulndb.revision': String(revision) },
      }),
    );
    if (!(await destination.hasBlob(config))) await destination.putBlob(config, Readable.from([EMPTY_CONFIG]));
    if (!(await destination.hasBlob(layer))) await destination.putBlob(layer, createReadStream(file));
    const digest = digestOf(manifest);
    await destination.putManifest({ bytes: manifest, mediaType: MediaType.OciManifest, digest });
    await destination.commit();
    return digest;
  } finally {
    await destination.close();
    await rm(directory, { recursive: true, force: true });
  }
}

async function pull(store: AdvisoryStore, reference: string, client: ClientOptions): Promise<string> {
  const source = new DockerImageSource(reference, client);
  try {
    const manifestData = await source.getManifest();
    const manifest = readManifestJson(manifestData.bytes);
    const artifactType = manifest.artifactType ?? manifest.config?.mediaType;
    if (artifactType !== VULNDB_ARTIFACT_TYPE) throw new Error(`${reference}: not an advisory database (artifact type ${artifactType ?? 'none'}, expected ${VULNDB_ARTIFACT_TYPE})`);
    const layer = manifest.layers?.find((entry) => entry.mediaType === VULNDB_LAYER_TYPE) ?? manifest.layers?.[0];
    if (!layer) throw new Error(`${reference}: the artifact has no layer`);
    const chunks: Buffer[] = [];
    for await (const chunk of await source.getBlob(layer)) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    if (digestOf(bytes) !== layer.digest) throw new Error(`${reference}: layer digest mismatch`);
    const reader = new FeedReader();
    const documents = [...reader.read({ name: reference, bytes: gunzipSync(bytes) })];
    if (reader.skipped.length > 0) throw new Error(`${reference}: the layer is not a vulndb bundle`);
    return importInto(store, documents);
  } finally {
    await source.close();
  }
}

export const vulndbCommand: Command = {
  name: 'vulndb',
  summary: 'import, inspect, export and share the advisory database',
  usage: USAGE,
  async run(args) {
    const [sub, ...rest] = args;
    if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return sub === undefined ? 2 : 0;
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const now = Date.now();
    switch (sub) {
      case 'import': {
        const { values, positionals } = parseArgs({ args: rest, options: DB_FLAGS, allowPositionals: true, strict: true });
        if (positionals.length === 0) throw new UsageError('missing FILE, DIR or URL to import');
        const db = await openDb(values);
        try {
          for (const target of positionals) {
            const feeds = readFeeds(target);
            const documents: AsyncIterable<FeedDocument> = { [Symbol.asyncIterator]: () => feeds };
            const summary = await importInto(db.store, documents);
            process.stdout.write(`${target}: ${summary}\n`);
          }
          const status = await db.store.status();
          process.stdout.write(`revision ${status.revision}; data as of: ${dataAge(status, now)}\n`);
        } finally {
          await db.close();
        }
        return 0;
      }
      case 'status': {
        const { values, positionals } = parseArgs({ args: rest, options: { ...DB_FLAGS, json: { type: 'boolean' } }, allowPositionals: true, strict: true });
        if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
        const db = await openDb(values);
        try {
          const status = await db.store.status();
          const feeds = await db.feedSources.list();
          process.stdout.write(values.json ? `${JSON.stringify({ database: db.where, ...status, feeds })}\n` : `${formatStatus(status, db.where, now)}${formatSources(feeds, now)}`);
        } finally {
          await db.close();
        }
        return 0;
      }
      case 'update': {
        const { values, positionals } = parseArgs({ args: rest, options: { ...DB_FLAGS, source: { type: 'string', multiple: true }, 'work-dir': { type: 'string' } }, allowPositionals: true, strict: true });
        if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
        let specs = parseSources(values.source ?? []);
        const db = await openDb(values);
        try {
          // A server's database, no --source: what its stored images need, as `custody serve` fetches.
          if (values.source === undefined && db.imageNeeds) {
            const { neededSources } = await import('../scan/feeds/update-job.ts');
            const { parseSourceSpec } = await import('../scan/feeds/feed-updater.ts');
            const configured = loadConfig({ file: values.config as string, env: process.env, flags: {} }).vulndb.sources;
            specs = neededSources(await db.imageNeeds(), configured === undefined ? null : configured.split(',').filter((entry) => entry.trim() !== '').map(parseSourceSpec));
            if (specs.length === 0) process.stderr.write('custody vulndb update: no stored image needs advisory data yet\n');
          }
          const result = await runUpdate(db.store, db.feedSources, specs, values['work-dir'] ?? defaultWorkDir(db.file));
          const status = await db.store.status();
          process.stdout.write(`${result.lines.join('\n')}\nrevision ${status.revision}; data as of: ${dataAge(status, Date.now())}\n`);
          return result.ok ? 0 : 1;
        } finally {
          await db.close();
        }
      }
      case 'export': {
        const { values, positionals } = parseArgs({ args: rest, options: DB_FLAGS, allowPositionals: true, strict: true });
        if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing FILE to export to' : `unexpected argument "${positionals[1]}"`);
        const db = await openDb(values);
        try {
          await writeBundle(db.store, positionals[0]!);
          const status = await db.store.status();
          process.stdout.write(`${positionals[0]}: revision ${status.revision}, ${status.sources.reduce((sum, source) => sum + source.advisories, 0)} advisories; data as of: ${dataAge(status, now)}\n`);
        } finally {
          await db.close();
        }
        return 0;
      }
      case 'push':
      case 'pull': {
        const { values, positionals, client } = parseClientArgs(rest, DB_FLAGS);
        if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
        const reference = requireDocker(positionals[0]);
        const db = await openDb(values);
        try {
          if (sub === 'push') {
            const digest = await push(db.store, reference, client);
            const status = await db.store.status();
            process.stdout.write(`${digest}\nrevision ${status.revision}; data as of: ${dataAge(status, now)}\n`);
          } else {
            const summary = await pull(db.store, reference, client);
            const status = await db.store.status();
            process.stdout.write(`${reference}: ${summary}\nrevision ${status.revision}; data as of: ${dataAge(status, now)}\n`);
          }
        } finally {
          await db.close();
        }
        return 0;
      }
      default:
        throw new UsageError(`unknown vulndb command "${sub}" (import, update, status, export, push, pull)`);
    }
  },
};
