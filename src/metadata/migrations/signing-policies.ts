// Migration 6: signing policies a repository or a namespace (organization or user) sets
// on the registry: which public keys must have signed an image before it is served
// (mode `pull`) and, optionally, before a tag may point at it (mode `pull,tag`).
import type { Migration } from '../migrations.ts';

export const SIGNING_POLICIES_MIGRATION: Migration = {
  version: 6,
  description: 'signing policies per repository and namespace',
  statements: [
    // scope is 'repository' or 'namespace'; name is the repository or namespace name.
    // trusted_keys is JSON ([{ id, format, publicKey }]): always read and written whole.
    // revision increases on every change, so cached verifications of an older policy are
    // never reused (it is part of the cache key).
    `CREATE TABLE signing_policies (
      scope TEXT NOT NULL CHECK (scope IN ('repository', 'namespace')),
      name {name} NOT NULL,
      mode TEXT NOT NULL CHECK (mode IN ('pull', 'pull,tag')),
      trusted_keys TEXT NOT NULL,
      revision BIGINT NOT NULL,
      updated_by TEXT,
      updated_at BIGINT NOT NULL,
      PRIMARY KEY (scope, name)
    )`,
  ],
};
