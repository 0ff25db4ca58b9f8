// The management domain: users, organizations, teams, robots, repositories, permissions
// and personal access tokens. Every operation takes the calling principal, validates its
// input, authorises, acts through the IdentityStore and records an action entry. The HTTP
// layer (src/server/management-api.ts) only parses requests and serialises the results.
import { Conflict, RegistryError } from '../core/errors.ts';
import {
  ACCOUNT_NAME,
  MAX_ACCOUNT_NAME_LENGTH,
  ROBOT_SHORT_NAME,
  ROLES,
  TEAM_NAME,
  TEAM_ROLES,
  robotName,
  strongerRole,
  type Account,
  type GranteeRef,
  type Principal,
  type Role,
  type Team,
  type TeamRole,
  type Visibility,
} from '../core/identity.ts';
import { validateRepositoryName } from '../core/names.ts';
import { UNOWNED_REPOSITORIES, type IdentityStore } from '../metadata/identity-store.ts';
import { namespaceOf, type AccessControl } from '../auth/access-control.ts';
import { actorOf, type ActionEntry, type ActionKind, type ActionRecorder } from '../audit/action.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import { hashPassword, passwordProblem, verifyPassword } from '../auth/passwords.ts';
import { generateSecret, hashSecret } from '../auth/secrets.ts';
import { randomBytes } from 'node:crypto';
import { SessionService } from './session-service.ts';
import {
  organizationView,
  repositoryView,
  robotView,
  teamView,
  tokenView,
  userView,
  type AccessEntryView,
  type AccessSourceView,
  type CreatedRobotView,
  type CreatedTokenView,
  type CreatedUserView,
  type GranteeKind,
  type MemberView,
  type OrganizationView,
  type PermissionView,
  type RepositoryAccessView,
  type RepositoryView,
  type RobotView,
  type TeamView,
  type TokenView,
  type UserView,
} from './views.ts';

export interface ManagementServiceOptions {
  readonly identity: IdentityStore;
  readonly access: AccessControl;
  readonly actions: ActionRecorder;
  readonly authenticator: Authenticator;
}

/** The caller: a principal, and where the call came from (for the action log). */
export type Caller = Principal & { readonly ip?: string | undefined; readonly userAgent?: string | undefined };

export interface GranteeInput {
  readonly kind: GranteeKind;
  /** A user or robot name; a team as "org/team" or, within an organization, its short name. */
  readonly name: string;
}

export interface NewUserInput {
  readonly name: string;
  readonly email?: string | null;
  /** Omitted: the server generates one and returns it once. */
  readonly password?: string;
  readonly superuser?: boolean;
}

export interface UserChangesInput {
  readonly email?: string | null;
  readonly password?: string;
  /** Required when callers change their own password. */
  readonly currentPassword?: string;
  readonly superuser?: boolean;
  readonly disabled?: boolean;
}

export interface NewTeamInput {
  readonly name: string;
  readonly role?: TeamRole;
  readonly description?: string | null;
  readonly ldapGroup?: string | null;
}

export interface NewRepositoryInput {
  readonly name: string;
  readonly visibility?: Visibility;
  readonly description?: string | null;
}

const EMAIL = /^[^\s@]+@[^\s@]+$/;
const MAX_EMAIL = 254;
const MAX_DESCRIPTION = 1024;
const MAX_TOKEN_NAME = 100;
const MAX_LDAP_GROUP = 1024;

function invalid(message: string, detail?: unknown): RegistryError {
  return new RegistryError('INVALID_REQUEST', message, detail === undefined ? {} : { detail });
}

function denied(message: string): RegistryError {
  return new RegistryError('DENIED', message);
}

function notFound(message: string): RegistryError {
  return new RegistryError('NOT_FOUND', message);
}

// The refusals given whenever the caller may not learn whether the thing exists: the
// same status and message for a missing one and one the caller may not see.
function noAccessToOrganization(name: string): RegistryError {
  return denied(`no access to organization "${shown(name)}"`);
}

function noAccessToRobots(name: string): RegistryError {
  return denied(`no access to the robots of "${shown(name)}"`);
}

function mayNotCreateRepository(name: string): RegistryError {
  return denied(`you may not create repository "${name}"`);
}

function shown(value: string): string {
  return value.length > 80 ? `${value.slice(0, 77)}...` : value;
}

function checkAccountName(name: unknown, what: string): string {
  if (typeof name !== 'string' || name === '') throw invalid(`${what} name is required`);
  if (name.length > MAX_ACCOUNT_NAME_LENGTH || !ACCOUNT_NAME.test(name)) {
    throw invalid(`invalid ${what} name "${shown(name)}": lowercase letters and digits, separated by . _ __ or -, at most ${MAX_ACCOUNT_NAME_LENGTH} characters`);
  }
  return name;
}

function checkEmail(email: unknown): string | null {
  if (email === null || email === undefined || email === '') return null;
  if (typeof email !== 'string' || email.length > MAX_EMAIL || !EMAIL.test(email)) throw invalid('invalid email address');
  return email;
}

function checkDescription(value: unknown, what = 'description'): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value !== 'string') throw invalid(`${what} must be a string`);
  if (value.length > MAX_DESCRIPTION) throw invalid(`${what} may have at most ${MAX_DESCRIPTION} characters`);
  return value;
}

