// The action log: its store on SQLite and PostgreSQL (batching, filters, keyset
// pagination with ties, retention), the ActionLog queue (record never blocks, bounded,
// close flushes, retries), sanitising, the syslog and HTTP forwarders against real
// sockets, and the HTTP API's authorisation through a real server.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createServer as createHttpServer, get as httpGet, type IncomingMessage } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SqliteClient } from '../src/metadata/sqlite-client.ts';
import { PostgresClient } from '../src/metadata/postgres-client.ts';
import { migrate } from '../src/metadata/migrations.ts';
import type { SqlClient, SqlExecutor } from '../src/metadata/sql-client.ts';
import { silentLogger, createLogger } from '../src/observability/logger.ts';
import { ActionLog } from '../src/audit/action-log.ts';
import { decodeCursor, encodeCursor, CursorError, type StoredAction } from '../src/audit/action-log-store.ts';
import { insertActions, queryActions, purgeActions, SqlActionLogStore } from '../src/audit/sql-action-log-store.ts';
import { sanitizeEntry, REDACTED } from '../src/audit/sanitize.ts';
import { HttpForwarder, SyslogForwarder, createForwarders, syslogMessage } from '../src/audit/forwarders.ts';
import type { ActionEntry } from '../src/audit/action.ts';
import { ActionLogApi, parseFilter } from '../src/server/action-log-api.ts';
import type { SecurityServices } from '../src/server/security.ts';
import { resolveTime, formatTable } from '../src/cli/logs-command.ts';
import { createTestDatabase, type TestDatabase } from './support/postgres.ts';
import { startCustody, ADMIN_PASSWORD, type CustodyServer } from './support/custody-server.ts';
import { AccessFixtures, basic } from './support/access-fixtures.ts';
import { http } from './support/tools.ts';
import { generateSecret, hashSecret } from '../src/auth/secrets.ts';
import { runLogs } from '../src/cli/logs-command.ts';
import { Writable } from 'node:stream';

const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);

function entry(overrides: Partial<ActionEntry> = {}): ActionEntry {
  return {
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
  };
}

/** Counts transactions and statements going through a client. */
function counting(client: SqlClient): SqlClient & { transactions: number; failNext: number } {
  const wrapper = {
    dialect: client.dialect,
    transactions: 0,
    failNext: 0,
    query: client.query.bind(client),
    run: client.run.bind(client),
    exec: client.exec.bind(client),
    close: client.close.bind(client),
    async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      if (wrapper.failNext > 0) {
        wrapper.failNext--;
        throw new Error('database unavailable (test)');
      }
      wrapper.transactions++;
      return client.transaction(work);
    },
  };
  return wrapper as SqlClient & { transactions: number; failNext: number };
}

async function count(sql: SqlClient): Promise<number> {
  const rows = await sql.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM action_log');
  return Number(rows[0]!.n);
}

