// QualityStore over the SqlClient seam (migration 4), one code path for SQLite and
// PostgreSQL.
import type { SqlClient } from './sql-client.ts';
import type { Ecosystem, Finding, GradeLetter, GradeReport, ImageIndex, IndexedLayer, InstalledPackage, OsRelease, SecretFinding } from '../core/quality.ts';
import type { IndexJob, IndexStatus, QualityStore, StoredGrade, StoredImage, StoredMatch } from './quality-store.ts';

interface ImageRow {
  manifest_digest: string;
  repository: string;
  status: string;
  error: string | null;
  os: string | null;
  packages: string | null;
  secrets: string | null;
  layers: string | null;
  indexer_version: string | null;
  indexed_at: number | null;
  updated_at: number;
}

export class SqlQualityStore implements QualityStore {
  private readonly sql: SqlClient;

  constructor(sql: SqlClient) {
    this.sql = sql;
  }

  /**
   * Queues indexing of a manifest unless it is indexed (or queued) already: content
   * addressed, so a digest pushed again or to another repository is not indexed twice.
   * Returns whether a job was queued.
   */
  async enqueue(repository: string, digest: string, now: number, options: { force?: boolean } = {}): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      const existing = (await tx.query<{ status: string }>('SELECT status FROM quality_images WHERE manifest_digest = ?', [digest]))[0];
      if (existing && !options.force && existing.status !== 'failed') return false;
      await tx.run(
        `INSERT INTO quality_images (manifest_digest, repository, status, updated_at) VALUES (?, ?, 'queued', ?)
         ON CONFLICT (manifest_digest) DO UPDATE SET status = 'queued', error = NULL, repository = excluded.repository, updated_at = excluded.updated_at`,
        [digest, repository, now],
      );
      await tx.run(
        `INSERT INTO quality_jobs (manifest_digest, repository, attempts, run_after, created_at) VALUES (?, ?, 0, ?, ?)
         ON CONFLICT (manifest_digest) DO UPDATE SET repository = excluded.repository, attempts = 0, run_after = excluded.run_after, claimed_by = NULL, claimed_at = NULL`,
        [digest, repository, now, now],
      );
      return true;
    });
  }

  /**
   * Claims the next due job for `worker`: unclaimed (or claimed longer ago than the lease,
   * by a worker that died) and due. PostgreSQL skips rows another replica is claiming;
   * SQLite's transactions are serialised, which gives the same guarantee.
   */
  async claimJob(worker: string, now: number, leaseMs: number): Promise<IndexJob | null> {
    return this.sql.transaction(async (tx) => {
      const lock = tx.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
      const row = (await tx.query<{ id: number; manifest_digest: string; repository: string; attempts: number }>(
        `SELECT id, manifest_digest, repository, attempts FROM quality_jobs
          WHERE run_after <= ? AND (claimed_at IS NULL OR claimed_at < ?)
          ORDER BY run_after, id LIMIT 1${lock}`,
        [now, now - leaseMs],
      ))[0];
      if (!row) return null;
      await tx.run('UPDATE quality_jobs SET claimed_by = ?, claimed_at = ?, attempts = attempts + 1 WHERE id = ?', [worker, now, row.id]);
      await tx.run(`UPDATE quality_images SET status = 'indexing', updated_at = ? WHERE manifest_digest = ?`, [now, row.manifest_digest]);
      return { id: Number(row.id), manifestDigest: row.manifest_digest, repository: row.repository, attempts: Number(row.attempts) + 1 };
    });
  }

  /** Releases every claim (at start-up, when this process is the database's only worker). */
  async releaseClaims(): Promise<void> {
    await this.sql.run('UPDATE quality_jobs SET claimed_by = NULL, claimed_at = NULL WHERE claimed_at IS NOT NULL');
  }

  /** Stores the index and removes the job, in one transaction. */
  async completeJob(job: IndexJob, index: ImageIndex, now: number): Promise<void> {
    await this.sql.transaction(async (tx) => {
      await tx.run(
        `UPDATE quality_images SET status = 'indexed', error = NULL, os = ?, packages = ?, secrets = ?, layers = ?, indexer_version = ?, indexed_at = ?, updated_at = ?
          WHERE manifest_digest = ?`,
        [JSON.stringify(index.os), JSON.stringify(index.packages), JSON.stringify(index.secrets), JSON.stringify(index.layers), index.indexerVersion, index.indexedAt, now, job.manifestDigest],
      );
      // Findings of an older index no longer describe these packages.
      await tx.run('DELETE FROM quality_findings WHERE manifest_digest = ?', [job.manifestDigest]);
      await tx.run('DELETE FROM quality_jobs WHERE id = ?', [job.id]);
    });
  }

  async reindexCandidates(indexerVersion: string, after: string | null, limit: number): Promise<{ readonly digest: string; readonly repository: string; readonly indexed: boolean }[]> {
    const rows = await this.sql.query<{ digest: string; repository: string; status: string | null }>(
      `SELECT m.digest AS digest, MIN(r.name) AS repository, q.status AS status
         FROM manifests m
         JOIN repository_manifests rm ON rm.digest = m.digest
         JOIN repositories r ON r.id = rm.repository_id
         LEFT JOIN quality_images q ON q.manifest_digest = m.digest
        WHERE m.digest > ? AND m.media_type IN (?, ?) AND (m.artifact_type IS NULL OR m.artifact_type IN (?, ?))
          AND (q.manifest_digest IS NULL OR (q.status = 'indexed' AND (q.indexer_version IS NULL OR q.indexer_version <> ?)))
        GROUP BY m.digest, q.status
        ORDER BY m.digest
        LIMIT ?`,
      // An image's artifact type is its configuration's media type (the referrers API's fallback).
      [after ?? '', 'application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json', indexerVersion, limit],
    );
    return rows.map((row) => ({ digest: row.digest, repository: row.repository, indexed: row.status !== null }));
  }

  async storedNeeds(): Promise<{ readonly oses: OsRelease[]; readonly ecosystems: Ecosystem[] }> {
    const rows = await this.sql.query<{ os: string }>(`SELECT DISTINCT os FROM quality_images WHERE status = 'indexed' AND os IS NOT NULL AND os <> 'null'`);
    const ecosystems: Ecosystem[] = [];
    for (const ecosystem of ['deb', 'rpm', 'apk', 'npm', 'pypi', 'golang', 'maven'] as const) {
      // Package lists are JSON whose objects start with their ecosystem: one LIKE probe each,
      // stopping at the first image that has one, instead of reading every list.
      const found = await this.sql.query(`SELECT 1 AS found FROM quality_images WHERE status = 'indexed' AND packages LIKE ? LIMIT 1`, [`%"ecosystem":"${ecosystem}"%`]);
      if (found.length > 0) ecosystems.push(ecosystem);
    }
    return { oses: rows.map((row) => JSON.parse(row.os) as OsRelease), ecosystems };
  }

  /** A failed attempt: retried at `retryAt`, or given up (status failed) when null. */
  async failJob(job: IndexJob, error: string, now: number, retryAt: number | null): Promise<void> {
    await this.sql.transaction(async (tx) => {
      if (retryAt === null) {
        await tx.run('DELETE FROM quality_jobs WHERE id = ?', [job.id]);
        await tx.run(`UPDATE quality_images SET status = 'failed', error = ?, updated_at = ? WHERE manifest_digest = ?`, [error, now, job.manifestDigest]);
      } else {
        await tx.run('UPDATE quality_jobs SET claimed_by = NULL, claimed_at = NULL, run_after = ?, last_error = ? WHERE id = ?', [retryAt, error, job.id]);
        await tx.run(`UPDATE quality_images SET status = 'queued', error = ?, updated_at = ? WHERE manifest_digest = ?`, [error, now, job.manifestDigest]);
      }
    });
  }

  async getImage(digest: string): Promise<StoredImage | null> {
    const row = (await this.sql.query<ImageRow>('SELECT * FROM quality_images WHERE manifest_digest = ?', [digest]))[0];
    return row ? toImage(row) : null;
  }

  /** Indexed images whose findings are missing or older than `revision`, a page at a time. */
  async staleImages(revision: number, limit: number): Promise<string[]> {
    const rows = await this.sql.query<{ manifest_digest: string }>(
      `SELECT i.manifest_digest FROM quality_images i LEFT JOIN quality_findings f ON f.manifest_digest = i.manifest_digest
        WHERE i.status = 'indexed' AND (f.manifest_digest IS NULL OR f.db_revision < ?)
        ORDER BY i.manifest_digest LIMIT ?`,
      [revision, limit],
    );
    return rows.map((row) => row.manifest_digest);
  }

  async getMatch(digest: string): Promise<StoredMatch | null> {
    const row = (await this.sql.query<{ db_revision: number; findings: string; unfixed: string; first_seen: string; computed_at: number }>(
      'SELECT db_revision, findings, unfixed, first_seen, computed_at FROM quality_findings WHERE manifest_digest = ?',
      [digest],
    ))[0];
    if (!row) return null;
    return {
      revision: Number(row.db_revision),
      findings: JSON.parse(row.findings) as Finding[],
      unfixed: JSON.parse(row.unfixed) as Finding[],
      firstSeen: JSON.parse(row.first_seen) as Record<string, number>,
      computedAt: Number(row.computed_at),
    };
  }

  /** Stores a match and the grade computed from it, in one transaction. */
  async saveMatch(digest: string, match: StoredMatch, report: GradeReport): Promise<void> {
    await this.sql.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO quality_findings (manifest_digest, db_revision, findings, unfixed, first_seen, computed_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (manifest_digest) DO UPDATE SET db_revision = excluded.db_revision, findings = excluded.findings, unfixed = excluded.unfixed,
           first_seen = excluded.first_seen, computed_at = excluded.computed_at`,
        [digest, match.revision, JSON.stringify(match.findings), JSON.stringify(match.unfixed), JSON.stringify(match.firstSeen), match.computedAt],
      );
      await upsertGrade(tx, digest, report);
    });
  }

  async saveGrade(digest: string, report: GradeReport): Promise<void> {
    await upsertGrade(this.sql, digest, report);
  }

  async getGrade(digest: string): Promise<StoredGrade | null> {
    const row = (await this.sql.query<{ report: string; notified_grade: string | null; notified_criticals: string | null }>(
      'SELECT report, notified_grade, notified_criticals FROM quality_grades WHERE manifest_digest = ?',
      [digest],
    ))[0];
    if (!row) return null;
    return {
      report: JSON.parse(row.report) as GradeReport,
      notifiedGrade: (row.notified_grade as GradeLetter | null) ?? null,
      notifiedCriticals: row.notified_criticals === null ? [] : (JSON.parse(row.notified_criticals) as string[]),
    };
  }

  /** Grades whose timeline says they have dropped by `now`. */
  async gradesDue(now: number, limit: number): Promise<string[]> {
    const rows = await this.sql.query<{ manifest_digest: string }>(
      'SELECT manifest_digest FROM quality_grades WHERE next_at IS NOT NULL AND next_at <= ? ORDER BY next_at LIMIT ?',
      [now, limit],
    );
    return rows.map((row) => row.manifest_digest);
  }

  /** Remembers what was last announced, so each drop and each new Critical is announced once. */
  async markNotified(digest: string, grade: GradeLetter, criticals: readonly string[]): Promise<void> {
    await this.sql.run('UPDATE quality_grades SET notified_grade = ?, notified_criticals = ? WHERE manifest_digest = ?', [grade, JSON.stringify(criticals), digest]);
  }

  /** Counts by status (for metrics and health). */
  async statusCounts(): Promise<Record<IndexStatus, number>> {
    const counts: Record<IndexStatus, number> = { queued: 0, indexing: 0, indexed: 0, failed: 0 };
    for (const row of await this.sql.query<{ status: string; n: number }>('SELECT status, COUNT(*) AS n FROM quality_images GROUP BY status')) {
      counts[row.status as IndexStatus] = Number(row.n);
    }
    return counts;
  }
}

async function upsertGrade(sql: Pick<SqlClient, 'run'>, digest: string, report: GradeReport): Promise<void> {
  await sql.run(
    `INSERT INTO quality_grades (manifest_digest, grade, report, next_at, computed_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (manifest_digest) DO UPDATE SET grade = excluded.grade, report = excluded.report, next_at = excluded.next_at, computed_at = excluded.computed_at`,
    [digest, report.grade, JSON.stringify(report), report.next?.at ?? null, report.asOf],
  );
}

function toImage(row: ImageRow): StoredImage {
  const indexed = row.packages !== null && row.indexed_at !== null;
  return {
    manifestDigest: row.manifest_digest,
    repository: row.repository,
    status: row.status as IndexStatus,
    error: row.error,
    updatedAt: Number(row.updated_at),
    index: indexed
      ? {
          manifestDigest: row.manifest_digest,
          os: row.os === null ? null : (JSON.parse(row.os) as OsRelease | null),
          packages: JSON.parse(row.packages!) as InstalledPackage[],
          secrets: row.secrets === null ? [] : (JSON.parse(row.secrets) as SecretFinding[]),
          layers: row.layers === null ? [] : (JSON.parse(row.layers) as IndexedLayer[]),
          indexerVersion: row.indexer_version ?? '',
          indexedAt: Number(row.indexed_at),
        }
      : null,
  };
}
