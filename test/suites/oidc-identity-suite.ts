// The OidcIdentityStore contract over any SqlClient, after migrate(): an identity (issuer +
// subject) links to one account, the first link wins, subjects are per issuer, and the
// link goes with its account.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { migrate } from '../../src/metadata/migrations.ts';
import type { SqlClient } from '../../src/metadata/sql-client.ts';
import type { OidcIdentityStore } from '../../src/metadata/identity/oidc-identity-store.ts';
import type { StoreFactories } from '../support/sql-stores.ts';

const ISSUER = 'https://idp.example.test';

export function oidcIdentitySuite(name: string, openClient: () => Promise<SqlClient>, stores: StoreFactories): void {
  describe(`OidcIdentityStore contract: ${name}`, () => {
    let sql: SqlClient;
    let store: OidcIdentityStore;

    beforeEach(async () => {
      sql = await openClient();
      await migrate(sql);
      store = stores.oidcIdentities(sql);
    });
    afterEach(async () => {
      await sql.close();
    });

    it('links an identity once, per issuer, and forgets it with the account', async () => {
      const accounts = stores.accounts(sql);
      const alice = await accounts.createAccount({ name: 'alice', kind: 'user', passwordHash: null });
      const other = await accounts.createAccount({ name: 'alice-2', kind: 'user', passwordHash: null });
      assert.equal(await store.findLinkedAccount(ISSUER, 'sub-1'), null);
      assert.equal(await store.link(ISSUER, 'sub-1', alice.id), true);
      assert.equal(await store.link(ISSUER, 'sub-1', other.id), false, 'the first link wins');
      assert.equal(await store.findLinkedAccount(ISSUER, 'sub-1'), alice.id);
      assert.equal(await store.findLinkedAccount('https://other.example.test', 'sub-1'), null, 'a subject names a user only at its issuer');
      assert.equal(await store.link('https://other.example.test', 'sub-1', other.id), true);
      await accounts.deleteAccount(alice.id);
      assert.equal(await store.findLinkedAccount(ISSUER, 'sub-1'), null);
      assert.equal(await store.findLinkedAccount('https://other.example.test', 'sub-1'), other.id);
    });
  });
}