function storeSuite(label: string, open: () => Promise<SqlClient>): void {
  describe(`action log store (${label})`, () => {
    let sql: SqlClient;
    before(async () => {
      sql = await open();
      await migrate(sql);
    });
    after(async () => {
      await sql?.close();
    });

    it('batches many record() calls into few transactions, without blocking the caller', async () => {
      await sql.run('DELETE FROM action_log');
      const wrapped = counting(sql);
      const log = new ActionLog({ store: new SqlActionLogStore(wrapped), logger: silentLogger, flushIntervalMs: 60_000, retentionMs: 0 });
      const started = process.hrtime.bigint();
      for (let index = 0; index < 2000; index++) log.record(entry({ occurredAt: T0 + index, tag: `t${index}` }));
      const perRecordUs = Number(process.hrtime.bigint() - started) / 1000 / 2000;
      // Nothing was written synchronously: the caller only queued.
      assert.equal(wrapped.transactions, 0);
      assert.ok(perRecordUs < 200, `record() took ${perRecordUs.toFixed(1)} µs`);
      assert.equal(await log.flush(), true);
      assert.equal(await count(sql), 2000);
      // 2000 entries, batches of 500: 4 transactions (one multi-row INSERT each).
      assert.equal(wrapped.transactions, 4);
      assert.equal(log.stats.batches, 4);
      assert.equal(log.stats.written, 2000);
      await log.close();
    });

    it('writes a full batch on its own, before the interval', async () => {
      await sql.run('DELETE FROM action_log');
      const log = new ActionLog({ store: new SqlActionLogStore(sql), logger: silentLogger, flushIntervalMs: 60_000, retentionMs: 0, batchSize: 50 });
      for (let index = 0; index < 50; index++) log.record(entry({ occurredAt: T0 + index }));
      for (let wait = 0; wait < 100 && (await count(sql)) < 50; wait++) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(await count(sql), 50);
      await log.close();
    });

    it('writes on the interval when fewer than a batch wait', async () => {
      await sql.run('DELETE FROM action_log');
      const log = new ActionLog({ store: new SqlActionLogStore(sql), logger: silentLogger, flushIntervalMs: 30, retentionMs: 0 });
      log.record(entry());
      for (let wait = 0; wait < 100 && (await count(sql)) < 1; wait++) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(await count(sql), 1);
      await log.close();
    });

    it('filters by namespace, repository, actor, kinds, result and time', async () => {
      await sql.run('DELETE FROM action_log');
      const entries: ActionEntry[] = [
        entry({ occurredAt: T0 + 1, repository: 'acme/app', kind: 'push' }),
        entry({ occurredAt: T0 + 2, repository: 'acme/db', kind: 'pull', actor: { kind: 'robot', name: 'acme+ci', via: 'robot-token' } }),
        entry({ occurredAt: T0 + 3, repository: 'other/app', kind: 'pull', result: 'denied' }),
        entry({ occurredAt: T0 + 4, repository: undefined, tag: undefined, digest: undefined, kind: 'login', result: 'failure', actor: { kind: 'anonymous' } }),
        entry({ occurredAt: T0 + 5, repository: 'toplevel', kind: 'delete' }),
        entry({ occurredAt: T0 + 6, repository: undefined, tag: undefined, digest: undefined, namespace: 'acme', kind: 'team', detail: { team: 'owners' } }),
      ];
      await sql.transaction((tx) => insertActions(tx, entries.map((item) => sanitizeEntry(item, 0))));
      const kinds = async (filter: Parameters<typeof queryActions>[1]): Promise<string[]> =>
        (await queryActions(sql, filter)).entries.map((item) => `${item.kind}:${item.repository ?? '-'}`);
      assert.deepEqual(await kinds({}), ['team:-', 'delete:toplevel', 'login:-', 'pull:other/app', 'pull:acme/db', 'push:acme/app']);
      assert.deepEqual(await kinds({ namespace: 'acme' }), ['team:-', 'pull:acme/db', 'push:acme/app']);
      assert.deepEqual(await kinds({ repository: 'acme/app' }), ['push:acme/app']);
      assert.deepEqual(await kinds({ actor: 'acme+ci' }), ['pull:acme/db']);
      assert.deepEqual(await kinds({ kinds: ['pull'] }), ['pull:other/app', 'pull:acme/db']);
      assert.deepEqual(await kinds({ kinds: ['push', 'login'] }), ['login:-', 'push:acme/app']);
      assert.deepEqual(await kinds({ result: 'denied' }), ['pull:other/app']);
      assert.deepEqual(await kinds({ result: 'failure' }), ['login:-']);
      assert.deepEqual(await kinds({ since: T0 + 2, until: T0 + 4 }), ['pull:other/app', 'pull:acme/db']);
      assert.deepEqual(await kinds({ until: T0 + 2 }), ['push:acme/app']);
      assert.deepEqual(await kinds({ namespace: 'acme', kinds: ['pull'], since: T0 }), ['pull:acme/db']);
      const [top] = (await queryActions(sql, { repository: 'toplevel' })).entries;
      assert.equal(top!.namespace, null);
      const [robot] = (await queryActions(sql, { actor: 'acme+ci' })).entries;
      assert.deepEqual(robot!.actor, { kind: 'robot', name: 'acme+ci', via: 'robot-token' });
      assert.equal(robot!.namespace, 'acme');
      assert.equal(robot!.digest, `sha256:${'a'.repeat(64)}`);
    });

    it('pages newest first with a cursor, across many entries sharing timestamps', async () => {
      await sql.run('DELETE FROM action_log');
      // 1,234 entries over 37 distinct milliseconds: most pages end in the middle of a tie.
      const rows = Array.from({ length: 1234 }, (_, index) => sanitizeEntry(entry({ occurredAt: T0 + (index % 37), tag: `t${index}` }), 0));
      const stored = await sql.transaction((tx) => insertActions(tx, rows));
      assert.equal(new Set(stored.map((item) => item.id)).size, 1234);
      for (const limit of [1, 7, 100, 1000]) {
        const seen: StoredAction[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await queryActions(sql, { limit, ...(cursor === undefined ? {} : { cursor }) });
          seen.push(...page.entries);
          cursor = page.next ?? undefined;
          pages++;
          assert.ok(page.entries.length <= limit);
        } while (cursor !== undefined && pages < 2000);
        assert.equal(seen.length, 1234, `limit ${limit}`);
        assert.equal(new Set(seen.map((item) => item.id)).size, 1234, `limit ${limit}: no duplicates`);
        for (let index = 1; index < seen.length; index++) {
          const a = seen[index - 1]!;
          const b = seen[index]!;
          assert.ok(a.occurredAt > b.occurredAt || (a.occurredAt === b.occurredAt && a.id > b.id), 'strictly newest first');
        }
        assert.equal(pages, Math.ceil(1234 / limit));
      }
      // The last page has no next; a filter applies across pages.
      const first = await queryActions(sql, { limit: 10, since: T0 + 36 });
      const second = await queryActions(sql, { limit: 10, since: T0 + 36, cursor: first.next! });
      assert.ok(second.entries.every((item) => item.occurredAt === T0 + 36));
    });

    it('exports every matching entry page by page', async () => {
      const log = new ActionLog({ store: new SqlActionLogStore(sql), logger: silentLogger, flushIntervalMs: 60_000, retentionMs: 0 });
      let exported = 0;
      let last = Infinity;
      for await (const item of log.export({})) {
        exported++;
        assert.ok(item.occurredAt <= last);
        last = item.occurredAt;
      }
      assert.equal(exported, 1234);
      await log.close();
    });

    it('deletes entries older than the retention in bounded chunks', async () => {
      await sql.run('DELETE FROM action_log');
      const now = T0 + 100 * 86_400_000;
      const rows = [
        ...Array.from({ length: 2345 }, (_, index) => sanitizeEntry(entry({ occurredAt: T0 + index }), 0)),
        ...Array.from({ length: 10 }, (_, index) => sanitizeEntry(entry({ occurredAt: now - index }), 0)),
      ];
      await sql.transaction((tx) => insertActions(tx, rows));
      let statements = 0;
      const spy: SqlExecutor = { dialect: sql.dialect, query: sql.query.bind(sql), run: (text, params) => (statements++, sql.run(text, params)) };
      assert.equal(await purgeActions(spy, now - 86_400_000, 500), 2345);
      assert.equal(statements, 5, 'five chunks of at most 500');
      assert.equal(await count(sql), 10);

      const log = new ActionLog({ store: new SqlActionLogStore(sql), logger: silentLogger, flushIntervalMs: 60_000, retentionMs: 5 });
      // Cutoff now - 5 ms: the entries at now - 6 … now - 9 go.
      assert.equal(await log.purge(now), 4);
      assert.equal(await count(sql), 6);
      await log.close();
    });

    it('purges on its own shortly after start', async () => {
      await sql.run('DELETE FROM action_log');
      await sql.transaction((tx) => insertActions(tx, [sanitizeEntry(entry({ occurredAt: Date.now() - 10 * 86_400_000 }), 0), sanitizeEntry(entry({ occurredAt: Date.now() }), 0)]));
      const log = new ActionLog({ store: new SqlActionLogStore(sql), logger: silentLogger, flushIntervalMs: 60_000, retentionMs: 86_400_000, firstPurgeDelayMs: 10, purgeIntervalMs: 60_000 });
      for (let wait = 0; wait < 100 && log.stats.purged < 1; wait++) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(log.stats.purged, 1);
      assert.equal(await count(sql), 1);
      await log.close();
    });

    it('close() writes everything still queued', async () => {
      await sql.run('DELETE FROM action_log');
      const log = new ActionLog({ store: new SqlActionLogStore(sql), logger: silentLogger, flushIntervalMs: 60_000, retentionMs: 0 });
      for (let index = 0; index < 1234; index++) log.record(entry({ occurredAt: T0 + index }));
      await log.close();
      assert.equal(await count(sql), 1234);
      // Entries recorded after close are counted as dropped, never thrown.
      log.record(entry());
      assert.equal(log.stats.dropped, 1);
    });

    it('keeps entries through failed writes and retries with backoff', async () => {
      await sql.run('DELETE FROM action_log');
      const wrapped = counting(sql);
      const lines: string[] = [];
      const log = new ActionLog({ store: new SqlActionLogStore(wrapped), logger: createLogger('debug', { write: (line: string) => lines.push(line) }), flushIntervalMs: 20, retentionMs: 0, maxBackoffMs: 40 });
      wrapped.failNext = 3;
      for (let index = 0; index < 700; index++) log.record(entry({ occurredAt: T0 + index }));
      for (let wait = 0; wait < 300 && (await count(sql)) < 700; wait++) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(await count(sql), 700);
      assert.equal(log.stats.failures, 3);
      assert.equal(log.stats.dropped, 0);
      const ordered = await queryActions(sql, { limit: 1000 });
      assert.deepEqual(ordered.entries.map((item) => item.occurredAt), Array.from({ length: 700 }, (_, index) => T0 + 699 - index));
      assert.ok(lines.some((line) => line.includes('action log write failed')));
      assert.ok(lines.some((line) => line.includes('action log writes resumed')));
      await log.close();
    });

    it('bounds its queue: drops beyond it are counted and warned about once per interval', async () => {
      await sql.run('DELETE FROM action_log');
      const wrapped = counting(sql);
      wrapped.failNext = 1_000_000;
      const lines: string[] = [];
      const log = new ActionLog({ store: new SqlActionLogStore(wrapped), logger: createLogger('warn', { write: (line: string) => lines.push(line) }), flushIntervalMs: 20, retentionMs: 0, maxQueue: 1000, batchSize: 100, maxBackoffMs: 20 });
      for (let index = 0; index < 1500; index++) log.record(entry({ occurredAt: T0 + index }));
      assert.equal(log.stats.dropped, 500);
      assert.equal(log.stats.recorded, 1000);
      await new Promise((resolve) => setTimeout(resolve, 80));
      const warnings = lines.filter((line) => line.includes('action log entries dropped'));
      assert.equal(warnings.length, 1);
      assert.equal((JSON.parse(warnings[0]!) as { dropped: number }).dropped, 500);
      // The database comes back: everything kept is written, in order.
      wrapped.failNext = 0;
      await log.close();
      assert.equal(await count(sql), 1000);
      const newest = await queryActions(sql, { limit: 1 });
      assert.equal(newest.entries[0]!.occurredAt, T0 + 999);
    });
  });
}

