// The LifecycleStore and QuotaStore contracts over any SqlClient, after migrate():
// immutability rules, time-machine windows (and what the collector's marking keeps for
// them), tag expiry with the conditional delete the expiry job uses, and quota usage kept
// in the link's transaction: once per blob per namespace, released with the last link or
// by the collector, equal to a full recount after concurrent links (from two replicas on
// PostgreSQL).
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { migrate } from '../../src/metadata/migrations.ts';
import type { SqlClient } from '../../src/metadata/sql-client.ts';
import type { MetadataStore, NewManifest } from '../../src/metadata/metadata-store.ts';
import type { LifecycleStore } from '../../src/metadata/lifecycle-store.ts';
import type { QuotaStore } from '../../src/metadata/quota-store.ts';
import type { StoreFactories } from '../support/sql-stores.ts';
import { blobDigest, manifest } from './metadata-suite.ts';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

export interface LifecycleSuiteOptions {
  readonly openReplica?: (first: SqlClient) => Promise<SqlClient>;
}

export function lifecycleSuite(name: string, openClient: () => Promise<SqlClient>, stores: StoreFactories, options: LifecycleSuiteOptions = {}): void {
  describe(`LifecycleStore and QuotaStore contracts: ${name}`, () => {
    let sql: SqlClient;
    let metadata: MetadataStore;
    let store: LifecycleStore;
    let quotas: QuotaStore;

    beforeEach(async () => {
      sql = await openClient();
      await migrate(sql);
      metadata = stores.metadata(sql);
      store = stores.lifecycle(sql);
      quotas = stores.quotas(sql);
    });
    afterEach(async () => {
      await sql.close();
    });

    async function push(entry: NewManifest, size = 100): Promise<NewManifest> {
      for (const blob of entry.blobs) await metadata.linkBlob(entry.repository, blob, size, entry.now);
      await metadata.putManifest(entry);
      return entry;
    }

    it('immutability rules: added once per namespace and patterns, listed oldest first, removed by id within their namespace', async () => {
      const first = await store.addImmutabilityRule({ namespace: 'acme', repositoryPattern: 'acme/**', tagPattern: 'v*', createdBy: 'alice', now: T0 });
      const again = await store.addImmutabilityRule({ namespace: 'acme', repositoryPattern: 'acme/**', tagPattern: 'v*', createdBy: 'bob', now: T0 + 1 });
      assert.deepEqual(again, first);
      assert.deepEqual({ ...first, id: 0 }, { id: 0, namespace: 'acme', repositoryPattern: 'acme/**', tagPattern: 'v*', createdBy: 'alice', createdAt: T0 });
      const second = await store.addImmutabilityRule({ namespace: 'acme', repositoryPattern: 'acme/app', tagPattern: 'release-*', now: T0 + 2 });
      await store.addImmutabilityRule({ namespace: 'other', repositoryPattern: 'other/*', tagPattern: '*', now: T0 + 3 });
      assert.deepEqual((await store.immutabilityRules('acme')).map((rule) => rule.id), [first.id, second.id]);
      assert.equal((await store.immutabilityRules()).length, 3);
      assert.equal(await store.removeImmutabilityRule('other', first.id), false, 'another namespace cannot remove it');
      assert.equal(await store.removeImmutabilityRule('acme', first.id), true);
      assert.equal(await store.removeImmutabilityRule('acme', first.id), false);
      assert.deepEqual((await store.immutabilityRules('acme')).map((rule) => rule.id), [second.id]);
    });

    it('time-machine windows: none until set, then the set value, null returns to the default', async () => {
      assert.equal(await store.timeMachineWindow('acme'), null);
      await store.setTimeMachineWindow('acme', 0, T0);
      assert.equal(await store.timeMachineWindow('acme'), 0);
      await store.setTimeMachineWindow('acme', 7 * 24 * HOUR, T0);
      assert.equal(await store.timeMachineWindow('acme'), 7 * 24 * HOUR);
      await store.setTimeMachineWindow('acme', null, T0);
      assert.equal(await store.timeMachineWindow('acme'), null);
    });

    it('the collector keeps what a tag pointed at within the window (the namespace\'s own, else the default), and lets it go after', async () => {
      const a = await push(manifest('acme/app', { blobs: [blobDigest('a')], tag: 'v1', now: T0 }));
      await push(manifest('acme/app', { blobs: [blobDigest('b')], tag: 'v1', now: T0 + 10 }));
      const c = await push(manifest('acme/app', { blobs: [blobDigest('c')], tag: 'v2', now: T0 + 20 }));
      assert.equal(await metadata.deleteTag('acme/app', 'v2', T0 + 30), true);
      const unreachable = async (now: number): Promise<string[]> =>
        (await stores.maintenance(sql, { timeMachineWindowMs: HOUR, clock: () => now }).unreachableManifests(T0 + 100)).map((ref) => ref.digest).sort();
      assert.deepEqual(await unreachable(T0 + 1000), [], 'within the window both stay');
      assert.deepEqual(await unreachable(T0 + 10 + HOUR + 1), [a.digest].sort(), 'A left the window first');
      assert.deepEqual(await unreachable(T0 + 30 + HOUR + 1), [a.digest, c.digest].sort());
      await store.setTimeMachineWindow('acme', 0, T0);
      assert.deepEqual(await unreachable(T0 + 1000), [a.digest, c.digest].sort(), 'a namespace window of 0s keeps nothing');
      // A manifest deleted by digest stays stored (not an orphan to collect) while restorable.
      await store.setTimeMachineWindow('acme', null, T0);
      assert.equal(await metadata.deleteManifest('acme/app', a.digest, T0 + 40), true);
      const orphans = async (now: number): Promise<string[]> => (await stores.maintenance(sql, { timeMachineWindowMs: HOUR, clock: () => now }).orphanManifests(T0 + 100)).map((m) => m.digest);
      assert.deepEqual(await orphans(T0 + 1000), []);
      assert.deepEqual(await orphans(T0 + 10 + HOUR + 1), [a.digest]);
      assert.ok(await metadata.getStoredManifest(a.digest));
      // An index deleted by digest keeps its (untagged) children while it can be restored.
      const child = await push(manifest('acme/multi', { blobs: [blobDigest('child')], now: T0 }));
      const index = await push(manifest('acme/multi', { manifests: [child.digest], tag: 'all', now: T0 }));
      assert.equal(await metadata.deleteManifest('acme/multi', index.digest, T0 + 50), true);
      const maintenance = (now: number) => stores.maintenance(sql, { timeMachineWindowMs: HOUR, clock: () => now });
      assert.ok(!(await maintenance(T0 + 1000).unreachableManifests(T0 + 100)).some((ref) => ref.digest === child.digest));
      const ref = { repositoryId: 0, repository: 'acme/multi', digest: child.digest };
      const [row] = await sql.query<{ id: number }>('SELECT id FROM repositories WHERE name = ?', ['acme/multi']);
      assert.equal(await maintenance(T0 + 1000).removeRepositoryManifest({ ...ref, repositoryId: Number(row!.id) }, T0 + 100), false, 'the re-check agrees');
      assert.ok((await maintenance(T0 + 50 + HOUR + 1).unreachableManifests(T0 + 100)).some((entry) => entry.digest === child.digest));
    });

    it('tag expiry: set on an existing tag, listed when due, cleared by a push that moves the tag; the conditional delete records `expire`', async () => {
      const one = await push(manifest('acme/app', { blobs: [blobDigest('1')], tag: 'short', now: T0 }));
      await push(manifest('acme/app', { blobs: [blobDigest('2')], tag: 'long', now: T0 }));
      assert.equal(await store.setTagExpiry('acme/app', 'missing', T0), false);
      assert.equal(await store.setTagExpiry('acme/app', 'short', T0 + 100, blobDigest('x')), false, 'not while it points elsewhere');
      assert.equal(await store.setTagExpiry('acme/app', 'short', T0 + 100, one.digest), true);
      assert.equal(await store.setTagExpiry('acme/app', 'long', T0 + 500), true);
      assert.equal(await store.tagExpiry('acme/app', 'short'), T0 + 100);
      assert.deepEqual([...(await store.tagExpiries('acme/app'))].sort(), [['long', T0 + 500], ['short', T0 + 100]]);
      assert.deepEqual(await store.expiredTags(T0 + 99, 10), []);
      assert.deepEqual(await store.expiredTags(T0 + 600, 10), [
        { repository: 'acme/app', tag: 'short', digest: one.digest, expiresAt: T0 + 100 },
        { repository: 'acme/app', tag: 'long', digest: (await metadata.headManifestByTag('acme/app', 'long'))!.digest, expiresAt: T0 + 500 },
      ]);
      assert.deepEqual(await store.tagsPointingAt('acme/app', one.digest), ['short']);
      // Pushed again meanwhile: the expiry job's conditional delete leaves it alone.
      const moved = await push(manifest('acme/app', { blobs: [blobDigest('3')], tag: 'long', now: T0 + 200 }));
      assert.equal(await store.tagExpiry('acme/app', 'long'), null, 'a push that moves the tag clears its expiry');
      assert.equal(await metadata.deleteTag('acme/app', 'long', T0 + 600, { reason: 'expire', ifDigest: blobDigest('old'), expiredBy: T0 + 600 }), false);
      assert.equal(await metadata.deleteTag('acme/app', 'short', T0 + 50, { reason: 'expire', ifDigest: one.digest, expiredBy: T0 + 50 }), false, 'not expired yet at that time');
      assert.equal(await metadata.deleteTag('acme/app', 'short', T0 + 600, { reason: 'expire', actor: 'custody', ifDigest: one.digest, expiredBy: T0 + 600 }), true);
      const history = await metadata.tagHistory('acme/app', 'short');
      assert.deepEqual(history[history.length - 1], { tag: 'short', digest: null, previousDigest: one.digest, changedAt: T0 + 600, reason: 'expire', actor: 'custody' });
      assert.equal((await metadata.headManifestByTag('acme/app', 'long'))?.digest, moved.digest);
    });

    it('quotas: thresholds set, read and removed; usage counts a blob once per namespace and is released with its last link or by the collector', async () => {
      assert.equal(await quotas.getQuota('acme'), null);
      assert.deepEqual(await quotas.setQuota('acme', 100, 200, T0), { namespace: 'acme', warnBytes: 100, rejectBytes: 200, updatedAt: T0 });
      assert.deepEqual(await quotas.setQuota('acme', null, 300, T0 + 1), { namespace: 'acme', warnBytes: null, rejectBytes: 300, updatedAt: T0 + 1 });
      await metadata.linkBlob('acme/one', blobDigest('shared'), 50 * 1024 * 1024, T0);
      await metadata.linkBlob('acme/two', blobDigest('shared'), 50 * 1024 * 1024, T0);
      await metadata.linkBlob('acme/two', blobDigest('own'), 10, T0);
      await metadata.linkBlob('other/one', blobDigest('shared'), 50 * 1024 * 1024, T0);
      assert.equal(await quotas.usage('acme'), 50 * 1024 * 1024 + 10, 'the shared layer counts once');
      assert.equal(await quotas.usage('other'), 50 * 1024 * 1024);
      assert.equal(await quotas.counts('acme', blobDigest('shared')), true);
      assert.equal(await quotas.counts('acme', blobDigest('nope')), false);
      assert.equal(await quotas.reclaimable('acme'), 50 * 1024 * 1024 + 10, 'no manifest references them yet');
      await metadata.unlinkBlob('acme/one', blobDigest('shared'));
      assert.equal(await quotas.usage('acme'), 50 * 1024 * 1024 + 10, 'acme/two still links it');
      await metadata.unlinkBlob('acme/two', blobDigest('shared'));
      assert.equal(await quotas.usage('acme'), 10);
      const maintenance = stores.maintenance(sql);
      assert.deepEqual(await maintenance.deleteBlobs([blobDigest('own'), blobDigest('shared')], T0 + 1, async () => {}), [blobDigest('own'), blobDigest('shared')].sort());
      assert.equal(await quotas.usage('acme'), 0);
      assert.equal(await quotas.usage('other'), 0);
      assert.deepEqual(await quotas.reconcile(), []);
      assert.equal(await quotas.removeQuota('acme'), true);
      assert.equal(await quotas.removeQuota('acme'), false);
    });

    it('reconcile finds and repairs drift', async () => {
      await metadata.linkBlob('acme/app', blobDigest('x'), 1000, T0);
      await sql.run('UPDATE namespace_usage SET bytes = 5 WHERE namespace = ?', ['acme']);
      assert.deepEqual(await quotas.reconcile(), [{ namespace: 'acme', recorded: 5, actual: 1000 }]);
      assert.equal(await quotas.usage('acme'), 1000);
      assert.deepEqual(await quotas.reconcile(), []);
    });

    it('retention: policies per scope; tags with push and pull times and whether something signs them; index edges; repositories of a namespace', async () => {
      const retention = stores.retention(sql);
      assert.equal(await retention.getPolicy('namespace', 'acme'), null);
      const put = await retention.putPolicy('namespace', 'acme', '{"keepLast":2}', 'alice', T0);
      assert.deepEqual(put, { scope: 'namespace', name: 'acme', policy: '{"keepLast":2}', updatedBy: 'alice', updatedAt: T0 });
      assert.equal(await retention.getPolicy('repository', 'acme'), null, 'scopes are distinct');
      await retention.putPolicy('registry', '', '{"keepLast":9}', null, T0);
      assert.equal((await retention.getPolicy('registry', ''))?.policy, '{"keepLast":9}');

      const child = await push(manifest('acme/app', { blobs: [blobDigest('c')], now: T0 }));
      const index = await push(manifest('acme/app', { manifests: [child.digest], tag: 'multi', now: T0 + 1 }));
      const plain = await push(manifest('acme/app', { blobs: [blobDigest('p')], tag: 'plain', now: T0 + 2 }));
      const referred = await push(manifest('acme/app', { blobs: [blobDigest('r')], tag: 'referred', now: T0 + 3 }));
      await push(manifest('acme/app', { blobs: [blobDigest('s')], subject: referred.digest, artifactType: 'application/vnd.example.sig', now: T0 + 4 }));
      const cosigned = await push(manifest('acme/app', { blobs: [blobDigest('k')], tag: 'cosigned', now: T0 + 5 }));
      await push(manifest('acme/app', { blobs: [blobDigest('kk')], tag: `${cosigned.digest.replace(':', '-')}.sig`, now: T0 + 6 }));
      await push(manifest('acme/other', { blobs: [blobDigest('o')], tag: 'x', now: T0 }));
      await push(manifest('acmex/app', { blobs: [blobDigest('o')], tag: 'x', now: T0 }));
      await retention.touchPulled('acme/app', 'plain', T0 + 100);

      const tags = new Map((await retention.tags('acme/app')).map((entry) => [entry.tag, entry]));
      assert.deepEqual(tags.get('plain'), { tag: 'plain', digest: plain.digest, pushedAt: T0 + 2, pulledAt: T0 + 100, signed: false });
      assert.equal(tags.get('referred')?.signed, true, 'a referrer signs it');
      assert.equal(tags.get('cosigned')?.signed, true, "cosign's .sig tag signs it");
      assert.equal(tags.get('multi')?.signed, false);
      assert.deepEqual(await retention.indexEdges('acme/app'), [{ parent: index.digest, child: child.digest }]);
      assert.deepEqual(await retention.repositories('acme'), ['acme/app', 'acme/other']);
      assert.deepEqual(await retention.repositories(), ['acme/app', 'acme/other', 'acmex/app']);
      assert.equal(await retention.deletePolicy('namespace', 'acme'), true);
      assert.equal(await retention.deletePolicy('namespace', 'acme'), false);
    });

    it('16 concurrent pushes sharing blobs across repositories end with usage equal to a full recount', async () => {
      const replica = options.openReplica ? await options.openReplica(sql) : undefined;
      try {
        const clients = [metadata, replica ? stores.metadata(replica) : metadata];
        await Promise.all(
          Array.from({ length: 16 }, async (_, i) => {
            const client = clients[i % 2]!;
            const entry = manifest(`acme/app${i % 3}`, { blobs: [blobDigest('base'), blobDigest(`own${i}`), blobDigest(`pair${i >> 1}`)], tag: `t${i}`, now: T0 });
            for (const blob of entry.blobs) await client.linkBlob(entry.repository, blob, 1000 + (blob === blobDigest('base') ? 0 : 1), entry.now);
            await client.putManifest(entry);
            if (i % 4 === 0) await client.unlinkBlob(entry.repository, blobDigest(`own${i}`)).catch(() => false);
          }),
        );
      } finally {
        await replica?.close();
      }
      const recorded = await quotas.usage('acme');
      assert.deepEqual(await quotas.reconcile(), [], 'the books never drifted');
      // base once, 16 own minus the 4 unlinked, 8 pairs.
      assert.equal(recorded, 1000 + 12 * 1001 + 8 * 1001);
    });
  });
}
