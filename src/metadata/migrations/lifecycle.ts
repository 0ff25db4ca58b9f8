// Migration 12: lifecycle. The time machine reads tag_history (who changed a tag, and how),
// tags gain an expiry, and namespaces gain their rules: time-machine windows, immutability
// rules, quotas (with usage counted per blob per namespace) and retention policies.
import type { Migration } from '../migrations.ts';

export const LIFECYCLE_MIGRATION: Migration = {
  version: 12,
  description: 'lifecycle: tag history reasons, tag expiry, time-machine windows, immutability, quotas, retention',
  statements: [
    // How a tag changed (push, delete, expire, restore, retention) and who changed it.
    `ALTER TABLE tag_history ADD COLUMN reason TEXT`,
    `ALTER TABLE tag_history ADD COLUMN actor TEXT`,
    // GC asks which digests a tag pointed at within a window, by time.
    `CREATE INDEX tag_history_previous ON tag_history (changed_at, previous_digest)`,
    // When the tag is removed by the expiry job; NULL never. A push moving the tag clears it.
    `ALTER TABLE tags ADD COLUMN expires_at BIGINT`,
    `CREATE INDEX tags_expiry ON tags (expires_at)`,
    // When the tag was last pulled (recorded at most once a minute per tag): retention's "pulled within".
    `ALTER TABLE tags ADD COLUMN pulled_at BIGINT`,
    // Per-namespace (user or organization) settings; a missing row takes the registry defaults.
    `CREATE TABLE namespace_lifecycle (
      namespace {name} PRIMARY KEY,
      time_machine_ms BIGINT,
      updated_at BIGINT NOT NULL
    )`,
    // Glob patterns: repository_pattern over the whole repository name, tag_pattern over the tag.
    `CREATE TABLE immutability_rules (
      id {id},
      namespace {name} NOT NULL,
      repository_pattern TEXT NOT NULL,
      tag_pattern TEXT NOT NULL,
      created_by TEXT,
      created_at BIGINT NOT NULL,
      UNIQUE (namespace, repository_pattern, tag_pattern)
    )`,
    `CREATE TABLE namespace_quotas (
      namespace {name} PRIMARY KEY,
      warn_bytes BIGINT,
      reject_bytes BIGINT,
      updated_at BIGINT NOT NULL
    )`,
    // Usage: each blob counts once per namespace, however many of its repositories link it.
    // links = how many repositories of the namespace link it; the row goes when it reaches 0.
    `CREATE TABLE namespace_blobs (
      namespace {name} NOT NULL,
      digest TEXT NOT NULL,
      size BIGINT NOT NULL,
      links BIGINT NOT NULL,
      PRIMARY KEY (namespace, digest)
    )`,
    `CREATE TABLE namespace_usage (
      namespace {name} PRIMARY KEY,
      bytes BIGINT NOT NULL
    )`,
    // scope: 'repository', 'namespace' or 'registry' (name ''); policy is JSON, read whole.
    `CREATE TABLE retention_policies (
      scope TEXT NOT NULL CHECK (scope IN ('repository', 'namespace', 'registry')),
      name {name} NOT NULL,
      policy TEXT NOT NULL,
      updated_by TEXT,
      updated_at BIGINT NOT NULL,
      PRIMARY KEY (scope, name)
    )`,
  ],
};
