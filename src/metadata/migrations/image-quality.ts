// Migration 4: image indexes, findings, grades and the indexing job queue.
//
// Everything is keyed by manifest digest, not by repository: content is the same
// wherever it is pushed, so an image is indexed once. Package lists are kept (as JSON:
// they are always read whole, to be re-matched) so that a new advisory database revision
// is matched without downloading a layer again.
import type { Migration } from '../migrations.ts';

export const IMAGE_QUALITY_MIGRATION: Migration = {
  version: 4,
  description: 'image indexes, grades and indexing jobs',
  statements: [
    // What the indexer found, and where indexing stands: queued, indexing, indexed, failed.
    // repository is one repository holding the manifest: the indexer reads blobs through it.
    // Rows go with the manifest: when garbage collection deletes it, its index, findings,
    // grade and job are deleted with it (ON DELETE CASCADE).
    `CREATE TABLE quality_images (
      manifest_digest TEXT PRIMARY KEY REFERENCES manifests(digest) ON DELETE CASCADE,
      repository TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('queued', 'indexing', 'indexed', 'failed')),
      error TEXT,
      os TEXT,
      packages TEXT,
      secrets TEXT,
      layers TEXT,
      indexer_version TEXT,
      indexed_at BIGINT,
      updated_at BIGINT NOT NULL
    )`,
    // The match of the stored packages against advisory database revision db_revision;
    // first_seen dates each advisory's first appearance (for advisories without a date).
    `CREATE TABLE quality_findings (
      manifest_digest TEXT PRIMARY KEY REFERENCES quality_images(manifest_digest) ON DELETE CASCADE,
      db_revision BIGINT NOT NULL,
      findings TEXT NOT NULL,
      unfixed TEXT NOT NULL,
      first_seen TEXT NOT NULL,
      computed_at BIGINT NOT NULL
    )`,
    `CREATE INDEX quality_findings_revision ON quality_findings (db_revision)`,
    // The grade with its timeline; next_at is when it drops next (NULL: it cannot), so
    // ageing is found by an index scan. notified_* remember what was last announced.
    `CREATE TABLE quality_grades (
      manifest_digest TEXT PRIMARY KEY REFERENCES quality_images(manifest_digest) ON DELETE CASCADE,
      grade TEXT NOT NULL,
      report TEXT NOT NULL,
      next_at BIGINT,
      notified_grade TEXT,
      notified_criticals TEXT,
      computed_at BIGINT NOT NULL
    )`,
    `CREATE INDEX quality_grades_next ON quality_grades (next_at)`,
    // Indexing jobs: one per manifest. A worker claims one in a transaction (PostgreSQL:
    // FOR UPDATE SKIP LOCKED, so replicas never take the same job); a claim older than the
    // lease is taken again (the worker died); failures come back after run_after.
    `CREATE TABLE quality_jobs (
      id {id},
      manifest_digest TEXT NOT NULL UNIQUE REFERENCES manifests(digest) ON DELETE CASCADE,
      repository TEXT NOT NULL,
      attempts BIGINT NOT NULL DEFAULT 0,
      run_after BIGINT NOT NULL,
      claimed_by TEXT,
      claimed_at BIGINT,
      last_error TEXT,
      created_at BIGINT NOT NULL
    )`,
    `CREATE INDEX quality_jobs_due ON quality_jobs (run_after)`,
  ],
};
