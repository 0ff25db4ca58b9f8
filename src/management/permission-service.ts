// Permissions: a repository's roles for users, robots and teams, an organization's
// defaults for all its repositories, and who can do what on a repository, with where each
// role comes from.
import { ROLES, strongerRole, type Account, type GranteeRef, type Role } from '../core/identity.ts';
import { namespaceOf } from '../core/names.ts';
import type { IdentityStore } from '../metadata/identity-store.ts';
import type { Caller, ManagementContext } from './management-context.ts';
import { checkRepositoryName, checkRole, invalid, notFound, shown } from './input-checks.ts';
import type { AccessEntryView, AccessSourceView, GranteeKind, PermissionView, RepositoryAccessView } from './views.ts';

export interface GranteeInput {
  readonly kind: GranteeKind;
  /** A user or robot name; a team as "org/team" or, within an organization, its short name. */
  readonly name: string;
}

export class PermissionService {
  private readonly context: ManagementContext;

  constructor(context: ManagementContext) {
    this.context = context;
  }

  private async resolveGrantee(grantee: GranteeInput, organization: Account | null): Promise<{ ref: GranteeRef; view: PermissionView['grantee'] }> {
    if (!grantee || typeof grantee.name !== 'string' || grantee.name === '') throw invalid('a grantee needs a kind (user, robot or team) and a name');
    if (grantee.kind === 'user' || grantee.kind === 'robot') {
      const account = await this.context.identity.findAccount(grantee.name);
      if (!account || account.kind !== grantee.kind) throw notFound(`${grantee.kind} "${shown(grantee.name)}" not found`);
      return { ref: { kind: 'account', id: account.id }, view: { kind: grantee.kind, name: account.name } };
    }
    if (grantee.kind === 'team') {
      const slash = grantee.name.indexOf('/');
      const orgName = slash < 0 ? organization?.name : grantee.name.slice(0, slash);
      const teamName = slash < 0 ? grantee.name : grantee.name.slice(slash + 1);
      if (organization === null) throw invalid('teams can be granted permissions only on repositories of their organization');
      if (orgName !== organization.name) throw invalid(`only teams of organization "${organization.name}" can be granted permissions here`);
      const team = await this.context.identity.findTeam(organization.name, teamName);
      if (!team) throw notFound(`team "${shown(grantee.name)}" not found in organization "${organization.name}"`);
      return { ref: { kind: 'team', id: team.id }, view: { kind: 'team', name: `${organization.name}/${team.name}` } };
    }
    throw invalid('grantee kind must be user, robot or team');
  }

  private async namespaceOrganization(repository: string): Promise<Account | null> {
    const namespace = namespaceOf(repository);
    if (namespace === null) return null;
    const owner = await this.context.identity.findAccount(namespace);
    return owner?.kind === 'organization' ? owner : null;
  }

  private permissionViews(permissions: Awaited<ReturnType<IdentityStore['listPermissions']>>, organization: string | null): PermissionView[] {
    return permissions.map((permission) => ({
      grantee:
        permission.grantee.kind === 'team'
          ? { kind: 'team' as const, name: organization === null ? permission.grantee.name : `${organization}/${permission.grantee.name}` }
          : { kind: permission.grantee.accountKind === 'robot' ? ('robot' as const) : ('user' as const), name: permission.grantee.name },
      role: permission.role,
    }));
  }

  async listPermissions(caller: Caller, repository: string): Promise<PermissionView[]> {
    checkRepositoryName(repository);
    await this.context.repositoryRole(caller, repository, 'admin');
    const settings = (await this.context.identity.findRepository(repository))!;
    const org = await this.namespaceOrganization(repository);
    return this.permissionViews(await this.context.identity.listPermissions(settings.id), org?.name ?? null);
  }

  async setPermission(caller: Caller, repository: string, grantee: GranteeInput, role: Role): Promise<PermissionView> {
    checkRepositoryName(repository);
    return this.context.change(
      caller,
      'permission',
      { action: 'set', grantee: { kind: grantee?.kind, name: grantee?.name }, role },
      async () => {
        await this.context.repositoryRole(caller, repository, 'admin');
        const checked = checkRole(role);
        const settings = (await this.context.identity.findRepository(repository))!;
        const { ref, view } = await this.resolveGrantee(grantee, await this.namespaceOrganization(repository));
        await this.context.identity.setPermission(settings.id, ref, checked);
        this.context.authenticator.forget();
        return { grantee: view, role: checked };
      },
      repository,
    );
  }

  async deletePermission(caller: Caller, repository: string, grantee: GranteeInput): Promise<void> {
    checkRepositoryName(repository);
    await this.context.change(
      caller,
      'permission',
      { action: 'delete', grantee: { kind: grantee?.kind, name: grantee?.name } },
      async () => {
        await this.context.repositoryRole(caller, repository, 'admin');
        const settings = (await this.context.identity.findRepository(repository))!;
        const { ref, view } = await this.resolveGrantee(grantee, await this.namespaceOrganization(repository));
        const existing = await this.context.identity.listPermissions(settings.id);
        if (!existing.some((permission) => permission.grantee.kind === ref.kind && permission.grantee.id === ref.id)) {
          throw notFound(`${view.kind} "${view.name}" has no permission on repository "${repository}"`);
        }
        await this.context.identity.setPermission(settings.id, ref, null);
        this.context.authenticator.forget();
      },
      repository,
    );
  }

