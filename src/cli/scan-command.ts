// `custody scan IMAGE`: indexes an image on any transport (a registry image is streamed
// layer by layer, never written to disk), matches its packages against the local
// advisory database and grades it. A table on a terminal (severities coloured), or
// --format json|sarif|spdx|cyclonedx; --fail-on SEVERITY makes it a CI gate.
// The pipeline is the scan domain's (src/scan/scan-pipeline.ts, run by ./run-scan.ts); the
// flags and output here are shared with `custody grade` and `custody errata`.
import { UsageError } from '../core/errors.ts';
import { SEVERITIES, type Finding, type Severity } from '../core/quality.ts';
import { CLIENT_FLAGS_USAGE, parseClientArgs } from './arguments.ts';
import { table } from './output.ts';
import { DEFAULT_INDEX_LIMITS, type IndexLimits } from '../scan/indexer/index-limits.ts';
import { formatBytes, parseSize } from '../core/size.ts';
import { toSarif } from '../scan/matching/sarif.ts';
import type { ScanResult } from '../scan/scan-pipeline.ts';
import type { VulnDbStatus } from '../metadata/advisory-store.ts';
import type { Command } from './main.ts';
import { runScan } from './run-scan.ts';
import { parseDuration } from '../config/config.ts';
import { dataAgeText, gradeView, type GradeView } from '../scan/coverage.ts';
import { VERSION } from '../core/version.ts';

const SCAN_FLAGS = {
  vulndb: { type: 'string' },
  platform: { type: 'string' },
  'override-os': { type: 'string' },
  'override-arch': { type: 'string' },
  'override-variant': { type: 'string' },
  'max-layer-size': { type: 'string' },
  'max-image-size': { type: 'string' },
  'max-entries': { type: 'string' },
  'max-data-age': { type: 'string' },
} as const;

export const SCAN_FLAGS_USAGE = [
  'IMAGE: docker://NAME (or a bare NAME), dir:PATH, oci:PATH[:REF], oci-archive:PATH[:REF],',
  'docker-archive:PATH[:REF]. A registry image is streamed, never written to disk.',
  '  --vulndb PATH            the advisory database (a database file written by `custody vulndb`,',
  '                           or feed files/directories read for this run); default:',
  '                           $CUSTODY_VULNDB, else ~/.local/share/custody/vulndb.sqlite',
  '  --platform OS/ARCH[/V]   for a multi-platform image, which image (default: this machine\'s)',
  `  --max-layer-size SIZE    refuse an image with a layer inflating to more (default ${formatBytes(DEFAULT_INDEX_LIMITS.maxLayerBytes, { limit: true }).replace(' ', '')})`,
  `  --max-image-size SIZE    refuse an image whose layers inflate to more in all (default ${formatBytes(DEFAULT_INDEX_LIMITS.maxImageBytes, { limit: true }).replace(' ', '')})`,
  `  --max-entries N          refuse an image with more tar entries in all (default ${DEFAULT_INDEX_LIMITS.maxEntries})`,
  '  --max-data-age DURATION  advisory data older than this gives no grade (`?`; default 7d)',
  '',
  'No grade without data: an image whose operating system or package ecosystems no source',
  'covers, or whose advisory data is missing or older than --max-data-age, is graded `?`',
  'with the reason. Every grade shows the age of the data behind it.',
].join('\n');

function platformFrom(values: Record<string, unknown>): { os?: string; architecture?: string; variant?: string } {
  const platform: { os?: string; architecture?: string; variant?: string } = {};
  const text = values.platform as string | undefined;
  if (text !== undefined) {
    const [os, architecture, variant] = text.split('/');
    if (!os || !architecture) throw new UsageError(`--platform: expected OS/ARCH[/VARIANT], got "${text}"`);
    platform.os = os;
    platform.architecture = architecture;
    if (variant) platform.variant = variant;
  }
  if (values['override-os'] !== undefined) platform.os = values['override-os'] as string;
  if (values['override-arch'] !== undefined) platform.architecture = values['override-arch'] as string;
  if (values['override-variant'] !== undefined) platform.variant = values['override-variant'] as string;
  return platform;
}