function checkPassword(password: unknown): string {
  if (typeof password !== 'string') throw invalid('password must be a string');
  const problem = passwordProblem(password);
  if (problem) throw invalid(problem);
  return password;
}

function checkRole(role: unknown): Role {
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) throw invalid(`role must be one of ${ROLES.join(', ')}`);
  return role as Role;
}

function checkTeamRole(role: unknown): TeamRole {
  if (typeof role !== 'string' || !(TEAM_ROLES as readonly string[]).includes(role)) throw invalid(`team role must be one of ${TEAM_ROLES.join(', ')}`);
  return role as TeamRole;
}

function checkVisibility(visibility: unknown): Visibility {
  if (visibility !== 'public' && visibility !== 'private') throw invalid('visibility must be public or private');
  return visibility;
}

function checkRepositoryName(name: unknown): string {
  if (typeof name !== 'string' || name === '') throw invalid('repository name is required');
  try {
    return validateRepositoryName(name);
  } catch (error) {
    throw invalid((error as Error).message);
  }
}

function checkTeamName(name: unknown): string {
  if (typeof name !== 'string' || name === '') throw invalid('team name is required');
  if (!TEAM_NAME.test(name)) throw invalid(`invalid team name "${shown(name)}": a lowercase letter, then lowercase letters, digits, _ or -, at most 64 characters`);
  return name;
}

function checkLdapGroup(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value !== 'string' || value.length > MAX_LDAP_GROUP) throw invalid(`ldapGroup must be a string of at most ${MAX_LDAP_GROUP} characters`);
  return value;
}

export class ManagementService {
  readonly identity: IdentityStore;
  readonly access: AccessControl;
  readonly actions: ActionRecorder;
  readonly authenticator: Authenticator;
  /** Login sessions (refresh tokens): listed and revoked by their users and administrators. */
  readonly sessions: SessionService;

  constructor(options: ManagementServiceOptions) {
    this.identity = options.identity;
    this.access = options.access;
    this.actions = options.actions;
    this.authenticator = options.authenticator;
    this.sessions = new SessionService(this);
  }

  // ---- callers and authorisation --------------------------------------------------------

  /** The caller's account; anonymous callers must authenticate. */
  private account(caller: Caller): Account {
    if (caller.kind === 'anonymous') throw new RegistryError('UNAUTHORIZED', 'authentication required');
    if (caller.account.disabled) throw denied('the account is disabled');
    return caller.account;
  }

  /** A user (not a robot): robots act on repositories, they do not manage accounts. (Also for SessionService.) */
  user(caller: Caller): Account {
    const account = this.account(caller);
    if (account.kind !== 'user') throw denied('robot accounts cannot manage accounts, organizations or tokens');
    return account;
  }

  private superuser(caller: Caller, what: string): Account {
    const account = this.account(caller);
    if (!account.superuser) throw denied(`only a superuser may ${what}`);
    return account;
  }

  private async isOrgAdmin(account: Account, org: Account): Promise<boolean> {
    if (account.superuser) return true;
    const teams = await this.identity.teamsOf(account.id);
    return teams.some((team) => team.organizationId === org.id && team.role === 'admin');
  }

  private async isOrgMember(account: Account, org: Account): Promise<boolean> {
    if (account.superuser) return true;
    const teams = await this.identity.teamsOf(account.id);
    return teams.some((team) => team.organizationId === org.id);
  }

  /**
   * The organization, when the caller is one of its members (superusers: any). Whether it
   * exists is told only to those: anyone else gets one refusal for a missing organization
   * and for one they are not in.
   */
  private async memberOf(caller: Caller, name: string): Promise<{ caller: Account; org: Account }> {
    const account = this.account(caller);
    const found = await this.identity.findAccount(name);
    const org = found?.kind === 'organization' ? found : null;
    if (account.superuser) {
      if (!org) throw notFound(`organization "${shown(name)}" not found`);
      return { caller: account, org };
    }
    if (!org || !(await this.isOrgMember(account, org))) throw noAccessToOrganization(name);
    return { caller: account, org };
  }

  /** The organization, when the caller administers it; members learn only that they may not. */
  private async adminOf(caller: Caller, name: string): Promise<{ caller: Account; org: Account }> {
    const { caller: account, org } = await this.memberOf(caller, name);
    if (!(await this.isOrgAdmin(account, org))) throw denied(`only an administrator of organization "${org.name}" may do this`);
    return { caller: account, org };
  }

  /** A namespace (user or organization) whose robots the caller manages; to anyone else one
   * refusal, whether the namespace exists or not. */
  private async robotOwner(caller: Caller, name: string): Promise<{ caller: Account; owner: Account }> {
    const account = this.user(caller);
    const found = await this.identity.findAccount(name);
    const owner = found && found.kind !== 'robot' ? found : null;
    if (account.superuser) {
      if (!owner) throw notFound(`namespace "${shown(name)}" not found`);
      return { caller: account, owner };
    }
    if (owner?.kind === 'user' && owner.id === account.id) return { caller: account, owner };
    if (owner?.kind === 'organization' && (await this.isOrgAdmin(account, owner))) return { caller: account, owner };
    throw noAccessToRobots(name);
  }

