// The repositories-and-permissions facet of the identity seam: a repository's settings
// (visibility, description), the roles granted on it and an organization's defaults, and
// the two questions access control asks of them. SQL implementation:
// sql-repository-access-store.ts.
import type { GranteeRef, Permission, RepositorySettings, Role, Visibility } from '../../core/identity.ts';

/** What decides an account's role on one repository, gathered in one query. */
export interface AccessFacts {
  /** The repository's settings, or null when it does not exist yet. */
  readonly repository: RepositorySettings | null;
  /** The strongest role from direct, team and organization-default permissions and admin teams. */
  readonly role: Role | null;
  /** The account may create repositories in the namespace (its own, or a creator/admin team's organization). */
  readonly mayCreate: boolean;
}

/** Whose read rule a query applies: an account (or null, anyone), with public repositories or all. */
export interface ReadScope {
  readonly accountId: number | null;
  readonly includePublic: boolean;
  readonly all: boolean;
}

export interface ReadableRepositoriesOptions {
  /** Public repositories count as readable. */
  readonly includePublic: boolean;
  /** Every repository (a superuser's view). */
  readonly all: boolean;
  readonly last?: string;
  readonly limit: number;
}

export interface RepositoryAccessStore {
  findRepository(name: string): Promise<RepositorySettings | null>;
  /** Creates the repository row if missing; returns it either way. */
  ensureRepository(name: string, visibility?: Visibility): Promise<RepositorySettings>;
  updateRepository(name: string, changes: { visibility?: Visibility; description?: string | null }): Promise<RepositorySettings | null>;

  /** Sets a grantee's role on a repository; null removes it. */
  setPermission(repositoryId: number, grantee: GranteeRef, role: Role | null): Promise<void>;
  listPermissions(repositoryId: number): Promise<Permission[]>;
  /** Sets a grantee's role on every repository of an organization; null removes it. */
  setDefaultPermission(organizationId: number, grantee: GranteeRef, role: Role | null): Promise<void>;
  listDefaultPermissions(organizationId: number): Promise<Permission[]>;
  /** Everything AccessControl needs to decide for one account and one repository name. */
  accessFacts(accountId: number, repository: string, namespace: string | null): Promise<AccessFacts>;
  /** Names of repositories the account (or, for null, anyone) may read, in bytewise order, after `last`. */
  readableRepositories(accountId: number | null, options: ReadableRepositoriesOptions): Promise<string[]>;
}