describe('action log', () => {
  let directory: string;
  let database: TestDatabase | undefined;
  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'custody-action-log-'));
  });
  after(async () => {
    await rm(directory, { recursive: true, force: true });
    await database?.drop();
  });

  storeSuite('sqlite', async () => new SqliteClient(join(directory, randomBytes(6).toString('hex'), 'custody.db')));
  storeSuite('postgres', async () => {
    database = await createTestDatabase();
    return new PostgresClient({ url: database.url });
  });
});

describe('action log sanitising', () => {
  it('never keeps a secret and caps long fields', () => {
    const row = sanitizeEntry(
      {
        kind: 'login',
        result: 'failure',
        actor: { kind: 'user', name: 'bob' },
        userAgent: `curl/8 ${'x'.repeat(2000)}`,
        repository: 'acme/app',
        detail: {
          password: 'hunter2',
          token: 'abc',
          robotToken: 'cst_robot_abcdefghijklmnop',
          tokenName: 'ci',
          reason: 'bad password for cst_pat_AAAAAAAAAAAAAAAAAAAA and Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJib2IifQ.sig',
          nested: { authorization: 'Basic YWRtaW46cGFzc3dvcmQ=', scopes: ['repository:acme/app:pull'] },
        },
      },
      T0,
    );
    const text = JSON.stringify(row);
    for (const secret of ['hunter2', 'cst_robot_abc', 'cst_pat_AAAA', 'eyJhbGciOiJFUzI1NiJ9', 'YWRtaW46cGFzc3dvcmQ=']) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    assert.equal(row.detail!.password, REDACTED);
    assert.equal(row.detail!.tokenName, 'ci');
    assert.deepEqual((row.detail!.nested as { scopes: string[] }).scopes, ['repository:acme/app:pull']);
    assert.equal(row.userAgent!.length, 512);
    assert.equal(row.namespace, 'acme');
    assert.equal(row.occurredAt, T0);
  });

  it('copes with anything a producer passes', () => {
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    const row = sanitizeEntry({ kind: 'push', result: 'success', actor: { kind: 'anonymous', name: 'ignored' }, detail: circular, ip: 'x\ny' }, T0);
    assert.equal(row.actor.name, undefined);
    assert.equal(row.ip, 'x y');
    assert.ok(row.detail);
  });
});

