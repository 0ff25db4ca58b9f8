// Migration 17: browser sessions of the web catalog, so any replica knows a session any
// other replica opened. Keyed by the sha256 of the session id (the id itself is only in
// the browser's cookie); gone with the account.
import type { Migration } from '../migrations.ts';

export const WEB_SESSIONS_MIGRATION: Migration = {
  version: 17,
  description: 'web catalog sessions',
  statements: [
    `CREATE TABLE web_sessions (
      id_hash TEXT PRIMARY KEY,
      account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      account_name {name} NOT NULL,
      security_stamp TEXT NOT NULL,
      via TEXT NOT NULL,
      csrf_token TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      last_seen_at BIGINT NOT NULL
    )`,
    `CREATE INDEX web_sessions_last_seen ON web_sessions (last_seen_at)`,
    `CREATE INDEX web_sessions_created ON web_sessions (created_at)`,
  ],
};
