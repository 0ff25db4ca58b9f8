// Migration 18: accounts signed in through OpenID Connect, keyed by the provider's issuer
// and the subject it names the user by (never by e-mail: an address can be reassigned or
// claimed unverified). Gone with the account.
import type { Migration } from '../migrations.ts';

export const OIDC_IDENTITIES_MIGRATION: Migration = {
  version: 18,
  description: 'OpenID Connect identities',
  statements: [
    `CREATE TABLE oidc_identities (
      issuer TEXT NOT NULL,
      subject TEXT NOT NULL,
      account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      created_at BIGINT NOT NULL,
      PRIMARY KEY (issuer, subject)
    )`,
    `CREATE INDEX oidc_identities_account ON oidc_identities (account_id)`,
  ],
};
