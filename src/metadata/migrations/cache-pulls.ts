// Migration 14: when each manifest of a pull-through cache repository was last pulled, so
// that a size-bound cache evicts the least recently pulled images first (issue 15).
import type { Migration } from '../migrations.ts';

export const CACHE_PULLS_MIGRATION: Migration = {
  version: 14,
  description: 'last pull of each pull-through cache manifest',
  statements: [
    `CREATE TABLE cache_pulls (
      repository_id BIGINT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
      digest TEXT NOT NULL,
      pulled_at BIGINT NOT NULL,
      PRIMARY KEY (repository_id, digest)
    )`,
    `CREATE INDEX cache_pulls_pulled_at ON cache_pulls (pulled_at)`,
  ],
};
