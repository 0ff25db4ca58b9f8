// The identity seam: accounts (users, organizations, robots), teams, repository settings
// and permissions, credentials and token signing keys. One SQL implementation serves
// SQLite and PostgreSQL (sql-identity-store.ts).
import type {
  Account,
  AccountKind,
  Credential,
  CredentialKind,
  GranteeRef,
  Permission,
  RefreshTokenSource,
  RepositorySettings,
  Role,
  SigningKeyRecord,
  Team,
  TeamMember,
  TeamRole,
  Visibility,
} from '../core/identity.ts';

export interface NewAccount {
  readonly name: string;
  readonly kind: AccountKind;
  readonly email?: string | null;
  readonly passwordHash?: string | null;
  readonly superuser?: boolean;
  readonly ownerId?: number | null;
  readonly description?: string | null;
  readonly ldapDn?: string | null;
}

/** The `detail.reason` of the Conflict refusing a name whose namespace holds repositories without an account. */
export const UNOWNED_REPOSITORIES = 'unowned-repositories';

export interface NewOrganization {
  readonly name: string;
  readonly email?: string | null;
  readonly description?: string | null;
}

/** Changing passwordHash, superuser or disabled moves the security stamp on; a new
 * password ends the refresh tokens minted with the old one, disabling ends them all. */
export interface AccountChanges {
  readonly email?: string | null;
  readonly passwordHash?: string | null;
  readonly superuser?: boolean;
  readonly description?: string | null;
  readonly ldapDn?: string | null;
  readonly disabled?: boolean;
}

export interface NewCredential {
  readonly accountId: number;
  readonly kind: CredentialKind;
  readonly name: string;
  readonly secretHash: string;
  readonly scopes?: readonly string[] | null;
  readonly expiresAt?: number | null;
  /** Refresh tokens: the robot token or personal access token the login used. */
  readonly parentId?: number | null;
  readonly mintedVia?: RefreshTokenSource | null;
  readonly userAgent?: string | null;
  readonly ip?: string | null;
}

/** What decides an account's role on one repository, gathered in one query. */
export interface AccessFacts {
  /** The repository's settings, or null when it does not exist yet. */
  readonly repository: RepositorySettings | null;
  /** The strongest role from direct, team and organization-default permissions and admin teams. */
  readonly role: Role | null;
  /** The account may create repositories in the namespace (its own, or a creator/admin team's organization). */
  readonly mayCreate: boolean;
}

export interface IdentityStore {
  // accounts
  /**
   * Creates a user, organization or robot. Refused (Conflict) when the name is taken, and
   * for a user or organization when repositories exist in the namespace of that name
   * (they belong to no account: whoever took the name would administer them).
   */
  createAccount(account: NewAccount): Promise<Account>;
  /**
   * Creates an organization with its owners team (role admin) holding `ownerId`, in one
   * transaction. Refused like createAccount, except that with `adopt` an organization may
   * take a namespace whose repositories have no account (a superuser's decision).
   */
  createOrganization(organization: NewOrganization, ownerId: number | null, options?: { readonly adopt?: boolean }): Promise<Account>;
  /**
   * Gives a namespace without an account an owner: creates the organization `namespace`
   * owned by `ownerId` (adopting any repositories already in it). Returns it, or null when
   * an account of that name exists already (it owns the namespace).
   */
  claimNamespace(namespace: string, ownerId: number): Promise<Account | null>;
  findAccount(name: string): Promise<Account | null>;
  findAccountById(id: number): Promise<Account | null>;
  listAccounts(kind?: AccountKind, ownerId?: number): Promise<Account[]>;
  updateAccount(id: number, changes: AccountChanges): Promise<Account>;
  /**
   * Deletes the account with its teams, robots, credentials and grants; a user's or an
   * organization's repositories go with it (see namespace-removal.ts), in the same
   * transaction. Returns whether it existed and the repositories removed.
   */
  deleteAccount(id: number): Promise<{ readonly deleted: boolean; readonly repositories: readonly string[] }>;
  countAccounts(kind: AccountKind): Promise<number>;
  /** A user's stored password hash; kept out of Account so it cannot leak through it. */
  passwordHash(accountId: number): Promise<string | null>;

  // teams
  createTeam(organizationId: number, name: string, role: TeamRole, description?: string | null): Promise<Team>;
  findTeam(organization: string, name: string): Promise<Team | null>;
  findTeamById(id: number): Promise<Team | null>;
  listTeams(organizationId: number): Promise<Team[]>;
  updateTeam(id: number, changes: { role?: TeamRole; description?: string | null; ldapGroup?: string | null }): Promise<Team>;
  deleteTeam(id: number): Promise<boolean>;
  addTeamMember(teamId: number, accountId: number, synced?: boolean): Promise<boolean>;
  removeTeamMember(teamId: number, accountId: number): Promise<boolean>;
  listTeamMembers(teamId: number): Promise<TeamMember[]>;
  teamsOf(accountId: number): Promise<Team[]>;
  /** Teams mirroring an LDAP group, across all organizations. */
  listLdapSyncedTeams(): Promise<Team[]>;

  // repositories
  findRepository(name: string): Promise<RepositorySettings | null>;
  /** Creates the repository row if missing; returns it either way. */
  ensureRepository(name: string, visibility?: Visibility): Promise<RepositorySettings>;
  updateRepository(name: string, changes: { visibility?: Visibility; description?: string | null }): Promise<RepositorySettings | null>;

  // permissions
  setPermission(repositoryId: number, grantee: GranteeRef, role: Role | null): Promise<void>;
  listPermissions(repositoryId: number): Promise<Permission[]>;
  setDefaultPermission(organizationId: number, grantee: GranteeRef, role: Role | null): Promise<void>;
  listDefaultPermissions(organizationId: number): Promise<Permission[]>;
  /** Everything AccessControl needs to decide for one account and one repository name. */
  accessFacts(accountId: number, repository: string, namespace: string | null): Promise<AccessFacts>;
  /** Names of repositories the account (or, for null, anyone) may read, in bytewise order, after `last`. */
  readableRepositories(accountId: number | null, options: { includePublic: boolean; all: boolean; last?: string; limit: number }): Promise<string[]>;

  // credentials
  addCredential(credential: NewCredential): Promise<Credential>;
  /**
   * Adds a refresh token only while the account's security stamp is `stamp` (the one the
   * login saw): null when a revocation came in between, so nothing outlives it.
   */
  addRefreshToken(credential: NewCredential, stamp: string): Promise<Credential | null>;
  /** The credential with this secret hash and its account, if not expired. */
  findCredential(secretHash: string, now: number): Promise<{ credential: Credential; account: Account } | null>;
  listCredentials(accountId: number, kind?: CredentialKind): Promise<Credential[]>;
  /** Revokes one credential, and the refresh tokens minted from it; moves the account's security stamp on. */
  deleteCredential(accountId: number, id: number): Promise<boolean>;
  /** Revokes every credential of a kind, and the refresh tokens minted from them; moves the security stamp on. */
  deleteCredentials(accountId: number, kind: CredentialKind): Promise<number>;
  touchCredential(id: number, now: number): Promise<void>;

  // token signing keys
  activeSigningKeys(): Promise<SigningKeyRecord[]>;
  /** Inserts a key unless one is active already; returns the active keys after. */
  insertSigningKeyIfNone(key: SigningKeyRecord): Promise<SigningKeyRecord[]>;
}
