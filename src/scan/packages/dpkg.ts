// Debian packages from dpkg's database: /var/lib/dpkg/status, and the one-file-per-package
// status.d/ directory that distroless images carry instead. What is reported matches
// `dpkg-query -W -f '${Package} ${source:Package} ${Version} ${source:Version} ${Architecture}'`:
// the binary version with its epoch, the source package (Source:, else the binary name)
// and the source version (Source:'s "(version)", else the binary version, as for binNMUs).
import type { InstalledPackage, OsRelease } from '../../core/quality.ts';
import type { Analyzer, AnalyzerContext, AnalyzerResult, FinalFile, FinalFiles, WalkedLayer } from '../indexer/analyzer.ts';
import { distroPurl, distroQualifier } from '../indexer/distro-purl.ts';

export const DPKG_STATUS = 'var/lib/dpkg/status';
export const DPKG_STATUS_D = 'var/lib/dpkg/status.d/';

/** One stanza of a dpkg status file, with its raw text (to tell whether a layer changed it). */
export interface DpkgRecord {
  readonly name: string;
  readonly version: string;
  readonly architecture: string;
  readonly sourceName: string;
  readonly sourceVersion: string;
  /** The Status field's third word: installed, config-files, half-installed, unpacked... */
  readonly state: string;
  readonly stanza: string;
}

/**
 * States in which the package's files are on disk. dpkg-query -W lists every package but
 * not-installed ones; config-files means only configuration files remain (no code that an
 * advisory could be about), so it is left out too.
 */
const STATES_WITH_FILES = new Set(['installed', 'unpacked', 'half-configured', 'half-installed', 'triggers-awaited', 'triggers-pending']);

/** Parses the stanzas of a dpkg status file (RFC 822-like: `Field: value`, continuation lines start with a space or tab). */
export function parseDpkgStatus(text: string): DpkgRecord[] {
  const records: DpkgRecord[] = [];
  for (const stanza of text.split(/\n[ \t]*\n/)) {
    const fields = new Map<string, string>();
    for (const line of stanza.split('\n')) {
      if (line === '' || line.startsWith(' ') || line.startsWith('\t')) continue;
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      fields.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
    }
    const name = fields.get('package');
    const version = fields.get('version');
    if (name === undefined || name === '' || version === undefined || version === '') continue;
    // `Source: util-linux (2.38.1-5+deb12u3)` or `Source: util-linux`.
    const source = /^(\S+)(?:\s+\((\S+)\))?/.exec(fields.get('source') ?? '');
    records.push({
      name,
      version,
      architecture: fields.get('architecture') ?? '',
      sourceName: source?.[1] ?? name,
      sourceVersion: source?.[2] ?? version,
      state: (fields.get('status') ?? '').split(/\s+/)[2] ?? '',
      stanza: stanza.trim(),
    });
  }
  return records;
}

export function hasFilesOnDisk(record: DpkgRecord): boolean {
  return STATES_WITH_FILES.has(record.state);
}

/** `1:2.38.1-5` → 1; no epoch → undefined. */
function epochOf(version: string): number | undefined {
  const match = /^([0-9]+):/.exec(version);
  return match === null ? undefined : Number(match[1]);
}

function recordKey(record: DpkgRecord): string {
  return `${record.name}:${record.architecture}`;
}

/**
 * The layer that introduced each package's current stanza: walking the file's versions
 * back from the last, a package keeps the earlier layer as long as its stanza is byte for
 * byte the same there (dpkg rewrites the whole file when anything changes).
 */
function attributeLayers(file: FinalFile, records: readonly DpkgRecord[]): Map<string, WalkedLayer> {
  const layers = new Map<string, WalkedLayer>();
  const open = new Map(records.map((record) => [recordKey(record), record.stanza]));
  for (const record of records) layers.set(recordKey(record), file.layer);
  for (let index = file.versions.length - 2; index >= 0 && open.size > 0; index--) {
    const version = file.versions[index]!;
    const earlier = new Map(version.content === null ? [] : parseDpkgStatus(version.content.toString('utf8')).map((record) => [recordKey(record), record.stanza]));
    for (const [key, stanza] of open) {
      if (earlier.get(key) === stanza) layers.set(key, version.layer);
      else open.delete(key);
    }
  }
  return layers;
}

export function dpkgPackage(record: DpkgRecord, path: string, layer: string, os: OsRelease | null): InstalledPackage {
  const epoch = epochOf(record.version);
  return {
    ecosystem: 'deb',
    name: record.name,
    version: record.version,
    ...(epoch === undefined ? {} : { epoch }),
    ...(record.architecture === '' ? {} : { arch: record.architecture }),
    sourceName: record.sourceName,
    sourceVersion: record.sourceVersion,
    path,
    layer,
    purl: distroPurl('deb', os?.id ?? 'debian', record.name, record.version, {
      arch: record.architecture,
      distro: distroQualifier(os),
      upstream: record.sourceName === record.name ? undefined : record.sourceName,
    }),
  };
}

function packagesOf(file: FinalFile, os: OsRelease | null): InstalledPackage[] {
  if (file.content === null) return [];
  const records = parseDpkgStatus(file.content.toString('utf8')).filter(hasFilesOnDisk);
  const layers = attributeLayers(file, records);
  return records.map((record) => dpkgPackage(record, file.path, (layers.get(recordKey(record)) ?? file.layer).digest, os));
}

export function isDpkgDatabasePath(path: string): boolean {
  if (path === DPKG_STATUS) return true;
  if (!path.startsWith(DPKG_STATUS_D)) return false;
  const name = path.slice(DPKG_STATUS_D.length);
  // status.d holds `NAME` (a status stanza) and `NAME.md5sums` (checksums) per package.
  return name !== '' && !name.includes('/') && !name.endsWith('.md5sums');
}

export function dpkgAnalyzer(): Analyzer {
  return {
    name: 'dpkg',
    wants: isDpkgDatabasePath,
    async finish(files: FinalFiles, context: AnalyzerContext): Promise<AnalyzerResult> {
      const packages: InstalledPackage[] = [];
      const status = files.file(DPKG_STATUS);
      if (status !== undefined) packages.push(...packagesOf(status, context.os));
      for (const name of files.list(DPKG_STATUS_D)) {
        const file = files.file(`${DPKG_STATUS_D}${name}`);
        if (file !== undefined) packages.push(...packagesOf(file, context.os));
      }
      return { packages };
    },
  };
}
