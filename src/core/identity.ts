// The identity model: who can act (principals) and what they may do (roles). Pure types
// and rules; src/metadata/sql-identity-store.ts persists them, AccessControl evaluates them.
import { PATH_COMPONENT } from './names.ts';

/** Users and organizations are namespaces; robots act for a user or an organization. */
export type AccountKind = 'user' | 'organization' | 'robot';

/** A role on a repository. Each includes the ones before it. */
export type Role = 'read' | 'write' | 'admin';
export const ROLES: readonly Role[] = ['read', 'write', 'admin'];

/** A team's role in its organization: member (what permissions say), creator (may also
 * create repositories), admin (administers the organization and all its repositories). */
export type TeamRole = 'member' | 'creator' | 'admin';
export const TEAM_ROLES: readonly TeamRole[] = ['member', 'creator', 'admin'];

export type Visibility = 'public' | 'private';

export interface Account {
  readonly id: number;
  readonly name: string;
  readonly kind: AccountKind;
  readonly email: string | null;
  readonly superuser: boolean;
  /** The owner of a robot (a user or an organization); null otherwise. */
  readonly ownerId: number | null;
  readonly description: string | null;
  /** Set for users provisioned from LDAP: their password is checked by LDAP, never locally. */
  readonly ldapDn: string | null;
  readonly disabled: boolean;
  readonly createdAt: number;
  /**
   * Changes whenever a credential of the account is revoked or its password, superuser
   * flag or disabled flag changes. Registry tokens and remembered logins carry the stamp
   * they were issued under and stop working when it moves on. Not a secret, never shown.
   */
  readonly securityStamp: string;
}

export interface Team {
  readonly id: number;
  readonly organizationId: number;
  readonly organization: string;
  readonly name: string;
  readonly role: TeamRole;
  readonly description: string | null;
  /** The LDAP group whose members this team mirrors (null: managed by hand). */
  readonly ldapGroup: string | null;
  readonly createdAt: number;
}

export interface TeamMember {
  readonly account: Account;
  /** True when LDAP synchronisation added the member (and may remove it). */
  readonly synced: boolean;
}

export type GranteeRef = { readonly kind: 'account'; readonly id: number } | { readonly kind: 'team'; readonly id: number };

export interface Permission {
  readonly grantee: { readonly kind: 'account'; readonly id: number; readonly name: string; readonly accountKind: AccountKind } | { readonly kind: 'team'; readonly id: number; readonly name: string };
  readonly role: Role;
}

export interface RepositorySettings {
  readonly id: number;
  readonly name: string;
  readonly visibility: Visibility;
  readonly description: string | null;
  readonly createdAt: number;
}

/** Long random secrets standing for an account. Only their sha256 is stored. */
export type CredentialKind = 'robot' | 'personal' | 'refresh';

// A recognisable prefix per kind: secret scanners can find leaked tokens, and the
// authenticator knows what it was given without trying every table.
export const SECRET_PREFIX: Readonly<Record<CredentialKind, string>> = {
  robot: 'cst_robot_',
  personal: 'cst_pat_',
  refresh: 'cst_refresh_',
};

/** What the login that minted a refresh token proved: the token lives only as long as that proof. */
export type RefreshTokenSource = 'password' | 'ldap' | 'robot-token' | 'personal-token';
export const REFRESH_TOKEN_SOURCES: readonly RefreshTokenSource[] = ['password', 'ldap', 'robot-token', 'personal-token'];

export interface Credential {
  readonly id: number;
  readonly accountId: number;
  readonly kind: CredentialKind;
  readonly name: string;
  readonly scopes: readonly string[] | null;
  readonly createdAt: number;
  readonly expiresAt: number | null;
  readonly lastUsedAt: number | null;
  /** Refresh tokens: the robot token or personal access token they were minted from; they end with it. */
  readonly parentId: number | null;
  /** Refresh tokens: how the login that minted them authenticated. */
  readonly mintedVia: RefreshTokenSource | null;
  /** Refresh tokens: the client that logged in, as far as it said (User-Agent) and where from. */
  readonly userAgent: string | null;
  readonly ip: string | null;
}

export interface SigningKeyRecord {
  readonly kid: string;
  readonly algorithm: string;
  readonly privateKeyPem: string;
  readonly publicJwk: string;
  readonly createdAt: number;
  readonly retiredAt: number | null;
}

/** How a principal proved who it is; recorded in the action log. */
export type AuthMethod = 'password' | 'ldap' | 'oidc' | 'robot-token' | 'personal-token' | 'refresh-token' | 'bearer';

export type Principal =
  | { readonly kind: 'anonymous' }
  | {
      readonly kind: 'account';
      readonly account: Account;
      readonly via: AuthMethod;
      /** The robot token, personal access token or refresh token used, when one was. */
      readonly credentialId?: number | undefined;
    };

/** A principal that proved who it is. */
export type AccountPrincipal = Extract<Principal, { kind: 'account' }>;

export const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous' as const });

export function strongerRole(a: Role | null, b: Role | null): Role | null {
  if (a === null) return b;
  if (b === null) return a;
  return ROLES.indexOf(a) >= ROLES.indexOf(b) ? a : b;
}

// Account names are repository namespaces, so they follow one path component's grammar
// (lowercase), at most 64 characters. Robot short names are letters, digits and _.
export const ACCOUNT_NAME = new RegExp(`^${PATH_COMPONENT}$`);
export const ROBOT_SHORT_NAME = /^[a-z][a-z0-9_]{0,63}$/;
export const TEAM_NAME = /^[a-z][a-z0-9_-]{0,63}$/;
export const MAX_ACCOUNT_NAME_LENGTH = 64;

/** The team every organization starts with: its administrators (role admin). */
export const OWNERS_TEAM = 'owners';

export function robotName(owner: string, shortName: string): string {
  return `${owner}+${shortName}`;
}