  /** A robot the caller manages (its owner, or an admin of its organization). (Also for SessionService.) */
  async robot(caller: Caller, name: string): Promise<{ caller: Account; robot: Account; owner: Account }> {
    if (typeof name !== 'string' || !name.includes('+')) throw invalid('a robot name is OWNER+SHORTNAME');
    const ownerName = name.slice(0, name.indexOf('+'));
    const { caller: account, owner } = await this.robotOwner(caller, ownerName);
    const robot = await this.identity.findAccount(name);
    if (!robot || robot.kind !== 'robot' || robot.ownerId !== owner.id) throw notFound(`robot "${shown(name)}" not found`);
    return { caller: account, robot, owner };
  }

  /** The caller's role on a repository, requiring at least `wanted`. */
  private async repositoryRole(caller: Caller, name: string, wanted: Role): Promise<{ role: Role; exists: boolean }> {
    this.account(caller);
    const { role, exists } = await this.access.access(caller, name);
    if (role === null || ROLES.indexOf(role) < ROLES.indexOf(wanted)) {
      throw denied(wanted === 'read' ? `no access to repository "${name}"` : `${wanted} access to repository "${name}" is required`);
    }
    if (!exists) throw notFound(`repository "${name}" not found`);
    return { role, exists };
  }

  private record(caller: Caller, kind: ActionKind, detail: Record<string, unknown>, repository?: string, result: ActionEntry['result'] = 'success'): void {
    const actor = actorOf(caller);
    // Changes without a repository still belong to a namespace (an organization's teams,
    // a robot's owner), so that namespace's admins find them in the log.
    const account = typeof detail.account === 'string' ? detail.account : undefined;
    const namespace = typeof detail.organization === 'string' ? detail.organization : account?.includes('+') ? account.slice(0, account.indexOf('+')) : account;
    this.actions.record({
      kind,
      result,
      actor,
      ip: caller.ip,
      userAgent: caller.userAgent,
      ...(repository === undefined ? (namespace === undefined ? {} : { namespace }) : { repository }),
      detail,
    });
  }

  /** Runs a change: records it on success, and records a refusal (DENIED) too. (Also for SessionService.) */
  async change<T>(caller: Caller, kind: ActionKind, detail: Record<string, unknown>, work: () => Promise<T>, repository?: string): Promise<T> {
    try {
      const result = await work();
      this.record(caller, kind, detail, repository);
      return result;
    } catch (error) {
      if (error instanceof RegistryError && error.code === 'DENIED') this.record(caller, kind, detail, repository, 'denied');
      throw error;
    }
  }

  // ---- users ------------------------------------------------------------------------------

  async whoami(caller: Caller): Promise<UserView | RobotView> {
    const account = this.account(caller);
    if (account.kind === 'robot') {
      const [token] = await this.identity.listCredentials(account.id, 'robot');
      return robotView(account, token);
    }
    return userView(account);
  }

  async createUser(caller: Caller, input: NewUserInput): Promise<CreatedUserView> {
    const name = checkAccountName(input.name, 'user');
    return this.change(caller, 'account', { action: 'create', account: name, accountKind: 'user', superuser: input.superuser === true }, async () => {
      this.superuser(caller, 'create users');
      const email = checkEmail(input.email);
      const generated = input.password === undefined ? randomBytes(18).toString('base64url') : undefined;
      const password = generated ?? checkPassword(input.password);
      if (input.superuser !== undefined && typeof input.superuser !== 'boolean') throw invalid('superuser must be true or false');
      const account = await this.identity.createAccount({ name, kind: 'user', email, passwordHash: await hashPassword(password), superuser: input.superuser === true });
      return { ...userView(account), ...(generated === undefined ? {} : { generatedPassword: generated }) };
    });
  }

  async getUser(caller: Caller, name: string): Promise<UserView> {
    const account = this.account(caller);
    if (account.name !== name && !account.superuser) throw denied('only a superuser may see other users');
    const user = await this.identity.findAccount(name);
    if (!user || user.kind !== 'user') throw notFound(`user "${shown(name)}" not found`);
    return userView(user);
  }

  async listUsers(caller: Caller): Promise<UserView[]> {
    this.superuser(caller, 'list users');
    return (await this.identity.listAccounts('user')).map(userView);
  }

  async updateUser(caller: Caller, name: string, changes: UserChangesInput): Promise<UserView> {
    const fields = Object.keys(changes).filter((key) => key !== 'password' && key !== 'currentPassword');
    return this.change(caller, 'account', { action: 'update', account: name, fields: [...fields, ...(changes.password !== undefined ? ['password'] : [])] }, async () => {
      const account = this.user(caller);
      const self = account.name === name;
      if (!self && !account.superuser) throw denied('only a superuser may change other users');
      if ((changes.superuser !== undefined || changes.disabled !== undefined) && !account.superuser) throw denied('only a superuser may change superuser or disabled');
      const user = await this.identity.findAccount(name);
      if (!user || user.kind !== 'user') throw notFound(`user "${shown(name)}" not found`);
      const update: { email?: string | null; passwordHash?: string; superuser?: boolean; disabled?: boolean } = {};
      if (changes.email !== undefined) update.email = checkEmail(changes.email);
      if (changes.superuser !== undefined) {
        if (typeof changes.superuser !== 'boolean') throw invalid('superuser must be true or false');
        update.superuser = changes.superuser;
      }
      if (changes.disabled !== undefined) {
        if (typeof changes.disabled !== 'boolean') throw invalid('disabled must be true or false');
        update.disabled = changes.disabled;
      }
      if (changes.password !== undefined) {
        if (user.ldapDn !== null) throw invalid('the password of an LDAP user is managed by the directory');
        const password = checkPassword(changes.password);
        if (self) {
          // A stolen session or token must not be enough to take the account over.
          const stored = await this.identity.passwordHash(user.id);
          if (typeof changes.currentPassword !== 'string' || stored === null || !(await verifyPassword(changes.currentPassword, stored))) {
            throw denied('changing your own password needs your current password (currentPassword)');
          }
        }
        update.passwordHash = await hashPassword(password);
      }
      if (user.superuser && (update.superuser === false || update.disabled === true)) await this.keepASuperuser(user);
      const updated = await this.identity.updateAccount(user.id, update);
      if (update.passwordHash !== undefined || update.disabled !== undefined || update.superuser !== undefined) this.authenticator.forget();
      return userView(updated);
    });
  }

