// The accounts facet of the identity seam: users, organizations and robots, and the
// namespaces users and organizations own. SQL implementation: sql-account-store.ts.
import type { Account, AccountKind } from '../../core/identity.ts';

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

export interface AccountStore {
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
  /** Throws NotFound('account') when there is no such account. */
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
}
