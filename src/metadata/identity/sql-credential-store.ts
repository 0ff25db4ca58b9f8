// CredentialStore over any SqlClient (robot tokens, personal access tokens, refresh
// tokens), one code path for SQLite and PostgreSQL. What makes them end together lives
// here: a revocation deletes the credential, the refresh tokens minted from it (parent_id
// cascades) and moves the account's security stamp on, in one transaction.
import type { Account, Credential, CredentialKind, RefreshTokenSource } from '../../core/identity.ts';
import type { SqlClient, SqlValue } from '../sql-client.ts';
import type { CredentialStore, NewCredential } from './credential-store.ts';
import { ACCOUNT_COLUMNS, newStamp, toAccount, type AccountRow } from './sql-identity-rows.ts';

interface CredentialRow {
  id: number;
  account_id: number;
  kind: CredentialKind;
  name: string;
  scopes: string | null;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  parent_id: number | null;
  minted_via: RefreshTokenSource | null;
  user_agent: string | null;
  ip: string | null;
}

const COLUMNS = 'id, account_id, kind, name, scopes, created_at, expires_at, last_used_at, parent_id, minted_via, user_agent, ip';
const INSERTED = 'account_id, kind, name, secret_hash, scopes, created_at, expires_at, parent_id, minted_via, user_agent, ip';

function values(credential: NewCredential): SqlValue[] {
  return [
    credential.accountId,
    credential.kind,
    credential.name,
    credential.secretHash,
    credential.scopes ? JSON.stringify(credential.scopes) : null,
    Date.now(),
    credential.expiresAt ?? null,
    credential.parentId ?? null,
    credential.mintedVia ?? null,
    credential.userAgent ?? null,
    credential.ip ?? null,
  ];
}

function toCredential(row: CredentialRow): Credential {
  return {
    id: row.id,
    accountId: row.account_id,
    kind: row.kind,
    name: row.name,
    scopes: row.scopes === null ? null : (JSON.parse(row.scopes) as string[]),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    parentId: row.parent_id,
    mintedVia: row.minted_via,
    userAgent: row.user_agent,
    ip: row.ip,
  };
}

export class SqlCredentialStore implements CredentialStore {
  private readonly sql: SqlClient;

  constructor(sql: SqlClient) {
    this.sql = sql;
  }

  async addCredential(credential: NewCredential): Promise<Credential> {
    const rows = await this.sql.query<CredentialRow>(`INSERT INTO credentials (${INSERTED}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${COLUMNS}`, values(credential));
    return toCredential(rows[0]!);
  }

  /**
   * Adds the refresh token only while the account's security stamp is `stamp`, in one
   * statement: a login that raced a revocation mints nothing. On PostgreSQL the account
   * row is share-locked, so a concurrent revocation (which updates it first) either waits
   * for this insert and then deletes what it minted, or goes first and this adds nothing.
   */
  async addRefreshToken(credential: NewCredential, stamp: string): Promise<Credential | null> {
    const [accountId, ...rest] = values({ ...credential, kind: 'refresh' });
    const lock = this.sql.dialect === 'postgres' ? ' FOR SHARE' : '';
    const rows = await this.sql.query<CredentialRow>(
      `INSERT INTO credentials (${INSERTED}) SELECT a.id, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM accounts a WHERE a.id = ? AND a.security_stamp = ?${lock} RETURNING ${COLUMNS}`,
      [...rest, accountId!, stamp],
    );
    return rows[0] ? toCredential(rows[0]) : null;
  }

  async findCredential(secretHash: string, now: number): Promise<{ credential: Credential; account: Account } | null> {
    const rows = await this.sql.query<CredentialRow & AccountRow & { c_id: number; c_name: string; c_kind: CredentialKind; c_created_at: number; c_description: string | null }>(
      `SELECT c.id AS c_id, c.account_id, c.kind AS c_kind, c.name AS c_name, c.scopes, c.created_at AS c_created_at, c.expires_at, c.last_used_at,
              c.parent_id, c.minted_via, c.user_agent, c.ip, ${ACCOUNT_COLUMNS}
         FROM credentials c JOIN accounts a ON a.id = c.account_id
        WHERE c.secret_hash = ? AND (c.expires_at IS NULL OR c.expires_at > ?)`,
      [secretHash, now],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      credential: toCredential({ ...row, id: row.c_id, kind: row.c_kind, name: row.c_name, created_at: row.c_created_at }),
      account: toAccount(row),
    };
  }

  async listCredentials(accountId: number, kind?: CredentialKind): Promise<Credential[]> {
    const rows = await this.sql.query<CredentialRow>(`SELECT ${COLUMNS} FROM credentials WHERE account_id = ? ${kind ? 'AND kind = ?' : ''} ORDER BY created_at, id`, kind ? [accountId, kind] : [accountId]);
    return rows.map(toCredential);
  }

  async deleteCredential(accountId: number, id: number): Promise<boolean> {
    return (await this.revoke(accountId, { id })) > 0;
  }

  async deleteCredentials(accountId: number, kind: CredentialKind): Promise<number> {
    return this.revoke(accountId, { kind });
  }

  async touchCredential(id: number, now: number): Promise<void> {
    await this.sql.run('UPDATE credentials SET last_used_at = ? WHERE id = ?', [now, id]);
  }

  /** Deletes the account's credential `id`, or all of a `kind`; returns how many. */
  private async revoke(accountId: number, which: { readonly id: number } | { readonly kind: CredentialKind }): Promise<number> {
    const [condition, value] = 'id' in which ? ['id = ?', which.id] : ['kind = ?', which.kind];
    return this.sql.transaction(async (tx) => {
      // The account row first (as every change to it does), then the credentials: logins
      // minting refresh tokens lock the account row too, so the two never deadlock.
      await tx.run(`UPDATE accounts SET security_stamp = ? WHERE id = ? AND EXISTS (SELECT 1 FROM credentials WHERE account_id = ? AND ${condition})`, [newStamp(), accountId, accountId, value]);
      const result = await tx.run(`DELETE FROM credentials WHERE account_id = ? AND ${condition}`, [accountId, value]);
      return result.changes;
    });
  }
}
