// Coordination between replicas through PostgreSQL alone (src/cluster): two processes'
// worth of PostgresCoordination on one database. A named lock has one holder across
// both, `wait: false` gives up at once, a holder whose connection dies releases at once
// (what a SIGKILLed replica does), and a broadcast reaches the other side, not the
// sender, within milliseconds. And SQLite's one-process rule: a second `custody serve`
// on the same database file is refused with a clear message, and a crashed server does
// not leave the file locked.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PostgresCoordination } from '../src/cluster/postgres-coordination.ts';
import { LocalLocks } from '../src/cluster/local-coordination.ts';
import { createTestDatabase, type TestDatabase } from './support/postgres.ts';
import { runCustody, startCustody } from './support/custody-server.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('PostgreSQL coordination between replicas', () => {
  let database: TestDatabase;
  let a: PostgresCoordination;
  let b: PostgresCoordination;
  before(async () => {
    database = await createTestDatabase();
    a = await PostgresCoordination.open({ url: database.url });
    b = await PostgresCoordination.open({ url: database.url });
  });
  after(async () => {
    await a.close();
    await b.close();
    await database.drop();
  });

  it('a lock has one holder across replicas; waiters run after it, in turn', async () => {
    const trace: string[] = [];
    const hold = (who: string, ms: number) => async () => {
      trace.push(`${who} in`);
      await sleep(ms);
      trace.push(`${who} out`);
      return who;
    };
    const results = await Promise.all([a.withLock('upload:1', hold('a1', 150)), b.withLock('upload:1', hold('b1', 50)), a.withLock('upload:1', hold('a2', 50))]);
    assert.deepEqual(results, ['a1', 'b1', 'a2']);
    // Never two inside at once.
    for (let i = 0; i < trace.length; i += 2) {
      assert.match(trace[i]!, / in$/);
      assert.equal(trace[i + 1], trace[i]!.replace(' in', ' out'));
    }
    // Other names do not wait.
    assert.equal(await b.withLock('upload:2', async () => 'free', { wait: false }), 'free');
  });

  it('wait: false gives up at once while another replica holds the lock', async () => {
    let release!: () => void;
    const held = a.withLock('gc', () => new Promise<string>((resolve) => (release = () => resolve('done'))));
    await sleep(50);
    const started = Date.now();
    assert.equal(await b.withLock('gc', async () => 'ran', { wait: false }), null);
    assert.ok(Date.now() - started < 1000);
    release();
    assert.equal(await held, 'done');
    assert.equal(await b.withLock('gc', async () => 'ran', { wait: false }), 'ran');
  });

  it('a holder whose connection dies releases its locks at once', async () => {
    const doomed = await PostgresCoordination.open({ url: database.url });
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    void doomed.withLock('upload:crash', async () => {
      entered();
      await new Promise(() => {});
    });
    await inside;
    assert.equal(await a.withLock('upload:crash', async () => 'ran', { wait: false }), null);
    // What SIGKILL does to a replica: its session ends server-side.
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid()");
    await admin.end();
    const started = Date.now();
    assert.equal(await a.withLock('upload:crash', async () => 'ran'), 'ran');
    assert.ok(Date.now() - started < 2000);
    await doomed.close();
  });

  it('a broadcast reaches the other replica within milliseconds, and not the sender', async () => {
    const heardByA: (string | null)[] = [];
    const heardByB: (string | null)[] = [];
    a.subscribe('credentials', (message) => heardByA.push(message));
    b.subscribe('credentials', (message) => heardByB.push(message));
    await sleep(50);
    const sent = Date.now();
    await a.publish('credentials', 'forget');
    while (heardByB.length === 0 && Date.now() - sent < 2000) await sleep(5);
    assert.deepEqual(heardByB, ['forget']);
    assert.ok(Date.now() - sent < 500, `delivered in ${Date.now() - sent} ms`);
    await sleep(100);
    assert.deepEqual(heardByA, []);
  });
});

describe('in-process locks', () => {
  it('serialise per name, and wait: false gives up while held', async () => {
    const locks = new LocalLocks();
    const order: number[] = [];
    let release!: () => void;
    const first = locks.withLock('x', () => new Promise<void>((resolve) => (release = resolve)).then(() => order.push(1)));
    const second = locks.withLock('x', async () => order.push(2));
    assert.equal(await locks.withLock('x', async () => 3, { wait: false }), null);
    assert.equal(await locks.withLock('y', async () => 4, { wait: false }), 4);
    release();
    await Promise.all([first, second]);
    assert.deepEqual(order, [1, 2]);
    assert.equal(await locks.withLock('x', async () => 5, { wait: false }), 5);
  });
});

describe('SQLite serves one process', () => {
  it('refuses a second custody serve on the same database, and a crashed one leaves no lock', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'custody-one-'));
    try {
      const first = await startCustody({ dataDir });
      const second = await runCustody(['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir], { env: { CUSTODY_AUTH_ENABLED: 'false' } });
      assert.equal(second.code, 1);
      assert.match(second.stderr, /another custody serve is using the SQLite database .*custody\.db.*PostgreSQL/);
      assert.equal(second.stderr.trim().split('\n').length, 1);
      // Maintenance beside a running server stays allowed.
      const fsck = await runCustody(['fsck', '--data-dir', dataDir]);
      assert.equal(fsck.code, 0, fsck.stderr);
      await first.kill();
      const third = await startCustody({ dataDir });
      await third.stop();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
