// The WebhookStore contract over any SqlClient, after migrate(): hooks by scope, which hooks
// an event's repository or namespace matches, the delivery queue (one head per hook and
// order key, in id order, due ones only, of enabled hooks), attempts that retry, give up,
// reset or count failures and disable a hook, the configuration's hook, and the log.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { migrate } from '../../src/metadata/migrations.ts';
import type { SqlClient } from '../../src/metadata/sql-client.ts';
import type { NewDelivery, NewWebhook, WebhookStore } from '../../src/metadata/webhook-store.ts';
import type { StoreFactories } from '../support/sql-stores.ts';

const T0 = 1_700_000_000_000;

function hook(overrides: Partial<NewWebhook> = {}): NewWebhook {
  return { name: 'h', namespace: 'acme', repository: null, url: 'http://127.0.0.1:9/in', format: 'cloudevents', events: [], secret: 's'.repeat(32), origin: 'api', createdBy: 'alice', createdAt: T0, ...overrides };
}

function delivery(webhookId: number, eventId: string, orderKey: string, createdAt = T0): NewDelivery {
  return { webhookId, eventId, eventType: 'manifest.pushed', orderKey, payload: JSON.stringify({ id: eventId }), createdAt };
}

const FAIL = { delivered: false, latencyMs: 5, error: 'HTTP 503', status: 503, disableAfter: 3 } as const;