describe('action log cursors and API filters', () => {
  it('round-trips cursors and rejects forged ones', () => {
    const cursor = encodeCursor({ occurredAt: T0, id: 42 });
    assert.match(cursor, /^[A-Za-z0-9_-]+$/);
    assert.deepEqual(decodeCursor(cursor), { occurredAt: T0, id: 42 });
    for (const bad of ['', 'not a cursor', Buffer.from('1.2.3').toString('base64url'), Buffer.from("1; DROP TABLE x").toString('base64url')]) {
      assert.throws(() => decodeCursor(bad), CursorError);
    }
  });

  it('parses filters and explains bad ones', () => {
    const filter = parseFilter(new URLSearchParams('namespace=acme&kind=pull,push&kind=login&since=2026-11-01T00:00:00Z&until=1793577600000&limit=10'), false);
    assert.deepEqual(filter.kinds, ['pull', 'push', 'login']);
    assert.equal(filter.since, Date.UTC(2026, 10, 1));
    assert.equal(filter.until, 1793577600000);
    assert.equal(filter.limit, 10);
    const bad: [string, RegExp][] = [
      ['kind=pulll', /unknown kind "pulll"/],
      ['result=ok', /result: expected one of/],
      ['since=yesterday', /since: expected an ISO 8601 time/],
      ['limit=0', /limit: expected an integer from 1 to 1000/],
      ['limit=1001', /limit/],
      ['cursor=abc', /cursor/],
      ['since=2026-11-02&until=2026-11-01', /since must be before until/],
      ['repo=acme/app', /unknown parameter "repo"/],
      ['namespace=', /namespace: must not be empty/],
    ];
    for (const [query, message] of bad) {
      assert.throws(() => parseFilter(new URLSearchParams(query), false), (error: Error & { code?: string }) => error.code === 'INVALID_REQUEST' && message.test(error.message), query);
    }
  });

  it('CLI: relative times and a readable table', () => {
    assert.equal(resolveTime('since', '7d', T0), new Date(T0 - 7 * 86_400_000).toISOString());
    assert.equal(resolveTime('since', '2026-11-01T00:00:00Z'), '2026-11-01T00:00:00Z');
    assert.throws(() => resolveTime('since', 'last week'), /--since/);
    const table = formatTable([
      { id: 1, time: new Date(T0).toISOString(), kind: 'pull', result: 'success', actor: { kind: 'user', name: 'alice', via: 'password' }, ip: '192.0.2.1', userAgent: null, namespace: 'acme', repository: 'acme/app', tag: 'latest', digest: `sha256:${'b'.repeat(64)}`, detail: null },
    ]);
    assert.match(table, /^TIME\s+KIND\s+RESULT\s+ACTOR\s+IP\s+TARGET\n2026-11-01T12:00:00Z\s+pull\s+success\s+alice\s+192\.0\.2\.1\s+acme\/app:latest@sha256:bbbbbbbbbbbb\n$/);
  });
});

