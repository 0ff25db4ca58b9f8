// No grade without data. A grade says "nothing known applies"; that means something only
// when advisory data exists for what the image holds, and is recent. An image whose
// operating system or package ecosystems no source covers, or whose sources' data is
// missing or older than the limit, shows `?` and why, never A for want of data.
import type { DataCoverage, Ecosystem, GradeReport, ImageIndex, ShownGrade } from '../core/quality.ts';
import type { AdvisorySource } from '../core/quality.ts';
import type { VulnDbStatus } from '../metadata/advisory-store.ts';
import { distroKeys } from './matching/distro.ts';

/** Data older than this gives no grade unless configured otherwise (vulndb.maxAge, --max-data-age). */
export const DEFAULT_MAX_DATA_AGE_MS = 7 * 86_400_000;

const OS_ECOSYSTEMS: ReadonlySet<Ecosystem> = new Set(['deb', 'rpm', 'apk']);

/** What the coverage check reads from the advisory database (AdvisoryStore satisfies it). */
export interface CoverageLookup {
  coveringSource(ecosystem: Ecosystem, distro: string | null): Promise<AdvisorySource | null>;
  status(): Promise<VulnDbStatus>;
}

function days(ms: number): string {
  const whole = Math.floor(ms / 86_400_000);
  return whole === 1 ? '1 day' : `${whole} days`;
}

function osName(index: ImageIndex): string {
  const os = index.os;
  if (os === null) return 'unknown operating system';
  return os.prettyName ?? `${os.id} ${os.versionId ?? ''}`.trim();
}

/** No database at all: nothing can back a grade. */
export function noDatabase(maxAgeMs: number = DEFAULT_MAX_DATA_AGE_MS): DataCoverage {
  return { covered: false, reason: 'no advisory database', sources: [], dataAsOf: null, maxAgeMs };
}

/**
 * Whether the advisory data can back a grade for this image, at `now`: every ecosystem
 * the image has packages of is covered by a source (for operating system packages, in
 * the image's own release), and each such source was current within `maxAgeMs`.
 */
export async function checkCoverage(index: ImageIndex, lookup: CoverageLookup, now: number, maxAgeMs: number = DEFAULT_MAX_DATA_AGE_MS): Promise<DataCoverage> {
  const problems: string[] = [];
  const needed = new Set<AdvisorySource>();
  const osEcosystems = [...new Set(index.packages.filter((pkg) => OS_ECOSYSTEMS.has(pkg.ecosystem)).map((pkg) => pkg.ecosystem))];
  const languageEcosystems = [...new Set(index.packages.filter((pkg) => !OS_ECOSYSTEMS.has(pkg.ecosystem)).map((pkg) => pkg.ecosystem))].sort();
  if (index.packages.length === 0) problems.push('no packages recognised in the image');
  if (osEcosystems.length > 0) {
    const keys = distroKeys(index.os);
    if (keys.length === 0) problems.push(`${osName(index)}: no advisory source covers this operating system`);
    for (const ecosystem of osEcosystems) {
      if (keys.length === 0) break;
      let found: AdvisorySource | null = null;
      for (const key of keys) {
        found = await lookup.coveringSource(ecosystem, key);
        if (found) break;
      }
      if (found) needed.add(found);
      else problems.push(`${osName(index)}: no advisory data for ${keys[0]} (${ecosystem} packages)`);
    }
  }
  for (const ecosystem of languageEcosystems) {
    const found = await lookup.coveringSource(ecosystem, null);
    if (found) needed.add(found);
    else problems.push(`no advisory data for ${ecosystem} packages`);
  }
  const status = await lookup.status();
  const sources = [...needed].sort().map((source) => ({ source, updatedAt: status.sources.find((entry) => entry.source === source)?.lastImport ?? null }));
  for (const { source, updatedAt } of sources) {
    // 0: the updater's first load of the source failed part way (see FeedUpdater).
    if (updatedAt === null || updatedAt === 0) problems.push(`${source}: no complete update yet`);
    else if (now - updatedAt > maxAgeMs) problems.push(`${source} data is ${days(now - updatedAt)} old (limit ${days(maxAgeMs)})`);
  }
  const instants = sources.map((entry) => entry.updatedAt).filter((at): at is number => at !== null && at > 0);
  return {
    covered: problems.length === 0,
    reason: problems.length === 0 ? null : problems.join('; '),
    sources,
    dataAsOf: instants.length === 0 ? null : Math.min(...instants),
    maxAgeMs,
  };
}

/** A grade as shown: the letter when the data backs it, else `?` with the reason; always
 * with the age of the data. Without data there is no timeline to show either. */
export interface GradeView extends Omit<GradeReport, 'grade'> {
  readonly grade: ShownGrade;
  readonly reason: string | null;
  readonly data: DataCoverage;
}

export function gradeView(report: GradeReport, coverage: DataCoverage): GradeView {
  if (coverage.covered) return { ...report, reason: null, data: coverage };
  return { ...report, grade: '?', next: null, timeline: [], reason: coverage.reason, data: coverage };
}

/** "as of 2026-12-01 (3 days old)" for the data behind a grade. */
export function dataAgeText(coverage: DataCoverage, now: number): string {
  if (coverage.dataAsOf === null) return 'no data';
  const day = new Date(coverage.dataAsOf).toISOString().slice(0, 10);
  const age = Math.max(0, Math.floor((now - coverage.dataAsOf) / 86_400_000));
  return `${day} (${age === 0 ? 'today' : age === 1 ? '1 day old' : `${age} days old`})`;
}