export function webhookStoreSuite(name: string, openClient: () => Promise<SqlClient>, stores: StoreFactories): void {
  describe(`WebhookStore contract: ${name}`, () => {
    let sql: SqlClient;
    let store: WebhookStore;

    beforeEach(async () => {
      sql = await openClient();
      await migrate(sql);
      store = stores.webhooks(sql);
    });
    afterEach(async () => {
      await sql.close();
    });

    it('creates, reads back, lists by scope and deletes hooks', async () => {
      const ns = await store.create(hook());
      const repo = await store.create(hook({ repository: 'acme/app', events: ['manifest.pushed', 'manifest.pulled'], secret: null }));
      const other = await store.create(hook({ namespace: 'other' }));
      const everywhere = await store.create(hook({ namespace: null, origin: 'config', name: 'quality.notifyUrl', format: 'quality-notice' }));
      assert.deepEqual(await store.get(repo.id), repo);
      assert.deepEqual(repo.events, ['manifest.pushed', 'manifest.pulled']);
      assert.equal(repo.enabled, true);
      assert.equal(repo.secret, null);
      assert.deepEqual((await store.list({ namespace: 'acme' })).map((h) => h.id), [ns.id, repo.id]);
      assert.deepEqual((await store.list({ repository: 'acme/app' })).map((h) => h.id), [repo.id]);
      assert.deepEqual((await store.list()).map((h) => h.id), [ns.id, repo.id, other.id, everywhere.id]);
      assert.equal(await store.delete(other.id), true);
      assert.equal(await store.delete(other.id), false);
      assert.equal(await store.get(other.id), null);
    });

    it('matches hooks whose scope covers a repository, or a namespace-level event', async () => {
      const ns = await store.create(hook());
      const repo = await store.create(hook({ repository: 'acme/app' }));
      const sibling = await store.create(hook({ repository: 'acme/other' }));
      const everywhere = await store.create(hook({ namespace: null }));
      await store.create(hook({ namespace: 'zeta' }));
      assert.deepEqual((await store.matching('acme', 'acme/app')).map((h) => h.id), [ns.id, repo.id, everywhere.id]);
      assert.deepEqual((await store.matching('acme', 'acme/other')).map((h) => h.id), [ns.id, sibling.id, everywhere.id]);
      assert.deepEqual((await store.matching('acme', null)).map((h) => h.id), [ns.id, everywhere.id]);
      assert.deepEqual((await store.matching(null, null)).map((h) => h.id), [everywhere.id]);
      await store.setEnabled(ns.id, false, 'off');
      assert.deepEqual((await store.matching('acme', null)).map((h) => h.id), [everywhere.id]);
    });

    it('queues deliveries once per (hook, event) and hands out due queues in id order, each led by its head', async () => {
      const a = await store.create(hook());
      const b = await store.create(hook({ namespace: null }));
      assert.equal(await store.enqueue([delivery(a.id, 'e1', 'repository:acme/app'), delivery(a.id, 'e2', 'repository:acme/app'), delivery(a.id, 'e3', 'repository:acme/db'), delivery(b.id, 'e1', 'repository:acme/app')]), 4);
      assert.equal(await store.enqueue([delivery(a.id, 'e1', 'repository:acme/app')]), 0, 'a redelivered event is not queued twice');
      const heads = await store.due(T0, 10);
      assert.deepEqual(heads.map((d) => [d.webhookId, d.eventId]), [[a.id, 'e1'], [a.id, 'e2'], [a.id, 'e3'], [b.id, 'e1']]);
      assert.equal(heads[0]!.status, 'pending');
      assert.equal(heads[0]!.attempts, 0);
      assert.deepEqual(await store.due(T0 - 1, 10), [], 'nothing is due before its time');
      assert.deepEqual((await store.due(T0, 2)).map((d) => d.eventId), ['e1', 'e2'], 'the limit holds, oldest first');

      // The head delivered: the next of its queue comes up.
      await store.recordAttempt(heads[0]!.id, { delivered: true, status: 204, latencyMs: 3, retryAt: null, now: T0 + 10, disableAfter: 3 });
      assert.deepEqual((await store.due(T0 + 10, 10)).map((d) => d.eventId), ['e2', 'e3', 'e1']);
      await store.enqueue([delivery(b.id, 'e4', 'repository:acme/app', T0 + 20), delivery(b.id, 'e5', 'repository:acme/db', T0 + 20)]);
      assert.deepEqual((await store.due(T0 + 10, 10)).map((d) => d.eventId), ['e2', 'e3', 'e1', 'e4'], "a queue's rows follow its head even when not due themselves");
      const done = await store.getDelivery(heads[0]!.id);
      assert.equal(done!.status, 'delivered');
      assert.equal(done!.attempts, 1);
      assert.equal(done!.lastStatus, 204);
      assert.equal(done!.lastLatencyMs, 3);
      assert.equal(done!.lastError, null);
    });

    it('a failed head holds its queue until retried, and a given-up one lets it move on', async () => {
      const a = await store.create(hook());
      await store.enqueue([delivery(a.id, 'e1', 'q'), delivery(a.id, 'e2', 'q')]);
      const [head] = await store.due(T0, 10);
      await store.recordAttempt(head!.id, { ...FAIL, retryAt: T0 + 1000, now: T0 });
      assert.deepEqual(await store.due(T0 + 999, 10), [], 'the queue waits for its head');
      const retried = await store.due(T0 + 1000, 10);
      assert.deepEqual(retried.map((d) => [d.eventId, d.attempts, d.lastStatus, d.lastError]), [['e1', 1, 503, 'HTTP 503'], ['e2', 0, null, null]]);
      await store.recordAttempt(head!.id, { ...FAIL, retryAt: null, now: T0 + 1000 });
      assert.equal((await store.getDelivery(head!.id))!.status, 'failed');
      assert.deepEqual((await store.due(T0 + 1000, 10)).map((d) => d.eventId), ['e2']);
    });

    it('counts failures in a row, resets them on success, and disables a hook at the threshold', async () => {
      const a = await store.create(hook());
      await store.enqueue([delivery(a.id, 'e1', 'q1'), delivery(a.id, 'e2', 'q2')]);
      const [first, second] = await store.due(T0, 10);
      assert.deepEqual([first!.orderKey, second!.orderKey], ['q1', 'q2']);
      assert.deepEqual(await store.recordAttempt(first!.id, { ...FAIL, retryAt: T0, now: T0 }), { hookDisabled: false });
      assert.equal((await store.get(a.id))!.failures, 1);
      await store.recordAttempt(second!.id, { delivered: true, status: 200, latencyMs: 1, retryAt: null, now: T0, disableAfter: 3 });
      assert.equal((await store.get(a.id))!.failures, 0);
      await store.recordAttempt(first!.id, { ...FAIL, retryAt: T0, now: T0 });
      await store.recordAttempt(first!.id, { ...FAIL, retryAt: T0, now: T0 });
      assert.deepEqual(await store.recordAttempt(first!.id, { ...FAIL, retryAt: T0, now: T0 }), { hookDisabled: true });
      const disabled = (await store.get(a.id))!;
      assert.equal(disabled.enabled, false);
      assert.match(disabled.disabledReason!, /3 failed deliveries in a row/);
      assert.deepEqual(await store.due(T0 + 1, 10), [], 'a disabled hook sends nothing');
      assert.equal(await store.setEnabled(a.id, true), true);
      const again = (await store.get(a.id))!;
      assert.equal(again.enabled, true);
      assert.equal(again.failures, 0);
      assert.equal(again.disabledReason, null);
      assert.deepEqual((await store.due(T0 + 1, 10)).map((d) => d.eventId), ['e1'], 'its pending deliveries resume');
      const batch = await store.recordAttempts([
        { deliveryId: first!.id, webhookId: a.id, outcome: { ...FAIL, retryAt: T0, now: T0 } },
        { deliveryId: first!.id, webhookId: a.id, outcome: { delivered: true, status: 200, latencyMs: 1, retryAt: null, now: T0 + 2, disableAfter: 3 } },
      ]);
      assert.equal(batch.size, 0);
      assert.equal((await store.getDelivery(first!.id))!.status, 'delivered');
      assert.equal((await store.getDelivery(first!.id))!.attempts, 6, 'attempts recorded in one batch count, in order');
    });

    it('keeps the configuration hook in step with the configuration', async () => {
      const spec = { namespace: null, repository: null, url: 'http://a.example/n', format: 'quality-notice' as const, events: ['grade.dropped' as const], secret: null, createdBy: null, createdAt: T0 };
      const created = (await store.syncConfigured('quality.notifyUrl', spec))!;
      assert.equal(created.origin, 'config');
      await store.enqueue([delivery(created.id, 'e1', 'q')]);
      await store.setEnabled(created.id, false, 'x');
      const updated = (await store.syncConfigured('quality.notifyUrl', { ...spec, url: 'http://b.example/n' }))!;
      assert.equal(updated.id, created.id, 'the same hook: its queue survives a restart');
      assert.equal((await store.get(created.id))!.url, 'http://b.example/n');
      assert.equal((await store.get(created.id))!.enabled, true);
      assert.equal((await store.due(T0, 10)).length, 1);
      assert.equal(await store.syncConfigured('quality.notifyUrl', null), null);
      assert.equal(await store.get(created.id), null);
      assert.equal(await store.getDelivery(1), null, 'deliveries go with their hook');
    });

    it('lists the delivery log newest first, by page, and purges finished entries', async () => {
      const a = await store.create(hook());
      await store.enqueue(['e1', 'e2', 'e3'].map((id, index) => delivery(a.id, id, `q${index}`)));
      const page = await store.deliveries(a.id, { limit: 2 });
      assert.deepEqual(page.map((d) => d.eventId), ['e3', 'e2']);
      assert.deepEqual((await store.deliveries(a.id, { limit: 2, before: page[1]!.id })).map((d) => d.eventId), ['e1']);
      const [first] = await store.due(T0, 1);
      await store.recordAttempt(first!.id, { delivered: true, status: 200, latencyMs: 1, retryAt: null, now: T0 + 5, disableAfter: 3 });
      assert.equal(await store.purge(T0 + 5), 0, 'only entries finished before the cutoff');
      assert.equal(await store.purge(T0 + 6), 1);
      assert.deepEqual((await store.deliveries(a.id, { limit: 10 })).map((d) => d.eventId), ['e3', 'e2'], 'pending ones stay');
    });
  });
}
