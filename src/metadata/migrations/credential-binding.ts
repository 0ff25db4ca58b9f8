// Migration 8: credentials bound to what issued them. A refresh token records the robot
// token or personal access token it was minted from (and ends with it: ON DELETE CASCADE),
// how the login that minted it authenticated (a password change ends those minted with the
// password), and the client that asked for it. Every account gets a security stamp that
// moves on whenever a credential of it is revoked, so short-lived registry tokens and
// remembered logins issued before stop working at once.
import type { Migration } from '../migrations.ts';

export const CREDENTIAL_BINDING_MIGRATION: Migration = {
  version: 7,
  description: 'refresh tokens bound to the credential and login that minted them; account security stamps',
  statements: [
    `ALTER TABLE credentials ADD COLUMN parent_id BIGINT REFERENCES credentials(id) ON DELETE CASCADE`,
    `ALTER TABLE credentials ADD COLUMN minted_via TEXT`,
    `ALTER TABLE credentials ADD COLUMN user_agent TEXT`,
    `ALTER TABLE credentials ADD COLUMN ip TEXT`,
    `CREATE INDEX credentials_parent ON credentials (parent_id)`,
    // Empty for accounts made before this migration; a new value on the first change.
    `ALTER TABLE accounts ADD COLUMN security_stamp TEXT NOT NULL DEFAULT ''`,
    // Refresh tokens minted before were bound to nothing that could end them: they end
    // now, and docker/podman log in again once.
    `DELETE FROM credentials WHERE kind = 'refresh'`,
  ],
};
