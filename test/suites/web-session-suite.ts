// The WebSessionStore contract over any SqlClient, after migrate(), through WebSessions
// (what the web catalog uses): a fresh id per login whose hash alone is stored, use
// extending the idle time, the idle and absolute lifetimes, logout, a session that keeps
// itself after its own revocation, the purge, and sessions gone with their account.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { migrate } from '../../src/metadata/migrations.ts';
import type { SqlClient } from '../../src/metadata/sql-client.ts';
import type { WebSessionStore } from '../../src/metadata/web-session-store.ts';
import { WebSessions } from '../../src/ui/web-sessions.ts';
import type { StoreFactories } from '../support/sql-stores.ts';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

export function webSessionSuite(name: string, openClient: () => Promise<SqlClient>, stores: StoreFactories): void {
  describe(`WebSessionStore contract: ${name}`, () => {
    let sql: SqlClient;
    let store: WebSessionStore;
    let sessions: WebSessions;
    let alice: { id: number; name: string; securityStamp: string };

    beforeEach(async () => {
      sql = await openClient();
      await migrate(sql);
      store = stores.webSessions(sql);
      sessions = new WebSessions(store, { idleMs: 2 * HOUR, absoluteMs: 10 * HOUR });
      alice = await stores.accounts(sql).createAccount({ name: 'alice', kind: 'user', passwordHash: null });
    });
    afterEach(async () => {
      await sql.close();
    });

    it('issues a fresh id per login and stores only its hash', async () => {
      const a = await sessions.create(alice, 'password', T0);
      const b = await sessions.create(alice, 'ldap', T0);
      assert.notEqual(a.id, b.id);
      assert.notEqual(a.session.csrfToken, b.session.csrfToken);
      const found = await sessions.find(a.id, T0 + 1000);
      assert.deepEqual({ name: found?.accountName, via: found?.via, stamp: found?.securityStamp, csrf: found?.csrfToken }, { name: 'alice', via: 'password', stamp: alice.securityStamp, csrf: a.session.csrfToken });
      const rows = await sql.query<{ id_hash: string }>('SELECT id_hash FROM web_sessions');
      assert.equal(rows.length, 2);
      assert.ok(rows.every((row) => row.id_hash !== a.id && row.id_hash !== b.id));
      assert.equal(await sessions.find('x'.repeat(43), T0), null);
      assert.equal(await sessions.find(undefined, T0), null);
    });

    it('ends after idling or past its lifetime, and at logout', async () => {
      const a = await sessions.create(alice, 'password', T0);
      for (let t = T0 + HOUR; t < T0 + 10 * HOUR; t += HOUR) assert.ok(await sessions.find(a.id, t), 'use extends the idle time');
      assert.equal(await sessions.find(a.id, T0 + 10 * HOUR + 1), null, 'absolute lifetime');
      const b = await sessions.create(alice, 'password', T0);
      assert.equal(await sessions.find(b.id, T0 + 2 * HOUR + 1), null, 'idle');
      const c = await sessions.create(alice, 'password', T0);
      await sessions.destroy(c.id);
      assert.equal(await sessions.find(c.id, T0 + 1), null, 'logout');
    });

    it('keeps a new security stamp, purges expired sessions, and goes with the account', async () => {
      const a = await sessions.create(alice, 'password', T0);
      await sessions.keep(a.session, 'new-stamp');
      assert.equal((await sessions.find(a.id, T0 + 1))?.securityStamp, 'new-stamp');
      await sessions.create(alice, 'password', T0 + 5 * HOUR);
      assert.equal(await sessions.purgeExpired(T0 + 3 * HOUR), 1);
      assert.equal((await sql.query('SELECT id_hash FROM web_sessions')).length, 1);
      await stores.accounts(sql).deleteAccount(alice.id);
      assert.equal((await sql.query('SELECT id_hash FROM web_sessions')).length, 0);
    });
  });
}
