// Migration 16: failed logins counted in the database, so that every replica sees the
// same count and lockout (an attacker spreading guesses over replicas gains nothing) and
// a restart does not lift a lockout. One row per throttled key (`account:<name>`,
// `ip:<address>`), pruned once neither counting nor locked.
import type { Migration } from '../migrations.ts';

export const LOGIN_FAILURES_MIGRATION: Migration = {
  version: 16,
  description: 'login failures shared by replicas',
  statements: [
    `CREATE TABLE login_failures (
      throttle_key TEXT PRIMARY KEY,
      failures BIGINT NOT NULL,
      first_at BIGINT NOT NULL,
      locked_until BIGINT NOT NULL
    )`,
    `CREATE INDEX login_failures_expiry ON login_failures (first_at)`,
  ],
};
