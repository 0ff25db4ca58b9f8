// IdentityStore over any SqlClient: one code path for SQLite and PostgreSQL.
import { Conflict, NotFound } from '../core/errors.ts';
import { strongerRole } from '../core/identity.ts';
import type {
  Account,
  AccountKind,
  Credential,
  CredentialKind,
  GranteeRef,
  Permission,
  RepositorySettings,
  Role,
  SigningKeyRecord,
  Team,
  TeamMember,
  TeamRole,
  Visibility,
} from '../core/identity.ts';
import { UNOWNED_REPOSITORIES, type AccessFacts, type AccountChanges, type IdentityStore, type NewAccount, type NewCredential, type NewOrganization } from './identity-store.ts';
import { insertOrganization, namespaceHoldsRepositories } from './namespace-ownership.ts';
import { removeNamespaceRepositories } from './namespace-removal.ts';
import type { SqlClient, SqlExecutor, SqlValue } from './sql-client.ts';
import { newStamp, SqlCredentials, toCredential, type CredentialRow } from './sql-credentials.ts';

interface AccountRow {
  id: number;
  name: string;
  kind: AccountKind;
  email: string | null;
  superuser: number;
  owner_id: number | null;
  description: string | null;
  ldap_dn: string | null;
  disabled: number;
  created_at: number;
  security_stamp: string;
}

interface TeamRow {
  id: number;
  organization_id: number;
  organization: string;
  name: string;
  role: TeamRole;
  description: string | null;
  ldap_group: string | null;
  created_at: number;
}

interface RepositoryRow {
  id: number;
  name: string;
  visibility: Visibility;
  description: string | null;
  created_at: number;
}

const ACCOUNT_COLUMNS = 'a.id, a.name, a.kind, a.email, a.superuser, a.owner_id, a.description, a.ldap_dn, a.disabled, a.created_at, a.security_stamp';
const TEAM_SELECT = 'SELECT t.id, t.organization_id, o.name AS organization, t.name, t.role, t.description, t.ldap_group, t.created_at FROM teams t JOIN accounts o ON o.id = t.organization_id';

function toAccount(row: AccountRow): Account {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    email: row.email,
    superuser: Number(row.superuser) === 1,
    ownerId: row.owner_id,
    description: row.description,
    ldapDn: row.ldap_dn,
    disabled: Number(row.disabled) === 1,
    createdAt: row.created_at,
    securityStamp: row.security_stamp,
  };
}

function toTeam(row: TeamRow): Team {
  return {
    id: row.id,
    organizationId: row.organization_id,
    organization: row.organization,
    name: row.name,
    role: row.role,
    description: row.description,
    ldapGroup: row.ldap_group,
    createdAt: row.created_at,
  };
}

function toRepository(row: RepositoryRow): RepositorySettings {
  return { id: row.id, name: row.name, visibility: row.visibility, description: row.description, createdAt: row.created_at };
}

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

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  const message = (error as Error).message ?? '';
  return code === '23505' || /UNIQUE constraint failed/i.test(message);
}

// r.name is in the namespace named by the account aliased `alias` (no LIKE: names hold _).
const IN_NAMESPACE = (alias: string): string => `substr(r.name, 1, length(${alias}.name) + 1) = ${alias}.name || '/'`;

// Which teams an account is in, as a subquery; used by every permission lookup.
const MEMBER_TEAMS = 'SELECT team_id FROM team_members WHERE account_id = ?';

export class SqlIdentityStore implements IdentityStore {
  private readonly sql: SqlClient;
  private readonly credentials: SqlCredentials;

  constructor(sql: SqlClient) {
    this.sql = sql;
    this.credentials = new SqlCredentials(sql);
  }

  // ---- accounts ------------------------------------------------------------------------

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

  // ---- teams ---------------------------------------------------------------------------

  async createTeam(organizationId: number, name: string, role: TeamRole, description: string | null = null): Promise<Team> {
    try {
      await this.sql.run('INSERT INTO teams (organization_id, name, role, description, created_at) VALUES (?, ?, ?, ?, ?)', [organizationId, name, role, description, Date.now()]);
    } catch (error) {
      if (isUniqueViolation(error)) throw new Conflict('team', `the organization already has a team "${name}"`);
      throw error;
    }
    const rows = await this.sql.query<TeamRow>(`${TEAM_SELECT} WHERE t.organization_id = ? AND t.name = ?`, [organizationId, name]);
    return toTeam(rows[0]!);
  }

  async findTeam(organization: string, name: string): Promise<Team | null> {
    const rows = await this.sql.query<TeamRow>(`${TEAM_SELECT} WHERE o.name = ? AND t.name = ?`, [organization, name]);
    return rows[0] ? toTeam(rows[0]) : null;
  }

