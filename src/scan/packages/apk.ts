// Alpine packages from apk's database, /lib/apk/db/installed: one record per package,
// records separated by a blank line, each line `X:value` (P name, V version, A arch,
// o origin: the source package that advisories name, L license; F/R/Z... list files).
import type { InstalledPackage, OsRelease } from '../../core/quality.ts';
import type { Analyzer, AnalyzerContext, AnalyzerResult, FinalFile, FinalFiles, WalkedLayer } from '../indexer/analyzer.ts';
import { distroPurl, distroQualifier } from '../indexer/distro-purl.ts';

export const APK_INSTALLED = 'lib/apk/db/installed';

export interface ApkRecord {
  readonly name: string;
  readonly version: string;
  readonly architecture: string;
  readonly origin: string;
  readonly license: string;
  /** The record's raw text (to tell whether a layer changed it). */
  readonly record: string;
}

export function parseApkInstalled(text: string): ApkRecord[] {
  const records: ApkRecord[] = [];
  for (const block of text.split(/\n[ \t]*\n/)) {
    const fields = new Map<string, string>();
    for (const line of block.split('\n')) {
      // Single-letter keys; only the first of each matters for the header fields.
      if (line.length < 2 || line[1] !== ':' || fields.has(line[0]!)) continue;
      fields.set(line[0]!, line.slice(2).trim());
    }
    const name = fields.get('P');
    const version = fields.get('V');
    if (name === undefined || name === '' || version === undefined || version === '') continue;
    records.push({ name, version, architecture: fields.get('A') ?? '', origin: fields.get('o') || name, license: fields.get('L') ?? '', record: block.trim() });
  }
  return records;
}

/** As for dpkg: a package keeps the earliest layer from which its record is unchanged. */
function attributeLayers(file: FinalFile, records: readonly ApkRecord[]): Map<string, WalkedLayer> {
  const layers = new Map<string, WalkedLayer>(records.map((record) => [record.name, file.layer]));
  const open = new Map(records.map((record) => [record.name, record.record]));
  for (let index = file.versions.length - 2; index >= 0 && open.size > 0; index--) {
    const version = file.versions[index]!;
    const earlier = new Map(version.content === null ? [] : parseApkInstalled(version.content.toString('utf8')).map((record) => [record.name, record.record]));
    for (const [name, text] of open) {
      if (earlier.get(name) === text) layers.set(name, version.layer);
      else open.delete(name);
    }
  }
  return layers;
}

export function apkPackage(record: ApkRecord, path: string, layer: string, os: OsRelease | null): InstalledPackage {
  return {
    ecosystem: 'apk',
    name: record.name,
    version: record.version,
    ...(record.architecture === '' ? {} : { arch: record.architecture }),
    sourceName: record.origin,
    sourceVersion: record.version,
    ...(record.license === '' ? {} : { licenses: [record.license] }),
    path,
    layer,
    purl: distroPurl('apk', os?.id ?? 'alpine', record.name, record.version, {
      arch: record.architecture,
      distro: distroQualifier(os),
      upstream: record.origin === record.name ? undefined : record.origin,
    }),
  };
}

export function apkAnalyzer(): Analyzer {
  return {
    name: 'apk',
    wants: (path) => path === APK_INSTALLED,
    async finish(files: FinalFiles, context: AnalyzerContext): Promise<AnalyzerResult> {
      const file = files.file(APK_INSTALLED);
      if (file === undefined || file.content === null) return { packages: [] };
      const records = parseApkInstalled(file.content.toString('utf8'));
      const layers = attributeLayers(file, records);
      return { packages: records.map((record) => apkPackage(record, file.path, (layers.get(record.name) ?? file.layer).digest, context.os)) };
    },
  };
}
