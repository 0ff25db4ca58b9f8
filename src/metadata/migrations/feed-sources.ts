// Migration 11: where each advisory feed source stands with its publisher (the updater's
// state): the base URL it was last fetched from, the HTTP validators of the index files
// (ETag, Last-Modified) so the next run asks only for what changed, its progress (a first
// load interrupted goes on from there; documents that failed their check are retried),
// and the outcome of its last run. One row per source; every replica shares it.
import type { Migration } from '../migrations.ts';

export const FEED_SOURCES_MIGRATION: Migration = {
  version: 11,
  description: 'advisory feed sources: validators, progress and outcome per source',
  statements: [
    `CREATE TABLE vulndb_sources (
      name TEXT PRIMARY KEY,
      base_url TEXT NOT NULL,
      validators TEXT NOT NULL,
      cursor TEXT,
      last_attempt BIGINT,
      last_success BIGINT,
      last_error TEXT,
      documents BIGINT NOT NULL DEFAULT 0
    )`,
  ],
};
