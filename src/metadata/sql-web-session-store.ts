// WebSessionStore on SQL: one code path for SQLite and PostgreSQL.
import type { SqlExecutor } from './sql-client.ts';
import type { WebSessionRecord, WebSessionStore } from './web-session-store.ts';

interface Row {
  id_hash: string;
  account_id: number | string;
  account_name: string;
  security_stamp: string;
  via: string;
  csrf_token: string;
  created_at: number | string;
  last_seen_at: number | string;
}

export class SqlWebSessionStore implements WebSessionStore {
  private readonly sql: SqlExecutor;

  constructor(sql: SqlExecutor) {
    this.sql = sql;
  }

  async insert(session: WebSessionRecord): Promise<void> {
    await this.sql.run(
      'INSERT INTO web_sessions (id_hash, account_id, account_name, security_stamp, via, csrf_token, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [session.idHash, session.accountId, session.accountName, session.securityStamp, session.via, session.csrfToken, session.createdAt, session.lastSeenAt],
    );
  }

  async find(idHash: string): Promise<WebSessionRecord | null> {
    const [row] = await this.sql.query<Row>('SELECT * FROM web_sessions WHERE id_hash = ?', [idHash]);
    if (!row) return null;
    return {
      idHash: row.id_hash,
      accountId: Number(row.account_id),
      accountName: row.account_name,
      securityStamp: row.security_stamp,
      via: row.via,
      csrfToken: row.csrf_token,
      createdAt: Number(row.created_at),
      lastSeenAt: Number(row.last_seen_at),
    };
  }

  async touch(idHash: string, lastSeenAt: number): Promise<void> {
    await this.sql.run('UPDATE web_sessions SET last_seen_at = ? WHERE id_hash = ? AND last_seen_at < ?', [lastSeenAt, idHash, lastSeenAt]);
  }

  async setSecurityStamp(idHash: string, securityStamp: string): Promise<void> {
    await this.sql.run('UPDATE web_sessions SET security_stamp = ? WHERE id_hash = ?', [securityStamp, idHash]);
  }

  async delete(idHash: string): Promise<boolean> {
    return (await this.sql.run('DELETE FROM web_sessions WHERE id_hash = ?', [idHash])).changes > 0;
  }

  async deleteExpired(idleBefore: number, createdBefore: number): Promise<number> {
    return (await this.sql.run('DELETE FROM web_sessions WHERE last_seen_at < ? OR created_at < ?', [idleBefore, createdBefore])).changes;
  }
}
