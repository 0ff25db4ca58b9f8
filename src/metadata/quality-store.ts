// The image quality seam: per manifest digest the index (packages, os, secrets), its
// status, the findings cache with the advisory database revision it was computed at, the
// grade and its timeline; and the indexing job queue, shared by every replica. SQL
// implementation (SQLite and PostgreSQL, migration 4): sql-quality-store.ts.
import type { Ecosystem, Finding, GradeLetter, GradeReport, ImageIndex, OsRelease } from '../core/quality.ts';

export type IndexStatus = 'queued' | 'indexing' | 'indexed' | 'failed';

export interface StoredImage {
  readonly manifestDigest: string;
  readonly repository: string;
  readonly status: IndexStatus;
  readonly error: string | null;
  /** Present once indexed. */
  readonly index: ImageIndex | null;
  readonly updatedAt: number;
}

export interface StoredMatch {
  readonly revision: number;
  readonly findings: Finding[];
  readonly unfixed: Finding[];
  /** When each advisory (source\u0000id) was first seen applying to the image. */
  readonly firstSeen: Record<string, number>;
  readonly computedAt: number;
}

export interface StoredGrade {
  readonly report: GradeReport;
  readonly notifiedGrade: GradeLetter | null;
  readonly notifiedCriticals: string[];
}

export interface IndexJob {
  readonly id: number;
  readonly manifestDigest: string;
  readonly repository: string;
  /** Including this one. */
  readonly attempts: number;
}

export interface QualityStore {
  /**
   * Queues indexing of a manifest unless it is indexed (or queued) already: content
   * addressed, so a digest pushed again or to another repository is not indexed twice. A
   * failed image, or any with `force`, is queued again. Returns whether a job was queued.
   */
  enqueue(repository: string, digest: string, now: number, options?: { force?: boolean }): Promise<boolean>;
  /**
   * Claims the next due job for `worker` (oldest due first): one unclaimed, or claimed
   * longer ago than `leaseMs` (its worker died), whose time has come. Two workers never
   * claim the same job, and a claim in progress elsewhere does not hold this one up.
   * The image's status becomes `indexing`; the job's attempts count this claim.
   */
  claimJob(worker: string, now: number, leaseMs: number): Promise<IndexJob | null>;
  /** Releases every claim (at start-up, when this process is the database's only worker). */
  releaseClaims(): Promise<void>;
  /** Stores the index and removes the job, atomically; findings of an older index go. */
  completeJob(job: IndexJob, index: ImageIndex, now: number): Promise<void>;
  /** A failed attempt: retried at `retryAt`, or given up (status failed) when null. */
  failJob(job: IndexJob, error: string, now: number, retryAt: number | null): Promise<void>;
  getImage(digest: string): Promise<StoredImage | null>;
  /** Indexed images whose findings are missing or older than `revision`, a page at a time. */
  staleImages(revision: number, limit: number): Promise<string[]>;
  getMatch(digest: string): Promise<StoredMatch | null>;
  /** Stores a match and the grade computed from it, atomically. */
  saveMatch(digest: string, match: StoredMatch, report: GradeReport): Promise<void>;
  saveGrade(digest: string, report: GradeReport): Promise<void>;
  getGrade(digest: string): Promise<StoredGrade | null>;
  /** Grades whose timeline says they have dropped by `now`. */
  gradesDue(now: number, limit: number): Promise<string[]>;
  /** Remembers what was last announced, so each drop and each new Critical is announced once. */
  markNotified(digest: string, grade: GradeLetter, criticals: readonly string[]): Promise<void>;
  /**
   * Image manifests to index again, in digest order after `after`, a page at a time:
   * those stored before indexing existed (never queued: `indexed` false) and those indexed
   * by another indexer version. Candidates only: a manifest never queued may still be an
   * artifact, which the caller checks.
   */
  reindexCandidates(indexerVersion: string, after: string | null, limit: number): Promise<{ readonly digest: string; readonly repository: string; readonly indexed: boolean }[]>;
  /**
   * What the indexed images need from advisory data: their distinct operating systems
   * and the package ecosystems present (so the updater fetches only what is needed).
   */
  storedNeeds(): Promise<{ readonly oses: OsRelease[]; readonly ecosystems: Ecosystem[] }>;
  /** Counts by status (for metrics and health). */
  statusCounts(): Promise<Record<IndexStatus, number>>;
}
