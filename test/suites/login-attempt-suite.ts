// The LoginAttemptStore contract over any SqlClient, after migrate(): failures counted per
// key within a window, lockouts that never shorten, the latest lockout among keys,
// clearing and pruning. On engines serving several replicas, failures counted from two
// clients at once are all counted (the throttle is shared, not per replica).
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { migrate } from '../../src/metadata/migrations.ts';
import type { SqlClient } from '../../src/metadata/sql-client.ts';
import type { LoginAttemptStore } from '../../src/metadata/login-attempt-store.ts';
import type { StoreFactories } from '../support/sql-stores.ts';

const T0 = 1_700_000_000_000;
const WINDOW = 60_000;

export function loginAttemptSuite(name: string, openClient: () => Promise<SqlClient>, stores: StoreFactories, options: { openReplica?: (first: SqlClient) => Promise<SqlClient> } = {}): void {
  describe(`LoginAttemptStore contract: ${name}`, () => {
    let sql: SqlClient;
    let store: LoginAttemptStore;

    beforeEach(async () => {
      sql = await openClient();
      await migrate(sql);
      store = stores.loginAttempts(sql);
    });
    afterEach(async () => {
      await sql.close();
    });

    it('counts failures per key within the window, and starts again after it', async () => {
      assert.equal(await store.recordFailure('account:alice', T0, WINDOW), 1);
      assert.equal(await store.recordFailure('account:alice', T0 + 1000, WINDOW), 2);
      assert.equal(await store.recordFailure('ip:10.0.0.1', T0 + 1000, WINDOW), 1);
      assert.equal(await store.recordFailure('account:alice', T0 + WINDOW, WINDOW), 3);
      // The window began at T0: past T0 + WINDOW it starts again.
      assert.equal(await store.recordFailure('account:alice', T0 + WINDOW + 1, WINDOW), 1);
      assert.equal(await store.recordFailure('account:alice', T0 + WINDOW + 2, WINDOW), 2);
    });

    it('locks out until a time, never shortens a lockout, and reports the latest among keys', async () => {
      assert.equal(await store.lockedUntil(['account:bob', 'ip:10.0.0.2']), 0);
      await store.recordFailure('account:bob', T0, WINDOW);
      await store.recordFailure('ip:10.0.0.2', T0, WINDOW);
      await store.lockUntil('account:bob', T0 + 5000);
      await store.lockUntil('account:bob', T0 + 2000);
      assert.equal(await store.lockedUntil(['account:bob']), T0 + 5000);
      await store.lockUntil('ip:10.0.0.2', T0 + 9000);
      assert.equal(await store.lockedUntil(['account:bob', 'ip:10.0.0.2']), T0 + 9000);
      assert.equal(await store.lockedUntil([]), 0);
      await store.clear('account:bob');
      assert.equal(await store.lockedUntil(['account:bob']), 0);
      assert.equal(await store.recordFailure('account:bob', T0 + 100, WINDOW), 1);
    });

    it('prunes records that neither count nor lock any more', async () => {
      await store.recordFailure('account:old', T0, WINDOW);
      await store.recordFailure('account:locked', T0, WINDOW);
      await store.lockUntil('account:locked', T0 + 10 * WINDOW);
      await store.recordFailure('account:recent', T0 + WINDOW, WINDOW);
      const now = T0 + 2 * WINDOW;
      assert.equal(await store.prune(now, now - WINDOW), 1);
      assert.equal(await store.recordFailure('account:old', now, WINDOW), 1);
      assert.equal(await store.lockedUntil(['account:locked']), T0 + 10 * WINDOW);
    });

    if (options.openReplica) {
      it('counts every failure when two replicas count at once', async () => {
        const replica = await options.openReplica!(sql);
        try {
          const other = stores.loginAttempts(replica);
          await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? store : other).recordFailure('account:carol', T0 + i, WINDOW)));
          assert.equal(await store.recordFailure('account:carol', T0 + 100, WINDOW), 21);
        } finally {
          await replica.close();
        }
      });
    }
  });
}
