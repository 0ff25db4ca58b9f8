// QuotaStore over any SqlClient: one code path for SQLite and PostgreSQL.
import type { SqlClient } from './sql-client.ts';
import type { NamespaceQuota, QuotaStore } from './quota-store.ts';
import { recountNamespaceUsage, type UsageDrift } from './namespace-usage.ts';

interface QuotaRow {
  namespace: string;
  warn_bytes: number | null;
  reject_bytes: number | null;
  updated_at: number;
}

const nullableNumber = (value: number | null): number | null => (value === null ? null : Number(value));

export class SqlQuotaStore implements QuotaStore {
  private readonly sql: SqlClient;

  constructor(sql: SqlClient) {
    this.sql = sql;
  }

  async setQuota(namespace: string, warnBytes: number | null, rejectBytes: number | null, now: number): Promise<NamespaceQuota> {
    await this.sql.run(
      `INSERT INTO namespace_quotas (namespace, warn_bytes, reject_bytes, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (namespace) DO UPDATE SET warn_bytes = excluded.warn_bytes, reject_bytes = excluded.reject_bytes, updated_at = excluded.updated_at`,
      [namespace, warnBytes, rejectBytes, now],
    );
    return (await this.getQuota(namespace))!;
  }

  async getQuota(namespace: string): Promise<NamespaceQuota | null> {
    const rows = await this.sql.query<QuotaRow>('SELECT namespace, warn_bytes, reject_bytes, updated_at FROM namespace_quotas WHERE namespace = ?', [namespace]);
    const row = rows[0];
    return row ? { namespace: row.namespace, warnBytes: nullableNumber(row.warn_bytes), rejectBytes: nullableNumber(row.reject_bytes), updatedAt: Number(row.updated_at) } : null;
  }

  async removeQuota(namespace: string): Promise<boolean> {
    return (await this.sql.run('DELETE FROM namespace_quotas WHERE namespace = ?', [namespace])).changes > 0;
  }

  async usage(namespace: string): Promise<number> {
    const rows = await this.sql.query<{ bytes: number }>('SELECT bytes FROM namespace_usage WHERE namespace = ?', [namespace]);
    return Number(rows[0]?.bytes ?? 0);
  }

  async counts(namespace: string, digest: string): Promise<boolean> {
    return (await this.sql.query('SELECT 1 AS found FROM namespace_blobs WHERE namespace = ? AND digest = ?', [namespace, digest])).length > 0;
  }

  async reclaimable(namespace: string): Promise<number> {
    const rows = await this.sql.query<{ bytes: number | null }>(
      `SELECT SUM(nb.size) AS bytes FROM namespace_blobs nb
        WHERE nb.namespace = ? AND NOT EXISTS (SELECT 1 FROM manifest_references mr WHERE mr.child_digest = nb.digest AND mr.kind = 'blob')`,
      [namespace],
    );
    return Number(rows[0]?.bytes ?? 0);
  }

  reconcile(): Promise<UsageDrift[]> {
    return this.sql.transaction((tx) => recountNamespaceUsage(tx));
  }
}
