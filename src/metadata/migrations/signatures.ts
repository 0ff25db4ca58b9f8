// Migration 5: image signatures stored by the registry (the X-Registry-Supports-Signatures
// extension API, /extensions/v2/<name>/signatures/<digest>).
//
// A signature belongs to a manifest *in a repository* (what the API addresses), so the
// foreign key is to the repository's manifest link: unlinking the manifest (DELETE, GC)
// or deleting the repository removes its signatures in the same statement, on both engines.
import type { Migration } from '../migrations.ts';

export const SIGNATURES_MIGRATION: Migration = {
  version: 5,
  description: 'image signatures (registry signature extension API)',
  statements: [
    `CREATE TABLE signatures (
      id {id},
      repository_id BIGINT NOT NULL,
      manifest_digest TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('simple-signing')),
      name TEXT NOT NULL,
      content {bytes} NOT NULL,
      content_digest TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      FOREIGN KEY (repository_id, manifest_digest) REFERENCES repository_manifests(repository_id, digest) ON DELETE CASCADE,
      UNIQUE (repository_id, manifest_digest, name),
      UNIQUE (repository_id, manifest_digest, content_digest)
    )`,
  ],
};
