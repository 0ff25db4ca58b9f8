// What the management API shows of the identity model: plain JSON objects, never a
// password hash or a stored secret. A secret appears once, in the response that made it.
import type { Account, Credential, RefreshTokenSource, RepositorySettings, Role, Team, TeamRole, Visibility } from '../core/identity.ts';

export type GranteeKind = 'user' | 'robot' | 'team';

export interface UserView {
  readonly name: string;
  readonly kind: 'user';
  readonly email: string | null;
  readonly superuser: boolean;
  readonly disabled: boolean;
  /** Provisioned from LDAP: the directory checks the password. */
  readonly ldap: boolean;
  readonly createdAt: string;
}

export interface CreatedUserView extends UserView {
  /** Present only when the server generated the password; shown this once. */
  readonly generatedPassword?: string;
}

export interface OrganizationView {
  readonly name: string;
  readonly kind: 'organization';
  readonly email: string | null;
  readonly description: string | null;
  readonly createdAt: string;
}

export interface TeamView {
  readonly organization: string;
  readonly name: string;
  readonly role: TeamRole;
  readonly description: string | null;
  readonly ldapGroup: string | null;
  readonly createdAt: string;
}

export interface MemberView {
  readonly name: string;
  readonly kind: 'user' | 'robot';
  /** Added by LDAP group synchronisation (which may remove it again). */
  readonly synced: boolean;
}

export interface RobotView {
  readonly name: string;
  readonly owner: string;
  readonly shortName: string;
  readonly description: string | null;
  readonly createdAt: string;
  readonly tokenCreatedAt: string | null;
  readonly lastUsedAt: string | null;
}

export interface CreatedRobotView extends RobotView {
  /** The robot's token: shown once, never again. */
  readonly token: string;
}

export interface RepositoryView {
  readonly name: string;
  readonly namespace: string | null;
  readonly visibility: Visibility;
  readonly description: string | null;
  readonly createdAt: string;
  /** The caller's role on the repository. */
  readonly role: Role | null;
}

export interface PermissionView {
  readonly grantee: { readonly kind: GranteeKind; readonly name: string };
  readonly role: Role;
}

export interface AccessSourceView {
  /** superuser, owner (the user namespace's owner), admin-team, direct, team, default, public. */
  readonly via: 'superuser' | 'owner' | 'admin-team' | 'direct' | 'team' | 'default' | 'public';
  readonly role: Role;
  /** The team ("org/team") the role comes through, for admin-team, team and default-by-team. */
  readonly team?: string;
}

export interface AccessEntryView {
  /** anonymous and authenticated stand for everyone (public repositories). */
  readonly principal: { readonly kind: 'user' | 'robot' | 'anonymous' | 'authenticated'; readonly name: string | null };
  /** The strongest role of all the sources. */
  readonly role: Role;
  readonly sources: readonly AccessSourceView[];
}

export interface RepositoryAccessView {
  readonly repository: string;
  readonly visibility: Visibility;
  readonly entries: readonly AccessEntryView[];
}

export interface TokenView {
  readonly id: number;
  readonly name: string;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly lastUsedAt: string | null;
}

export interface CreatedTokenView extends TokenView {
  /** The token: shown once, never again. */
  readonly token: string;
}

/** A login session: for now the refresh token a client keeps after `docker/podman login`. */
export interface SessionView {
  readonly id: number;
  readonly kind: 'refresh-token';
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  readonly expiresAt: string | null;
  /** The client that logged in (its User-Agent) and its address, as far as known. */
  readonly userAgent: string | null;
  readonly ip: string | null;
  /** What the login used; the session ends with it (a new password, a revoked or regenerated token). */
  readonly mintedFrom: RefreshTokenSource | null;
  /** The personal access token or robot token the login used, when it used one. */
  readonly fromTokenId: number | null;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : iso(ms);
}

export function userView(account: Account): UserView {
  return {
    name: account.name,
    kind: 'user',
    email: account.email,
    superuser: account.superuser,
    disabled: account.disabled,
    ldap: account.ldapDn !== null,
    createdAt: iso(account.createdAt),
  };
}

export function organizationView(account: Account): OrganizationView {
  return { name: account.name, kind: 'organization', email: account.email, description: account.description, createdAt: iso(account.createdAt) };
}

export function teamView(team: Team): TeamView {
  return { organization: team.organization, name: team.name, role: team.role, description: team.description, ldapGroup: team.ldapGroup, createdAt: iso(team.createdAt) };
}

export function robotView(robot: Account, token: Credential | undefined): RobotView {
  const plus = robot.name.indexOf('+');
  return {
    name: robot.name,
    owner: robot.name.slice(0, plus),
    shortName: robot.name.slice(plus + 1),
    description: robot.description,
    createdAt: iso(robot.createdAt),
    tokenCreatedAt: token ? iso(token.createdAt) : null,
    lastUsedAt: token ? isoOrNull(token.lastUsedAt) : null,
  };
}

export function repositoryView(settings: RepositorySettings, role: Role | null): RepositoryView {
  const slash = settings.name.indexOf('/');
  return {
    name: settings.name,
    namespace: slash < 0 ? null : settings.name.slice(0, slash),
    visibility: settings.visibility,
    description: settings.description,
    createdAt: iso(settings.createdAt),
    role,
  };
}

export function tokenView(credential: Credential): TokenView {
  return { id: credential.id, name: credential.name, createdAt: iso(credential.createdAt), expiresAt: isoOrNull(credential.expiresAt), lastUsedAt: isoOrNull(credential.lastUsedAt) };
}

export function sessionView(credential: Credential): SessionView {
  return {
    id: credential.id,
    kind: 'refresh-token',
    createdAt: iso(credential.createdAt),
    lastUsedAt: isoOrNull(credential.lastUsedAt),
    expiresAt: isoOrNull(credential.expiresAt),
    userAgent: credential.userAgent,
    ip: credential.ip,
    mintedFrom: credential.mintedVia,
    fromTokenId: credential.parentId,
  };
}
