// LoginAttemptStore in SQL, one code path for SQLite and PostgreSQL: an upsert counts a
// failure in one statement, so replicas counting at once never lose a failure.
import type { SqlClient } from './sql-client.ts';
import type { LoginAttemptStore } from './login-attempt-store.ts';

export class SqlLoginAttemptStore implements LoginAttemptStore {
  private readonly sql: SqlClient;

  constructor(sql: SqlClient) {
    this.sql = sql;
  }

  async recordFailure(key: string, now: number, windowMs: number): Promise<number> {
    const windowStart = now - windowMs;
    // Every SET expression reads the row as it was, on both engines.
    const rows = await this.sql.query<{ failures: number }>(
      `INSERT INTO login_failures (throttle_key, failures, first_at, locked_until) VALUES (?, 1, ?, 0)
       ON CONFLICT (throttle_key) DO UPDATE SET
         failures = CASE WHEN login_failures.first_at < ? THEN 1 ELSE login_failures.failures + 1 END,
         first_at = CASE WHEN login_failures.first_at < ? THEN ? ELSE login_failures.first_at END
       RETURNING failures`,
      [key, now, windowStart, windowStart, now],
    );
    return Number(rows[0]!.failures);
  }

  async lockUntil(key: string, until: number): Promise<void> {
    await this.sql.run('UPDATE login_failures SET locked_until = ? WHERE throttle_key = ? AND locked_until < ?', [until, key, until]);
  }

  async lockedUntil(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    const rows = await this.sql.query<{ until: number | null }>(`SELECT MAX(locked_until) AS until FROM login_failures WHERE throttle_key IN (${keys.map(() => '?').join(', ')})`, [...keys]);
    return Number(rows[0]?.until ?? 0);
  }

  async clear(key: string): Promise<void> {
    await this.sql.run('DELETE FROM login_failures WHERE throttle_key = ?', [key]);
  }

  async prune(now: number, before: number): Promise<number> {
    const result = await this.sql.run('DELETE FROM login_failures WHERE locked_until <= ? AND first_at < ?', [now, before]);
    return result.changes;
  }
}
