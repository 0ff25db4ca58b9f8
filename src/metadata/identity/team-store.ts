// The teams facet of the identity seam: an organization's teams, their roles and members
// (some mirrored from LDAP groups). SQL implementation: sql-team-store.ts.
import type { Team, TeamMember, TeamRole } from '../../core/identity.ts';

export interface TeamChanges {
  readonly role?: TeamRole;
  readonly description?: string | null;
  readonly ldapGroup?: string | null;
}

export interface TeamStore {
  /** Throws Conflict('team') when the organization has a team of that name. */
  createTeam(organizationId: number, name: string, role: TeamRole, description?: string | null): Promise<Team>;
  findTeam(organization: string, name: string): Promise<Team | null>;
  findTeamById(id: number): Promise<Team | null>;
  listTeams(organizationId: number): Promise<Team[]>;
  /** Throws NotFound('team') when there is no such team. */
  updateTeam(id: number, changes: TeamChanges): Promise<Team>;
  /** Deletes the team with its memberships and the permissions granted to it. */
  deleteTeam(id: number): Promise<boolean>;
  addTeamMember(teamId: number, accountId: number, synced?: boolean): Promise<boolean>;
  removeTeamMember(teamId: number, accountId: number): Promise<boolean>;
  listTeamMembers(teamId: number): Promise<TeamMember[]>;
  teamsOf(accountId: number): Promise<Team[]>;
  /** Teams mirroring an LDAP group, across all organizations. */
  listLdapSyncedTeams(): Promise<Team[]>;
}
