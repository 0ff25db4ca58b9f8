// CacheUsageStore over SQL (SQLite and PostgreSQL, one code path). Namespaces are matched
// as prefixes with substr (not LIKE, whose `_` would match any character in `cache_x/`).
import type { Digest } from '../core/digest.ts';
import type { CacheUsageStore, CachedManifest } from './cache-usage-store.ts';
import type { SqlClient, SqlValue } from './sql-client.ts';

function underNamespaces(column: string, namespaces: readonly string[]): { sql: string; params: SqlValue[] } {
  if (namespaces.length === 0) return { sql: '1 = 0', params: [] };
  const params: SqlValue[] = [];
  const parts = namespaces.map((namespace) => {
    const prefix = `${namespace}/`;
    params.push(prefix.length, prefix);
    return `substr(${column}, 1, ?) = ?`;
  });
  return { sql: `(${parts.join(' OR ')})`, params };
}

export class SqlCacheUsageStore implements CacheUsageStore {
  readonly #sql: SqlClient;

  constructor(sql: SqlClient) {
    this.#sql = sql;
  }

  async recordPull(repository: string, digest: Digest, at: number): Promise<void> {
    await this.#sql.run(
      `INSERT INTO cache_pulls (repository_id, digest, pulled_at)
       SELECT id, ?, ? FROM repositories WHERE name = ?
       ON CONFLICT (repository_id, digest) DO UPDATE SET pulled_at = excluded.pulled_at`,
      [digest, at, repository],
    );
  }

  async usedBytes(namespaces: readonly string[]): Promise<number> {
    const where = underNamespaces('r.name', namespaces);
    const rows = await this.#sql.query<{ total: number | string | null }>(
      `SELECT SUM(b.size) AS total FROM blobs b
       WHERE b.digest IN (SELECT rb.digest FROM repository_blobs rb JOIN repositories r ON r.id = rb.repository_id WHERE ${where.sql})`,
      where.params,
    );
    return Number(rows[0]?.total ?? 0);
  }

  async leastRecentlyPulled(namespaces: readonly string[], limit: number): Promise<CachedManifest[]> {
    const where = underNamespaces('r.name', namespaces);
    const rows = await this.#sql.query<{ repository: string; digest: string; used: number | string }>(
      `SELECT r.name AS repository, rm.digest AS digest, COALESCE(p.pulled_at, rm.created_at) AS used
       FROM repository_manifests rm
       JOIN repositories r ON r.id = rm.repository_id
       LEFT JOIN cache_pulls p ON p.repository_id = rm.repository_id AND p.digest = rm.digest
       WHERE ${where.sql}
         AND NOT EXISTS (
           SELECT 1 FROM manifest_references mr
           JOIN repository_manifests parent ON parent.digest = mr.manifest_digest AND parent.repository_id = rm.repository_id
           WHERE mr.child_digest = rm.digest AND mr.kind = 'manifest')
       ORDER BY used, r.name, rm.digest
       LIMIT ?`,
      [...where.params, limit],
    );
    return rows.map((row) => ({ repository: row.repository, digest: row.digest as Digest, lastUsedAt: Number(row.used) }));
  }

  async unreferencedBlobs(repository: string, linkedBefore: number): Promise<Digest[]> {
    const rows = await this.#sql.query<{ digest: string }>(
      `SELECT rb.digest AS digest FROM repository_blobs rb
       JOIN repositories r ON r.id = rb.repository_id
       WHERE r.name = ? AND rb.created_at < ?
         AND NOT EXISTS (
           SELECT 1 FROM manifest_references mr
           JOIN repository_manifests rm ON rm.digest = mr.manifest_digest AND rm.repository_id = rb.repository_id
           WHERE mr.child_digest = rb.digest AND mr.kind = 'blob')
       ORDER BY rb.digest`,
      [repository, linkedBefore],
    );
    return rows.map((row) => row.digest as Digest);
  }
}
