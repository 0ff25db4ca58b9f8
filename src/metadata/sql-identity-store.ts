// IdentityStore over any SqlClient: every facet's SQL implementation (identity/sql-*.ts)
// behind the one composite interface, for callers that need several facets. One code path
// for SQLite and PostgreSQL.
import type {
  Account,
  AccountKind,
  Credential,
  CredentialKind,
  GranteeRef,
  Permission,
  RepositorySettings,
  Role,
  SigningKeyRecord,
  Team,
  TeamMember,
  TeamRole,
  Visibility,
} from '../core/identity.ts';
import type { AccountChanges, NewAccount, NewOrganization } from './identity/account-store.ts';
import type { NewCredential } from './identity/credential-store.ts';
import type { AccessFacts, ReadableRepositoriesOptions } from './identity/repository-access-store.ts';
import type { TeamChanges } from './identity/team-store.ts';
import { SqlAccountStore } from './identity/sql-account-store.ts';
import { SqlCredentialStore } from './identity/sql-credential-store.ts';
import { SqlRepositoryAccessStore } from './identity/sql-repository-access-store.ts';
import { SqlSigningKeyStore } from './identity/sql-signing-key-store.ts';
import { SqlTeamStore } from './identity/sql-team-store.ts';
import type { IdentityStore } from './identity-store.ts';
import type { SqlClient } from './sql-client.ts';

export class SqlIdentityStore implements IdentityStore {
  readonly accounts: SqlAccountStore;
  readonly teams: SqlTeamStore;
  readonly repositories: SqlRepositoryAccessStore;
  readonly credentials: SqlCredentialStore;
  readonly signingKeys: SqlSigningKeyStore;

  constructor(sql: SqlClient) {
    this.accounts = new SqlAccountStore(sql);
    this.teams = new SqlTeamStore(sql);
    this.repositories = new SqlRepositoryAccessStore(sql);
    this.credentials = new SqlCredentialStore(sql);
    this.signingKeys = new SqlSigningKeyStore(sql);
  }

  // accounts
  createAccount(account: NewAccount): Promise<Account> {
    return this.accounts.createAccount(account);
  }
  createOrganization(organization: NewOrganization, ownerId: number | null, options?: { readonly adopt?: boolean }): Promise<Account> {
    return this.accounts.createOrganization(organization, ownerId, options);
  }
  claimNamespace(namespace: string, ownerId: number): Promise<Account | null> {
    return this.accounts.claimNamespace(namespace, ownerId);
  }
  findAccount(name: string): Promise<Account | null> {
    return this.accounts.findAccount(name);
  }
  findAccountById(id: number): Promise<Account | null> {
    return this.accounts.findAccountById(id);
  }
  listAccounts(kind?: AccountKind, ownerId?: number): Promise<Account[]> {
    return this.accounts.listAccounts(kind, ownerId);
  }
  updateAccount(id: number, changes: AccountChanges): Promise<Account> {
    return this.accounts.updateAccount(id, changes);
  }
  deleteAccount(id: number): Promise<{ readonly deleted: boolean; readonly repositories: readonly string[] }> {
    return this.accounts.deleteAccount(id);
  }
  countAccounts(kind: AccountKind): Promise<number> {
    return this.accounts.countAccounts(kind);
  }
  passwordHash(accountId: number): Promise<string | null> {
    return this.accounts.passwordHash(accountId);
  }

  // teams
  createTeam(organizationId: number, name: string, role: TeamRole, description?: string | null): Promise<Team> {
    return this.teams.createTeam(organizationId, name, role, description);
  }
  findTeam(organization: string, name: string): Promise<Team | null> {
    return this.teams.findTeam(organization, name);
  }
  findTeamById(id: number): Promise<Team | null> {
    return this.teams.findTeamById(id);
  }
  listTeams(organizationId: number): Promise<Team[]> {
    return this.teams.listTeams(organizationId);
  }
  updateTeam(id: number, changes: TeamChanges): Promise<Team> {
    return this.teams.updateTeam(id, changes);
  }
  deleteTeam(id: number): Promise<boolean> {
    return this.teams.deleteTeam(id);
  }
  addTeamMember(teamId: number, accountId: number, synced?: boolean): Promise<boolean> {
    return this.teams.addTeamMember(teamId, accountId, synced);
  }
  removeTeamMember(teamId: number, accountId: number): Promise<boolean> {
    return this.teams.removeTeamMember(teamId, accountId);
  }
  listTeamMembers(teamId: number): Promise<TeamMember[]> {
    return this.teams.listTeamMembers(teamId);
  }
  teamsOf(accountId: number): Promise<Team[]> {
    return this.teams.teamsOf(accountId);
  }
  listLdapSyncedTeams(): Promise<Team[]> {
    return this.teams.listLdapSyncedTeams();
  }

  // repositories and permissions
  findRepository(name: string): Promise<RepositorySettings | null> {
    return this.repositories.findRepository(name);
  }
  ensureRepository(name: string, visibility?: Visibility): Promise<RepositorySettings> {
    return this.repositories.ensureRepository(name, visibility);
  }
  updateRepository(name: string, changes: { visibility?: Visibility; description?: string | null }): Promise<RepositorySettings | null> {
    return this.repositories.updateRepository(name, changes);
  }
  setPermission(repositoryId: number, grantee: GranteeRef, role: Role | null): Promise<void> {
    return this.repositories.setPermission(repositoryId, grantee, role);
  }
  listPermissions(repositoryId: number): Promise<Permission[]> {
    return this.repositories.listPermissions(repositoryId);
  }
  setDefaultPermission(organizationId: number, grantee: GranteeRef, role: Role | null): Promise<void> {
    return this.repositories.setDefaultPermission(organizationId, grantee, role);
  }
  listDefaultPermissions(organizationId: number): Promise<Permission[]> {
    return this.repositories.listDefaultPermissions(organizationId);
  }
  accessFacts(accountId: number, repository: string, namespace: string | null): Promise<AccessFacts> {
    return this.repositories.accessFacts(accountId, repository, namespace);
  }
  readableRepositories(accountId: number | null, options: ReadableRepositoriesOptions): Promise<string[]> {
    return this.repositories.readableRepositories(accountId, options);
  }

  // credentials
  addCredential(credential: NewCredential): Promise<Credential> {
    return this.credentials.addCredential(credential);
  }
  addRefreshToken(credential: NewCredential, stamp: string): Promise<Credential | null> {
    return this.credentials.addRefreshToken(credential, stamp);
  }
  findCredential(secretHash: string, now: number): Promise<{ credential: Credential; account: Account } | null> {
    return this.credentials.findCredential(secretHash, now);
  }
  listCredentials(accountId: number, kind?: CredentialKind): Promise<Credential[]> {
    return this.credentials.listCredentials(accountId, kind);
  }
  deleteCredential(accountId: number, id: number): Promise<boolean> {
    return this.credentials.deleteCredential(accountId, id);
  }
  deleteCredentials(accountId: number, kind: CredentialKind): Promise<number> {
    return this.credentials.deleteCredentials(accountId, kind);
  }
  touchCredential(id: number, now: number): Promise<void> {
    return this.credentials.touchCredential(id, now);
  }

  // token signing keys
  activeSigningKeys(): Promise<SigningKeyRecord[]> {
    return this.signingKeys.activeSigningKeys();
  }
  insertSigningKeyIfNone(key: SigningKeyRecord): Promise<SigningKeyRecord[]> {
    return this.signingKeys.insertSigningKeyIfNone(key);
  }
}
