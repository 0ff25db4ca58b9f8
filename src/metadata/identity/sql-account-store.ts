// AccountStore over any SqlClient: one code path for SQLite and PostgreSQL.
import { Conflict, NotFound } from '../../core/errors.ts';
import type { Account, AccountKind } from '../../core/identity.ts';
import { insertOrganization, namespaceHoldsRepositories } from '../namespace-ownership.ts';
import { removeNamespaceRepositories } from '../namespace-removal.ts';
import type { SqlClient, SqlValue } from '../sql-client.ts';
import { UNOWNED_REPOSITORIES, type AccountChanges, type AccountStore, type NewAccount, type NewOrganization } from './account-store.ts';
import { ACCOUNT_COLUMNS, isUniqueViolation, newStamp, removeGrantee, toAccount, type AccountRow } from './sql-identity-rows.ts';

function nameTaken(name: string): Conflict {
  return new Conflict('account', `the name "${name}" is taken`);
}

/** The reason is in `detail`, so callers may tell superusers why and others only that the name is taken. */
function unownedNamespace(name: string): Conflict {
  return new Conflict(
    'account',
    `the name "${name}" is taken: namespace "${name}" holds repositories that belong to no account; a superuser may adopt them by creating the organization "${name}" (and delete it to remove them)`,
    { detail: { reason: UNOWNED_REPOSITORIES } },
  );
}

export class SqlAccountStore implements AccountStore {
  private readonly sql: SqlClient;

  constructor(sql: SqlClient) {
    this.sql = sql;
  }