  /**
   * Who can do what on a repository: every principal with a role, the strongest role, and
   * each source of it (superuser, namespace owner, admin team, direct or team permission,
   * organization default, public visibility).
   */
  async repositoryAccess(caller: Caller, repository: string): Promise<RepositoryAccessView> {
    checkRepositoryName(repository);
    await this.context.repositoryRole(caller, repository, 'admin');
    const settings = (await this.context.identity.findRepository(repository))!;
    const namespace = namespaceOf(repository);
    const owner = namespace === null ? null : await this.context.identity.findAccount(namespace);
    const org = owner?.kind === 'organization' ? owner : null;

    const entries = new Map<string, { principal: AccessEntryView['principal']; role: Role | null; sources: AccessSourceView[] }>();
    const add = (account: Account, source: AccessSourceView): void => {
      if (account.disabled || account.kind === 'organization') return;
      const key = `account:${account.id}`;
      let entry = entries.get(key);
      if (!entry) {
        entry = { principal: { kind: account.kind === 'robot' ? 'robot' : 'user', name: account.name }, role: null, sources: [] };
        entries.set(key, entry);
      }
      entry.role = strongerRole(entry.role, source.role);
      entry.sources.push(source);
    };
    const teamMembers = async (teamId: number): Promise<Account[]> => (await this.context.identity.listTeamMembers(teamId)).map((member) => member.account);

    for (const user of await this.context.identity.listAccounts('user')) if (user.superuser) add(user, { via: 'superuser', role: 'admin' });
    if (owner?.kind === 'user') add(owner, { via: 'owner', role: 'admin' });
    if (org) {
      for (const team of await this.context.identity.listTeams(org.id)) {
        if (team.role !== 'admin') continue;
        for (const member of await teamMembers(team.id)) add(member, { via: 'admin-team', role: 'admin', team: `${org.name}/${team.name}` });
      }
      for (const permission of await this.context.identity.listDefaultPermissions(org.id)) {
        if (permission.grantee.kind === 'account') {
          const account = await this.context.identity.findAccountById(permission.grantee.id);
          if (account) add(account, { via: 'default', role: permission.role });
        } else {
          for (const member of await teamMembers(permission.grantee.id)) add(member, { via: 'default', role: permission.role, team: `${org.name}/${permission.grantee.name}` });
        }
      }
    }
    for (const permission of await this.context.identity.listPermissions(settings.id)) {
      if (permission.grantee.kind === 'account') {
        const account = await this.context.identity.findAccountById(permission.grantee.id);
        if (account) add(account, { via: 'direct', role: permission.role });
      } else {
        const team = await this.context.identity.findTeamById(permission.grantee.id);
        for (const member of await teamMembers(permission.grantee.id)) add(member, { via: 'team', role: permission.role, team: team ? `${team.organization}/${team.name}` : permission.grantee.name });
      }
    }
    const result: AccessEntryView[] = [];
    if (settings.visibility === 'public') {
      result.push({ principal: { kind: 'authenticated', name: null }, role: 'read', sources: [{ via: 'public', role: 'read' }] });
      if (this.context.access.anonymousPull) result.push({ principal: { kind: 'anonymous', name: null }, role: 'read', sources: [{ via: 'public', role: 'read' }] });
    }
    const accounts = [...entries.values()].map((entry) => ({ principal: entry.principal, role: entry.role!, sources: entry.sources }));
    accounts.sort((a, b) => ROLES.indexOf(b.role) - ROLES.indexOf(a.role) || (a.principal.name! < b.principal.name! ? -1 : a.principal.name! > b.principal.name! ? 1 : 0));
    return { repository: settings.name, visibility: settings.visibility, entries: [...accounts, ...result] };
  }

  // ---- organization default permissions ---------------------------------------------------

  async listDefaultPermissions(caller: Caller, orgName: string): Promise<PermissionView[]> {
    const { org } = await this.context.adminOf(caller, orgName);
    return this.permissionViews(await this.context.identity.listDefaultPermissions(org.id), org.name);
  }

  async setDefaultPermission(caller: Caller, orgName: string, grantee: GranteeInput, role: Role): Promise<PermissionView> {
    return this.context.change(caller, 'permission', { action: 'set-default', organization: orgName, grantee: { kind: grantee?.kind, name: grantee?.name }, role }, async () => {
      const { org } = await this.context.adminOf(caller, orgName);
      const checked = checkRole(role);
      const { ref, view } = await this.resolveGrantee(grantee, org);
      await this.context.identity.setDefaultPermission(org.id, ref, checked);
      this.context.authenticator.forget();
      return { grantee: view, role: checked };
    });
  }

  async deleteDefaultPermission(caller: Caller, orgName: string, grantee: GranteeInput): Promise<void> {
    await this.context.change(caller, 'permission', { action: 'delete-default', organization: orgName, grantee: { kind: grantee?.kind, name: grantee?.name } }, async () => {
      const { org } = await this.context.adminOf(caller, orgName);
      const { ref, view } = await this.resolveGrantee(grantee, org);
      const existing = await this.context.identity.listDefaultPermissions(org.id);
      if (!existing.some((permission) => permission.grantee.kind === ref.kind && permission.grantee.id === ref.id)) {
        throw notFound(`${view.kind} "${view.name}" has no default permission in organization "${org.name}"`);
      }
      await this.context.identity.setDefaultPermission(org.id, ref, null);
      this.context.authenticator.forget();
    });
  }
}
