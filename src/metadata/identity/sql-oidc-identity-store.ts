// OidcIdentityStore on SQL: one code path for SQLite and PostgreSQL.
import type { SqlExecutor } from '../sql-client.ts';
import type { OidcIdentityStore } from './oidc-identity-store.ts';

export class SqlOidcIdentityStore implements OidcIdentityStore {
  private readonly sql: SqlExecutor;

  constructor(sql: SqlExecutor) {
    this.sql = sql;
  }

  async findLinkedAccount(issuer: string, subject: string): Promise<number | null> {
    const [row] = await this.sql.query<{ account_id: number | string }>('SELECT account_id FROM oidc_identities WHERE issuer = ? AND subject = ?', [issuer, subject]);
    return row ? Number(row.account_id) : null;
  }

  async link(issuer: string, subject: string, accountId: number, now = Date.now()): Promise<boolean> {
    const { changes } = await this.sql.run('INSERT INTO oidc_identities (issuer, subject, account_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (issuer, subject) DO NOTHING', [issuer, subject, accountId, now]);
    return changes > 0;
  }
}
