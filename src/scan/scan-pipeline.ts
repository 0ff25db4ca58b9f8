// The scan pipeline: the one way an image is judged, by the CLI (`custody scan`, `grade`,
// `errata`, `evaluate`) and by the registry (QualityService) alike.
//   1. index   an image's file system, read once through any ImageSource (any transport,
//              or the registry's own stores) → OS, packages, secrets; bounded in bytes and
//              entries, and in the registry also in time
//   2. match   packages → findings, against the advisory database
//   3. judge   findings → errata and the grade at an instant
// The CLI runs the three at once (scanImage). The registry runs step 1 when an image is
// pushed and steps 2–3 (assess) whenever the advisory database changes, and step 3 alone
// as errata age; it dates an advisory without a release date by when it first applied.
import type { ErrataReport } from './matching/errata.ts';
import { errataFrom } from './matching/errata.ts';
import { gradeFindings } from './matching/grade.ts';
import { matchImage, type AdvisoryLookup, type MatchResult } from './matching/matcher.ts';
import { indexImage } from './indexer/index-image.ts';
import { DEFAULT_INDEX_LIMITS, type IndexLimits } from './indexer/index-limits.ts';
import { indexWithinBudget, type Indexer } from './indexing-budget.ts';
import type { DataCoverage, Finding, GradeReport, ImageIndex } from '../core/quality.ts';
import { checkCoverage, noDatabase, type CoverageLookup } from './coverage.ts';
import type { Platform } from '../image/platform.ts';
import type { ImageSource } from '../image/transport.ts';
import type { VulnDbStatus } from '../metadata/advisory-store.ts';

export interface IndexStepOptions {
  /** For an index, which platform's image (default: this machine's). */
  readonly platform?: Partial<Platform>;
  /** Inflated bytes and entries one image may cost (default: the indexer's). */
  readonly limits?: IndexLimits;
  readonly onWarning?: (message: string) => void;
  /**
   * A time budget (the registry's): past it the layer streams are destroyed and the step
   * fails at once with IndexLimitError('time'). Without it, limits default to
   * DEFAULT_INDEX_LIMITS.
   */
  readonly timeBudgetMs?: number;
  /** Replaces the indexer (tests). */
  readonly indexer?: Indexer;
}

/** Step 1: the image's file system → its index. */
export async function indexStep(source: ImageSource, options: IndexStepOptions = {}): Promise<ImageIndex> {
  const { platform, onWarning, limits, timeBudgetMs } = options;
  const indexer: Indexer = options.indexer ?? ((image, bounds) => indexImage(image, { ...bounds, ...(platform === undefined ? {} : { platform }), ...(onWarning === undefined ? {} : { onWarning }) }));
  if (timeBudgetMs === undefined) return indexer(source, limits === undefined ? {} : { limits });
  return indexWithinBudget(indexer, source, limits ?? DEFAULT_INDEX_LIMITS, timeBudgetMs);
}

/** Step 2: the index's packages → findings (none without an advisory database). */
async function matchStep(index: ImageIndex, advisories: AdvisoryLookup | null): Promise<MatchResult> {
  return advisories === null ? { findings: [], unfixed: [] } : matchImage(index, advisories);
}

/** When an advisory without a release date counts from (default: the instant judged). */
export type UndatedSince = (finding: Finding) => number | null;

export interface Judgement {
  readonly errata: ErrataReport;
  readonly grade: GradeReport;
}

/** Step 3: findings → errata and the grade as of `at`. */
export function judgeStep(findings: readonly Finding[], at: number, undatedSince?: UndatedSince): Judgement {
  return { errata: errataFrom(findings), grade: gradeFindings(findings, at, undatedSince) };
}

export interface Assessment extends Judgement {
  readonly match: MatchResult;
}

/** Steps 2 and 3: an index (fresh, or stored in the registry) judged against the database now. */
export async function assess(index: ImageIndex, advisories: AdvisoryLookup | null, options: { readonly now: () => number; readonly undatedSince?: UndatedSince }): Promise<Assessment> {
  const match = await matchStep(index, advisories);
  return { match, ...judgeStep(match.findings, options.now(), options.undatedSince) };
}

/** The advisory database as a scan reads it (AdvisoryStore satisfies it). */
export interface ScanAdvisories extends AdvisoryLookup, CoverageLookup {
  status(): Promise<VulnDbStatus>;
}

export interface ScanResult extends Assessment {
  /** The image as named by the caller (`docker://…`, `oci:…`). */
  readonly image: string;
  readonly index: ImageIndex;
  /** Null when no advisory database was given. */
  readonly database: VulnDbStatus | null;
  /** Whether the data can back the grade, and its age (no grade without data). */
  readonly coverage: DataCoverage;
}

export interface ScanOptions extends Omit<IndexStepOptions, 'indexer'> {
  /** How the result names the image. */
  readonly image: string;
  readonly advisories: ScanAdvisories | null;
  readonly now?: () => number;
  /** Data older than this gives `?` (default 7 days). */
  readonly maxDataAgeMs?: number;
}

/**
 * Steps 1–3 for one image. Without the registry's history an advisory without a release
 * date counts from now.
 */
export async function scanImage(source: ImageSource, options: ScanOptions): Promise<ScanResult> {
  const { image, advisories, now, maxDataAgeMs, ...indexing } = options;
  const index = await indexStep(source, indexing);
  const assessment = await assess(index, advisories, { now: now ?? Date.now });
  const coverage = advisories === null ? noDatabase(maxDataAgeMs) : await checkCoverage(index, advisories, assessment.grade.asOf, maxDataAgeMs);
  return { image, index, ...assessment, database: advisories === null ? null : await advisories.status(), coverage };
}
