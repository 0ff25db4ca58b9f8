// Teams of an organization and their members: administered by the organization's
// administrators, seen by its members, and never leaving the organization without an
// administrator.
import { RegistryError } from '../core/errors.ts';
import type { Account, Team, TeamRole } from '../core/identity.ts';
import type { Caller, ManagementContext } from './management-context.ts';
import { checkDescription, checkLdapGroup, checkTeamName, checkTeamRole, invalid, notFound, shown } from './input-checks.ts';
import { teamView, type MemberView, type TeamView } from './views.ts';

export interface NewTeamInput {
  readonly name: string;
  readonly role?: TeamRole;
  readonly description?: string | null;
  readonly ldapGroup?: string | null;
}

export class TeamService {
  private readonly context: ManagementContext;

  constructor(context: ManagementContext) {
    this.context = context;
  }

  private async team(org: Account, name: string): Promise<Team> {
    const team = await this.context.identity.findTeam(org.name, name);
    if (!team) throw notFound(`team "${shown(name)}" not found in organization "${org.name}"`);
    return team;
  }

  /** Users (not robots) who administer the organization through admin teams, after a change. */
  private async adminUsersAfter(org: Account, change: { teamId: number; role?: TeamRole; removed?: boolean; removedMember?: number }): Promise<number> {
    const admins = new Set<number>();
    for (const team of await this.context.identity.listTeams(org.id)) {
      const role = team.id === change.teamId ? (change.removed ? null : (change.role ?? team.role)) : team.role;
      if (role !== 'admin') continue;
      for (const member of await this.context.identity.listTeamMembers(team.id)) {
        if (member.account.kind !== 'user' || member.account.disabled) continue;
        if (team.id === change.teamId && member.account.id === change.removedMember) continue;
        admins.add(member.account.id);
      }
    }
    return admins.size;
  }

  private async keepAnAdmin(org: Account, change: { teamId: number; role?: TeamRole; removed?: boolean; removedMember?: number }): Promise<void> {
    if ((await this.adminUsersAfter(org, change)) === 0) {
      throw new RegistryError('CONFLICT', `organization "${org.name}" would have no administrator left`);
    }
  }

  async createTeam(caller: Caller, orgName: string, input: NewTeamInput): Promise<TeamView> {
    return this.context.change(caller, 'team', { action: 'create', organization: orgName, team: input.name, role: input.role ?? 'member' }, async () => {
      const { org } = await this.context.adminOf(caller, orgName);
      const name = checkTeamName(input.name);
      const role = input.role === undefined ? 'member' : checkTeamRole(input.role);
      const description = checkDescription(input.description);
      const ldapGroup = checkLdapGroup(input.ldapGroup);
      let team = await this.context.identity.createTeam(org.id, name, role, description);
      if (ldapGroup !== null) team = await this.context.identity.updateTeam(team.id, { ldapGroup });
      return teamView(team);
    });
  }

  async listTeams(caller: Caller, orgName: string): Promise<TeamView[]> {
    const { org } = await this.context.memberOf(caller, orgName);
    return (await this.context.identity.listTeams(org.id)).map(teamView);
  }

  async getTeam(caller: Caller, orgName: string, teamName: string): Promise<TeamView> {
    const { org } = await this.context.memberOf(caller, orgName);
    return teamView(await this.team(org, teamName));
  }

  async updateTeam(caller: Caller, orgName: string, teamName: string, changes: { role?: TeamRole; description?: string | null; ldapGroup?: string | null }): Promise<TeamView> {
    return this.context.change(caller, 'team', { action: 'update', organization: orgName, team: teamName, fields: Object.keys(changes), ...(changes.role ? { role: changes.role } : {}) }, async () => {
      const { org } = await this.context.adminOf(caller, orgName);
      const team = await this.team(org, teamName);
      const update: { role?: TeamRole; description?: string | null; ldapGroup?: string | null } = {};
      if (changes.role !== undefined) update.role = checkTeamRole(changes.role);
      if (changes.description !== undefined) update.description = checkDescription(changes.description);
      if (changes.ldapGroup !== undefined) update.ldapGroup = checkLdapGroup(changes.ldapGroup);
      if (team.role === 'admin' && update.role !== undefined && update.role !== 'admin') await this.keepAnAdmin(org, { teamId: team.id, role: update.role });
      const updated = await this.context.identity.updateTeam(team.id, update);
      this.context.authenticator.forget();
      return teamView(updated);
    });
  }

  async deleteTeam(caller: Caller, orgName: string, teamName: string): Promise<void> {
    await this.context.change(caller, 'team', { action: 'delete', organization: orgName, team: teamName }, async () => {
      const { org } = await this.context.adminOf(caller, orgName);
      const team = await this.team(org, teamName);
      if (team.role === 'admin') await this.keepAnAdmin(org, { teamId: team.id, removed: true });
      await this.context.identity.deleteTeam(team.id);
      this.context.authenticator.forget();
    });
  }

  async listTeamMembers(caller: Caller, orgName: string, teamName: string): Promise<MemberView[]> {
    const { org } = await this.context.memberOf(caller, orgName);
    const team = await this.team(org, teamName);
    return (await this.context.identity.listTeamMembers(team.id)).map((member) => ({ name: member.account.name, kind: member.account.kind === 'robot' ? 'robot' : 'user', synced: member.synced }));
  }

  /** Adds a user or one of the organization's robots; true when it was not a member yet. */
  async addTeamMember(caller: Caller, orgName: string, teamName: string, accountName: string): Promise<{ added: boolean; member: MemberView }> {
    return this.context.change(caller, 'membership', { action: 'add', organization: orgName, team: teamName, member: accountName }, async () => {
      const { org } = await this.context.adminOf(caller, orgName);
      const team = await this.team(org, teamName);
      const member = await this.context.identity.findAccount(accountName);
      if (!member || member.kind === 'organization') throw notFound(`user or robot "${shown(accountName)}" not found`);
      if (member.kind === 'robot' && member.ownerId !== org.id) throw invalid(`only robots of organization "${org.name}" may join its teams`);
      const added = await this.context.identity.addTeamMember(team.id, member.id);
      this.context.authenticator.forget();
      return { added, member: { name: member.name, kind: member.kind, synced: false } };
    });
  }

  async removeTeamMember(caller: Caller, orgName: string, teamName: string, accountName: string): Promise<void> {
    await this.context.change(caller, 'membership', { action: 'remove', organization: orgName, team: teamName, member: accountName }, async () => {
      const { org } = await this.context.adminOf(caller, orgName);
      const team = await this.team(org, teamName);
      const member = await this.context.identity.findAccount(accountName);
      if (!member) throw notFound(`"${shown(accountName)}" is not a member of team ${org.name}/${team.name}`);
      if (team.role === 'admin') await this.keepAnAdmin(org, { teamId: team.id, removedMember: member.id });
      if (!(await this.context.identity.removeTeamMember(team.id, member.id))) throw notFound(`"${shown(accountName)}" is not a member of team ${org.name}/${team.name}`);
      this.context.authenticator.forget();
    });
  }
}
