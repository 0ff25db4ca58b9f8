// The CacheUsageStore contract over any SqlClient, after migrate(): bytes held under cache
// namespaces (each blob once), images ordered by their last pull (stored time when never
// pulled), children of an index left to their parent, and blob links no manifest needs.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { migrate } from '../../src/metadata/migrations.ts';
import type { SqlClient } from '../../src/metadata/sql-client.ts';
import type { MetadataStore } from '../../src/metadata/metadata-store.ts';
import type { CacheUsageStore } from '../../src/metadata/cache-usage-store.ts';
import type { StoreFactories } from '../support/sql-stores.ts';
import { blobDigest, manifest } from './metadata-suite.ts';

const T0 = 1_700_000_000_000;

export function cacheUsageSuite(name: string, openClient: () => Promise<SqlClient>, stores: StoreFactories): void {
  describe(`CacheUsageStore contract: ${name}`, () => {
    let sql: SqlClient;
    let metadata: MetadataStore;
    let store: CacheUsageStore;

    beforeEach(async () => {
      sql = await openClient();
      await migrate(sql);
      metadata = stores.metadata(sql);
      store = stores.cacheUsage(sql);
    });
    afterEach(async () => {
      await sql.close();
    });

    async function image(repository: string, blobs: Array<[string, number]>, now: number, label: string) {
      for (const [blob, size] of blobs) await metadata.linkBlob(repository, blobDigest(blob), size, now);
      const record = manifest(repository, { blobs: blobs.map(([blob]) => blobDigest(blob)), now, label });
      await metadata.putManifest(record);
      return record;
    }

    it('counts each blob once under the namespaces, nothing outside them', async () => {
      await image('cache/hub/library/a', [['shared', 100], ['a', 10]], T0, 'a');
      await image('cache/hub/library/b', [['shared', 100], ['b', 20]], T0, 'b');
      await image('cache_hub/other', [['outside', 1000]], T0, 'outside');
      await image('team/app', [['pushed', 5000]], T0, 'pushed');
      assert.equal(await store.usedBytes(['cache/hub']), 130);
      assert.equal(await store.usedBytes(['cache/hub', 'team']), 5130);
      assert.equal(await store.usedBytes([]), 0);
    });

    it('orders images by last pull, stored time for those never pulled; index children stay with their index', async () => {
      const old = await image('cache/hub/a', [['a', 1]], T0, 'old');
      const recent = await image('cache/hub/b', [['b', 1]], T0 + 10, 'recent');
      const never = await image('cache/hub/c', [['c', 1]], T0 + 5, 'never');
      const child = await image('cache/hub/d', [['d', 1]], T0 + 1, 'child');
      await metadata.putManifest(manifest('cache/hub/d', { manifests: [child.digest], now: T0 + 2, label: 'index' }));
      await store.recordPull('cache/hub/a', old.digest, T0 + 100);
      await store.recordPull('cache/hub/b', recent.digest, T0 + 50);
      await store.recordPull('cache/hub/nowhere', recent.digest, T0 + 50);
      const order = await store.leastRecentlyPulled(['cache/hub'], 10);
      assert.deepEqual(
        order.map((entry) => [entry.repository, entry.lastUsedAt]),
        [
          ['cache/hub/d', T0 + 2],
          ['cache/hub/c', T0 + 5],
          ['cache/hub/b', T0 + 50],
          ['cache/hub/a', T0 + 100],
        ],
      );
      assert.equal(order[1]!.digest, never.digest);
      assert.equal((await store.leastRecentlyPulled(['cache/hub'], 2)).length, 2);
      // A pull again moves it to the end.
      await store.recordPull('cache/hub/c', never.digest, T0 + 200);
      assert.equal((await store.leastRecentlyPulled(['cache/hub'], 10)).at(-1)!.digest, never.digest);
    });

    it('finds blob links no manifest of the repository references, older than the bound', async () => {
      const kept = await image('cache/hub/a', [['kept', 1], ['gone', 2]], T0, 'a');
      await metadata.deleteManifest('cache/hub/a', kept.digest, T0 + 1);
      await image('cache/hub/a', [['kept', 1]], T0 + 2, 'a2');
      await metadata.linkBlob('cache/hub/a', blobDigest('filling'), 3, T0 + 10);
      assert.deepEqual(await store.unreferencedBlobs('cache/hub/a', T0 + 5), [blobDigest('gone')]);
      assert.deepEqual(new Set(await store.unreferencedBlobs('cache/hub/a', T0 + 20)), new Set([blobDigest('gone'), blobDigest('filling')]));
    });
  });
}
