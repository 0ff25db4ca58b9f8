// Image quality in the registry: every pushed image manifest is queued for indexing; an
// in-process worker indexes it from the registry's own stores, matches the packages
// against the advisory database and grades the image. When the database revision
// changes, the stored package lists are matched again (no layer is read twice), and as
// errata age, grades drop on schedule. A finished scan, a drop and a new Critical finding
// are published as domain events (scan.completed, grade.dropped, vulnerability.found);
// webhooks deliver them, `quality.notifyUrl` being one such hook. Reads for the API go
// through here too, so what is served is always matched against the current database and
// graded for today. Indexing one image is
// bounded (inflated bytes, entries, a time budget): an image past a bound is reported
// "not indexed" with the bound, and the queue moves on. Indexing, matching and grading
// are the scan pipeline's steps (scan-pipeline.ts), the same the CLI's scans run.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { digestOf } from '../core/digest.ts';
import { NotFound, RegistryError } from '../core/errors.ts';
import { EMPTY_JSON_CONTENT, EMPTY_JSON_DIGEST, MediaType } from '../core/media-types.ts';
import type { Finding, GradeLetter, GradeReport, ImageIndex } from '../core/quality.ts';
import type { Logger } from '../observability/logger.ts';
import type { Registry } from '../registry/registry.ts';
import { DEFAULT_INDEX_LIMITS, DEFAULT_TIME_BUDGET_MS, IndexLimitError, type IndexLimits } from './indexer/index-limits.ts';
import { notIndexedReason, type Indexer } from './indexing-budget.ts';
import { isImageManifest, requireImageManifest } from './manifest-kind.ts';
import type { AdvisoryLookup } from './matching/matcher.ts';
import { errataFrom, type ErrataReport } from './matching/errata.ts';
import { gradeOn } from './matching/grade.ts';
import { assess, indexStep, judgeStep } from './scan-pipeline.ts';
import { INDEXER_VERSION } from './indexer/index-image.ts';
import { indexPlatforms, type IndexPlatform } from './platform-aggregate.ts';
import { checkCoverage, gradeView, type CoverageLookup, type GradeView } from './coverage.ts';
import { RegistryImageSource } from './registry-image-source.ts';
import type { IndexJob, IndexStatus, QualityStore, StoredMatch } from '../metadata/quality-store.ts';
import { NO_EVENTS, type EventPublisher, type EventSubscriber } from '../core/events.ts';
import type { JobScheduler } from '../jobs/job-scheduler.ts';
import { TimerScheduler } from '../jobs/timer-scheduler.ts';

/** The scheduler jobs of image quality: re-matching when the advisory database changed,
 * and re-grading as errata age. */
export const REMATCH_JOB = 'quality.rematch';
export const REGRADE_JOB = 'quality.regrade';

/** The advisory database as the service needs it: lookups and a revision that changes
 * whenever the data does (AdvisoryStore satisfies it). */
export interface QualityAdvisories extends AdvisoryLookup, CoverageLookup {
  revision(): Promise<number>;
}

export interface QualityNotice {
  readonly event: 'grade-dropped' | 'new-critical';
  readonly repository: string;
  readonly digest: string;
  readonly grade: GradeLetter;
  readonly previousGrade: GradeLetter | null;
  /** The Critical advisories that appeared (new-critical). */
  readonly advisories: readonly string[];
  readonly at: string;
}