function limitsFrom(values: Record<string, unknown>): IndexLimits {
  const size = (flag: string, fallback: number): number => {
    const text = values[flag] as string | undefined;
    if (text === undefined) return fallback;
    const bytes = parseSize(text);
    if (bytes === null || bytes < 1) throw new UsageError(`--${flag}: expected a size such as 512MiB or 16GiB, got "${text}"`);
    return bytes;
  };
  const entriesText = values['max-entries'] as string | undefined;
  if (entriesText !== undefined && !/^[1-9]\d*$/.test(entriesText)) throw new UsageError(`--max-entries: expected a positive whole number, got "${entriesText}"`);
  return {
    maxLayerBytes: size('max-layer-size', DEFAULT_INDEX_LIMITS.maxLayerBytes),
    maxImageBytes: size('max-image-size', DEFAULT_INDEX_LIMITS.maxImageBytes),
    maxEntries: entriesText === undefined ? DEFAULT_INDEX_LIMITS.maxEntries : Number(entriesText),
  };
}

function maxDataAgeFrom(values: Record<string, unknown>): number | undefined {
  const text = values['max-data-age'] as string | undefined;
  if (text === undefined) return undefined;
  const parsed = parseDuration(text);
  if (parsed === null) throw new UsageError(`--max-data-age: expected a duration such as 12h or 7d, got "${text}"`);
  return parsed;
}

/** The grade as shown: `?` with the reason when the data cannot back a letter. */
export function shownGrade(result: ScanResult): GradeView {
  return gradeView(result.grade, result.coverage);
}

/** "grade B; data as of 2026-12-01 (today)" or "grade ? (no advisory data for debian:12 ...)". */
export function gradeLine(result: ScanResult, now: number = Date.now()): string {
  const view = shownGrade(result);
  if (view.grade === '?') return `grade ? (${view.reason}); data as of ${dataAgeText(view.data, now)}`;
  return `grade ${view.grade}${view.next ? ` (drops to ${view.next.grade} on ${formatDay(view.next.at)})` : ''}; data as of ${dataAgeText(view.data, now)}`;
}

/** `--format`, which every quality command takes. */
export const FORMAT_FLAG = { format: { type: 'string', short: 'f' } } as const;

/** For the commands whose only format besides the text is JSON: whether JSON was asked for. */
export function jsonFormat(values: Readonly<Record<string, unknown>>): boolean {
  const format = values.format as string | undefined;
  if (format !== undefined && format !== 'json') throw new UsageError(`--format: only "json" is supported, got "${format}"`);
  return format === 'json';
}

/**
 * Parses the flags every quality command shares plus the command's own, lets `check`
 * validate them (before any image is read), and runs the scan.
 */
export async function runScanFromArgs<T>(args: string[], own: Readonly<Record<string, { readonly type: 'string' | 'boolean'; readonly short?: string }>>, command: string, check: (values: Record<string, unknown>) => T): Promise<{ result: ScanResult; checked: T }> {
  const { values, positionals, client } = parseClientArgs(args, { ...SCAN_FLAGS, ...own });
  const checked = check(values);
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing IMAGE' : `unexpected argument "${positionals[1]}"`);
  const platform = platformFrom(values);
  const limits = limitsFrom(values);
  const result = await runScan(positionals[0]!, {
    client,
    vulndb: values.vulndb as string | undefined,
    limits,
    maxDataAgeMs: maxDataAgeFrom(values),
    ...(Object.keys(platform).length > 0 ? { platform: platform as Record<string, string> } : {}),
    warn: (message) => process.stderr.write(`custody ${command}: warning: ${message}\n`),
  });
  return { result, checked };
}

// ---- output ------------------------------------------------------------------------------

