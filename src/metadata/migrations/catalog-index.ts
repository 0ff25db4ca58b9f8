// Migration 19: the web catalog's search index, one row per repository, so Explore filters,
// sorts, counts and pages in SQL instead of summarising every repository in memory, and
// every replica sees a push at once. Kept current by the catalog's event subscriber and
// filled by a rebuild job; a row whose repository is gone is ignored (the search joins
// `repositories`), so the index never decides what exists or who may read it.
import type { Migration } from '../migrations.ts';

export const CATALOG_INDEX_MIGRATION: Migration = {
  version: 19,
  description: 'web catalog search index',
  statements: [
    `CREATE TABLE catalog_index (
      repository {name} PRIMARY KEY,
      namespace TEXT,
      description TEXT,
      title TEXT,
      vendor TEXT,
      name_lower TEXT NOT NULL,
      description_lower TEXT,
      title_lower TEXT,
      vendor_lower TEXT,
      latest_tag TEXT,
      latest_digest TEXT,
      pushed_at BIGINT,
      grade TEXT,
      signed BIGINT,
      os TEXT NOT NULL,
      arch TEXT NOT NULL,
      updated_at BIGINT NOT NULL
    )`,
    `CREATE INDEX catalog_index_namespace ON catalog_index (namespace, repository)`,
    `CREATE INDEX catalog_index_pushed ON catalog_index (pushed_at)`,
    `CREATE INDEX catalog_index_grade ON catalog_index (grade, repository)`,
  ],
};
