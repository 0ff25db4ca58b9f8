// Migration 10: leases for the job scheduler, so that among replicas sharing a database
// one runs each periodic job (garbage collection, upload expiry, log retention, re-grades)
// at a time. A lease names its holder and lapses at expires_at: a crashed holder's jobs
// are taken over once its lease has expired.
import type { Migration } from '../migrations.ts';

export const JOB_LEASES_MIGRATION: Migration = {
  version: 10,
  description: 'job leases: one replica runs each scheduled job',
  statements: [
    `CREATE TABLE job_leases (
      name TEXT PRIMARY KEY,
      holder TEXT NOT NULL,
      acquired_at BIGINT NOT NULL,
      expires_at BIGINT NOT NULL
    )`,
  ],
};
