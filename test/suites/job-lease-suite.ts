// The JobLeaseStore contract over any SqlClient, after migrate(): among contenders for a
// job's lease exactly one wins, the holder renews it, a released or expired lease can be
// taken by another holder, and a non-holder cannot release it. With a second client on the
// same database (another replica), contenders race from both sides and still one wins.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { migrate } from '../../src/metadata/migrations.ts';
import type { SqlClient } from '../../src/metadata/sql-client.ts';
import type { JobLeaseStore } from '../../src/metadata/job-lease-store.ts';
import type { StoreFactories } from '../support/sql-stores.ts';
import { TimerScheduler } from '../../src/jobs/timer-scheduler.ts';

export interface JobLeaseSuiteOptions {
  /** Another client on the same database, where the engine serves several replicas. */
  readonly openReplica?: (first: SqlClient) => Promise<SqlClient>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function jobLeaseSuite(name: string, openClient: () => Promise<SqlClient>, stores: StoreFactories, options: JobLeaseSuiteOptions = {}): void {
  describe(`JobLeaseStore contract: ${name}`, () => {
    let sql: SqlClient;
    let leases: JobLeaseStore;

    beforeEach(async () => {
      sql = await openClient();
      await migrate(sql);
      leases = stores.jobLeases(sql);
    });
    afterEach(async () => {
      await sql.close();
    });

    it('gives a free lease to the first holder and refuses the next while it lasts', async () => {
      assert.equal(await leases.current('gc'), null);
      assert.equal(await leases.acquire('gc', 'replica-a', 60_000), true);
      assert.equal(await leases.acquire('gc', 'replica-b', 60_000), false);
      assert.equal((await leases.current('gc'))?.holder, 'replica-a');
      // Another job's lease is another row.
      assert.equal(await leases.acquire('upload-expiry', 'replica-b', 60_000), true);
    });

    it('lets the holder renew, extending the lease', async () => {
      assert.equal(await leases.acquire('gc', 'replica-a', 1_000), true);
      const first = (await leases.current('gc'))!.expiresAt;
      await sleep(5);
      assert.equal(await leases.acquire('gc', 'replica-a', 60_000), true);
      assert.ok((await leases.current('gc'))!.expiresAt > first);
    });

    it('hands an expired lease to another holder', async () => {
      assert.equal(await leases.acquire('gc', 'replica-a', 40), true);
      assert.equal(await leases.acquire('gc', 'replica-b', 60_000), false);
      await sleep(80);
      assert.equal(await leases.acquire('gc', 'replica-b', 60_000), true);
      assert.equal((await leases.current('gc'))?.holder, 'replica-b');
      // The old holder, back from a pause, no longer has it.
      assert.equal(await leases.acquire('gc', 'replica-a', 60_000), false);
    });

    it('releases only for the holder', async () => {
      assert.equal(await leases.acquire('gc', 'replica-a', 60_000), true);
      await leases.release('gc', 'replica-b');
      assert.equal(await leases.acquire('gc', 'replica-b', 60_000), false);
      await leases.release('gc', 'replica-a');
      assert.equal(await leases.current('gc'), null);
      assert.equal(await leases.acquire('gc', 'replica-b', 60_000), true);
    });

    it('gives a contended lease to exactly one of many holders', async () => {
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => leases.acquire('retention', `holder-${i}`, 60_000)));
      assert.equal(results.filter(Boolean).length, 1);
      const winner = results.indexOf(true);
      assert.equal((await leases.current('retention'))?.holder, `holder-${winner}`);
    });

    it('lets two schedulers on the same leases run an exclusive job once, and the same one keep it', async () => {
      const runs: string[] = [];
      const replicas = ['replica-a', 'replica-b'].map((holder) => {
        const scheduler = new TimerScheduler({ leases, holder });
        scheduler.register({ name: 'registry.gc', intervalMs: 60_000, run: async () => void runs.push(holder) });
        // A job every replica runs for itself takes no lease.
        scheduler.register({ name: 'local.cache', intervalMs: 60_000, exclusive: false, run: async () => void runs.push(`${holder} local`) });
        return scheduler;
      });
      await Promise.all(replicas.map((scheduler) => scheduler.runNow('registry.gc')));
      assert.equal(runs.length, 1, 'one replica ran it');
      const winner = runs[0]!;
      await Promise.all(replicas.map((scheduler) => scheduler.runNow('registry.gc')));
      assert.deepEqual(runs, [winner, winner], 'the holder keeps running it');
      await Promise.all(replicas.map((scheduler) => scheduler.runNow('local.cache')));
      assert.deepEqual(runs.slice(2).sort(), ['replica-a local', 'replica-b local']);
      assert.equal((await leases.current('local.cache')), null);
      // A replica that stops gives its leases back: the other runs the job at once.
      const [first, second] = winner === 'replica-a' ? replicas : [replicas[1]!, replicas[0]!];
      await first!.stop();
      assert.equal(await leases.current('registry.gc'), null);
      await second!.runNow('registry.gc');
      assert.notEqual(runs.at(-1), winner);
      await second!.stop();
    });

    if (options.openReplica) {
      const openReplica = options.openReplica;
      it('gives a lease to one replica when two race for it, and the other takes it over once expired', async () => {
        const replica = await openReplica(sql);
        try {
          const other = stores.jobLeases(replica);
          for (let round = 0; round < 5; round++) {
            const job = `race-${round}`;
            const results = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? leases : other).acquire(job, `holder-${i}`, 50)));
            assert.equal(results.filter(Boolean).length, 1, `round ${round}: one winner`);
          }
          await sleep(100);
          const taken = await Promise.all([leases.acquire('race-0', 'late-a', 60_000), other.acquire('race-0', 'late-b', 60_000)]);
          assert.equal(taken.filter(Boolean).length, 1, 'one of the late replicas takes the expired lease');
        } finally {
          await replica.close();
        }
      });
    }
  });
}
