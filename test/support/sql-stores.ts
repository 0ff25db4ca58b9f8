// Store factories for the contract suites (test/suites/*-suite.ts). A suite takes the
// factories, never a concrete class, so a decorator (a cache, a pass-through) runs the same
// suite: override the factory of the store it decorates, keep the SQL ones for the rest.
import type { SqlClient } from '../../src/metadata/sql-client.ts';
import type { MetadataStore } from '../../src/metadata/metadata-store.ts';
import type { IdentityStore } from '../../src/metadata/identity-store.ts';
import type { AccountStore } from '../../src/metadata/identity/account-store.ts';
import type { TeamStore } from '../../src/metadata/identity/team-store.ts';
import type { RepositoryAccessStore } from '../../src/metadata/identity/repository-access-store.ts';
import type { CredentialStore } from '../../src/metadata/identity/credential-store.ts';
import type { SigningKeyStore } from '../../src/metadata/identity/signing-key-store.ts';
import type { MaintenanceStore } from '../../src/metadata/maintenance-store.ts';
import type { AdvisoryStore } from '../../src/metadata/advisory-store.ts';
import type { FeedSourceStore } from '../../src/metadata/feed-source-store.ts';
import { SqlFeedSourceStore } from '../../src/metadata/sql-feed-source-store.ts';
import type { QualityStore } from '../../src/metadata/quality-store.ts';
import type { SigningPolicyStore } from '../../src/metadata/signing-policy-store.ts';
import type { SignatureStore } from '../../src/metadata/signature-store.ts';
import type { ActionLogStore } from '../../src/audit/action-log-store.ts';
import type { JobLeaseStore } from '../../src/metadata/job-lease-store.ts';
import type { LoginAttemptStore } from '../../src/metadata/login-attempt-store.ts';
import { SqlLoginAttemptStore } from '../../src/metadata/sql-login-attempt-store.ts';
import type { WebhookStore } from '../../src/metadata/webhook-store.ts';
import { SqlWebhookStore } from '../../src/metadata/sql-webhook-store.ts';
import { SqlMetadataStore } from '../../src/metadata/sql-metadata-store.ts';
import { SqlIdentityStore } from '../../src/metadata/sql-identity-store.ts';
import { SqlAccountStore } from '../../src/metadata/identity/sql-account-store.ts';
import { SqlTeamStore } from '../../src/metadata/identity/sql-team-store.ts';
import { SqlRepositoryAccessStore } from '../../src/metadata/identity/sql-repository-access-store.ts';
import { SqlCredentialStore } from '../../src/metadata/identity/sql-credential-store.ts';
import { SqlSigningKeyStore } from '../../src/metadata/identity/sql-signing-key-store.ts';
import { SqlMaintenanceStore, type MaintenanceOptions } from '../../src/metadata/sql-maintenance-store.ts';
import { SqlLifecycleStore } from '../../src/metadata/sql-lifecycle-store.ts';
import { SqlQuotaStore } from '../../src/metadata/sql-quota-store.ts';
import type { LifecycleStore } from '../../src/metadata/lifecycle-store.ts';
import type { QuotaStore } from '../../src/metadata/quota-store.ts';
import type { RetentionStore } from '../../src/metadata/retention-store.ts';
import { SqlRetentionStore } from '../../src/metadata/sql-retention-store.ts';
import { SqlAdvisoryStore } from '../../src/metadata/sql-advisory-store.ts';
import { SqlQualityStore } from '../../src/metadata/sql-quality-store.ts';
import { SqlSigningPolicyStore } from '../../src/metadata/sql-signing-policy-store.ts';
import { SqlSignatureStore } from '../../src/metadata/sql-signature-store.ts';
import { SqlActionLogStore } from '../../src/audit/sql-action-log-store.ts';
import { SqlJobLeaseStore } from '../../src/metadata/sql-job-lease-store.ts';
import { SqlWebSessionStore } from '../../src/metadata/sql-web-session-store.ts';
import { SqlOidcIdentityStore } from '../../src/metadata/identity/sql-oidc-identity-store.ts';
import type { OidcIdentityStore } from '../../src/metadata/identity/oidc-identity-store.ts';
import type { WebSessionStore } from '../../src/metadata/web-session-store.ts';
import { SqlCatalogIndexStore } from '../../src/metadata/sql-catalog-index-store.ts';
import type { CatalogIndexStore } from '../../src/metadata/catalog-index-store.ts';
import type { CacheUsageStore } from '../../src/metadata/cache-usage-store.ts';
import { SqlCacheUsageStore } from '../../src/metadata/sql-cache-usage-store.ts';
import type { MirrorStore } from '../../src/metadata/mirror-store.ts';
import { SqlMirrorStore } from '../../src/metadata/sql-mirror-store.ts';

