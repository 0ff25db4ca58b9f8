// TeamStore over any SqlClient: one code path for SQLite and PostgreSQL.
import { Conflict, NotFound } from '../../core/errors.ts';
import type { Team, TeamMember, TeamRole } from '../../core/identity.ts';
import type { SqlClient, SqlValue } from '../sql-client.ts';
import { ACCOUNT_COLUMNS, isUniqueViolation, removeGrantee, toAccount, type AccountRow } from './sql-identity-rows.ts';
import type { TeamChanges, TeamStore } from './team-store.ts';

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

const TEAM_SELECT = 'SELECT t.id, t.organization_id, o.name AS organization, t.name, t.role, t.description, t.ldap_group, t.created_at FROM teams t JOIN accounts o ON o.id = t.organization_id';

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

export class SqlTeamStore implements TeamStore {
  private readonly sql: SqlClient;

  constructor(sql: SqlClient) {
    this.sql = sql;
  }

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

  async updateTeam(id: number, changes: TeamChanges): Promise<Team> {
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
}