export interface QualityServiceOptions {
  readonly store: QualityStore;
  readonly registry: Registry;
  readonly advisories: QualityAdvisories;
  readonly logger: Logger;
  /** Images indexed at once by this process (quality.workers). */
  readonly workers?: number;
  /** Where scan results, grade drops and new Critical findings are announced. */
  readonly events?: EventPublisher | undefined;
  /** How often grades are re-read for ageing (quality.recheckInterval). */
  readonly recheckIntervalMs?: number;
  /** How often the database revision and other replicas' jobs are polled. */
  readonly pollIntervalMs?: number;
  readonly maxAttempts?: number;
  /** A claim older than this is taken over (its worker died). */
  readonly leaseMs?: number;
  /** Whether this process is the database's only worker (SQLite): stale claims are released at start. */
  readonly soleWorker?: boolean;
  readonly clock?: () => number;
  /** Bounds on what one image may inflate and hold (quality.maxLayerBytes, maxImageBytes, maxEntries). */
  readonly limits?: IndexLimits;
  /** Advisory data older than this gives `?` instead of a grade (vulndb.maxAge). */
  readonly maxDataAgeMs?: number;
  /** How long one image may be indexed before it is abandoned (quality.timeBudget). */
  readonly timeBudgetMs?: number;
  /** The indexer (tests replace it). */
  readonly indexer?: Indexer;
  /** Also hands each notice to this function (tests), besides the events. */
  readonly notify?: (notice: QualityNotice) => Promise<void>;
  /** Where the re-match and re-grade jobs run; without one, start() runs them on a
   * scheduler of its own, stopped by stop(). */
  readonly scheduler?: JobScheduler | undefined;
}

export interface ImageStatus {
  readonly digest: string;
  readonly status: IndexStatus;
  readonly error: string | null;
  readonly indexedAt: number | null;
  readonly indexerVersion: string | null;
  /** The advisory database revision the findings were matched at. */
  readonly databaseRevision: number | null;
  readonly updatedAt: number;
}

export interface CurrentFindings {
  readonly revision: number;
  readonly findings: readonly Finding[];
  readonly unfixed: readonly Finding[];
  readonly computedAt: number;
}

export type SbomFormat = 'spdx' | 'cyclonedx';

export const SBOM_MEDIA_TYPES: Readonly<Record<SbomFormat, string>> = {
  spdx: 'application/spdx+json',
  cyclonedx: 'application/vnd.cyclonedx+json',
};

const BACKOFF_BASE_MS = 5_000;
const BACKOFF_MAX_MS = 15 * 60_000;
const PAGE = 100;

/** How a stored match keys an advisory's first sighting. */
function findingKey(finding: Finding): string {
  return `${finding.source}\u0000${finding.advisoryId}`;
}

function isCritical(finding: Finding): boolean {
  return finding.severity === 'Critical' || (finding.vendorSeverity ?? '').toLowerCase() === 'critical';
}

const GRADE_ORDER = 'ABCDEF';

export class QualityService {
  private readonly store: QualityStore;
  private readonly registry: Registry;
  private readonly advisories: QualityAdvisories;
  private readonly logger: Logger;
  private readonly options: QualityServiceOptions;
  private readonly now: () => number;
  private readonly events: EventPublisher;
  private readonly workerId = randomUUID();
  private running = false;
  private loops: Promise<void>[] = [];
  private wake: (() => void) | null = null;
  private jobsRegistered = false;
  private ownScheduler: TimerScheduler | null = null;
  /** One refresh per digest at a time (a read and the worker may both ask). */
  private readonly refreshing = new Map<string, Promise<void>>();
  private lastRevision = -1;
  private maintenance: Promise<void> = Promise.resolve();

  constructor(options: QualityServiceOptions) {
    this.store = options.store;
    this.registry = options.registry;
    this.advisories = options.advisories;
    this.logger = options.logger;
    this.options = options;
    this.now = options.clock ?? Date.now;
    this.events = options.events ?? NO_EVENTS;
  }

  // ---- the registry's events -------------------------------------------------------------

  /** Queues every pushed manifest (manifest.pushed events) for indexing; returns the unsubscribe. */
  subscribeTo(events: EventSubscriber): () => void {
    return events.subscribe(async (event) => {
      if (event.type === 'manifest.pushed' && this.running) await this.onManifestPushed(event.data.repository, event.data.digest);
    }, ['manifest.pushed']);
  }

  /**
   * Called after every manifest push: queues an image manifest for indexing (an index's
   * images are pushed, and queued, one by one; artifacts such as signatures and SBOMs
   * have no file system). Never throws: a push must not fail because of quality.
   */
  async onManifestPushed(repository: string, digest: string): Promise<void> {
    try {
      const record = await this.registry.getManifest(repository, digest);
      if (!isImageManifest(record.mediaType, record.content)) return;
      if (await this.store.enqueue(repository, digest, this.now())) this.wake?.();
    } catch (error) {
      this.logger.warn('quality: could not queue an image for indexing', { repository, digest, error: (error as Error).message });
    }
  }

