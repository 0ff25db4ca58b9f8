// The MirrorStore contract over any SqlClient, after migrate(): mirrors created once per
// repository, read back as written (glob lists, the sealed secret as given), which are due,
// and runs recorded newest first with the mirror's last status following them.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { migrate } from '../../src/metadata/migrations.ts';
import type { SqlClient } from '../../src/metadata/sql-client.ts';
import type { MirrorDefinition, MirrorStore } from '../../src/metadata/mirror-store.ts';
import type { StoreFactories } from '../support/sql-stores.ts';

const T0 = 1_700_000_000_000;
const MIRROR: MirrorDefinition = {
  repository: 'mirrors/alpine',
  remoteRegistry: 'http://127.0.0.1:5000',
  remoteRepository: 'library/alpine',
  include: ['3.*', 'latest'],
  exclude: ['*-rc?'],
  intervalMs: 60_000,
  username: 'acme+robot',
  sealedSecret: 'v1.aaa.bbb.ccc',
  enabled: true,
};

export function mirrorStoreSuite(name: string, openClient: () => Promise<SqlClient>, stores: StoreFactories): void {
  describe(`MirrorStore contract: ${name}`, () => {
    let sql: SqlClient;
    let store: MirrorStore;

    beforeEach(async () => {
      sql = await openClient();
      await migrate(sql);
      store = stores.mirrors(sql);
    });
    afterEach(async () => {
      await sql.close();
    });

    it('creates a mirror once per repository and reads back what was written', async () => {
      const created = await store.create(MIRROR, T0);
      assert.deepEqual(created, { ...MIRROR, createdAt: T0, lastRunAt: undefined, lastStatus: undefined, lastError: undefined });
      assert.deepEqual(await store.get(MIRROR.repository), created);
      await assert.rejects(store.create({ ...MIRROR, remoteRepository: 'other' }, T0 + 1), { code: 'CONFLICT', subject: 'repository' });
      const bare = await store.create({ ...MIRROR, repository: 'mirrors/busybox', include: [], exclude: [], username: undefined, sealedSecret: undefined, enabled: false }, T0);
      assert.equal(bare.username, undefined);
      assert.equal(bare.sealedSecret, undefined);
      assert.equal(bare.enabled, false);
      assert.deepEqual((await store.list()).map((mirror) => mirror.repository), ['mirrors/alpine', 'mirrors/busybox']);
      assert.equal(await store.get('nothing/here'), null);
    });

    it('due: enabled mirrors never run or whose interval has passed since the last start', async () => {
      await store.create(MIRROR, T0);
      await store.create({ ...MIRROR, repository: 'mirrors/off', enabled: false }, T0);
      assert.deepEqual((await store.due(T0)).map((mirror) => mirror.repository), ['mirrors/alpine']);
      await store.startRun(MIRROR.repository, T0 + 10);
      assert.deepEqual(await store.due(T0 + 10 + MIRROR.intervalMs - 1), []);
      assert.deepEqual((await store.due(T0 + 10 + MIRROR.intervalMs)).map((mirror) => mirror.repository), ['mirrors/alpine']);
    });

    it('records runs newest first; the mirror shows the last status and error', async () => {
      await store.create(MIRROR, T0);
      const first = await store.startRun(MIRROR.repository, T0 + 1);
      assert.equal((await store.get(MIRROR.repository))!.lastStatus, 'running');
      await store.finishRun(first, { status: 'failed', finishedAt: T0 + 2, tagsCopied: 3, bytes: 4096, error: 'upstream answered 503' });
      let mirror = (await store.get(MIRROR.repository))!;
      assert.equal(mirror.lastStatus, 'failed');
      assert.equal(mirror.lastError, 'upstream answered 503');
      assert.equal(mirror.lastRunAt, T0 + 1);
      const second = await store.startRun(MIRROR.repository, T0 + 5);
      assert.ok(second > first);
      await store.finishRun(second, { status: 'succeeded', finishedAt: T0 + 9, tagsCopied: 17, bytes: 5_000_000_000 });
      mirror = (await store.get(MIRROR.repository))!;
      assert.equal(mirror.lastStatus, 'succeeded');
      assert.equal(mirror.lastError, undefined);
      const runs = await store.listRuns(MIRROR.repository, 10);
      assert.deepEqual(runs, [
        { id: second, repository: MIRROR.repository, startedAt: T0 + 5, finishedAt: T0 + 9, status: 'succeeded', tagsCopied: 17, bytes: 5_000_000_000, error: undefined },
        { id: first, repository: MIRROR.repository, startedAt: T0 + 1, finishedAt: T0 + 2, status: 'failed', tagsCopied: 3, bytes: 4096, error: 'upstream answered 503' },
      ]);
      assert.equal((await store.listRuns(MIRROR.repository, 1)).length, 1);
    });

    it('a run left running (its process died) is marked failed, interrupted, when the next starts', async () => {
      await store.create(MIRROR, T0);
      const cut = await store.startRun(MIRROR.repository, T0);
      const next = await store.startRun(MIRROR.repository, T0 + 100);
      const runs = await store.listRuns(MIRROR.repository, 10);
      assert.deepEqual(runs.map((run) => [run.id, run.status, run.error, run.finishedAt]), [
        [next, 'running', undefined, undefined],
        [cut, 'failed', 'interrupted', T0 + 100],
      ]);
    });

    it('delete removes the mirror and its runs', async () => {
      await store.create(MIRROR, T0);
      await store.startRun(MIRROR.repository, T0);
      assert.equal(await store.delete(MIRROR.repository), true);
      assert.equal(await store.delete(MIRROR.repository), false);
      assert.equal(await store.get(MIRROR.repository), null);
      assert.deepEqual(await store.listRuns(MIRROR.repository, 10), []);
      await store.create(MIRROR, T0 + 1);
      assert.deepEqual(await store.listRuns(MIRROR.repository, 10), []);
    });
  });
}