  private async keepASuperuser(leaving: Account): Promise<void> {
    const others = (await this.identity.listAccounts('user')).filter((user) => user.superuser && !user.disabled && user.id !== leaving.id);
    if (others.length === 0) throw new RegistryError('CONFLICT', 'this is the last superuser: make another user superuser first');
  }

  async deleteUser(caller: Caller, name: string): Promise<void> {
    const detail: Record<string, unknown> = { action: 'delete', account: name, accountKind: 'user' };
    await this.change(caller, 'account', detail, async () => {
      this.superuser(caller, 'delete users');
      const user = await this.identity.findAccount(name);
      if (!user || user.kind !== 'user') throw notFound(`user "${shown(name)}" not found`);
      if (user.superuser) await this.keepASuperuser(user);
      Object.assign(detail, repositoriesDeleted(await this.identity.deleteAccount(user.id)));
      this.authenticator.forget();
    });
  }

  // ---- organizations ----------------------------------------------------------------------

  async createOrganization(caller: Caller, input: { name: string; email?: string | null; description?: string | null }): Promise<OrganizationView> {
    const name = checkAccountName(input.name, 'organization');
    return this.change(caller, 'account', { action: 'create', account: name, accountKind: 'organization' }, async () => {
      const account = this.user(caller);
      const email = checkEmail(input.email);
      const description = checkDescription(input.description);
      try {
        // Like Quay: the creator administers the new organization through its owners team.
        // Repositories left in a namespace without an account are adopted only by a
        // superuser's decision; anyone else just finds the name taken.
        return organizationView(await this.identity.createOrganization({ name, email, description }, account.id, { adopt: account.superuser }));
      } catch (error) {
        if (!account.superuser && error instanceof Conflict && (error.detail as { reason?: string } | undefined)?.reason === UNOWNED_REPOSITORIES) {
          throw new RegistryError('CONFLICT', `the name "${name}" is taken`);
        }
        throw error;
      }
    });
  }

  async getOrganization(caller: Caller, name: string): Promise<OrganizationView> {
    const { org } = await this.memberOf(caller, name);
    return organizationView(org);
  }

