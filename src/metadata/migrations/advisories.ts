// Migration 3: the advisory database (owned by the advisory importers).
//
// Advisories are shared by feed documents (an Alpine CVE appears in the secdb of every
// release; a bundle re-imports what a feed wrote), so affected rows remember the
// document that contributed them: re-importing one document replaces exactly its rows.
import type { Migration } from '../migrations.ts';

export const ADVISORIES_MIGRATION: Migration = {
  version: 3,
  description: 'advisory database',
  statements: [
    // One row per (source, advisory id): a CVE id is an advisory of Debian and of Alpine.
    // cves and refs are JSON arrays; hash covers every field (affected rows excluded) so
    // an unchanged advisory is not rewritten.
    `CREATE TABLE vulndb_advisories (
      id {id},
      source TEXT NOT NULL,
      advisory_id {name} NOT NULL,
      kind TEXT NOT NULL,
      title TEXT,
      severity TEXT NOT NULL,
      vendor_severity TEXT,
      issued BIGINT,
      updated BIGINT,
      cves TEXT NOT NULL,
      refs TEXT NOT NULL,
      hash TEXT NOT NULL,
      UNIQUE (source, advisory_id)
    )`,
    // A feed document (a CSAF file, one secdb YAML, the tracker JSON...) and the hash of
    // its content when last imported: the unit of incremental updates.
    `CREATE TABLE vulndb_documents (
      id {id},
      source TEXT NOT NULL,
      document_key {name} NOT NULL UNIQUE,
      hash TEXT NOT NULL,
      imported_at BIGINT NOT NULL,
      newest BIGINT
    )`,
    // Which advisories a document carries, so advisories it dropped can be found.
    `CREATE TABLE vulndb_document_advisories (
      document_id BIGINT NOT NULL REFERENCES vulndb_documents(id) ON DELETE CASCADE,
      advisory BIGINT NOT NULL REFERENCES vulndb_advisories(id) ON DELETE CASCADE,
      affected_hash TEXT NOT NULL,
      PRIMARY KEY (document_id, advisory)
    )`,
    `CREATE INDEX vulndb_document_advisories_advisory ON vulndb_document_advisories (advisory)`,
    // One row per affected package and range. distro is '' for language ecosystems so
    // one equality index serves both lookups; the common single range lives in columns,
    // several ranges in the JSON column instead.
    `CREATE TABLE vulndb_affected (
      advisory BIGINT NOT NULL REFERENCES vulndb_advisories(id) ON DELETE CASCADE,
      document_id BIGINT NOT NULL REFERENCES vulndb_documents(id) ON DELETE CASCADE,
      ecosystem TEXT NOT NULL,
      distro TEXT NOT NULL,
      name {name} NOT NULL,
      cpe TEXT,
      module TEXT,
      arch TEXT,
      introduced TEXT,
      fixed TEXT,
      last_affected TEXT,
      ranges TEXT
    )`,
    // The matcher's lookup: 1,000 names of one ecosystem and distro in a few IN queries.
    `CREATE INDEX vulndb_affected_lookup ON vulndb_affected (ecosystem, distro, name)`,
    `CREATE INDEX vulndb_affected_advisory ON vulndb_affected (advisory, document_id)`,
    `CREATE INDEX vulndb_affected_document ON vulndb_affected (document_id)`,
    // Per source: the last import (even one that changed nothing: the data is as fresh
    // as the publisher's). The data's age is the newest date of its documents.
    `CREATE TABLE vulndb_feeds (
      source TEXT PRIMARY KEY,
      last_import BIGINT NOT NULL
    )`,
    // The database revision: bumped by every change, so stored package lists are
    // re-matched only when something changed.
    `CREATE TABLE vulndb_state (
      singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
      revision BIGINT NOT NULL
    )`,
    `INSERT INTO vulndb_state (singleton, revision) VALUES (1, 0)`,
  ],
};
