// The SigningPolicyStore contract over any SqlClient, after migrate(): policies per
// repository or namespace, revisions that never go back, and which indexes of a
// repository list a manifest. Each test gets a fresh database from `openClient`; the
// stores come from the factories.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { migrate } from '../../src/metadata/migrations.ts';
import type { SqlClient } from '../../src/metadata/sql-client.ts';
import type { MetadataStore, NewManifest } from '../../src/metadata/metadata-store.ts';
import type { SigningPolicyStore, TrustedKeyRecord } from '../../src/metadata/signing-policy-store.ts';
import type { StoreFactories } from '../support/sql-stores.ts';
import { blobDigest, manifest, pushManifest } from './metadata-suite.ts';

const T0 = 1_700_000_000_000;
const KEY: TrustedKeyRecord = { id: `sha256:${'1'.repeat(64)}`, format: 'sigstore', publicKey: '-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n' };

export function signingPolicySuite(name: string, openClient: () => Promise<SqlClient>, stores: StoreFactories): void {
  describe(`SigningPolicyStore contract: ${name}`, () => {
    let sql: SqlClient;
    let metadata: MetadataStore;
    let store: SigningPolicyStore;

    beforeEach(async () => {
      sql = await openClient();
      await migrate(sql);
      metadata = stores.metadata(sql);
      store = stores.signingPolicies(sql);
    });
    afterEach(async () => {
      await sql.close();
    });

    const push = (entry: NewManifest): Promise<NewManifest> => pushManifest(metadata, entry);

    it('put creates and replaces; get reads back what was put; delete removes', async () => {
      assert.equal(await store.get('repository', 'acme/app'), null);
      const created = await store.put('repository', 'acme/app', 'pull', [KEY], 'alice', T0);
      assert.deepEqual(created, { scope: 'repository', name: 'acme/app', mode: 'pull', keys: [KEY], revision: T0, updatedBy: 'alice', updatedAt: T0 });
      assert.deepEqual(await store.get('repository', 'acme/app'), created);
      assert.equal(await store.get('namespace', 'acme/app'), null, 'scopes are distinct');
      const replaced = await store.put('repository', 'acme/app', 'pull,tag', [], null, T0 + 5);
      assert.deepEqual(await store.get('repository', 'acme/app'), replaced);
      assert.deepEqual([replaced.mode, replaced.keys, replaced.updatedBy], ['pull,tag', [], null]);
      assert.equal(await store.delete('repository', 'acme/app'), true);
      assert.equal(await store.delete('repository', 'acme/app'), false);
      assert.equal(await store.get('repository', 'acme/app'), null);
    });

    it('revisions only go up: on every change, even within one millisecond and across a delete', async () => {
      const first = await store.put('namespace', 'acme', 'pull', [KEY], 'a', T0);
      const second = await store.put('namespace', 'acme', 'pull', [KEY], 'a', T0);
      assert.ok(second.revision > first.revision, 'a change in the same millisecond');
      const clockBack = await store.put('namespace', 'acme', 'pull', [KEY], 'a', T0 - 1000);
      assert.ok(clockBack.revision > second.revision, 'a clock that went back');
      await store.delete('namespace', 'acme');
      const recreated = await store.put('namespace', 'acme', 'pull', [KEY], 'a', T0 + 1);
      assert.ok(recreated.revision >= T0 + 1, 'at least the time after a re-create');
    });

    it('applicable: the repository\'s own policy and its namespace\'s, and nothing of neighbours', async () => {
      await store.put('namespace', 'acme', 'pull', [], 'a', T0);
      await store.put('repository', 'acme/app', 'pull,tag', [KEY], 'a', T0);
      await store.put('repository', 'acme/other', 'pull', [], 'a', T0);
      await store.put('namespace', 'acmex', 'pull', [], 'a', T0);
      const both = await store.applicable('acme/app', 'acme');
      assert.deepEqual(both.map((policy) => `${policy.scope}:${policy.name}`).sort(), ['namespace:acme', 'repository:acme/app']);
      assert.deepEqual((await store.applicable('acme/new', 'acme')).map((policy) => `${policy.scope}:${policy.name}`), ['namespace:acme']);
      assert.deepEqual(await store.applicable('toplevel', null), []);
    });

    it('parentIndexes: the indexes the repository holds that list the manifest', async () => {
      const child = await push(manifest('acme/app', { blobs: [blobDigest('c')], now: T0 }));
      const other = await push(manifest('acme/app', { blobs: [blobDigest('o')], now: T0 }));
      const index = await push(manifest('acme/app', { manifests: [child.digest, other.digest], tag: 'latest', now: T0 }));
      const second = await push(manifest('acme/app', { manifests: [child.digest], now: T0 }));
      // The same index in another repository does not count for this one.
      await push({ ...child, repository: 'elsewhere/app' });
      await push(manifest('elsewhere/app', { manifests: [child.digest], now: T0 }));
      assert.deepEqual((await store.parentIndexes('acme/app', child.digest)).sort(), [index.digest, second.digest].sort());
      assert.deepEqual(await store.parentIndexes('acme/app', index.digest), []);
      assert.deepEqual(await store.parentIndexes('nope/app', child.digest), []);
    });
  });
}