  async findTeamById(id: number): Promise<Team | null> {
    const rows = await this.sql.query<TeamRow>(`${TEAM_SELECT} WHERE t.id = ?`, [id]);
    return rows[0] ? toTeam(rows[0]) : null;
  }

  async listTeams(organizationId: number): Promise<Team[]> {
    const rows = await this.sql.query<TeamRow>(`${TEAM_SELECT} WHERE t.organization_id = ? ORDER BY t.name`, [organizationId]);
    return rows.map(toTeam);
  }

  async updateTeam(id: number, changes: { role?: TeamRole; description?: string | null; ldapGroup?: string | null }): Promise<Team> {
    const sets: string[] = [];
    const params: SqlValue[] = [];
    if (changes.role !== undefined) {
      sets.push('role = ?');
      params.push(changes.role);
    }
    if (changes.description !== undefined) {
      sets.push('description = ?');
      params.push(changes.description);
    }
    if (changes.ldapGroup !== undefined) {
      sets.push('ldap_group = ?');
      params.push(changes.ldapGroup);
    }
    if (sets.length > 0) await this.sql.run(`UPDATE teams SET ${sets.join(', ')} WHERE id = ?`, [...params, id]);
    const team = await this.findTeamById(id);
    if (!team) throw new NotFound('team', 'team not found');
    return team;
  }

