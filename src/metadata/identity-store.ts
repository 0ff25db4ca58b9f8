// The identity seam, split by facet: accounts, teams, repositories and permissions,
// credentials and token signing keys (each an interface in identity/, with its SQL
// implementation beside it). Callers depend on the facets they use; IdentityStore is all
// of them, for the few that need several (management, the server's security services).
// One SQL implementation of the whole serves SQLite and PostgreSQL (sql-identity-store.ts).
import type { AccountStore } from './identity/account-store.ts';
import type { CredentialStore } from './identity/credential-store.ts';
import type { RepositoryAccessStore } from './identity/repository-access-store.ts';
import type { SigningKeyStore } from './identity/signing-key-store.ts';
import type { TeamStore } from './identity/team-store.ts';

export { UNOWNED_REPOSITORIES, type AccountChanges, type AccountStore, type NewAccount, type NewOrganization } from './identity/account-store.ts';
export type { NewCredential, CredentialStore } from './identity/credential-store.ts';
export type { AccessFacts, ReadableRepositoriesOptions, RepositoryAccessStore } from './identity/repository-access-store.ts';
export type { SigningKeyStore } from './identity/signing-key-store.ts';
export type { TeamChanges, TeamStore } from './identity/team-store.ts';

export interface IdentityStore extends AccountStore, TeamStore, RepositoryAccessStore, CredentialStore, SigningKeyStore {}
