// Credentials (robot tokens, personal access tokens, refresh tokens) in SQL, for
// SqlIdentityStore. What makes them end together lives here: a revocation deletes the
// credential, the refresh tokens minted from it (parent_id cascades) and moves the
// account's security stamp on, in one transaction.
import { randomBytes } from 'node:crypto';
import type { Credential, CredentialKind, RefreshTokenSource } from '../core/identity.ts';
import type { NewCredential } from './identity-store.ts';
import type { SqlClient, SqlValue } from './sql-client.ts';

export interface CredentialRow {
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

export function toCredential(row: CredentialRow): Credential {
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

/** A fresh security stamp: registry tokens and remembered logins issued under the old one end. */
export function newStamp(): string {
  return randomBytes(12).toString('base64url');
}

export class SqlCredentials {
  private readonly sql: SqlClient;

  constructor(sql: SqlClient) {
    this.sql = sql;
  }

  async add(credential: NewCredential): Promise<Credential> {
    const rows = await this.sql.query<CredentialRow>(`INSERT INTO credentials (${INSERTED}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${COLUMNS}`, values(credential));
    return toCredential(rows[0]!);
  }

  /**
   * Adds the credential only while the account's security stamp is `stamp`, in one
   * statement: a login that raced a revocation mints nothing. On PostgreSQL the account
   * row is share-locked, so a concurrent revocation (which updates it first) either waits
   * for this insert and then deletes what it minted, or goes first and this adds nothing.
   */
  async addWhileStamp(credential: NewCredential, stamp: string): Promise<Credential | null> {
    const [accountId, ...rest] = values(credential);
    const lock = this.sql.dialect === 'postgres' ? ' FOR SHARE' : '';
    const rows = await this.sql.query<CredentialRow>(
      `INSERT INTO credentials (${INSERTED}) SELECT a.id, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM accounts a WHERE a.id = ? AND a.security_stamp = ?${lock} RETURNING ${COLUMNS}`,
      [...rest, accountId!, stamp],
    );
    return rows[0] ? toCredential(rows[0]) : null;
  }

  async list(accountId: number, kind?: CredentialKind): Promise<Credential[]> {
    const rows = await this.sql.query<CredentialRow>(`SELECT ${COLUMNS} FROM credentials WHERE account_id = ? ${kind ? 'AND kind = ?' : ''} ORDER BY created_at, id`, kind ? [accountId, kind] : [accountId]);
    return rows.map(toCredential);
  }

  /** Deletes the account's credential `id`, or all of a `kind`; returns how many. */
  async revoke(accountId: number, which: { readonly id: number } | { readonly kind: CredentialKind }): Promise<number> {
    const [condition, value] = 'id' in which ? ['id = ?', which.id] : ['kind = ?', which.kind];
    return this.sql.transaction(async (tx) => {
      // The account row first (as every change to it does), then the credentials: logins
      // minting refresh tokens lock the account row too, so the two never deadlock.
      await tx.run(`UPDATE accounts SET security_stamp = ? WHERE id = ? AND EXISTS (SELECT 1 FROM credentials WHERE account_id = ? AND ${condition})`, [newStamp(), accountId, accountId, value]);
      const result = await tx.run(`DELETE FROM credentials WHERE account_id = ? AND ${condition}`, [accountId, value]);
      return result.changes;
    });
  }

  async touch(id: number, now: number): Promise<void> {
    await this.sql.run('UPDATE credentials SET last_used_at = ? WHERE id = ?', [now, id]);
  }
}