  async createAccount(account: NewAccount): Promise<Account> {
    const now = Date.now();
    try {
      return await this.sql.transaction(async (tx) => {
        if (account.kind !== 'robot' && (await namespaceHoldsRepositories(tx, account.name))) throw unownedNamespace(account.name);
        const rows = await tx.query<AccountRow>(
          `INSERT INTO accounts (name, kind, email, password_hash, superuser, owner_id, description, ldap_dn, disabled, created_at, security_stamp)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)
           RETURNING id, name, kind, email, superuser, owner_id, description, ldap_dn, disabled, created_at, security_stamp`,
          // A new stamp per account: a token issued to a deleted account of the same name is no good for this one.
          [account.name, account.kind, account.email ?? null, account.passwordHash ?? null, account.superuser ? 1 : 0, account.ownerId ?? null, account.description ?? null, account.ldapDn ?? null, now, newStamp()],
        );
        return toAccount(rows[0]!);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw nameTaken(account.name);
      throw error;
    }
  }

  async createOrganization(organization: NewOrganization, ownerId: number | null, options: { readonly adopt?: boolean } = {}): Promise<Account> {
    const id = await this.sql.transaction(async (tx) => {
      if (options.adopt !== true && (await namespaceHoldsRepositories(tx, organization.name))) throw unownedNamespace(organization.name);
      const created = await insertOrganization(tx, organization, ownerId, Date.now());
      if (created === null) throw nameTaken(organization.name);
      return created;
    });
    return (await this.findAccountById(id))!;
  }

  async claimNamespace(namespace: string, ownerId: number): Promise<Account | null> {
    const id = await this.sql.transaction((tx) => insertOrganization(tx, { name: namespace, description: 'created by a superuser\'s push into a namespace without an account' }, ownerId, Date.now()));
    return id === null ? null : this.findAccountById(id);
  }

  async findAccount(name: string): Promise<Account | null> {
    const rows = await this.sql.query<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM accounts a WHERE a.name = ?`, [name]);
    return rows[0] ? toAccount(rows[0]) : null;
  }

  async findAccountById(id: number): Promise<Account | null> {
    const rows = await this.sql.query<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM accounts a WHERE a.id = ?`, [id]);
    return rows[0] ? toAccount(rows[0]) : null;
  }

  /** The stored password hash of a user (never part of Account, so it cannot leak through it). */
  async passwordHash(accountId: number): Promise<string | null> {
    const rows = await this.sql.query<{ password_hash: string | null }>('SELECT password_hash FROM accounts WHERE id = ?', [accountId]);
    return rows[0]?.password_hash ?? null;
  }

  async listAccounts(kind?: AccountKind, ownerId?: number): Promise<Account[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (kind !== undefined) {
      where.push('a.kind = ?');
      params.push(kind);
    }
    if (ownerId !== undefined) {
      where.push('a.owner_id = ?');
      params.push(ownerId);
    }
    const rows = await this.sql.query<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM accounts a ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY a.name`, params);
    return rows.map(toAccount);
  }

  async updateAccount(id: number, changes: AccountChanges): Promise<Account> {
    const sets: string[] = [];
    const params: SqlValue[] = [];
    const set = (column: string, value: SqlValue): void => {
      sets.push(`${column} = ?`);
      params.push(value);
    };
    if (changes.email !== undefined) set('email', changes.email);
    if (changes.passwordHash !== undefined) set('password_hash', changes.passwordHash);
    if (changes.superuser !== undefined) set('superuser', changes.superuser ? 1 : 0);
    if (changes.description !== undefined) set('description', changes.description);
    if (changes.ldapDn !== undefined) set('ldap_dn', changes.ldapDn);
    if (changes.disabled !== undefined) set('disabled', changes.disabled ? 1 : 0);
    // What proves or bounds the account's rights changed: tokens and logins issued before end.
    const revoking = changes.passwordHash !== undefined || changes.superuser !== undefined || changes.disabled !== undefined;
    if (revoking) set('security_stamp', newStamp());
    if (sets.length > 0) {
      await this.sql.transaction(async (tx) => {
        await tx.run(`UPDATE accounts SET ${sets.join(', ')} WHERE id = ?`, [...params, id]);
        // Refresh tokens live no longer than what minted them: a new password ends those
        // minted with the old one, disabling ends them all (LDAP ones included).
        if (changes.disabled === true) await tx.run(`DELETE FROM credentials WHERE account_id = ? AND kind = 'refresh'`, [id]);
        else if (changes.passwordHash !== undefined) await tx.run(`DELETE FROM credentials WHERE account_id = ? AND kind = 'refresh' AND minted_via = 'password'`, [id]);
      });
    }
    const account = await this.findAccountById(id);
    if (!account) throw new NotFound('account', 'account not found');
    return account;
  }

  async deleteAccount(id: number): Promise<{ deleted: boolean; repositories: string[] }> {
    return this.sql.transaction(async (tx) => {
      const found = await tx.query<{ name: string; kind: AccountKind }>('SELECT name, kind FROM accounts WHERE id = ?', [id]);
      const account = found[0];
      if (!account) return { deleted: false, repositories: [] };
      // Permissions name grantees by id without a foreign key (the id may be a team's or
      // an account's): remove the account's own and those of the teams it owns.
      const teams = await tx.query<{ id: number }>('SELECT id FROM teams WHERE organization_id = ?', [id]);
      const robots = await tx.query<{ id: number }>('SELECT id FROM accounts WHERE owner_id = ?', [id]);
      for (const team of teams) await removeGrantee(tx, 'team', team.id);
      for (const robot of robots) await removeGrantee(tx, 'account', robot.id);
      await removeGrantee(tx, 'account', id);
      // Robots have no namespace (their names hold a '+').
      const repositories = account.kind === 'robot' ? [] : await removeNamespaceRepositories(tx, account.name);
      const result = await tx.run('DELETE FROM accounts WHERE id = ?', [id]);
      return { deleted: result.changes > 0, repositories };
    });
  }

  async countAccounts(kind: AccountKind): Promise<number> {
    const rows = await this.sql.query<{ n: number }>('SELECT COUNT(*) AS n FROM accounts WHERE kind = ?', [kind]);
    return Number(rows[0]?.n ?? 0);
  }
}
