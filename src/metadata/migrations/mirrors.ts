// Migration 15: repository mirroring. A mirror is a local repository that follows a
// remote one (tag globs, an interval, credentials whose secret is sealed by the mirror
// module before it reaches SQL); each sync is a run row with what it copied.
import type { Migration } from '../migrations.ts';

export const MIRRORS_MIGRATION: Migration = {
  version: 15,
  description: 'repository mirrors and their sync runs',
  statements: [
    `CREATE TABLE mirrors (
      repository {name} PRIMARY KEY,
      remote_registry TEXT NOT NULL,
      remote_repository TEXT NOT NULL,
      include_tags TEXT NOT NULL,
      exclude_tags TEXT NOT NULL,
      interval_ms BIGINT NOT NULL,
      username TEXT,
      sealed_secret TEXT,
      enabled INTEGER NOT NULL,
      created_at BIGINT NOT NULL,
      last_run_at BIGINT,
      last_status TEXT,
      last_error TEXT
    )`,
    `CREATE TABLE mirror_runs (
      id {id},
      repository {name} NOT NULL REFERENCES mirrors(repository) ON DELETE CASCADE,
      started_at BIGINT NOT NULL,
      finished_at BIGINT,
      status TEXT NOT NULL,
      tags_copied BIGINT NOT NULL DEFAULT 0,
      bytes BIGINT NOT NULL DEFAULT 0,
      error TEXT
    )`,
    `CREATE INDEX mirror_runs_repository ON mirror_runs (repository, id)`,
  ],
};