const COLOURS: Readonly<Record<Severity, string>> = {
  Critical: '\x1b[1;31m', High: '\x1b[31m', Medium: '\x1b[33m', Low: '\x1b[36m', Negligible: '\x1b[2m', Unknown: '\x1b[2m',
};

export function useColour(): boolean {
  return process.stdout.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
}

export function paintSeverity(severity: Severity, text: string = severity, colour = useColour()): string {
  return colour ? `${COLOURS[severity]}${text}\x1b[0m` : text;
}

export function formatDay(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().slice(0, 10);
}

export function databaseLine(database: VulnDbStatus | null): string {
  if (database === null) return 'advisory database: none';
  const newest = Math.max(0, ...database.sources.map((source) => source.newest ?? 0));
  const sources = database.sources.map((source) => `${source.source} (${source.advisories})`).join(', ') || 'empty';
  return `advisory database: revision ${database.revision}, ${sources}; newest data ${newest === 0 ? 'unknown' : formatDay(newest)}`;
}

/** The JSON document of a scan. */
function scanJson(result: ScanResult): Record<string, unknown> {
  return {
    image: result.image,
    digest: result.index.manifestDigest,
    os: result.index.os,
    layers: result.index.layers,
    packages: result.index.packages,
    findings: result.match.findings,
    unfixed: result.match.unfixed,
    errata: result.errata,
    grade: shownGrade(result),
    secrets: result.index.secrets,
    database: result.database,
    indexerVersion: result.index.indexerVersion,
  };
}

function findingRows(findings: readonly Finding[], colour: boolean): string[][] {
  return findings.map((f) => [
    paintSeverity(f.severity, f.severity, colour),
    f.advisoryId,
    f.package.name,
    f.package.version,
    f.fixedVersion ?? '(no fix)',
    f.cves.slice(0, 3).join(',') + (f.cves.length > 3 ? ',…' : ''),
  ]);
}

function scanTable(result: ScanResult, colour: boolean): string {
  const lines: string[] = [];
  const os = result.index.os;
  lines.push(`${result.image}  ${result.index.manifestDigest}`);
  lines.push(`os: ${os ? os.prettyName ?? `${os.id} ${os.versionId ?? ''}` : 'unknown'}; ${result.index.packages.length} packages; ${gradeLine(result)}`);
  lines.push(databaseLine(result.database));
  const counts = SEVERITIES.map((s) => [s, result.match.findings.filter((f) => f.severity === s).length] as const).filter(([, n]) => n > 0);
  lines.push('');
  if (result.match.findings.length === 0) lines.push('No vulnerabilities with a fix.');
  else {
    lines.push(`Vulnerabilities with a fix: ${result.match.findings.length} (${counts.map(([s, n]) => paintSeverity(s, `${n} ${s}`, colour)).join(', ')})`);
    lines.push(table([['SEVERITY', 'ADVISORY', 'PACKAGE', 'INSTALLED', 'FIXED', 'CVES'], ...findingRows(result.match.findings, colour)]));
  }
  if (result.match.unfixed.length > 0) {
    lines.push('', `Without a fix: ${result.match.unfixed.length}`);
    lines.push(table([['SEVERITY', 'ADVISORY', 'PACKAGE', 'INSTALLED', 'FIXED', 'CVES'], ...findingRows(result.match.unfixed, colour)]));
  }
  if (result.index.secrets.length > 0) {
    lines.push('', `Secrets: ${result.index.secrets.length}`);
    lines.push(table([['SEVERITY', 'RULE', 'PATH', 'LAYER', ''], ...result.index.secrets.map((s) => [s.severity, s.rule, s.path, s.layer.slice(0, 19), s.removedInLayer ? '(deleted later; still in the image)' : ''])]));
  }
  return lines.join('\n');
}