  /** All organizations for a superuser; otherwise those the caller is a member of. */
  async listOrganizations(caller: Caller): Promise<OrganizationView[]> {
    const account = this.account(caller);
    if (account.superuser) return (await this.identity.listAccounts('organization')).map(organizationView);
    const ids = new Set((await this.identity.teamsOf(account.id)).map((team) => team.organizationId));
    const orgs: OrganizationView[] = [];
    for (const id of ids) {
      const org = await this.identity.findAccountById(id);
      if (org) orgs.push(organizationView(org));
    }
    return orgs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async updateOrganization(caller: Caller, name: string, changes: { email?: string | null; description?: string | null }): Promise<OrganizationView> {
    return this.change(caller, 'account', { action: 'update', account: name, accountKind: 'organization', fields: Object.keys(changes) }, async () => {
      const { org } = await this.adminOf(caller, name);
      const update: { email?: string | null; description?: string | null } = {};
      if (changes.email !== undefined) update.email = checkEmail(changes.email);
      if (changes.description !== undefined) update.description = checkDescription(changes.description);
      return organizationView(await this.identity.updateAccount(org.id, update));
    });
  }

  async deleteOrganization(caller: Caller, name: string): Promise<void> {
    const detail: Record<string, unknown> = { action: 'delete', account: name, accountKind: 'organization' };
    await this.change(caller, 'account', detail, async () => {
      const { org } = await this.adminOf(caller, name);
      Object.assign(detail, repositoriesDeleted(await this.identity.deleteAccount(org.id)));
      this.authenticator.forget();
    });
  }

  // ---- teams ------------------------------------------------------------------------------

  private async team(org: Account, name: string): Promise<Team> {
    const team = await this.identity.findTeam(org.name, name);
    if (!team) throw notFound(`team "${shown(name)}" not found in organization "${org.name}"`);
    return team;
  }

  /** Users (not robots) who administer the organization through admin teams, after a change. */
  private async adminUsersAfter(org: Account, change: { teamId: number; role?: TeamRole; removed?: boolean; removedMember?: number }): Promise<number> {
    const admins = new Set<number>();
    for (const team of await this.identity.listTeams(org.id)) {
      const role = team.id === change.teamId ? (change.removed ? null : (change.role ?? team.role)) : team.role;
      if (role !== 'admin') continue;
      for (const member of await this.identity.listTeamMembers(team.id)) {
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
    return this.change(caller, 'team', { action: 'create', organization: orgName, team: input.name, role: input.role ?? 'member' }, async () => {
      const { org } = await this.adminOf(caller, orgName);
      const name = checkTeamName(input.name);
      const role = input.role === undefined ? 'member' : checkTeamRole(input.role);
      const description = checkDescription(input.description);
      const ldapGroup = checkLdapGroup(input.ldapGroup);
      let team = await this.identity.createTeam(org.id, name, role, description);
      if (ldapGroup !== null) team = await this.identity.updateTeam(team.id, { ldapGroup });
      return teamView(team);
    });
  }

  async listTeams(caller: Caller, orgName: string): Promise<TeamView[]> {
    const { org } = await this.memberOf(caller, orgName);
    return (await this.identity.listTeams(org.id)).map(teamView);
  }

  async getTeam(caller: Caller, orgName: string, teamName: string): Promise<TeamView> {
    const { org } = await this.memberOf(caller, orgName);
    return teamView(await this.team(org, teamName));
  }

  async updateTeam(caller: Caller, orgName: string, teamName: string, changes: { role?: TeamRole; description?: string | null; ldapGroup?: string | null }): Promise<TeamView> {
    return this.change(caller, 'team', { action: 'update', organization: orgName, team: teamName, fields: Object.keys(changes), ...(changes.role ? { role: changes.role } : {}) }, async () => {
      const { org } = await this.adminOf(caller, orgName);
      const team = await this.team(org, teamName);
      const update: { role?: TeamRole; description?: string | null; ldapGroup?: string | null } = {};
      if (changes.role !== undefined) update.role = checkTeamRole(changes.role);
      if (changes.description !== undefined) update.description = checkDescription(changes.description);
      if (changes.ldapGroup !== undefined) update.ldapGroup = checkLdapGroup(changes.ldapGroup);
      if (team.role === 'admin' && update.role !== undefined && update.role !== 'admin') await this.keepAnAdmin(org, { teamId: team.id, role: update.role });
      const updated = await this.identity.updateTeam(team.id, update);
      this.authenticator.forget();
      return teamView(updated);
    });
  }

  async deleteTeam(caller: Caller, orgName: string, teamName: string): Promise<void> {
    await this.change(caller, 'team', { action: 'delete', organization: orgName, team: teamName }, async () => {
      const { org } = await this.adminOf(caller, orgName);
      const team = await this.team(org, teamName);
      if (team.role === 'admin') await this.keepAnAdmin(org, { teamId: team.id, removed: true });
      await this.identity.deleteTeam(team.id);
      this.authenticator.forget();
    });
  }

  async listTeamMembers(caller: Caller, orgName: string, teamName: string): Promise<MemberView[]> {
    const { org } = await this.memberOf(caller, orgName);
    const team = await this.team(org, teamName);
    return (await this.identity.listTeamMembers(team.id)).map((member) => ({ name: member.account.name, kind: member.account.kind === 'robot' ? 'robot' : 'user', synced: member.synced }));
  }

  /** Adds a user or one of the organization's robots; true when it was not a member yet. */
  async addTeamMember(caller: Caller, orgName: string, teamName: string, accountName: string): Promise<{ added: boolean; member: MemberView }> {
    return this.change(caller, 'membership', { action: 'add', organization: orgName, team: teamName, member: accountName }, async () => {
      const { org } = await this.adminOf(caller, orgName);
      const team = await this.team(org, teamName);
      const member = await this.identity.findAccount(accountName);
      if (!member || member.kind === 'organization') throw notFound(`user or robot "${shown(accountName)}" not found`);
      if (member.kind === 'robot' && member.ownerId !== org.id) throw invalid(`only robots of organization "${org.name}" may join its teams`);
      const added = await this.identity.addTeamMember(team.id, member.id);
      this.authenticator.forget();
      return { added, member: { name: member.name, kind: member.kind, synced: false } };
    });
  }

  async removeTeamMember(caller: Caller, orgName: string, teamName: string, accountName: string): Promise<void> {
    await this.change(caller, 'membership', { action: 'remove', organization: orgName, team: teamName, member: accountName }, async () => {
      const { org } = await this.adminOf(caller, orgName);
      const team = await this.team(org, teamName);
      const member = await this.identity.findAccount(accountName);
      if (!member) throw notFound(`"${shown(accountName)}" is not a member of team ${org.name}/${team.name}`);
      if (team.role === 'admin') await this.keepAnAdmin(org, { teamId: team.id, removedMember: member.id });
      if (!(await this.identity.removeTeamMember(team.id, member.id))) throw notFound(`"${shown(accountName)}" is not a member of team ${org.name}/${team.name}`);
      this.authenticator.forget();
    });
  }

  // ---- robots -----------------------------------------------------------------------------

  async createRobot(caller: Caller, ownerName: string, input: { name: string; description?: string | null }): Promise<CreatedRobotView> {
    return this.change(caller, 'account', { action: 'create', account: `${ownerName}+${input.name}`, accountKind: 'robot' }, async () => {
      const { owner } = await this.robotOwner(caller, ownerName);
      if (typeof input.name !== 'string' || !ROBOT_SHORT_NAME.test(input.name)) {
        throw invalid(`invalid robot name "${shown(String(input.name ?? ''))}": a lowercase letter, then lowercase letters, digits or _, at most 64 characters`);
      }
      const description = checkDescription(input.description);
      const robot = await this.identity.createAccount({ name: robotName(owner.name, input.name), kind: 'robot', ownerId: owner.id, description });
      const token = generateSecret('robot');
      const credential = await this.identity.addCredential({ accountId: robot.id, kind: 'robot', name: 'token', secretHash: hashSecret(token) });
      this.record(caller, 'credential', { action: 'create', account: robot.name, credentialKind: 'robot' });
      return { ...robotView(robot, credential), token };
    });
  }

  async listRobots(caller: Caller, ownerName: string): Promise<RobotView[]> {
    const { owner } = await this.robotOwner(caller, ownerName);
    const robots = await this.identity.listAccounts('robot', owner.id);
    return Promise.all(robots.map(async (robot) => robotView(robot, (await this.identity.listCredentials(robot.id, 'robot'))[0])));
  }

  async getRobot(caller: Caller, name: string): Promise<RobotView> {
    const { robot } = await this.robot(caller, name);
    return robotView(robot, (await this.identity.listCredentials(robot.id, 'robot'))[0]);
  }

  async deleteRobot(caller: Caller, name: string): Promise<void> {
    await this.change(caller, 'account', { action: 'delete', account: name, accountKind: 'robot' }, async () => {
      const { robot } = await this.robot(caller, name);
      await this.identity.deleteAccount(robot.id);
      this.authenticator.forget();
    });
  }

  /** Replaces the robot's token: the old one stops working at once. */
  async regenerateRobotToken(caller: Caller, name: string): Promise<CreatedRobotView> {
    return this.change(caller, 'credential', { action: 'regenerate', account: name, credentialKind: 'robot' }, async () => {
      const { robot } = await this.robot(caller, name);
      await this.identity.deleteCredentials(robot.id, 'robot');
      const token = generateSecret('robot');
      const credential = await this.identity.addCredential({ accountId: robot.id, kind: 'robot', name: 'token', secretHash: hashSecret(token) });
      this.authenticator.forget();
      return { ...robotView(robot, credential), token };
    });
  }

  // ---- repositories -----------------------------------------------------------------------

  async createRepository(caller: Caller, input: NewRepositoryInput): Promise<RepositoryView> {
    const name = checkRepositoryName(input.name);
    return this.change(
      caller,
      'repository',
      { action: 'create', visibility: input.visibility ?? 'private' },
      async () => {
        const account = this.account(caller);
        const visibility = input.visibility === undefined ? 'private' : checkVisibility(input.visibility);
        const description = checkDescription(input.description);
        const before = await this.access.access(caller, name);
        // Only those who may see the repository learn that it exists.
        if (before.exists && before.role !== null) throw new RegistryError('CONFLICT', `repository "${name}" exists already`);
        if (before.exists || before.role !== 'admin') throw mayNotCreateRepository(name);
        await this.access.claimNamespace(caller, name, { ip: caller.ip, userAgent: caller.userAgent });
        let settings = await this.identity.ensureRepository(name, visibility);
        if (description !== null) settings = (await this.identity.updateRepository(name, { description })) ?? settings;
        // Like Quay: whoever creates a repository administers it, even when the role that
        // let them create it (a creator team) gives none on existing repositories.
        const after = await this.access.access(caller, name);
        if (after.role !== 'admin') await this.identity.setPermission(settings.id, { kind: 'account', id: account.id }, 'admin');
        return repositoryView(settings, 'admin');
      },
      name,
    );
  }

  async getRepository(caller: Caller, name: string): Promise<RepositoryView> {
    checkRepositoryName(name);
    const { role } = await this.repositoryRole(caller, name, 'read');
    const settings = await this.identity.findRepository(name);
    if (!settings) throw notFound(`repository "${name}" not found`);
    return repositoryView(settings, role);
  }

  /** Repositories the caller may read (with content), bytewise after `last`. */
  async listRepositories(caller: Caller, options: { last?: string | undefined; limit: number }): Promise<{ repositories: RepositoryView[]; next: string | null }> {
    this.account(caller);
    if (!Number.isSafeInteger(options.limit) || options.limit < 1 || options.limit > 1000) throw invalid('n must be an integer from 1 to 1000');
    const names = await this.access.readableRepositories(caller, options.last, options.limit + 1);
    const page = names.slice(0, options.limit);
    const repositories: RepositoryView[] = [];
    for (const name of page) {
      const settings = await this.identity.findRepository(name);
      if (settings) repositories.push(repositoryView(settings, (await this.access.access(caller, name)).role));
    }
    return { repositories, next: names.length > options.limit ? page[page.length - 1]! : null };
  }

  async updateRepository(caller: Caller, name: string, changes: { visibility?: Visibility; description?: string | null }): Promise<RepositoryView> {
    checkRepositoryName(name);
    return this.change(
      caller,
      'repository',
      { action: 'update', ...(changes.visibility !== undefined ? { visibility: changes.visibility } : {}), fields: Object.keys(changes) },
      async () => {
        await this.repositoryRole(caller, name, 'admin');
        const update: { visibility?: Visibility; description?: string | null } = {};
        if (changes.visibility !== undefined) update.visibility = checkVisibility(changes.visibility);
        if (changes.description !== undefined) update.description = checkDescription(changes.description);
        const settings = await this.identity.updateRepository(name, update);
        if (!settings) throw notFound(`repository "${name}" not found`);
        return repositoryView(settings, 'admin');
      },
      name,
    );
  }

  private async resolveGrantee(grantee: GranteeInput, organization: Account | null): Promise<{ ref: GranteeRef; view: PermissionView['grantee'] }> {
    if (!grantee || typeof grantee.name !== 'string' || grantee.name === '') throw invalid('a grantee needs a kind (user, robot or team) and a name');
    if (grantee.kind === 'user' || grantee.kind === 'robot') {
      const account = await this.identity.findAccount(grantee.name);
      if (!account || account.kind !== grantee.kind) throw notFound(`${grantee.kind} "${shown(grantee.name)}" not found`);
      return { ref: { kind: 'account', id: account.id }, view: { kind: grantee.kind, name: account.name } };
    }
    if (grantee.kind === 'team') {
      const slash = grantee.name.indexOf('/');
      const orgName = slash < 0 ? organization?.name : grantee.name.slice(0, slash);
      const teamName = slash < 0 ? grantee.name : grantee.name.slice(slash + 1);
      if (organization === null) throw invalid('teams can be granted permissions only on repositories of their organization');
      if (orgName !== organization.name) throw invalid(`only teams of organization "${organization.name}" can be granted permissions here`);
      const team = await this.identity.findTeam(organization.name, teamName);
      if (!team) throw notFound(`team "${shown(grantee.name)}" not found in organization "${organization.name}"`);
      return { ref: { kind: 'team', id: team.id }, view: { kind: 'team', name: `${organization.name}/${team.name}` } };
    }
    throw invalid('grantee kind must be user, robot or team');
  }

  private async namespaceOrganization(repository: string): Promise<Account | null> {
    const namespace = namespaceOf(repository);
    if (namespace === null) return null;
    const owner = await this.identity.findAccount(namespace);
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
    await this.repositoryRole(caller, repository, 'admin');
    const settings = (await this.identity.findRepository(repository))!;
    const org = await this.namespaceOrganization(repository);
    return this.permissionViews(await this.identity.listPermissions(settings.id), org?.name ?? null);
  }

  async setPermission(caller: Caller, repository: string, grantee: GranteeInput, role: Role): Promise<PermissionView> {
    checkRepositoryName(repository);
    return this.change(
      caller,
      'permission',
      { action: 'set', grantee: { kind: grantee?.kind, name: grantee?.name }, role },
      async () => {
        await this.repositoryRole(caller, repository, 'admin');
        const checked = checkRole(role);
        const settings = (await this.identity.findRepository(repository))!;
        const { ref, view } = await this.resolveGrantee(grantee, await this.namespaceOrganization(repository));
        await this.identity.setPermission(settings.id, ref, checked);
        this.authenticator.forget();
        return { grantee: view, role: checked };
      },
      repository,
    );
  }

  async deletePermission(caller: Caller, repository: string, grantee: GranteeInput): Promise<void> {
    checkRepositoryName(repository);
    await this.change(
      caller,
      'permission',
      { action: 'delete', grantee: { kind: grantee?.kind, name: grantee?.name } },
      async () => {
        await this.repositoryRole(caller, repository, 'admin');
        const settings = (await this.identity.findRepository(repository))!;
        const { ref, view } = await this.resolveGrantee(grantee, await this.namespaceOrganization(repository));
        const existing = await this.identity.listPermissions(settings.id);
        if (!existing.some((permission) => permission.grantee.kind === ref.kind && permission.grantee.id === ref.id)) {
          throw notFound(`${view.kind} "${view.name}" has no permission on repository "${repository}"`);
        }
        await this.identity.setPermission(settings.id, ref, null);
        this.authenticator.forget();
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
    await this.repositoryRole(caller, repository, 'admin');
    const settings = (await this.identity.findRepository(repository))!;
    const namespace = namespaceOf(repository);
    const owner = namespace === null ? null : await this.identity.findAccount(namespace);
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
    const teamMembers = async (teamId: number): Promise<Account[]> => (await this.identity.listTeamMembers(teamId)).map((member) => member.account);

    for (const user of await this.identity.listAccounts('user')) if (user.superuser) add(user, { via: 'superuser', role: 'admin' });
    if (owner?.kind === 'user') add(owner, { via: 'owner', role: 'admin' });
    if (org) {
      for (const team of await this.identity.listTeams(org.id)) {
        if (team.role !== 'admin') continue;
        for (const member of await teamMembers(team.id)) add(member, { via: 'admin-team', role: 'admin', team: `${org.name}/${team.name}` });
      }
      for (const permission of await this.identity.listDefaultPermissions(org.id)) {
        if (permission.grantee.kind === 'account') {
          const account = await this.identity.findAccountById(permission.grantee.id);
          if (account) add(account, { via: 'default', role: permission.role });
        } else {
          for (const member of await teamMembers(permission.grantee.id)) add(member, { via: 'default', role: permission.role, team: `${org.name}/${permission.grantee.name}` });
        }
      }
    }
    for (const permission of await this.identity.listPermissions(settings.id)) {
      if (permission.grantee.kind === 'account') {
        const account = await this.identity.findAccountById(permission.grantee.id);
        if (account) add(account, { via: 'direct', role: permission.role });
      } else {
        const team = await this.identity.findTeamById(permission.grantee.id);
        for (const member of await teamMembers(permission.grantee.id)) add(member, { via: 'team', role: permission.role, team: team ? `${team.organization}/${team.name}` : permission.grantee.name });
      }
    }
    const result: AccessEntryView[] = [];
    if (settings.visibility === 'public') {
      result.push({ principal: { kind: 'authenticated', name: null }, role: 'read', sources: [{ via: 'public', role: 'read' }] });
      if (this.access.anonymousPull) result.push({ principal: { kind: 'anonymous', name: null }, role: 'read', sources: [{ via: 'public', role: 'read' }] });
    }
    const accounts = [...entries.values()].map((entry) => ({ principal: entry.principal, role: entry.role!, sources: entry.sources }));
    accounts.sort((a, b) => ROLES.indexOf(b.role) - ROLES.indexOf(a.role) || (a.principal.name! < b.principal.name! ? -1 : a.principal.name! > b.principal.name! ? 1 : 0));
    return { repository: settings.name, visibility: settings.visibility, entries: [...accounts, ...result] };
  }

  // ---- organization default permissions ---------------------------------------------------

  async listDefaultPermissions(caller: Caller, orgName: string): Promise<PermissionView[]> {
    const { org } = await this.adminOf(caller, orgName);
    return this.permissionViews(await this.identity.listDefaultPermissions(org.id), org.name);
  }

  async setDefaultPermission(caller: Caller, orgName: string, grantee: GranteeInput, role: Role): Promise<PermissionView> {
    return this.change(caller, 'permission', { action: 'set-default', organization: orgName, grantee: { kind: grantee?.kind, name: grantee?.name }, role }, async () => {
      const { org } = await this.adminOf(caller, orgName);
      const checked = checkRole(role);
      const { ref, view } = await this.resolveGrantee(grantee, org);
      await this.identity.setDefaultPermission(org.id, ref, checked);
      this.authenticator.forget();
      return { grantee: view, role: checked };
    });
  }

  async deleteDefaultPermission(caller: Caller, orgName: string, grantee: GranteeInput): Promise<void> {
    await this.change(caller, 'permission', { action: 'delete-default', organization: orgName, grantee: { kind: grantee?.kind, name: grantee?.name } }, async () => {
      const { org } = await this.adminOf(caller, orgName);
      const { ref, view } = await this.resolveGrantee(grantee, org);
      const existing = await this.identity.listDefaultPermissions(org.id);
      if (!existing.some((permission) => permission.grantee.kind === ref.kind && permission.grantee.id === ref.id)) {
        throw notFound(`${view.kind} "${view.name}" has no default permission in organization "${org.name}"`);
      }
      await this.identity.setDefaultPermission(org.id, ref, null);
      this.authenticator.forget();
    });
  }

  // ---- personal access tokens ---------------------------------------------------------------

  async createToken(caller: Caller, input: { name: string; expiresAt?: string | null }): Promise<CreatedTokenView> {
    return this.change(caller, 'credential', { action: 'create', credentialKind: 'personal', name: typeof input.name === 'string' ? input.name.slice(0, MAX_TOKEN_NAME) : null }, async () => {
      const account = this.user(caller);
      if (typeof input.name !== 'string' || input.name.trim() === '' || input.name.length > MAX_TOKEN_NAME || /[\u0000-\u001f\u007f]/.test(input.name)) {
        throw invalid(`a token needs a name of 1 to ${MAX_TOKEN_NAME} printable characters`);
      }
      let expiresAt: number | null = null;
      if (input.expiresAt !== undefined && input.expiresAt !== null) {
        expiresAt = typeof input.expiresAt === 'string' ? Date.parse(input.expiresAt) : NaN;
        if (!Number.isFinite(expiresAt)) throw invalid('expiresAt must be an RFC 3339 date and time');
        if (expiresAt <= Date.now()) throw invalid('expiresAt must be in the future');
      }
      const token = generateSecret('personal');
      const credential = await this.identity.addCredential({ accountId: account.id, kind: 'personal', name: input.name, secretHash: hashSecret(token), expiresAt });
      return { ...tokenView(credential), token };
    });
  }

  async listTokens(caller: Caller): Promise<TokenView[]> {
    const account = this.user(caller);
    return (await this.identity.listCredentials(account.id, 'personal')).map(tokenView);
  }

  async revokeToken(caller: Caller, id: number): Promise<void> {
    await this.change(caller, 'credential', { action: 'revoke', credentialKind: 'personal', id }, async () => {
      const account = this.user(caller);
      if (!Number.isSafeInteger(id) || id <= 0) throw invalid('a token id is a positive integer');
      const own = await this.identity.listCredentials(account.id, 'personal');
      if (!own.some((credential) => credential.id === id) || !(await this.identity.deleteCredential(account.id, id))) throw notFound(`token ${id} not found`);
      this.authenticator.forget();
    });
  }
}

/** What the action log keeps of the repositories an account's deletion removed. */
function repositoriesDeleted(result: { readonly repositories: readonly string[] }): Record<string, unknown> {
  return { repositoriesDeleted: result.repositories.length, repositories: result.repositories };
}
