// RetentionStore over any SqlClient: one code path for SQLite and PostgreSQL.
import type { Digest } from '../core/digest.ts';
import type { SqlClient } from './sql-client.ts';
import type { RetentionScope, RetentionStore, RetentionTag, StoredRetentionPolicy } from './retention-store.ts';

interface PolicyRow {
  scope: RetentionScope;
  name: string;
  policy: string;
  updated_by: string | null;
  updated_at: number;
}

const toPolicy = (row: PolicyRow): StoredRetentionPolicy => ({ scope: row.scope, name: row.name, policy: row.policy, updatedBy: row.updated_by, updatedAt: Number(row.updated_at) });

export class SqlRetentionStore implements RetentionStore {
  private readonly sql: SqlClient;

  constructor(sql: SqlClient) {
    this.sql = sql;
  }

  async putPolicy(scope: RetentionScope, name: string, policy: string, updatedBy: string | null, now: number): Promise<StoredRetentionPolicy> {
    await this.sql.run(
      `INSERT INTO retention_policies (scope, name, policy, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (scope, name) DO UPDATE SET policy = excluded.policy, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
      [scope, name, policy, updatedBy, now],
    );
    return (await this.getPolicy(scope, name))!;
  }

  async getPolicy(scope: RetentionScope, name: string): Promise<StoredRetentionPolicy | null> {
    const rows = await this.sql.query<PolicyRow>('SELECT scope, name, policy, updated_by, updated_at FROM retention_policies WHERE scope = ? AND name = ?', [scope, name]);
    return rows[0] ? toPolicy(rows[0]) : null;
  }

  async deletePolicy(scope: RetentionScope, name: string): Promise<boolean> {
    return (await this.sql.run('DELETE FROM retention_policies WHERE scope = ? AND name = ?', [scope, name])).changes > 0;
  }

  async repositories(namespace?: string): Promise<string[]> {
    const rows =
      namespace === undefined
        ? await this.sql.query<{ name: string }>('SELECT name FROM repositories ORDER BY name')
        : await this.sql.query<{ name: string }>('SELECT name FROM repositories WHERE name = ? OR substr(name, 1, ?) = ? ORDER BY name', [namespace, namespace.length + 1, `${namespace}/`]);
    return rows.map((row) => row.name);
  }

  async tags(repository: string): Promise<RetentionTag[]> {
    const found = await this.sql.query<{ id: number }>('SELECT id FROM repositories WHERE name = ?', [repository]);
    const id = found[0]?.id;
    if (id === undefined) return [];
    // Three plain queries rather than per-row subqueries: a repository may hold 100,000 tags.
    // Signed: a referrer of the digest in this repository, or cosign's tag for it
    // (sha256:abc... -> sha256-abc....sig).
    const rows = await this.sql.query<{ name: string; digest: string; updated_at: number; pulled_at: number | null }>('SELECT name, digest, updated_at, pulled_at FROM tags WHERE repository_id = ?', [id]);
    const subjects = new Set((await this.sql.query<{ subject_digest: string }>('SELECT DISTINCT subject_digest FROM referrers WHERE repository_id = ?', [id])).map((row) => row.subject_digest));
    for (const row of rows) {
      if (/^sha256-[0-9a-f]{64}\.sig$/.test(row.name)) subjects.add(`sha256:${row.name.slice('sha256-'.length, -'.sig'.length)}`);
    }
    return rows.map((row) => ({
      tag: row.name,
      digest: row.digest as Digest,
      pushedAt: Number(row.updated_at),
      pulledAt: row.pulled_at === null ? null : Number(row.pulled_at),
      signed: subjects.has(row.digest),
    }));
  }

  async indexEdges(repository: string): Promise<Array<{ parent: Digest; child: Digest }>> {
    const rows = await this.sql.query<{ parent: string; child: string }>(
      `WITH RECURSIVE edges (parent, child) AS (
         SELECT mr.manifest_digest, mr.child_digest FROM manifest_references mr
          WHERE mr.kind = 'manifest' AND mr.manifest_digest IN (SELECT t.digest FROM tags t JOIN repositories r ON r.id = t.repository_id WHERE r.name = ?)
         UNION
         SELECT mr.manifest_digest, mr.child_digest FROM manifest_references mr JOIN edges e ON mr.manifest_digest = e.child WHERE mr.kind = 'manifest'
       )
       SELECT parent, child FROM edges`,
      [repository],
    );
    return rows.map((row) => ({ parent: row.parent as Digest, child: row.child as Digest }));
  }

  async touchPulled(repository: string, tag: string, now: number): Promise<void> {
    await this.sql.run('UPDATE tags SET pulled_at = ? WHERE name = ? AND repository_id = (SELECT id FROM repositories WHERE name = ?)', [now, tag, repository]);
  }
}
