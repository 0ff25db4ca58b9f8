// What every management operation shares: the stores and services it acts through, who
// the caller is and what they may manage (accounts, organizations, robots, repositories),
// and the action log entry each change leaves, refusals included. The per-resource
// services (users, organizations, teams, robots, repositories, permissions, tokens,
// sessions) each take one ManagementContext.
import { RegistryError } from '../core/errors.ts';
import { ROLES, type Account, type Principal, type Role } from '../core/identity.ts';
import type { IdentityStore } from '../metadata/identity-store.ts';
import type { AccessControl } from '../auth/access-control.ts';
import { actorOf, type ActionEntry, type ActionKind, type ActionRecorder } from '../audit/action.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import type { Webhooks } from '../webhooks/webhooks.ts';
import type { MirrorAdministration } from './mirror-management.ts';
import { denied, invalid, noAccessToOrganization, noAccessToRobots, notFound, shown } from './input-checks.ts';

export interface ManagementServiceOptions {
  readonly identity: IdentityStore;
  readonly access: AccessControl;
  readonly actions: ActionRecorder;
  readonly authenticator: Authenticator;
  /** The webhook domain, when the server runs it. */
  readonly webhooks?: Webhooks | undefined;
  /** Repository mirroring (src/mirror), when the server runs it. */
  readonly mirrors?: MirrorAdministration | undefined;
}

/** The caller: a principal, and where the call came from (for the action log). */
export type Caller = Principal & { readonly ip?: string | undefined; readonly userAgent?: string | undefined };

export class ManagementContext {
  readonly identity: IdentityStore;
  readonly access: AccessControl;
  readonly actions: ActionRecorder;
  readonly authenticator: Authenticator;

  constructor(options: ManagementServiceOptions) {
    this.identity = options.identity;
    this.access = options.access;
    this.actions = options.actions;
    this.authenticator = options.authenticator;
  }

  // ---- callers and authorisation --------------------------------------------------------

  /** The caller's account; anonymous callers must authenticate. */
  account(caller: Caller): Account {
    if (caller.kind === 'anonymous') throw new RegistryError('UNAUTHORIZED', 'authentication required');
    if (caller.account.disabled) throw denied('the account is disabled');
    return caller.account;
  }

  /** A user (not a robot): robots act on repositories, they do not manage accounts. */
  user(caller: Caller): Account {
    const account = this.account(caller);
    if (account.kind !== 'user') throw denied('robot accounts cannot manage accounts, organizations or tokens');
    return account;
  }

  superuser(caller: Caller, what: string): Account {
    const account = this.account(caller);
    if (!account.superuser) throw denied(`only a superuser may ${what}`);
    return account;
  }

  async isOrgAdmin(account: Account, org: Account): Promise<boolean> {
    if (account.superuser) return true;
    const teams = await this.identity.teamsOf(account.id);
    return teams.some((team) => team.organizationId === org.id && team.role === 'admin');
  }

  async isOrgMember(account: Account, org: Account): Promise<boolean> {
    if (account.superuser) return true;
    const teams = await this.identity.teamsOf(account.id);
    return teams.some((team) => team.organizationId === org.id);
  }

  /**
   * The organization, when the caller is one of its members (superusers: any). Whether it
   * exists is told only to those: anyone else gets one refusal for a missing organization
   * and for one they are not in.
   */
  async memberOf(caller: Caller, name: string): Promise<{ caller: Account; org: Account }> {
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
  async adminOf(caller: Caller, name: string): Promise<{ caller: Account; org: Account }> {
    const { caller: account, org } = await this.memberOf(caller, name);
    if (!(await this.isOrgAdmin(account, org))) throw denied(`only an administrator of organization "${org.name}" may do this`);
    return { caller: account, org };
  }

  /** A namespace (user or organization) whose robots the caller manages; to anyone else one
   * refusal, whether the namespace exists or not. */
  async robotOwner(caller: Caller, name: string): Promise<{ caller: Account; owner: Account }> {
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

  /** A robot the caller manages (its owner, or an admin of its organization). */
  async robot(caller: Caller, name: string): Promise<{ caller: Account; robot: Account; owner: Account }> {
    if (typeof name !== 'string' || !name.includes('+')) throw invalid('a robot name is OWNER+SHORTNAME');
    const ownerName = name.slice(0, name.indexOf('+'));
    const { caller: account, owner } = await this.robotOwner(caller, ownerName);
    const robot = await this.identity.findAccount(name);
    if (!robot || robot.kind !== 'robot' || robot.ownerId !== owner.id) throw notFound(`robot "${shown(name)}" not found`);
    return { caller: account, robot, owner };
  }

  /** The caller's role on a repository, requiring at least `wanted`. */
  async repositoryRole(caller: Caller, name: string, wanted: Role): Promise<{ role: Role; exists: boolean }> {
    this.account(caller);
    const { role, exists } = await this.access.access(caller, name);
    if (role === null || ROLES.indexOf(role) < ROLES.indexOf(wanted)) {
      throw denied(wanted === 'read' ? `no access to repository "${name}"` : `${wanted} access to repository "${name}" is required`);
    }
    if (!exists) throw notFound(`repository "${name}" not found`);
    return { role, exists };
  }

  record(caller: Caller, kind: ActionKind, detail: Record<string, unknown>, repository?: string, result: ActionEntry['result'] = 'success'): void {
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

  /** Runs a change: records it on success, and records a refusal (DENIED) too. */
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
}

/** What the action log keeps of the repositories an account's deletion removed. */
export function repositoriesDeleted(result: { readonly repositories: readonly string[] }): Record<string, unknown> {
  return { repositoriesDeleted: result.repositories.length, repositories: result.repositories };
}