/** Ranks for --fail-on: Critical is the highest; Unknown counts as the lowest. */
function parseFailOn(value: string | undefined): Severity | undefined {
  if (value === undefined) return undefined;
  const found = SEVERITIES.find((severity) => severity.toLowerCase() === value.trim().toLowerCase());
  if (!found) throw new UsageError(`--fail-on: expected one of ${SEVERITIES.join(', ')}, got "${value}"`);
  return found;
}

/** Findings (with or without a fix) at or above the threshold. */
function failing(result: ScanResult, threshold: Severity): Finding[] {
  const limit = SEVERITIES.indexOf(threshold);
  return [...result.match.findings, ...result.match.unfixed].filter((finding) => SEVERITIES.indexOf(finding.severity) <= limit);
}

export const scanCommand: Command = {
  name: 'scan',
  summary: 'list an image\'s packages, vulnerabilities, errata and grade (any transport)',
  usage: [
    'Usage: custody scan IMAGE [--format table|json|sarif|spdx|cyclonedx] [--fail-on SEVERITY]',
    '                    [--vulndb PATH] [--platform OS/ARCH[/VARIANT]] [global options]',
    '',
    SCAN_FLAGS_USAGE,
    '  --format F               table (the default on a terminal), json (the default otherwise),',
    '                           sarif (SARIF 2.1.0), spdx (SPDX 2.3 JSON), cyclonedx (CycloneDX 1.6 JSON)',
    '  --fail-on SEVERITY       exit 1 when a vulnerability (fixed or not) of this severity or',
    '                           higher is found: Critical, High, Medium, Low, Negligible, Unknown;',
    '                           also when the image has no grade for want of data (`?`)',
    '  --allow-no-data          with --fail-on: pass an image graded `?` for want of data',
    '',
    CLIENT_FLAGS_USAGE,
  ].join('\n'),
  async run(args) {
    const { result, checked } = await runScanFromArgs(args, { ...FORMAT_FLAG, 'fail-on': { type: 'string' }, 'allow-no-data': { type: 'boolean' } }, 'scan', (values) => {
      const format = (values.format as string | undefined) ?? (process.stdout.isTTY ? 'table' : 'json');
      if (!['table', 'json', 'sarif', 'spdx', 'cyclonedx'].includes(format)) throw new UsageError(`--format: expected table, json, sarif, spdx or cyclonedx, got "${format}"`);
      if (values['allow-no-data'] === true && values['fail-on'] === undefined) throw new UsageError('--allow-no-data goes with --fail-on');
      return { format, threshold: parseFailOn(values['fail-on'] as string | undefined), allowNoData: values['allow-no-data'] === true };
    });
    const { format, threshold, allowNoData } = checked;
    let output: string;
    if (format === 'table') output = scanTable(result, useColour());
    else if (format === 'json') output = JSON.stringify(scanJson(result), null, 2);
    else if (format === 'sarif') output = JSON.stringify(toSarif([...result.match.findings, ...result.match.unfixed], { image: result.image, toolVersion: VERSION }), null, 2);
    else {
      const sbom = await import('../scan/sbom.ts');
      const options = { name: result.image.replace(/^docker:\/\//, ''), created: result.index.indexedAt, toolVersion: VERSION };
      output = JSON.stringify(format === 'spdx' ? sbom.toSpdx(result.index, options) : sbom.toCycloneDx(result.index, options), null, 2);
    }
    process.stdout.write(`${output}\n`);
    if (threshold !== undefined) {
      // A CI gate that passes an image nobody could check is no gate.
      if (!result.coverage.covered && !allowNoData) {
        process.stderr.write(`custody scan: no grade for want of data: ${result.coverage.reason} (--allow-no-data to pass anyway)\n`);
        return 1;
      }
      const failed = failing(result, threshold);
      if (failed.length > 0) {
        process.stderr.write(`custody scan: ${failed.length} vulnerabilit${failed.length === 1 ? 'y' : 'ies'} of severity ${threshold} or higher\n`);
        return 1;
      }
    }
    return 0;
  },
};