/** Each store over a migrated database. */
export interface StoreFactories {
  metadata(sql: SqlClient): MetadataStore;
  /** Every identity facet in one (what management and the server's security services use). */
  identity(sql: SqlClient): IdentityStore;
  accounts(sql: SqlClient): AccountStore;
  teams(sql: SqlClient): TeamStore;
  repositoryAccess(sql: SqlClient): RepositoryAccessStore;
  credentials(sql: SqlClient): CredentialStore;
  signingKeys(sql: SqlClient): SigningKeyStore;
  /** `options`: the time-machine window the collector keeps (SqlMaintenanceStore's MaintenanceOptions). */
  maintenance(sql: SqlClient, options?: MaintenanceOptions): MaintenanceStore;
  lifecycle(sql: SqlClient): LifecycleStore;
  quotas(sql: SqlClient): QuotaStore;
  retention(sql: SqlClient): RetentionStore;
  advisories(sql: SqlClient): AdvisoryStore;
  feedSources(sql: SqlClient): FeedSourceStore;
  quality(sql: SqlClient): QualityStore;
  signingPolicies(sql: SqlClient): SigningPolicyStore;
  signatures(sql: SqlClient): SignatureStore;
  actionLog(sql: SqlClient): ActionLogStore;
  jobLeases(sql: SqlClient): JobLeaseStore;
  loginAttempts(sql: SqlClient): LoginAttemptStore;
  webhooks(sql: SqlClient): WebhookStore;
  webSessions(sql: SqlClient): WebSessionStore;
  oidcIdentities(sql: SqlClient): OidcIdentityStore;
  cacheUsage(sql: SqlClient): CacheUsageStore;
  mirrors(sql: SqlClient): MirrorStore;
  catalogIndex(sql: SqlClient): CatalogIndexStore;
}

/** The SQL implementations: one code path for SQLite and PostgreSQL. */
export const SQL_STORES: StoreFactories = {
  metadata: (sql) => new SqlMetadataStore(sql),
  identity: (sql) => new SqlIdentityStore(sql),
  accounts: (sql) => new SqlAccountStore(sql),
  teams: (sql) => new SqlTeamStore(sql),
  repositoryAccess: (sql) => new SqlRepositoryAccessStore(sql),
  credentials: (sql) => new SqlCredentialStore(sql),
  signingKeys: (sql) => new SqlSigningKeyStore(sql),
  maintenance: (sql, options) => new SqlMaintenanceStore(sql, options),
  lifecycle: (sql) => new SqlLifecycleStore(sql),
  quotas: (sql) => new SqlQuotaStore(sql),
  retention: (sql) => new SqlRetentionStore(sql),
  advisories: (sql) => new SqlAdvisoryStore(sql),
  feedSources: (sql) => new SqlFeedSourceStore(sql),
  quality: (sql) => new SqlQualityStore(sql),
  signingPolicies: (sql) => new SqlSigningPolicyStore(sql),
  signatures: (sql) => new SqlSignatureStore(sql),
  actionLog: (sql) => new SqlActionLogStore(sql),
  jobLeases: (sql) => new SqlJobLeaseStore(sql),
  loginAttempts: (sql) => new SqlLoginAttemptStore(sql),
  webhooks: (sql) => new SqlWebhookStore(sql),
  webSessions: (sql) => new SqlWebSessionStore(sql),
  oidcIdentities: (sql) => new SqlOidcIdentityStore(sql),
  cacheUsage: (sql) => new SqlCacheUsageStore(sql),
  mirrors: (sql) => new SqlMirrorStore(sql),
  catalogIndex: (sql) => new SqlCatalogIndexStore(sql),
};
