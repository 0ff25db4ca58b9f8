// Two `custody serve` replicas on one PostgreSQL database and one storage path: online
// garbage collection is a job on each replica's scheduler, leased in the database, so one
// replica collects and the other does not; when that one stops, the other takes over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCustody, type CustodyServer } from './support/custody-server.ts';
import { createTestDatabase } from './support/postgres.ts';

const collections = (server: CustodyServer): number => server.logs.filter((line) => line.includes('"garbage collection"')).length;

async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('one replica runs the scheduled garbage collection; the other takes over when it stops', async (t) => {
  const database = await createTestDatabase();
  t.after(() => database.drop());
  const dataDir = await mkdtemp(join(tmpdir(), 'custody-replicas-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const args = ['--database-url', database.url, '--gc-online', 'true', '--gc-interval', '200ms', '--gc-grace-period', '1h'];
  const first = await startCustody({ dataDir, args });
  t.after(() => first.dispose());
  const second = await startCustody({ dataDir, args });
  t.after(() => second.dispose());

  await until(() => collections(first) + collections(second) >= 5, 'five collections');
  const [holder, other] = collections(first) > 0 ? [first, second] : [second, first];
  assert.equal(collections(other), 0, 'only the lease holder collects');

  assert.equal(await holder.stop(), 0);
  // The stopped replica gave its lease back: the other collects from its next tick.
  await until(() => collections(other) >= 2, 'the other replica to collect');
});