  async deleteTeam(id: number): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      await removeGrantee(tx, 'team', id);
      const result = await tx.run('DELETE FROM teams WHERE id = ?', [id]);
      return result.changes > 0;
    });
  }

  async addTeamMember(teamId: number, accountId: number, synced = false): Promise<boolean> {
    const result = await this.sql.run('INSERT INTO team_members (team_id, account_id, synced, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (team_id, account_id) DO NOTHING', [
      teamId,
      accountId,
      synced ? 1 : 0,
      Date.now(),
    ]);
    return result.changes > 0;
  }

  async removeTeamMember(teamId: number, accountId: number): Promise<boolean> {
    const result = await this.sql.run('DELETE FROM team_members WHERE team_id = ? AND account_id = ?', [teamId, accountId]);
    return result.changes > 0;
  }

  async listTeamMembers(teamId: number): Promise<TeamMember[]> {
    const rows = await this.sql.query<AccountRow & { synced: number }>(
      `SELECT ${ACCOUNT_COLUMNS}, m.synced FROM team_members m JOIN accounts a ON a.id = m.account_id WHERE m.team_id = ? ORDER BY a.name`,
      [teamId],
    );
    return rows.map((row) => ({ account: toAccount(row), synced: Number(row.synced) === 1 }));
  }

  async teamsOf(accountId: number): Promise<Team[]> {
    const rows = await this.sql.query<TeamRow>(`${TEAM_SELECT} JOIN team_members m ON m.team_id = t.id WHERE m.account_id = ? ORDER BY o.name, t.name`, [accountId]);
    return rows.map(toTeam);
  }

  async listLdapSyncedTeams(): Promise<Team[]> {
    const rows = await this.sql.query<TeamRow>(`${TEAM_SELECT} WHERE t.ldap_group IS NOT NULL ORDER BY o.name, t.name`);
    return rows.map(toTeam);
  }

  // ---- repositories --------------------------------------------------------------------

  async findRepository(name: string): Promise<RepositorySettings | null> {
    const rows = await this.sql.query<RepositoryRow>('SELECT id, name, visibility, description, created_at FROM repositories WHERE name = ?', [name]);
    return rows[0] ? toRepository(rows[0]) : null;
  }

  async ensureRepository(name: string, visibility: Visibility = 'private'): Promise<RepositorySettings> {
    await this.sql.run('INSERT INTO repositories (name, created_at, visibility) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING', [name, Date.now(), visibility]);
    return (await this.findRepository(name))!;
  }

  async updateRepository(name: string, changes: { visibility?: Visibility; description?: string | null }): Promise<RepositorySettings | null> {
    if (changes.visibility !== undefined) await this.sql.run('UPDATE repositories SET visibility = ? WHERE name = ?', [changes.visibility, name]);
    if (changes.description !== undefined) await this.sql.run('UPDATE repositories SET description = ? WHERE name = ?', [changes.description, name]);
    return this.findRepository(name);
  }

  // ---- permissions ---------------------------------------------------------------------

  async setPermission(repositoryId: number, grantee: GranteeRef, role: Role | null): Promise<void> {
    await this.setGrant('repository_permissions', 'repository_id', repositoryId, grantee, role);
  }

  async listPermissions(repositoryId: number): Promise<Permission[]> {
    return this.permissionsFrom('repository_permissions', 'repository_id', repositoryId);
  }

  async setDefaultPermission(organizationId: number, grantee: GranteeRef, role: Role | null): Promise<void> {
    await this.setGrant('default_permissions', 'organization_id', organizationId, grantee, role);
  }

  /** Sets (or, for null, removes) a grantee's role in one of the two permission tables. */
  private async setGrant(table: 'repository_permissions' | 'default_permissions', column: 'repository_id' | 'organization_id', id: number, grantee: GranteeRef, role: Role | null): Promise<void> {
    if (role === null) {
      await this.sql.run(`DELETE FROM ${table} WHERE ${column} = ? AND grantee_kind = ? AND grantee_id = ?`, [id, grantee.kind, grantee.id]);
      return;
    }
    await this.sql.run(
      `INSERT INTO ${table} (${column}, grantee_kind, grantee_id, role, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (${column}, grantee_kind, grantee_id) DO UPDATE SET role = excluded.role`,
      [id, grantee.kind, grantee.id, role, Date.now()],
    );
  }

  async listDefaultPermissions(organizationId: number): Promise<Permission[]> {
    return this.permissionsFrom('default_permissions', 'organization_id', organizationId);
  }

  private async permissionsFrom(table: 'repository_permissions' | 'default_permissions', column: string, id: number): Promise<Permission[]> {
    const rows = await this.sql.query<{ grantee_kind: 'account' | 'team'; grantee_id: number; role: Role; account_name: string | null; account_kind: AccountKind | null; team_name: string | null }>(
      `SELECT p.grantee_kind, p.grantee_id, p.role, a.name AS account_name, a.kind AS account_kind, t.name AS team_name
         FROM ${table} p
         LEFT JOIN accounts a ON p.grantee_kind = 'account' AND a.id = p.grantee_id
         LEFT JOIN teams t ON p.grantee_kind = 'team' AND t.id = p.grantee_id
        WHERE p.${column} = ?
        ORDER BY p.grantee_kind, COALESCE(a.name, t.name)`,
      [id],
    );
    return rows
      .filter((row) => row.account_name !== null || row.team_name !== null)
      .map((row) => ({
        grantee:
          row.grantee_kind === 'account'
            ? { kind: 'account' as const, id: row.grantee_id, name: row.account_name!, accountKind: row.account_kind! }
            : { kind: 'team' as const, id: row.grantee_id, name: row.team_name! },
        role: row.role,
      }));
  }

  async accessFacts(accountId: number, repository: string, namespace: string | null): Promise<AccessFacts> {
    const repositoryRows = await this.sql.query<RepositoryRow>('SELECT id, name, visibility, description, created_at FROM repositories WHERE name = ?', [repository]);
    const settings = repositoryRows[0] ? toRepository(repositoryRows[0]) : null;
    // One query for every source of a role: the account's and its teams' permissions on
    // the repository, the organization's defaults, and admin or creator teams.
    const rows = await this.sql.query<{ source: string; role: string }>(
      `SELECT 'repository' AS source, p.role FROM repository_permissions p
         WHERE p.repository_id = ? AND ((p.grantee_kind = 'account' AND p.grantee_id = ?) OR (p.grantee_kind = 'team' AND p.grantee_id IN (${MEMBER_TEAMS})))
       UNION ALL
       SELECT 'default' AS source, d.role FROM default_permissions d JOIN accounts o ON o.id = d.organization_id
         WHERE o.name = ? AND ((d.grantee_kind = 'account' AND d.grantee_id = ?) OR (d.grantee_kind = 'team' AND d.grantee_id IN (${MEMBER_TEAMS})))
       UNION ALL
       SELECT 'team' AS source, t.role FROM teams t JOIN accounts o ON o.id = t.organization_id JOIN team_members m ON m.team_id = t.id
         WHERE o.name = ? AND m.account_id = ? AND t.role IN ('creator', 'admin')
       UNION ALL
       SELECT 'owner' AS source, 'admin' AS role FROM accounts u WHERE u.id = ? AND u.name = ? AND u.kind = 'user'`,
      [settings?.id ?? -1, accountId, accountId, namespace ?? '', accountId, accountId, namespace ?? '', accountId, accountId, namespace ?? ''],
    );
    let role: Role | null = null;
    let mayCreate = false;
    for (const row of rows) {
      if (row.source === 'team') {
        mayCreate = true;
        if (row.role === 'admin') role = 'admin';
      } else if (row.source === 'owner') {
        mayCreate = true;
        role = 'admin';
      } else {
        role = strongerRole(role, row.role as Role);
      }
    }
    return { repository: settings, role, mayCreate: mayCreate && namespace !== null };
  }

  async readableRepositories(accountId: number | null, options: { includePublic: boolean; all: boolean; last?: string; limit: number }): Promise<string[]> {
    const params: SqlValue[] = [];
    let filter = '';
    if (!options.all) {
      const clauses: string[] = [];
      if (options.includePublic) clauses.push(`r.visibility = 'public'`);
      if (accountId !== null) {
        // Own namespace; direct or team permission; organization default; admin team.
        clauses.push(`EXISTS (SELECT 1 FROM accounts u WHERE u.id = ? AND u.kind = 'user' AND ${IN_NAMESPACE('u')})`);
        params.push(accountId);
        clauses.push(`EXISTS (SELECT 1 FROM repository_permissions p WHERE p.repository_id = r.id AND ((p.grantee_kind = 'account' AND p.grantee_id = ?) OR (p.grantee_kind = 'team' AND p.grantee_id IN (${MEMBER_TEAMS}))))`);
        params.push(accountId, accountId);
        clauses.push(`EXISTS (SELECT 1 FROM default_permissions d JOIN accounts o ON o.id = d.organization_id WHERE ${IN_NAMESPACE('o')} AND ((d.grantee_kind = 'account' AND d.grantee_id = ?) OR (d.grantee_kind = 'team' AND d.grantee_id IN (${MEMBER_TEAMS}))))`);
        params.push(accountId, accountId);
        clauses.push(`EXISTS (SELECT 1 FROM teams t JOIN accounts o ON o.id = t.organization_id JOIN team_members m ON m.team_id = t.id WHERE ${IN_NAMESPACE('o')} AND t.role = 'admin' AND m.account_id = ?)`);
        params.push(accountId);
      }
      if (clauses.length === 0) return [];
      filter = `AND (${clauses.join(' OR ')})`;
    }
    const after = options.last ?? '';
    // Only repositories that hold something: a repository row may exist for settings alone.
    const rows = await this.sql.query<{ name: string }>(
      `SELECT r.name FROM repositories r
        WHERE r.name > ? ${filter}
          AND (EXISTS (SELECT 1 FROM repository_manifests rm WHERE rm.repository_id = r.id) OR EXISTS (SELECT 1 FROM repository_blobs rb WHERE rb.repository_id = r.id))
        ORDER BY r.name LIMIT ?`,
      [after, ...params, options.limit],
    );
    return rows.map((row) => row.name);
  }

  // ---- credentials ---------------------------------------------------------------------

  async addCredential(credential: NewCredential): Promise<Credential> {
    return this.credentials.add(credential);
  }

  async addRefreshToken(credential: NewCredential, stamp: string): Promise<Credential | null> {
    return this.credentials.addWhileStamp({ ...credential, kind: 'refresh' }, stamp);
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
    return this.credentials.list(accountId, kind);
  }

  async deleteCredential(accountId: number, id: number): Promise<boolean> {
    return (await this.credentials.revoke(accountId, { id })) > 0;
  }

  async deleteCredentials(accountId: number, kind: CredentialKind): Promise<number> {
    return this.credentials.revoke(accountId, { kind });
  }

  async touchCredential(id: number, now: number): Promise<void> {
    await this.credentials.touch(id, now);
  }

  // ---- signing keys --------------------------------------------------------------------

  async activeSigningKeys(): Promise<SigningKeyRecord[]> {
    return this.signingKeys(this.sql);
  }

  async insertSigningKeyIfNone(key: SigningKeyRecord): Promise<SigningKeyRecord[]> {
    return this.sql.transaction(async (tx) => {
      // Replicas starting together: one inserts, the others see its key.
      if (tx.dialect === 'postgres') await tx.query('SELECT pg_advisory_xact_lock(7243912)');
      const existing = await this.signingKeys(tx);
      if (existing.length > 0) return existing;
      await tx.run('INSERT INTO signing_keys (kid, algorithm, private_key, public_jwk, created_at) VALUES (?, ?, ?, ?, ?)', [key.kid, key.algorithm, key.privateKeyPem, key.publicJwk, key.createdAt]);
      return this.signingKeys(tx);
    });
  }

  private async signingKeys(executor: SqlExecutor): Promise<SigningKeyRecord[]> {
    const rows = await executor.query<{ kid: string; algorithm: string; private_key: string; public_jwk: string; created_at: number; retired_at: number | null }>(
      'SELECT kid, algorithm, private_key, public_jwk, created_at, retired_at FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC',
    );
    return rows.map((row) => ({ kid: row.kid, algorithm: row.algorithm, privateKeyPem: row.private_key, publicJwk: row.public_jwk, createdAt: row.created_at, retiredAt: row.retired_at }));
  }
}

async function removeGrantee(tx: SqlExecutor, kind: 'account' | 'team', id: number): Promise<void> {
  await tx.run('DELETE FROM repository_permissions WHERE grantee_kind = ? AND grantee_id = ?', [kind, id]);
  await tx.run('DELETE FROM default_permissions WHERE grantee_kind = ? AND grantee_id = ?', [kind, id]);
}