function stored(index: number, overrides: Partial<StoredAction> = {}): StoredAction {
  return { id: index, ...sanitizeEntry(entry({ occurredAt: T0 + index }), 0), ...overrides };
}

describe('action log forwarding', () => {
  it('sends RFC 5424 messages to a syslog server over UDP', async () => {
    const server = createSocket('udp4');
    const received: string[] = [];
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    server.on('message', (message) => received.push(message.toString('utf8')));
    const { port } = server.address();
    const [forwarder] = createForwarders({ syslog: `udp://127.0.0.1:${port}` }, silentLogger);
    assert.ok(forwarder instanceof SyslogForwarder);
    forwarder.forward([stored(1), stored(2, { result: 'denied', kind: 'push' })]);
    for (let wait = 0; wait < 100 && received.length < 2; wait++) await new Promise((resolve) => setTimeout(resolve, 10));
    await forwarder.close();
    server.close();
    assert.equal(received.length, 2);
    const pattern = /^<(\d+)>1 (\S+) (\S+) custody (\d+) (\S+) - (\{.*\})$/;
    const first = pattern.exec(received[0]!);
    assert.ok(first, received[0]);
    assert.equal(first[1], String(13 * 8 + 6));
    assert.equal(first[2], new Date(T0 + 1).toISOString());
    assert.equal(first[5], 'pull');
    const json = JSON.parse(first[6]!) as { id: number; repository: string; actor: { name: string } };
    assert.equal(json.id, 1);
    assert.equal(json.repository, 'acme/app');
    assert.equal(json.actor.name, 'alice');
    const second = pattern.exec(received[1]!);
    assert.equal(second![1], String(13 * 8 + 5));
    assert.equal(second![5], 'push');
  });

  it('sends octet-counted messages over TCP, buffering until the server is there', async () => {
    const chunks: Buffer[] = [];
    const server = createTcpServer((socket) => socket.on('data', (chunk) => chunks.push(chunk)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const forwarder = new SyslogForwarder({ url: `tcp://127.0.0.1:${port}`, logger: silentLogger });
    forwarder.forward([stored(1), stored(2)]);
    forwarder.forward([stored(3)]);
    await forwarder.close();
    for (let wait = 0; wait < 100 && Buffer.concat(chunks).length === 0; wait++) await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setTimeout(resolve, 50));
    server.close();
    let data = Buffer.concat(chunks);
    const messages: string[] = [];
    while (data.length > 0) {
      const space = data.indexOf(0x20);
      const length = Number(data.subarray(0, space).toString('ascii'));
      messages.push(data.subarray(space + 1, space + 1 + length).toString('utf8'));
      data = data.subarray(space + 1 + length);
    }
    assert.equal(messages.length, 3);
    assert.equal(messages[2], syslogMessage(stored(3)));
  });

  it('POSTs JSON Lines batches to an HTTP endpoint, retrying while it fails', async () => {
    const bodies: string[] = [];
    let failures = 2;
    const server = createHttpServer((request: IncomingMessage, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        assert.equal(request.headers['content-type'], 'application/x-ndjson');
        if (failures > 0) {
          failures--;
          response.writeHead(503).end();
          return;
        }
        bodies.push(Buffer.concat(chunks).toString('utf8'));
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const forwarder = new HttpForwarder({ url: `http://127.0.0.1:${port}/ingest`, logger: silentLogger, intervalMs: 10, maxBackoffMs: 20, batchSize: 3 });
    const started = process.hrtime.bigint();
    forwarder.forward([stored(1), stored(2), stored(3), stored(4)]);
    forwarder.forward([stored(5)]);
    assert.ok(Number(process.hrtime.bigint() - started) / 1e6 < 20, 'forward() returns at once');
    for (let wait = 0; wait < 200 && forwarder.stats.sent < 5; wait++) await new Promise((resolve) => setTimeout(resolve, 10));
    await forwarder.close();
    server.close();
    assert.equal(forwarder.stats.failures, 2);
    assert.equal(forwarder.stats.sent, 5);
    const lines = bodies.join('').trim().split('\n').map((line) => JSON.parse(line) as { id: number });
    assert.deepEqual(lines.map((line) => line.id), [1, 2, 3, 4, 5]);
    assert.ok(bodies.every((body) => body.trim().split('\n').length <= 3));
  });

  it('drops the oldest entries beyond its buffer while the endpoint is down', async () => {
    const forwarder = new HttpForwarder({ url: 'http://127.0.0.1:9/unreachable', logger: silentLogger, maxBuffer: 10, intervalMs: 60_000, timeoutMs: 200 });
    forwarder.forward(Array.from({ length: 25 }, (_, index) => stored(index)));
    assert.equal(forwarder.stats.dropped, 15);
    assert.equal(forwarder.stats.buffered, 10);
    await forwarder.close();
  });

  it('the action log forwards what it stores', async () => {
    const sql = new SqliteClient(':memory:');
    await migrate(sql);
    const seen: StoredAction[] = [];
    const log = new ActionLog({ store: new SqlActionLogStore(sql), logger: silentLogger, flushIntervalMs: 60_000, retentionMs: 0, forwarders: [{ name: 'test', forward: (items) => seen.push(...items), close: async () => {} }] });
    log.record(entry({ occurredAt: T0 + 1 }));
    log.record(entry({ occurredAt: T0 + 2 }));
    await log.close();
    assert.equal(seen.length, 2);
    const page = await queryActions(sql, {});
    assert.deepEqual(seen.map((item) => item.id).sort(), page.entries.map((item) => item.id).sort());
    await sql.close();
  });
});

describe('action log API (a real server)', () => {
  let server: CustodyServer;
  let fixtures: AccessFixtures;
  let patToken: string;
  const password = 'password-for-log-tests';

  before(async () => {
    server = await startCustody({ auth: true, env: { CUSTODY_AUDIT_FLUSH_INTERVAL: '50ms' } });
    fixtures = new AccessFixtures(server.dataDir);
    const orgAdmin = await fixtures.user('orgadmin', password);
    const repoAdmin = await fixtures.user('repoadmin', password);
    const stranger = await fixtures.user('stranger', password);
    const acme = await fixtures.organization('acme');
    await fixtures.team(acme, 'owners', 'admin', [orgAdmin]);
    await fixtures.team(acme, 'devs', 'member', [stranger]);
    await fixtures.identity.ensureRepository('acme/app', 'private');
    await fixtures.permission('acme/app', { kind: 'account', id: repoAdmin }, 'admin');
    patToken = generateSecret('personal');
    await fixtures.identity.addCredential({ accountId: orgAdmin, kind: 'personal', name: 'cli', secretHash: hashSecret(patToken) });
    void stranger;
    const rows = [
      entry({ occurredAt: T0 + 1, repository: 'acme/app', kind: 'push', actor: { kind: 'user', name: 'repoadmin', via: 'password' } }),
      entry({ occurredAt: T0 + 2, repository: 'acme/app', kind: 'pull', actor: { kind: 'user', name: 'stranger', via: 'bearer' } }),
      entry({ occurredAt: T0 + 3, repository: 'acme/db', kind: 'pull' }),
      entry({ occurredAt: T0 + 4, repository: 'other/app', kind: 'delete' }),
      entry({ occurredAt: T0 + 5, repository: 'acme/app', kind: 'pull', result: 'denied', actor: { kind: 'anonymous' } }),
    ].map((item) => sanitizeEntry(item, 0));
    await fixtures.sql.transaction((tx) => insertActions(tx, rows));
    // The seeded history is older than these accounts' rows: date them back, since each
    // sees the log only from its own account's (or its namespace owner's) creation on.
    await fixtures.sql.run('UPDATE accounts SET created_at = ?', [T0 - 24 * 3600 * 1000]);
  });
  after(async () => {
    await fixtures?.close();
    await server?.dispose();
  });

  const get = (path: string, username?: string, secret = password) =>
    http(`${server.url}${path}`, { headers: username === undefined ? {} : { Authorization: basic(username, secret) } });
  /** The seeded entries (from 2026-11-01), as "kind:repository" newest first. */
  const seeded = (result: { json<T>(): T | undefined }): string[] =>
    result.json<{ entries: { kind: string; repository: string | null; time: string }[] }>()!.entries.filter((item) => item.time.startsWith('2026-11-01')).map((item) => `${item.kind}:${item.repository}`);

  it('asks anonymous callers to authenticate', async () => {
    const response = await get('/api/v1/logs');
    assert.equal(response.status, 401);
    assert.equal(response.json<{ errors: { code: string }[] }>()!.errors[0]!.code, 'UNAUTHORIZED');
    assert.equal((await get('/api/v1/logs', 'orgadmin', 'wrong')).status, 401);
  });

  it('shows a superuser everything, with the documented entry shape', async () => {
    const response = await get('/api/v1/logs?since=2026-11-01T00:00:00Z&until=2026-11-02T00:00:00Z', 'admin', ADMIN_PASSWORD);
    assert.equal(response.status, 200, response.body.toString());
    assert.deepEqual(seeded(response), ['pull:acme/app', 'delete:other/app', 'pull:acme/db', 'pull:acme/app', 'push:acme/app']);
    const body = response.json<{ entries: Record<string, unknown>[]; next: string | null }>()!;
    assert.equal(body.next, null);
    assert.deepEqual(Object.keys(body.entries[4]!).sort(), ['actor', 'detail', 'digest', 'id', 'ip', 'kind', 'namespace', 'repository', 'result', 'tag', 'time', 'userAgent']);
    assert.deepEqual(body.entries[4]!.actor, { kind: 'user', name: 'repoadmin', via: 'password' });
    assert.equal(body.entries[4]!.time, new Date(T0 + 1).toISOString());
  });

  it('pages with limit and cursor', async () => {
    const first = await get('/api/v1/logs?since=2026-11-01&until=2026-11-02&limit=2', 'admin', ADMIN_PASSWORD);
    const page = first.json<{ next: string }>()!;
    assert.deepEqual(seeded(first), ['pull:acme/app', 'delete:other/app']);
    const second = await get(`/api/v1/logs?since=2026-11-01&until=2026-11-02&limit=2&cursor=${page.next}`, 'admin', ADMIN_PASSWORD);
    assert.deepEqual(seeded(second), ['pull:acme/db', 'pull:acme/app']);
  });

  it('lets an organization admin read their namespace only', async () => {
    const mine = await get('/api/v1/logs?namespace=acme&since=2026-11-01&until=2026-11-02', 'orgadmin');
    assert.equal(mine.status, 200, mine.body.toString());
    assert.deepEqual(seeded(mine), ['pull:acme/app', 'pull:acme/db', 'pull:acme/app', 'push:acme/app']);
    assert.equal((await get('/api/v1/logs?repository=acme/db', 'orgadmin')).status, 200, 'a repository of their organization that has no settings row');
    for (const query of ['', '?namespace=other', '?repository=other/app', '?kind=pull']) {
      const denied = await get(`/api/v1/logs${query}`, 'orgadmin');
      assert.equal(denied.status, 403, query);
      assert.equal(denied.json<{ errors: { code: string }[] }>()!.errors[0]!.code, 'DENIED');
    }
  });

  it('lets a repository admin read that repository only', async () => {
    const mine = await get('/api/v1/logs?repository=acme/app&since=2026-11-01&until=2026-11-02', 'repoadmin');
    assert.equal(mine.status, 200, mine.body.toString());
    assert.deepEqual(seeded(mine), ['pull:acme/app', 'pull:acme/app', 'push:acme/app']);
    assert.equal((await get('/api/v1/logs?namespace=acme', 'repoadmin')).status, 403);
    assert.equal((await get('/api/v1/logs?repository=acme/db', 'repoadmin')).status, 403);
  });

  it('denies a stranger (a plain team member) everything but their own actions', async () => {
    for (const query of ['', '?namespace=acme', '?repository=acme/app', '?actor=repoadmin']) {
      assert.equal((await get(`/api/v1/logs${query}`, 'stranger')).status, 403, query);
    }
    const own = await get('/api/v1/logs?actor=stranger&since=2026-11-01&until=2026-11-02', 'stranger');
    assert.equal(own.status, 200);
    assert.deepEqual(seeded(own), ['pull:acme/app']);
  });

  it('answers bad filters with 400 and a reason', async () => {
    const response = await get('/api/v1/logs?kind=pul', 'admin', ADMIN_PASSWORD);
    assert.equal(response.status, 400);
    const error = response.json<{ errors: { code: string; message: string }[] }>()!.errors[0]!;
    assert.equal(error.code, 'INVALID_REQUEST');
    assert.match(error.message, /unknown kind "pul"/);
    assert.equal((await get('/api/v1/logs?limit=5000', 'admin', ADMIN_PASSWORD)).status, 400);
    assert.equal((await http(`${server.url}/api/v1/logs`, { method: 'DELETE', headers: { Authorization: basic('admin', ADMIN_PASSWORD) } })).status, 405);
  });

  it('exports JSON Lines', async () => {
    const response = await get('/api/v1/logs/export?namespace=acme&since=2026-11-01&until=2026-11-02', 'orgadmin');
    assert.equal(response.status, 200);
    assert.match(String(response.headers['content-type']), /^application\/x-ndjson/);
    const lines = response.body.toString('utf8').trim().split('\n').map((line) => JSON.parse(line) as { kind: string; repository: string });
    assert.deepEqual(lines.map((line) => `${line.kind}:${line.repository}`), ['pull:acme/app', 'pull:acme/db', 'pull:acme/app', 'push:acme/app']);
  });

  it('records the API logins themselves', async () => {
    await get('/api/v1/logs?namespace=acme', 'orgadmin', 'wrong-password');
    let logins: { kind: string; result: string; actor: { name: string | null } }[] = [];
    for (let wait = 0; wait < 100; wait++) {
      const response = await get(`/api/v1/logs?kind=login&result=failure&actor=orgadmin`, 'admin', ADMIN_PASSWORD);
      logins = response.json<{ entries: typeof logins }>()!.entries;
      if (logins.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(logins.length > 0, 'the failed login was logged');
  });

  it('the CLI shows a table, JSON and JSON Lines', async () => {
    const capture = async (args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> => {
      const chunks: Buffer[] = [];
      const out = new Writable({ write: (chunk: Buffer, _encoding, callback) => (chunks.push(Buffer.from(chunk)), callback()) });
      const saved = { ...process.env };
      Object.assign(process.env, env);
      try {
        const code = await runLogs(args, out);
        return { code, out: Buffer.concat(chunks).toString('utf8') };
      } finally {
        for (const key of Object.keys(env)) if (saved[key] === undefined) delete process.env[key];
      }
    };
    const common = ['--registry', server.url, '--namespace', 'acme', '--since', '2026-11-01T00:00:00Z', '--until', '2026-11-02T00:00:00Z'];
    const table = await capture([...common, '--token', patToken]);
    assert.equal(table.code, 0);
    const lines = table.out.trim().split('\n');
    assert.match(lines[0]!, /^TIME\s+KIND\s+RESULT\s+ACTOR\s+IP\s+TARGET$/);
    assert.equal(lines.length, 5);
    assert.match(lines[1]!, /^2026-11-01T12:00:00\.005Z|^2026-11-01T12:00:00/);
    assert.match(lines[1]!, /pull\s+denied\s+\(anonymous\)/);

    const json = await capture([...common, '--json', '--limit', '3'], { CUSTODY_TOKEN: patToken });
    assert.equal((JSON.parse(json.out) as unknown[]).length, 3);

    const jsonl = await capture([...common, '--jsonl', '--kind', 'pull,push'], { CUSTODY_TOKEN: patToken });
    assert.equal(jsonl.out.trim().split('\n').length, 4);

    await assert.rejects(capture([...common.slice(0, 2)], { CUSTODY_TOKEN: patToken }), /DENIED|denied/);
  });
});

describe('action log export streaming', () => {
  it('streams a large export to a slow reader, waiting for the socket to drain', async () => {
    const sql = new SqliteClient(':memory:');
    await migrate(sql);
    const rows = Array.from({ length: 20_000 }, (_, index) => sanitizeEntry(entry({ occurredAt: T0 + Math.floor(index / 3), userAgent: `agent-${'x'.repeat(200)}` }), 0));
    await sql.transaction((tx) => insertActions(tx, rows));
    const log = new ActionLog({ store: new SqlActionLogStore(sql), logger: silentLogger, flushIntervalMs: 60_000, retentionMs: 0 });
    const superuser = { kind: 'account', via: 'password', account: { id: 1, name: 'root', kind: 'user', superuser: true, disabled: false } };
    const security = { authenticator: { login: async () => superuser } } as unknown as SecurityServices;
    const api = new ActionLogApi(log, security);
    let drains = 0;
    const server = createHttpServer((request, response) => {
      response.on('drain', () => drains++);
      const url = new URL(request.url!, 'http://x');
      void api.match(request, response, url.pathname, url.searchParams)!.handle().catch((error: unknown) => response.destroy(error as Error));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const lines = await new Promise<number>((resolve, reject) => {
      httpGet(`http://127.0.0.1:${port}/api/v1/logs/export`, { headers: { Authorization: basic('root', 'x') }, agent: false }, (response) => {
        assert.equal(response.statusCode, 200);
        let count = 0;
        let tail = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          const parts = (tail + chunk).split('\n');
          tail = parts.pop()!;
          count += parts.length;
          // A slow reader: the server must wait rather than buffer the whole export.
          response.pause();
          setTimeout(() => response.resume(), 1);
        });
        response.on('end', () => resolve(count));
        response.on('error', reject);
      }).on('error', reject);
    });
    server.close();
    await log.close();
    await sql.close();
    assert.equal(lines, 20_000);
    assert.ok(drains > 0, 'the export waited for drain at least once');
  });
});
