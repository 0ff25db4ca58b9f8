// SigningPolicyStore over the SqlClient seam (migration 6), one code path for SQLite and
// PostgreSQL.
import type { SqlClient } from './sql-client.ts';
import type { SigningMode, SigningPolicyRecord, SigningPolicyScope, SigningPolicyStore, TrustedKeyRecord } from './signing-policy-store.ts';

interface PolicyRow {
  scope: string;
  name: string;
  mode: string;
  trusted_keys: string;
  revision: number | string;
  updated_by: string | null;
  updated_at: number | string;
}

const COLUMNS = 'scope, name, mode, trusted_keys, revision, updated_by, updated_at';

export class SqlSigningPolicyStore implements SigningPolicyStore {
  private readonly sql: SqlClient;

  constructor(sql: SqlClient) {
    this.sql = sql;
  }

  async get(scope: SigningPolicyScope, name: string): Promise<SigningPolicyRecord | null> {
    const rows = await this.sql.query<PolicyRow>(`SELECT ${COLUMNS} FROM signing_policies WHERE scope = ? AND name = ?`, [scope, name]);
    return rows[0] ? fromRow(rows[0]) : null;
  }

  /** The policies that apply to a repository: its own and its namespace's (one query). */
  async applicable(repository: string, namespace: string | null): Promise<SigningPolicyRecord[]> {
    const rows = await this.sql.query<PolicyRow>(
      `SELECT ${COLUMNS} FROM signing_policies WHERE (scope = 'repository' AND name = ?) OR (scope = 'namespace' AND name = ?) ORDER BY scope`,
      [repository, namespace ?? ''],
    );
    return rows.map(fromRow);
  }

  /** Creates or replaces a policy. The revision never goes back, even across a delete
   * and a re-create (it is at least the time in ms), so a cached verification of an old
   * policy can never be taken for the new one's. */
  async put(scope: SigningPolicyScope, name: string, mode: SigningMode, keys: readonly TrustedKeyRecord[], updatedBy: string | null, now: number): Promise<SigningPolicyRecord> {
    return this.sql.transaction(async (tx) => {
      const rows = await tx.query<{ revision: number | string }>('SELECT revision FROM signing_policies WHERE scope = ? AND name = ?', [scope, name]);
      const revision = Math.max(now, rows[0] ? Number(rows[0].revision) + 1 : 0);
      const json = JSON.stringify(keys);
      if (rows[0]) {
        await tx.run('UPDATE signing_policies SET mode = ?, trusted_keys = ?, revision = ?, updated_by = ?, updated_at = ? WHERE scope = ? AND name = ?', [mode, json, revision, updatedBy, now, scope, name]);
      } else {
        await tx.run(`INSERT INTO signing_policies (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`, [scope, name, mode, json, revision, updatedBy, now]);
      }
      return { scope, name, mode, keys: [...keys], revision, updatedBy, updatedAt: now };
    });
  }

  async delete(scope: SigningPolicyScope, name: string): Promise<boolean> {
    const result = await this.sql.run('DELETE FROM signing_policies WHERE scope = ? AND name = ?', [scope, name]);
    return result.changes > 0;
  }

  /** Digests of the indexes held by `repository` that list `digest` as a child manifest. */
  async parentIndexes(repository: string, digest: string): Promise<string[]> {
    const rows = await this.sql.query<{ manifest_digest: string }>(
      `SELECT mr.manifest_digest FROM manifest_references mr
         JOIN repository_manifests rm ON rm.digest = mr.manifest_digest
         JOIN repositories r ON r.id = rm.repository_id
       WHERE mr.child_digest = ? AND mr.kind = 'manifest' AND r.name = ?`,
      [digest, repository],
    );
    return rows.map((row) => row.manifest_digest);
  }

  async manifestsReferencingBlob(repository: string, digest: string, limit: number): Promise<string[]> {
    const rows = await this.sql.query<{ manifest_digest: string }>(
      `SELECT mr.manifest_digest FROM manifest_references mr
         JOIN repository_manifests rm ON rm.digest = mr.manifest_digest
         JOIN repositories r ON r.id = rm.repository_id
       WHERE mr.child_digest = ? AND mr.kind = 'blob' AND r.name = ?
       ORDER BY mr.manifest_digest LIMIT ?`,
      [digest, repository, limit],
    );
    return rows.map((row) => row.manifest_digest);
  }
}

function fromRow(row: PolicyRow): SigningPolicyRecord {
  return {
    scope: row.scope as SigningPolicyScope,
    name: row.name,
    mode: row.mode as SigningMode,
    keys: JSON.parse(row.trusted_keys) as TrustedKeyRecord[],
    revision: Number(row.revision),
    updatedBy: row.updated_by,
    updatedAt: Number(row.updated_at),
  };
}
