// A multi-platform index has no file system of its own: its grade is the worst of its
// platforms' (a registry serving linux/arm64 with an F is not an A because linux/amd64
// is), `?` when any platform has no grade, and its findings are each platform's, labelled.
import { indexEntries, readManifestJson, type DescriptorJson } from '../core/manifest-reader.ts';
import type { Finding, ShownGrade } from '../core/quality.ts';
import type { GradeView } from './coverage.ts';

/** What aggregation reads per platform (QualityService satisfies it). */
export interface PlatformQuality {
  grade(repository: string, digest: string): Promise<GradeView>;
  findings(repository: string, digest: string): Promise<{ readonly findings: readonly Finding[]; readonly unfixed: readonly Finding[] }>;
}

export interface IndexPlatform {
  /** os/architecture[/variant], as `--platform` spells it. */
  readonly platform: string;
  readonly digest: string;
}

export interface PlatformGrade extends IndexPlatform {
  readonly grade: ShownGrade;
  readonly reason: string | null;
  readonly dataAsOf: number | null;
}

export interface AggregateGrade {
  readonly grade: ShownGrade;
  readonly reason: string | null;
  /** The oldest data behind any platform's grade. */
  readonly dataAsOf: number | null;
  readonly platforms: readonly PlatformGrade[];
}

const ORDER = 'ABCDEF';

function platformName(entry: DescriptorJson): string {
  const platform = entry.platform;
  if (!platform) return 'unknown';
  return [platform.os, platform.architecture, platform.variant].filter((part) => typeof part === 'string' && part !== '').join('/');
}

/** The images of an index (build attestations, platform unknown/unknown, left out); null for a non-index. */
export function indexPlatforms(content: Uint8Array): IndexPlatform[] | null {
  let entries: readonly DescriptorJson[];
  try {
    const manifest = readManifestJson(content);
    if (!Array.isArray(manifest.manifests)) return null;
    entries = indexEntries(manifest);
  } catch {
    return null;
  }
  return entries
    .filter((entry) => typeof entry.digest === 'string' && !(entry.platform?.os === 'unknown' && entry.platform.architecture === 'unknown'))
    .map((entry) => ({ platform: platformName(entry), digest: entry.digest! }));
}

/** The worst platform's grade; `?` (with each platform's reason) when any has none. */
export function aggregateGrades(platforms: readonly PlatformGrade[]): AggregateGrade {
  const dates = platforms.map((platform) => platform.dataAsOf).filter((at): at is number => at !== null);
  const dataAsOf = dates.length === 0 ? null : Math.min(...dates);
  if (platforms.length === 0) return { grade: '?', reason: 'the index lists no image', dataAsOf, platforms };
  const ungraded = platforms.filter((platform) => platform.grade === '?');
  if (ungraded.length > 0) return { grade: '?', reason: ungraded.map((platform) => `${platform.platform}: ${platform.reason ?? 'no grade'}`).join('; '), dataAsOf, platforms };
  let worst: ShownGrade = 'A';
  for (const platform of platforms) if (ORDER.indexOf(platform.grade) > ORDER.indexOf(worst)) worst = platform.grade;
  return { grade: worst, reason: null, dataAsOf, platforms };
}

/** An index's grade: the worst of its platforms', `?` when any has none (not indexed yet included). */
export async function aggregateGrade(quality: PlatformQuality, repository: string, platforms: readonly IndexPlatform[]): Promise<AggregateGrade> {
  const graded: PlatformGrade[] = [];
  for (const platform of platforms) {
    try {
      const view = await quality.grade(repository, platform.digest);
      graded.push({ ...platform, grade: view.grade, reason: view.reason, dataAsOf: view.data.dataAsOf });
    } catch (error) {
      // Not indexed yet (asking queued it), or failed: no grade for that platform yet.
      graded.push({ ...platform, grade: '?', reason: (error as Error).message, dataAsOf: null });
    }
  }
  return aggregateGrades(graded);
}

type Labelled = Finding & { readonly platform: string };

/** An index's findings, each platform's labelled with its platform. */
export async function aggregateFindings(quality: PlatformQuality, repository: string, platforms: readonly IndexPlatform[]): Promise<{ readonly findings: Labelled[]; readonly unfixed: Labelled[]; readonly platforms: (IndexPlatform & { readonly error: string | null })[] }> {
  const findings: Labelled[] = [];
  const unfixed: Labelled[] = [];
  const listed: (IndexPlatform & { readonly error: string | null })[] = [];
  for (const platform of platforms) {
    try {
      const current = await quality.findings(repository, platform.digest);
      for (const finding of current.findings) findings.push({ ...finding, platform: platform.platform });
      for (const finding of current.unfixed) unfixed.push({ ...finding, platform: platform.platform });
      listed.push({ ...platform, error: null });
    } catch (error) {
      listed.push({ ...platform, error: (error as Error).message });
    }
  }
  return { findings, unfixed, platforms: listed };
}
