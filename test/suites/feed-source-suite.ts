// The FeedSourceStore contract over any SqlClient, after migrate(): the advisory
// updater's state per source survives as saved (validators, progress, outcome), is
// replaced whole on save, and lists by name.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { migrate } from '../../src/metadata/migrations.ts';
import type { SqlClient } from '../../src/metadata/sql-client.ts';
import type { FeedSourceState, FeedSourceStore } from '../../src/metadata/feed-source-store.ts';
import type { StoreFactories } from '../support/sql-stores.ts';

const T0 = Date.UTC(2026, 0, 1);

export function feedSourceSuite(name: string, openClient: () => Promise<SqlClient>, stores: StoreFactories): void {
  describe(`FeedSourceStore contract: ${name}`, () => {
    let sql: SqlClient;
    let store: FeedSourceStore;

    beforeEach(async () => {
      sql = await openClient();
      await migrate(sql);
      store = stores.feedSources(sql);
    });
    afterEach(async () => {
      await sql.close();
    });

    it('saves a source\'s state and reads it back as saved; a second save replaces it whole', async () => {
      assert.equal(await store.get('debian'), null);
      const first: FeedSourceState = {
        name: 'redhat-csaf',
        baseUrl: 'https://security.access.redhat.com/data/csaf/v2/advisories',
        validators: { 'changes.csv': { etag: '"abc"', lastModified: 'Tue, 01 Dec 2026 00:00:00 GMT' }, 'deletions.csv': { etag: 'W/"x"' } },
        cursor: JSON.stringify({ phase: 'archive', done: 500 }),
        lastAttempt: T0,
        lastSuccess: null,
        lastError: 'HTTP 503 from security.access.redhat.com',
        documents: 500,
      };
      await store.save(first);
      assert.deepEqual(await store.get('redhat-csaf'), first);
      const second: FeedSourceState = { ...first, validators: {}, cursor: null, lastAttempt: T0 + 1, lastSuccess: T0 + 1, lastError: null, documents: 40_123 };
      await store.save(second);
      assert.deepEqual(await store.get('redhat-csaf'), second);
      await store.save({ ...second, name: 'alpine', baseUrl: 'http://127.0.0.1:1/secdb' });
      assert.deepEqual((await store.list()).map((state) => [state.name, state.baseUrl]), [['alpine', 'http://127.0.0.1:1/secdb'], ['redhat-csaf', first.baseUrl]]);
    });
  });
}