  // ---- the worker ----------------------------------------------------------------------

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    if (this.options.soleWorker) await this.store.releaseClaims();
    for (let i = 0; i < Math.max(1, this.options.workers ?? 1); i++) this.loops.push(this.workLoop());
    this.registerJobs();
    // Catch up at start: a database imported, or grades that aged, while we were down.
    void this.schedule(async () => {
      await this.rematchIfDatabaseChanged();
      await this.regradeDue();
    });
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.ownScheduler?.stop();
    this.ownScheduler = null;
    this.wake?.();
    await Promise.all(this.loops);
    this.loops = [];
    await this.maintenance;
  }

  /** The periodic work, as jobs on the scheduler; each runs only while the worker does. */
  private registerJobs(): void {
    let scheduler = this.options.scheduler;
    if (!scheduler) scheduler = this.ownScheduler = new TimerScheduler();
    else if (this.jobsRegistered) return;
    this.jobsRegistered = true;
    const poll = this.options.pollIntervalMs ?? 30_000;
    const recheck = this.options.recheckIntervalMs ?? 3_600_000;
    scheduler.register({ name: REMATCH_JOB, intervalMs: poll, run: () => (this.running ? this.schedule(() => this.rematchIfDatabaseChanged()) : Promise.resolve()) });
    scheduler.register({ name: REGRADE_JOB, intervalMs: recheck, run: () => (this.running ? this.schedule(() => this.regradeDue()) : Promise.resolve()) });
    this.ownScheduler?.start();
  }

  /** Runs periodic work one task at a time, off the caller's path; resolves when it ran. */
  private schedule(task: () => Promise<unknown>): Promise<void> {
    this.maintenance = this.maintenance.then(task).then(() => {}, (error: unknown) => {
      this.logger.error('quality: background task failed', { error: (error as Error).message });
    });
    return this.maintenance;
  }

  private async workLoop(): Promise<void> {
    const poll = this.options.pollIntervalMs ?? 30_000;
    while (this.running) {
      let job: IndexJob | null = null;
      try {
        job = await this.store.claimJob(this.workerId, this.now(), this.options.leaseMs ?? 30 * 60_000);
      } catch (error) {
        this.logger.error('quality: claiming a job failed', { error: (error as Error).message });
      }
      if (job === null) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => { this.wake = null; resolve(); }, poll);
          timer.unref();
          this.wake = () => { clearTimeout(timer); this.wake = null; resolve(); };
        });
        continue;
      }
      await this.runJob(job);
    }
  }

  private async runJob(job: IndexJob): Promise<void> {
    const started = this.now();
    const source = new RegistryImageSource(this.registry, job.repository, job.manifestDigest);
    let index: ImageIndex;
    try {
      index = await indexStep(source, {
        limits: this.options.limits ?? DEFAULT_INDEX_LIMITS,
        timeBudgetMs: this.options.timeBudgetMs ?? DEFAULT_TIME_BUDGET_MS,
        ...(this.options.indexer === undefined ? {} : { indexer: this.options.indexer }),
      });
    } catch (error) {
      // Past a bound, the same image fails the same way again: no retry. It is indexed
      // again when pushed again (after the operator raised the bound, say).
      const bounded = error instanceof IndexLimitError;
      const message = bounded ? notIndexedReason(error) : (error as Error).message;
      const maxAttempts = this.options.maxAttempts ?? 5;
      // A manifest deleted meanwhile will not come back: no point retrying.
      const gone = error instanceof NotFound && (error.subject === 'manifest' || error.subject === 'blob' || error.subject === 'repository');
      const retryAt = gone || bounded || job.attempts >= maxAttempts ? null : this.now() + Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (job.attempts - 1));
      this.logger.warn(bounded ? 'quality: image not indexed' : 'quality: indexing failed', { repository: job.repository, digest: job.manifestDigest, attempt: job.attempts, retry: retryAt !== null, ms: this.now() - started, error: message });
      await this.store.failJob(job, message, this.now(), retryAt);
      return;
    } finally {
      await source.close();
    }
    await this.store.completeJob(job, index, this.now());
    this.logger.info('quality: image indexed', {
      repository: job.repository, digest: job.manifestDigest, packages: index.packages.length, secrets: index.secrets.length, ms: this.now() - started,
    });
    try {
      await this.refresh(job.manifestDigest);
      const grade = await this.store.getGrade(job.manifestDigest);
      this.events.publish('scan.completed', { repository: job.repository, digest: job.manifestDigest, grade: grade?.report.grade });
    } catch (error) {
      this.logger.error('quality: matching failed', { digest: job.manifestDigest, error: (error as Error).message });
    }
  }

  // ---- matching and grading ------------------------------------------------------------

  /** Matches the stored packages against the current database, grades, and announces changes. */
  async refresh(digest: string): Promise<void> {
    const pending = this.refreshing.get(digest);
    if (pending) return pending;
    const work = this.doRefresh(digest).finally(() => this.refreshing.delete(digest));
    this.refreshing.set(digest, work);
    return work;
  }

  private async doRefresh(digest: string): Promise<void> {
    const image = await this.store.getImage(digest);
    if (!image?.index) return;
    const revision = await this.advisories.revision();
    const previous = await this.store.getMatch(digest);
    // The pipeline reads the clock once matching is done; advisories without a release
    // date age from when they were first seen here (now, for the ones new this time).
    let now = 0;
    const { match: result, grade: report } = await assess(image.index, this.advisories, {
      now: () => (now = this.now()),
      undatedSince: (finding) => previous?.firstSeen[findingKey(finding)] ?? now,
    });
    const firstSeen: Record<string, number> = {};
    for (const finding of [...result.findings, ...result.unfixed]) firstSeen[findingKey(finding)] = previous?.firstSeen[findingKey(finding)] ?? now;
    const match: StoredMatch = { revision, findings: result.findings, unfixed: result.unfixed, firstSeen, computedAt: now };
    await this.store.saveMatch(digest, match, report);
    await this.announce(image.repository, digest, report, match.findings);
  }

  private gradeMatch(match: StoredMatch, at: number): GradeReport {
    return judgeStep(match.findings, at, (finding) => match.firstSeen[findingKey(finding)] ?? match.computedAt).grade;
  }

  /** Re-matches every stored image when the advisory database has changed. */
  async rematchIfDatabaseChanged(): Promise<number> {
    const revision = await this.advisories.revision();
    if (revision === this.lastRevision) return 0;
    let count = 0;
    for (;;) {
      const stale = await this.store.staleImages(revision, PAGE);
      if (stale.length === 0) break;
      for (const digest of stale) {
        await this.refresh(digest);
        count++;
      }
      if (stale.length < PAGE) break;
    }
    this.lastRevision = revision;
    if (count > 0) this.logger.info('quality: images re-matched against the advisory database', { revision, images: count });
    return count;
  }

  /**
   * Queues for indexing, in the background, image manifests stored before indexing existed
   * and those indexed by an older indexer: each index carries its analyzer version, and
   * what an older one missed is found only by reading the image again.
   */
  async reindexOutdated(): Promise<number> {
    let after: string | null = null;
    let queued = 0;
    for (;;) {
      const page = await this.store.reindexCandidates(INDEXER_VERSION, after, PAGE);
      for (const candidate of page) {
        if (!candidate.indexed) {
          const record = await this.registry.getManifest(candidate.repository, candidate.digest).catch(() => null);
          if (!record || !isImageManifest(record.mediaType, record.content)) continue;
        }
        if (await this.store.enqueue(candidate.repository, candidate.digest, this.now(), { force: candidate.indexed })) queued++;
      }
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.digest;
    }
    if (queued > 0) {
      this.logger.info('quality: images queued to be indexed again (new indexer, or stored before indexing)', { images: queued });
      this.wake?.();
    }
    return queued;
  }

  /** Recomputes grades whose timeline says they have dropped, and announces the drops. */
  async regradeDue(): Promise<number> {
    const now = this.now();
    let count = 0;
    for (;;) {
      const due = await this.store.gradesDue(now, PAGE);
      if (due.length === 0) break;
      for (const digest of due) {
        const match = await this.store.getMatch(digest);
        const image = await this.store.getImage(digest);
        if (!match || !image) continue;
        const report = this.gradeMatch(match, now);
        await this.store.saveGrade(digest, report);
        await this.announce(image.repository, digest, report, match.findings);
        count++;
      }
      if (due.length < PAGE) break;
    }
    return count;
  }

  private async announce(repository: string, digest: string, report: GradeReport, findings: readonly Finding[]): Promise<void> {
    const stored = await this.store.getGrade(digest);
    const previousGrade = stored?.notifiedGrade ?? null;
    const criticals = [...new Set(findings.filter(isCritical).map((finding) => finding.advisoryId))].sort();
    const known = new Set(stored?.notifiedCriticals ?? []);
    const appeared = criticals.filter((id) => !known.has(id));
    const at = new Date(this.now()).toISOString();
    const notices: QualityNotice[] = [];
    if (previousGrade !== null && GRADE_ORDER.indexOf(report.grade) > GRADE_ORDER.indexOf(previousGrade)) {
      notices.push({ event: 'grade-dropped', repository, digest, grade: report.grade, previousGrade, advisories: [], at });
    }
    if (appeared.length > 0) notices.push({ event: 'new-critical', repository, digest, grade: report.grade, previousGrade, advisories: appeared, at });
    for (const notice of notices) await this.deliver(notice);
    if (previousGrade !== report.grade || appeared.length > 0 || criticals.length !== known.size) await this.store.markNotified(digest, report.grade, criticals);
  }

  private async deliver(notice: QualityNotice): Promise<void> {
    const { repository, digest } = notice;
    if (notice.event === 'grade-dropped') this.events.publish('grade.dropped', { repository, digest, from: notice.previousGrade ?? '', to: notice.grade });
    else this.events.publish('vulnerability.found', { repository, digest, advisories: notice.advisories, grade: notice.grade, previousGrade: notice.previousGrade });
    try {
      await this.options.notify?.(notice);
    } catch (error) {
      this.logger.warn('quality: notification failed', { event: notice.event, digest: notice.digest, error: (error as Error).message });
    }
  }

  // ---- reads (the API) -------------------------------------------------------------------

  /**
   * The indexing status of a manifest the caller may read in `repository`. An image
   * pushed before indexing was enabled is queued on first ask.
   */
  async status(repository: string, digest: string): Promise<ImageStatus> {
    let image = await this.store.getImage(digest);
    if (!image) {
      await requireImageManifest(this.registry, repository, digest);
      await this.store.enqueue(repository, digest, this.now());
      this.wake?.();
      image = await this.store.getImage(digest);
      if (!image) throw new RegistryError('NOT_FOUND', `${digest} is not indexed`);
    }
    const match = image.index ? await this.store.getMatch(digest) : null;
    return {
      digest,
      status: image.status,
      error: image.error,
      indexedAt: image.index?.indexedAt ?? null,
      indexerVersion: image.index?.indexerVersion ?? null,
      databaseRevision: match?.revision ?? null,
      updatedAt: image.updatedAt,
    };
  }

  /** The index of an indexed image; CONFLICT (409) while it is not indexed yet. */
  async index(repository: string, digest: string): Promise<ImageIndex> {
    const image = await this.store.getImage(digest);
    if (image?.index) return image.index;
    const status = await this.status(repository, digest);
    const failure = status.error?.startsWith('not indexed:') ? `${digest} ${status.error}` : `indexing ${digest} failed: ${status.error ?? 'unknown error'}`;
    throw new RegistryError('CONFLICT', status.status === 'failed' ? failure : `${digest} is not indexed yet (${status.status})`, {
      detail: { status: status.status },
    });
  }

  /** Findings against the current database revision (re-matched first if it moved on). */
  async findings(repository: string, digest: string): Promise<CurrentFindings> {
    await this.index(repository, digest);
    let match = await this.store.getMatch(digest);
    const revision = await this.advisories.revision();
    if (!match || match.revision < revision) {
      await this.refresh(digest);
      match = await this.store.getMatch(digest);
    }
    if (!match) throw new RegistryError('CONFLICT', `${digest} has not been matched yet`);
    return { revision: match.revision, findings: match.findings, unfixed: match.unfixed, computedAt: match.computedAt };
  }

  async errata(repository: string, digest: string): Promise<ErrataReport & { readonly revision: number }> {
    const current = await this.findings(repository, digest);
    return { revision: current.revision, ...errataFrom(current.findings) };
  }

  /** The grade for now (not for when it was computed): errata age while nobody looks.
   * `?` with the reason when the advisory data cannot back a letter; always with its age. */
  async grade(repository: string, digest: string): Promise<GradeView & { readonly revision: number }> {
    const current = await this.findings(repository, digest);
    const index = await this.index(repository, digest);
    const match = (await this.store.getMatch(digest))!;
    const now = this.now();
    const stored = await this.store.getGrade(digest);
    // The stored timeline answers for any later instant; recomputing gives the same
    // answer and a timeline that starts today.
    const report = this.gradeMatch(match, now);
    if (stored && gradeOn(stored.report, now) !== report.grade) await this.store.saveGrade(digest, report);
    const coverage = await checkCoverage(index, this.advisories, now, this.options.maxDataAgeMs);
    return { revision: current.revision, ...gradeView(report, coverage) };
  }

  /** The platforms of a multi-platform index in `repository`; null when the manifest is not an index. */
  async platformsOf(repository: string, digest: string): Promise<IndexPlatform[] | null> {
    const record = await this.registry.getManifest(repository, digest);
    return indexPlatforms(record.content);
  }

  /** Throws MANIFEST_UNKNOWN unless the repository holds the manifest. */
  async manifestIn(repository: string, digest: string): Promise<void> {
    await this.registry.headManifest(repository, digest);
  }

  /** The image's SBOM in SPDX 2.3 or CycloneDX 1.6 JSON. */
  async sbom(repository: string, digest: string, format: SbomFormat): Promise<{ readonly mediaType: string; readonly document: unknown }> {
    const index = await this.index(repository, digest);
    // Loaded on demand: only SBOM requests pay for the exporters.
    const sbom = await import('./sbom.ts');
    // Dated by the index, so the same image gives the same document every time.
    const options = { name: `${repository}@${digest}`, created: index.indexedAt };
    const document = format === 'spdx' ? sbom.toSpdx(index, options) : sbom.toCycloneDx(index, options);
    return { mediaType: SBOM_MEDIA_TYPES[format], document };
  }

  /**
   * Stores the SBOM as an OCI artifact whose subject is the image, in the same
   * repository, so `referrers` lists it and it is copied and collected with the image.
   */
  async attachSbom(repository: string, digest: string, format: SbomFormat): Promise<{ readonly digest: string; readonly artifactType: string; readonly size: number }> {
    const subject = await this.registry.headManifest(repository, digest);
    const { mediaType, document } = await this.sbom(repository, digest, format);
    const body = Buffer.from(JSON.stringify(document));
    const blobDigest = digestOf(body);
    await this.registry.uploadMonolithic(repository, blobDigest, Readable.from([body]), body.byteLength);
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      artifactType: mediaType,
      config: { mediaType: MediaType.OciEmpty, digest: EMPTY_JSON_DIGEST, size: EMPTY_JSON_CONTENT.byteLength },
      layers: [{ mediaType, digest: blobDigest, size: body.byteLength }],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      annotations: { 'org.opencontainers.image.created': new Date(this.now()).toISOString() },
    }));
    const stored = await this.registry.putManifest(repository, digestOf(manifest), MediaType.OciManifest, manifest);
    return { digest: stored.digest, artifactType: mediaType, size: manifest.byteLength };
  }
}
