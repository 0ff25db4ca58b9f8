// The ActionLogStore contract over any SqlClient, after migrate(): batches stored in one
// commit with their ids in order, pages newest first with a cursor, filters, and
// retention in chunks that can stop early. Each test gets a fresh database from
// `openClient`; the store comes from the factories.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { migrate } from '../../src/metadata/migrations.ts';
import type { SqlClient } from '../../src/metadata/sql-client.ts';
import { CursorError, type ActionLogStore, type ActionRow, type StoredAction } from '../../src/audit/action-log-store.ts';
import type { ActionEntry } from '../../src/audit/action.ts';
import { sanitizeEntry } from '../../src/audit/sanitize.ts';
import type { StoreFactories } from '../support/sql-stores.ts';

const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);

function row(overrides: Partial<ActionEntry> = {}): ActionRow {
  return sanitizeEntry(
    {
      kind: 'pull',
      result: 'success',
      actor: { kind: 'user', name: 'alice', via: 'password' },
      ip: '192.0.2.1',
      userAgent: 'containers/5.0',
      repository: 'acme/app',
      tag: 'latest',
      digest: `sha256:${'a'.repeat(64)}`,
      occurredAt: T0,
      ...overrides,
    },
    0,
  );
}

async function count(sql: SqlClient): Promise<number> {
  return Number((await sql.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM action_log'))[0]!.n);
}

export function actionLogStoreSuite(name: string, openClient: () => Promise<SqlClient>, stores: StoreFactories): void {
  describe(`ActionLogStore contract: ${name}`, () => {
    let sql: SqlClient;
    let store: ActionLogStore;

    beforeEach(async () => {
      sql = await openClient();
      await migrate(sql);
      store = stores.actionLog(sql);
    });
    afterEach(async () => {
      await sql.close();
    });

    it('insert stores a batch and returns it with ascending ids, in order; query reads it back newest first', async () => {
      const rows = Array.from({ length: 1200 }, (_, index) => row({ occurredAt: T0 + index, tag: `t${index}` }));
      const stored = await store.insert(rows);
      assert.equal(stored.length, 1200);
      assert.deepEqual(stored.map((entry) => entry.tag), rows.map((entry) => entry.tag));
      assert.ok(stored.every((entry, index) => index === 0 || entry.id > stored[index - 1]!.id));
      const page = await store.query({ limit: 2 });
      assert.deepEqual(page.entries.map((entry) => entry.tag), ['t1199', 't1198']);
      const { id, ...rest } = page.entries[0]!;
      assert.equal(id, stored[1199]!.id);
      assert.deepEqual(rest, rows[1199]);
      assert.deepEqual(await store.insert([]), []);
    });

    it('insert is all or nothing, across the statements of a large batch', async () => {
      // A row refused after a first statement went through (no engine stores a NUL in text).
      const rows = Array.from({ length: 600 }, (_, index) => (index === 550 ? { ...row(), ip: 'bad\u0000ip' } : row({ tag: `t${index}` })));
      await assert.rejects(store.insert(rows));
      assert.equal(await count(sql), 0);
    });

    it('query filters, pages with a cursor across ties, and refuses a forged cursor', async () => {
      await store.insert([
        row({ occurredAt: T0 + 1, repository: 'acme/app', kind: 'push' }),
        row({ occurredAt: T0 + 2, repository: 'acme/db', actor: { kind: 'robot', name: 'acme+ci', via: 'robot-token' } }),
        row({ occurredAt: T0 + 2, repository: 'other/app', result: 'denied' }),
        row({ occurredAt: T0 + 3, repository: undefined, tag: undefined, digest: undefined, kind: 'login', result: 'failure', actor: { kind: 'anonymous' } }),
      ]);
      const kinds = async (filter: Parameters<ActionLogStore['query']>[0]): Promise<string[]> => (await store.query(filter)).entries.map((entry) => `${entry.kind}:${entry.repository ?? '-'}`);
      assert.deepEqual(await kinds({}), ['login:-', 'pull:other/app', 'pull:acme/db', 'push:acme/app']);
      assert.deepEqual(await kinds({ namespace: 'acme' }), ['pull:acme/db', 'push:acme/app']);
      assert.deepEqual(await kinds({ repository: 'other/app', result: 'denied' }), ['pull:other/app']);
      assert.deepEqual(await kinds({ actor: 'acme+ci' }), ['pull:acme/db']);
      assert.deepEqual(await kinds({ kinds: ['push', 'login'] }), ['login:-', 'push:acme/app']);
      assert.deepEqual(await kinds({ since: T0 + 2, until: T0 + 3 }), ['pull:other/app', 'pull:acme/db']);
      const seen: StoredAction[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.query({ limit: 1, ...(cursor === undefined ? {} : { cursor }) });
        seen.push(...page.entries);
        cursor = page.next ?? undefined;
      } while (cursor !== undefined);
      assert.deepEqual(seen.map((entry) => `${entry.kind}:${entry.repository ?? '-'}`), await kinds({}));
      await assert.rejects(store.query({ cursor: 'not a cursor!' }), CursorError);
    });

    it('purge deletes what is older than the cutoff, in chunks, and stops between chunks when asked', async () => {
      await store.insert([...Array.from({ length: 25 }, (_, index) => row({ occurredAt: T0 + index })), row({ occurredAt: T0 + 1000 })]);
      let asked = 0;
      const stopAfterTwo = (): boolean => ++asked >= 2;
      assert.equal(await store.purge(T0 + 100, { chunkRows: 5, shouldStop: stopAfterTwo }), 10, 'two chunks, then it stops');
      assert.equal(await count(sql), 16);
      assert.equal(await store.purge(T0 + 100, { chunkRows: 5 }), 15);
      assert.equal(await count(sql), 1);
      assert.equal(await store.purge(T0 + 100), 0);
      assert.deepEqual((await store.query({})).entries.map((entry) => entry.occurredAt), [T0 + 1000]);
    });
  });
}
