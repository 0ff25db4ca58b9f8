// Who may do what on which repository. Roles come from the identity store (direct,
// team and organization-default permissions, admin and creator teams, a user's own
// namespace); this class turns them into the Docker token scopes' actions.
import type { Principal, Role } from '../core/identity.ts';
import { namespaceOf } from '../core/names.ts';
import type { AccountStore, RepositoryAccessStore } from '../metadata/identity-store.ts';
import type { ReadScope } from '../metadata/identity/repository-access-store.ts';
import { actorOf, DISCARD_ACTIONS, type ActionRecorder } from '../audit/action.ts';
import type { RequestContext } from './authenticator.ts';

/** The actions of a `repository:NAME:ACTIONS` scope. `*` is full control (admin). */
export type RepositoryAction = 'pull' | 'push' | 'delete' | '*';
export const REPOSITORY_ACTIONS: readonly RepositoryAction[] = ['pull', 'push', 'delete', '*'];

const ACTIONS_BY_ROLE: Readonly<Record<Role, readonly RepositoryAction[]>> = {
  read: ['pull'],
  write: ['pull', 'push', 'delete'],
  admin: ['pull', 'push', 'delete', '*'],
};

export interface AccessControlOptions {
  /** Anonymous callers may pull public repositories. */
  readonly anonymousPull: boolean;
  /** Where the organizations a superuser's push creates are recorded. */
  readonly actions?: ActionRecorder;
}

export interface RepositoryAccess {
  /** The caller's role, or null for none. A repository that does not exist yet gives
   * admin to whoever may create it in its namespace. */
  readonly role: Role | null;
  readonly exists: boolean;
  readonly visibility: 'public' | 'private' | null;
}

export class AccessControl {
  private readonly store: AccountStore & RepositoryAccessStore;
  private readonly options: AccessControlOptions;

  constructor(store: AccountStore & RepositoryAccessStore, options: AccessControlOptions) {
    this.store = store;
    this.options = options;
  }

  get anonymousPull(): boolean {
    return this.options.anonymousPull;
  }

  async access(principal: Principal, repository: string): Promise<RepositoryAccess> {
    if (principal.kind === 'anonymous') {
      const settings = await this.store.findRepository(repository);
      const readable = settings !== null && settings.visibility === 'public' && this.options.anonymousPull;
      return { role: readable ? 'read' : null, exists: settings !== null, visibility: settings?.visibility ?? null };
    }
    const account = principal.account;
    if (account.disabled || account.kind === 'organization') return { role: null, exists: false, visibility: null };
    const facts = await this.store.accessFacts(account.id, repository, namespaceOf(repository));
    const exists = facts.repository !== null;
    let role: Role | null = facts.role;
    if (account.superuser) role = 'admin';
    else if (!exists) role = facts.mayCreate ? 'admin' : null;
    else if (facts.repository!.visibility === 'public' && role === null) role = 'read';
    return { role, exists, visibility: facts.repository?.visibility ?? null };
  }

  /** The subset of `requested` the principal may do on the repository. */
  async grantedActions(principal: Principal, repository: string, requested: readonly RepositoryAction[]): Promise<RepositoryAction[]> {
    const { role } = await this.access(principal, repository);
    if (role === null) return [];
    const allowed = ACTIONS_BY_ROLE[role];
    // `*` asks for everything (skopeo delete asks for it): grant whatever the role allows.
    const wanted = requested.includes('*') ? [...new Set<RepositoryAction>([...requested, 'pull', 'push', 'delete'])] : requested;
    return wanted.filter((action) => allowed.includes(action));
  }

  /**
   * Before a push that creates a repository: where the principal's right to create comes
   * from a creator team (not its own namespace, not superuser), records the repository
   * with an explicit admin permission for it, as Quay does; otherwise a creator would
   * lose access to what it just created (creators do not administer existing repositories).
   */
  async prepareCreation(principal: Principal, repository: string, context: RequestContext = {}): Promise<void> {
    if (principal.kind !== 'account' || principal.account.id < 0) return;
    if (principal.account.superuser) {
      await this.claimNamespace(principal, repository, context);
      return;
    }
    if (namespaceOf(repository) === principal.account.name && principal.account.kind === 'user') return;
    const { exists, role } = await this.access(principal, repository);
    if (exists || role !== 'admin') return;
    const settings = await this.store.ensureRepository(repository);
    await this.store.setPermission(settings.id, { kind: 'account', id: principal.account.id }, 'admin');
  }

  /**
   * Before a superuser creates a repository (by a push or explicitly) in a namespace no
   * account owns: creates the organization of that name with the superuser in its owners
   * team, and records it. Ownership is then explicit, and nobody can take the name later
   * and with it the repositories (roles follow the namespace's account). Others never
   * reach here: only superusers may create where no account is.
   */
  async claimNamespace(principal: Principal, repository: string, context: RequestContext = {}): Promise<void> {
    const namespace = namespaceOf(repository);
    if (principal.kind !== 'account' || !principal.account.superuser || principal.account.id < 0 || namespace === null) return;
    if ((await this.store.findAccount(namespace)) !== null) return;
    const organization = await this.store.claimNamespace(namespace, principal.account.id);
    if (organization === null) return; // another request claimed it first
    (this.options.actions ?? DISCARD_ACTIONS).record({
      kind: 'account',
      result: 'success',
      actor: actorOf(principal),
      ip: context.ip,
      userAgent: context.userAgent,
      namespace,
      detail: { action: 'create', account: namespace, accountKind: 'organization', reason: 'a superuser created a repository in a namespace without an account', repository },
    });
  }

  /** Repositories the principal may read, bytewise after `last`, at most `limit`. */
  /**
   * Whose read rule applies to a principal, for queries that filter by it in SQL
   * (readableRepositories, the catalog's search index); null: nothing is readable.
   */
  readScope(principal: Principal): ReadScope | null {
    if (principal.kind === 'anonymous') return this.options.anonymousPull ? { accountId: null, includePublic: true, all: false } : null;
    const account = principal.account;
    if (account.disabled) return null;
    return { accountId: account.id, includePublic: true, all: account.superuser };
  }

  async readableRepositories(principal: Principal, last: string | undefined, limit: number): Promise<string[]> {
    const scope = this.readScope(principal);
    if (scope === null) return [];
    return this.store.readableRepositories(scope.accountId, { includePublic: scope.includePublic, all: scope.all, limit, ...(last === undefined ? {} : { last }) });
  }
}
