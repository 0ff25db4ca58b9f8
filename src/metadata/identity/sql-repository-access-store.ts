// RepositoryAccessStore over any SqlClient: one code path for SQLite and PostgreSQL.
import { strongerRole } from '../../core/identity.ts';
import type { AccountKind, GranteeRef, Permission, RepositorySettings, Role, Visibility } from '../../core/identity.ts';
import type { SqlClient, SqlValue } from '../sql-client.ts';
import type { AccessFacts, ReadableRepositoriesOptions, RepositoryAccessStore } from './repository-access-store.ts';

interface RepositoryRow {
  id: number;
  name: string;
  visibility: Visibility;
  description: string | null;
  created_at: number;
}

function toRepository(row: RepositoryRow): RepositorySettings {
  return { id: row.id, name: row.name, visibility: row.visibility, description: row.description, createdAt: row.created_at };
}

// r.name is in the namespace named by the account aliased `alias` (no LIKE: names hold _).
const IN_NAMESPACE = (alias: string, repository = 'r'): string => `substr(${repository}.name, 1, length(${alias}.name) + 1) = ${alias}.name || '/'`;

// Which teams an account is in, as a subquery; used by every permission lookup.
const MEMBER_TEAMS = 'SELECT team_id FROM team_members WHERE account_id = ?';

export class SqlRepositoryAccessStore implements RepositoryAccessStore {
  private readonly sql: SqlClient;

  constructor(sql: SqlClient) {
    this.sql = sql;
  }

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

  async readableRepositories(accountId: number | null, options: ReadableRepositoriesOptions): Promise<string[]> {
    const readable = readableRepositoryCondition('r', accountId, options);
    if (readable === null) return [];
    const after = options.last ?? '';
    const rows = await this.sql.query<{ name: string }>(
      `SELECT r.name FROM repositories r WHERE r.name > ? AND ${readable.sql} ORDER BY r.name LIMIT ?`,
      [after, ...readable.params, options.limit],
    );
    return rows.map((row) => row.name);
  }
}

/**
 * THE read rule as SQL over a `repositories` row aliased `alias`: public (when counted),
 * own namespace, direct or team permission, organization default, admin team; and only
 * repositories that hold something (a row may exist for settings alone). null: nothing is
 * readable. readableRepositories and the catalog's search index (SqlCatalogIndexStore)
 * both use it, so there is one copy of the rule in SQL.
 */
export function readableRepositoryCondition(alias: string, accountId: number | null, options: Pick<ReadableRepositoriesOptions, 'includePublic' | 'all'>): { sql: string; params: SqlValue[] } | null {
  const r = alias;
  const params: SqlValue[] = [];
  let filter = '';
  if (!options.all) {
    const clauses: string[] = [];
    if (options.includePublic) clauses.push(`${r}.visibility = 'public'`);
    if (accountId !== null) {
      clauses.push(`EXISTS (SELECT 1 FROM accounts u WHERE u.id = ? AND u.kind = 'user' AND ${IN_NAMESPACE('u', r)})`);
      params.push(accountId);
      clauses.push(`EXISTS (SELECT 1 FROM repository_permissions p WHERE p.repository_id = ${r}.id AND ((p.grantee_kind = 'account' AND p.grantee_id = ?) OR (p.grantee_kind = 'team' AND p.grantee_id IN (${MEMBER_TEAMS}))))`);
      params.push(accountId, accountId);
      clauses.push(`EXISTS (SELECT 1 FROM default_permissions d JOIN accounts o ON o.id = d.organization_id WHERE ${IN_NAMESPACE('o', r)} AND ((d.grantee_kind = 'account' AND d.grantee_id = ?) OR (d.grantee_kind = 'team' AND d.grantee_id IN (${MEMBER_TEAMS}))))`);
      params.push(accountId, accountId);
      clauses.push(`EXISTS (SELECT 1 FROM teams t JOIN accounts o ON o.id = t.organization_id JOIN team_members m ON m.team_id = t.id WHERE ${IN_NAMESPACE('o', r)} AND t.role = 'admin' AND m.account_id = ?)`);
      params.push(accountId);
    }
    if (clauses.length === 0) return null;
    filter = `(${clauses.join(' OR ')}) AND `;
  }
  return {
    sql: `${filter}(EXISTS (SELECT 1 FROM repository_manifests rm WHERE rm.repository_id = ${r}.id) OR EXISTS (SELECT 1 FROM repository_blobs rb WHERE rb.repository_id = ${r}.id))`,
    params,
  };
}
