// Job leases in SQL: one statement decides who holds a lease, on both engines. The upsert
// replaces the row only when it is the caller's own or has expired, and the engine's row
// lock (PostgreSQL) or write lock (SQLite) makes two contenders see each other: exactly
// one of them changes the row.
import type { SqlClient } from './sql-client.ts';
import type { JobLease, JobLeaseStore } from './job-lease-store.ts';

export interface SqlJobLeaseStoreOptions {
  readonly clock?: () => number;
}

export class SqlJobLeaseStore implements JobLeaseStore {
  private readonly sql: SqlClient;
  private readonly now: () => number;

  constructor(sql: SqlClient, options: SqlJobLeaseStoreOptions = {}) {
    this.sql = sql;
    this.now = options.clock ?? Date.now;
  }

  async acquire(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    const result = await this.sql.run(
      `INSERT INTO job_leases (name, holder, acquired_at, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET
         acquired_at = CASE WHEN job_leases.holder = excluded.holder THEN job_leases.acquired_at ELSE excluded.acquired_at END,
         holder = excluded.holder,
         expires_at = excluded.expires_at
       WHERE job_leases.holder = excluded.holder OR job_leases.expires_at <= ?`,
      [name, holder, now, now + Math.max(1, Math.round(ttlMs)), now],
    );
    return result.changes === 1;
  }

  async release(name: string, holder: string): Promise<void> {
    await this.sql.run('DELETE FROM job_leases WHERE name = ? AND holder = ?', [name, holder]);
  }

  async current(name: string): Promise<JobLease | null> {
    const rows = await this.sql.query<{ name: string; holder: string; expires_at: number | string }>('SELECT name, holder, expires_at FROM job_leases WHERE name = ?', [name]);
    const row = rows[0];
    return row ? { name: row.name, holder: row.holder, expiresAt: Number(row.expires_at) } : null;
  }
}
