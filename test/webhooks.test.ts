// Webhooks end to end inside one process, on SQLite and PostgreSQL: the registry publishes
// on the bus, the subscriber persists deliveries, the scheduled dispatcher sends them to a
// receiver this test starts. Every event type arrives with a valid HMAC, in order per
// repository; pulls only where asked for; Distribution's envelope parses as Distribution's
// consumers read it; quality.notifyUrl keeps receiving its notices; a failing hook is
// retried with backoff and then disabled; "send test event" reports the attempt.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { digestOf } from '../src/core/digest.ts';
import type { DomainEventType } from '../src/core/events.ts';
import { MediaType } from '../src/core/media-types.ts';
import { InProcessEventBus } from '../src/events/in-process-event-bus.ts';
import { TimerScheduler } from '../src/jobs/timer-scheduler.ts';
import { FilesystemBlobStore } from '../src/storage/filesystem-blob-store.ts';
import { SqliteClient } from '../src/metadata/sqlite-client.ts';
import { migrate } from '../src/metadata/migrations.ts';
import type { SqlClient } from '../src/metadata/sql-client.ts';
import { SqlMetadataStore } from '../src/metadata/sql-metadata-store.ts';
import { CoreRegistry, type Registry } from '../src/registry/registry.ts';
import { silentLogger } from '../src/observability/logger.ts';
import type { Config } from '../src/config/config.ts';
import { installWebhooks, type InstalledWebhooks } from '../src/app/install-webhooks.ts';
import { WEBHOOK_EVENT_TYPES } from '../src/webhooks/webhooks.ts';
import { verifyWebhookSignature, signWebhook } from '../src/webhooks/signature.ts';
import { DISTRIBUTION_CONTENT_TYPE } from '../src/webhooks/formats.ts';
import { createTestDatabase, openSchemaClient, type TestDatabase } from './support/postgres.ts';
import { WebhookReceiver, type ReceivedRequest } from './support/webhook-receiver.ts';
import { parseDistributionEnvelope } from './support/distribution-consumer.ts';

const SECRET = 'a-webhook-secret-for-tests-0123456789';

const FAST: Pick<Config, 'webhooks' | 'quality'> = {
  webhooks: { dispatchIntervalMs: 50, retryBaseMs: 50, retryMaxMs: 200, giveUpAfterMs: 60_000, disableAfter: 4, timeoutMs: 2_000, concurrency: 8, publicUrl: 'https://registry.example' },
  quality: { notifyUrl: undefined } as Config['quality'],
};

interface CloudEventBody {
  specversion: string;
  id: string;
  source: string;
  type: string;
  subject?: string;
  time: string;
  datacontenttype: string;
  data: Record<string, unknown>;
}

function webhookSuite(label: string, openClient: () => Promise<SqlClient>): void {
  describe(`webhooks in one process: ${label}`, () => {
    let directory: string;
    let sql: SqlClient;
    let registry: Registry;
    let bus: InProcessEventBus;
    let scheduler: TimerScheduler;
    let installed: InstalledWebhooks;
    const receiver = new WebhookReceiver();

    before(async () => {
      directory = await mkdtemp(join(tmpdir(), 'custody-webhooks-'));
      await receiver.start();
      const blobs = new FilesystemBlobStore(join(directory, 'blobs'));
      await blobs.init();
      sql = await openClient();
      await migrate(sql);
      bus = new InProcessEventBus();
      scheduler = new TimerScheduler();
      registry = new CoreRegistry(blobs, new SqlMetadataStore(sql), { maxManifestBytes: 1 << 20, maxPageSize: 100, automaticMount: false, events: bus });
      installed = await installWebhooks({ sql, events: bus, scheduler, logger: silentLogger, config: { ...FAST, quality: { ...FAST.quality, notifyUrl: `${receiver.url}/quality` } } });
      scheduler.start();
    });
    after(async () => {
      await scheduler.stop();
      await bus.drain();
      await installed.close();
      await receiver.stop();
      await sql.close();
      await rm(directory, { recursive: true, force: true });
    });

    async function push(repository: string, tag: string, seed: string): Promise<string> {
      const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, seed }));
      const configDigest = digestOf(config);
      await registry.uploadMonolithic(repository, configDigest, Readable.from([config]), config.length, { name: 'alice', kind: 'user' });
      const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: { mediaType: MediaType.OciConfig, digest: configDigest, size: config.length }, layers: [] }));
      return (await registry.putManifest(repository, tag, MediaType.OciManifest, manifest, { name: 'alice', kind: 'user' })).digest;
    }

    it('delivers every event type, signed, in order per repository; pulls only where asked; Distribution consumers parse theirs', async () => {
      const all = (await installed.webhooks.create({ namespace: 'acme', url: `${receiver.url}/all`, events: [...WEBHOOK_EVENT_TYPES], secret: SECRET }, 'alice')).webhook;
      const plain = await installed.webhooks.create({ repository: 'acme/app', url: `${receiver.url}/plain` }, 'alice');
      assert.match(plain.secret!, /^[A-Za-z0-9_-]{43}$/, 'a secret is generated and shown once');
      await installed.webhooks.create({ repository: 'acme/app', url: `${receiver.url}/distribution`, format: 'distribution', events: ['manifest.pushed', 'manifest.pulled', 'manifest.deleted', 'tag.deleted'] }, 'alice');
      await installed.webhooks.create({ namespace: 'acme', url: `${receiver.url}/slack`, format: 'slack', secret: '' }, 'alice');
      await installed.webhooks.create({ namespace: 'zeta', url: `${receiver.url}/elsewhere` }, 'zed');

      // The registry's own events, in two repositories, interleaved.
      const v1 = await push('acme/app', 'v1', 'one');
      await push('acme/db', 'v1', 'db');
      await registry.getManifest('acme/app', 'v1', { name: 'alice', kind: 'user' });
      const v2 = await push('acme/app', 'v1', 'two');
      await registry.deleteManifest('acme/app', 'v1');
      await registry.deleteManifest('acme/app', v1);
      // Events whose publishers live in other features, published on the bus as they will be.
      bus.publish('scan.completed', { repository: 'acme/app', digest: v2, grade: 'B' });
      bus.publish('vulnerability.found', { repository: 'acme/app', digest: v2, advisories: ['CVE-2024-0001'], grade: 'D', previousGrade: 'B' });
      bus.publish('grade.dropped', { repository: 'acme/app', digest: v2, from: 'B', to: 'D' });
      bus.publish('signature.added', { repository: 'acme/app', digest: v2, signer: 'ci@acme', format: 'cosign' });
      bus.publish('quota.warning', { namespace: 'acme', used: 900, limit: 1000 });
      bus.publish('quota.exceeded', { namespace: 'acme', used: 990, limit: 1000, attempted: 50 });
      bus.publish('tag.expired', { repository: 'acme/db', tag: 'v1', digest: v2 });
      bus.publish('retention.run', { scope: 'acme/app', removed: ['old'], dryRun: false });
      bus.publish('blob.mounted', { repository: 'acme/app', digest: v2, from: 'acme/db', size: 10 });
      bus.publish('mirror.sync.started', { repository: 'acme/app', source: 'docker.io/library/alpine' });
      bus.publish('mirror.sync.succeeded', { repository: 'acme/app', source: 'docker.io/library/alpine', tags: 1, bytes: 10 });
      bus.publish('mirror.sync.failed', { repository: 'acme/app', source: 'docker.io/library/alpine', error: 'x' });
      bus.publish('manifest.pushed', { repository: 'other/app', digest: v2, mediaType: MediaType.OciManifest, size: 1 });
      await bus.drain();

      const expected = (await Promise.resolve(heardFor(all.id))) as number;
      await receiver.waitFor(() => receiver.on('/all').length >= expected, 20_000, `${expected} deliveries to /all`);
      await receiver.waitFor(() => receiver.on('/quality').length >= 2, 20_000, 'the quality notices');
      const received = receiver.on('/all');
      assert.equal(received.length, expected);
      const events = received.map((request) => {
        assert.equal(request.headers['content-type'], 'application/cloudevents+json; charset=utf-8');
        assert.ok(verifyWebhookSignature(SECRET, request.headers['custody-signature'] as string, request.body), 'a valid HMAC');
        assert.equal(verifyWebhookSignature('another-secret-of-some-length', request.headers['custody-signature'] as string, request.body), false);
        assert.equal(verifyWebhookSignature(SECRET, request.headers['custody-signature'] as string, `${request.body} `), false);
        return JSON.parse(request.body) as CloudEventBody;
      });
      const types = new Set(events.map((event) => event.type.replace(/^io\.custody\./, '')));
      for (const type of WEBHOOK_EVENT_TYPES) assert.ok(types.has(type), `received ${type}`);
      for (const event of events) {
        assert.equal(event.specversion, '1.0');
        assert.match(event.id, /^[0-9a-f-]{36}$/);
        assert.match(event.source, /^https:\/\/registry\.example\/acme(\/|$)/);
        assert.ok(!Number.isNaN(Date.parse(event.time)));
        assert.equal(event.datacontenttype, 'application/json');
      }
      const pushed = events.find((event) => event.type === 'io.custody.manifest.pushed')!;
      assert.equal(pushed.subject, 'acme/app:v1');
      assert.deepEqual((pushed.data.actor as { name: string }).name, 'alice');
      assert.equal(events.filter((event) => event.data.repository === 'other/app').length, 0, 'another namespace is not heard');
      assert.deepEqual(
        orderIn(received, 'acme/app'),
        [
          'upload.completed', 'manifest.pushed', 'tag.moved', 'manifest.pulled', 'upload.completed', 'manifest.pushed', 'tag.moved', 'tag.deleted', 'manifest.deleted',
          'scan.completed', 'vulnerability.found', 'grade.dropped', 'signature.added', 'retention.run', 'blob.mounted', 'mirror.sync.started', 'mirror.sync.succeeded', 'mirror.sync.failed',
        ],
        'in the order they happened',
      );
      assert.deepEqual(orderIn(received, 'acme/db'), ['upload.completed', 'manifest.pushed', 'tag.moved', 'tag.expired']);

      // A hook without a filter hears everything but pulls (opt-in).
      await receiver.waitFor(() => receiver.on('/plain').length >= 17, 20_000, 'the unfiltered hook');
      const plainTypes = receiver.on('/plain').map((request) => (JSON.parse(request.body) as CloudEventBody).type);
      assert.ok(!plainTypes.includes('io.custody.manifest.pulled'));
      assert.ok(plainTypes.includes('io.custody.manifest.pushed'));
      assert.equal(receiver.on('/elsewhere').length, 0);

      // Distribution's consumers read their envelope unchanged.
      await receiver.waitFor(() => receiver.on('/distribution').length >= 5, 20_000, 'the Distribution envelopes');
      const envelopes = receiver.on('/distribution').map((request) => {
        assert.equal(request.headers['content-type'], DISTRIBUTION_CONTENT_TYPE);
        return parseDistributionEnvelope(request.body);
      });
      const actions = envelopes.flatMap((envelope) => envelope.events.map((event) => `${event.action} ${event.target.tag ?? event.target.digest}`));
      assert.deepEqual(actions, ['push v1', 'pull v1', 'push v1', 'delete v1', `delete ${v1}`]);
      const first = envelopes[0]!.events[0]!;
      assert.equal(first.target.mediaType, MediaType.OciManifest);
      assert.equal(first.target.repository, 'acme/app');
      assert.equal(first.target.digest, v1);
      assert.equal(first.target.url, `https://registry.example/v2/acme/app/manifests/${v1}`);
      assert.equal(first.actor.name, 'alice');
      assert.equal(first.source.addr, 'registry.example');

      // Slack gets text; unsigned when the hook has no secret.
      const slack = receiver.on('/slack').map((request) => JSON.parse(request.body) as { text: string });
      assert.ok(slack.some((message) => message.text.startsWith('Pushed acme/app:v1 (sha256:')));
      assert.equal(receiver.on('/slack')[0]!.headers['custody-signature'], undefined);

      // quality.notifyUrl is a hook: its notices keep their shape.
      const notices = receiver.on('/quality').map((request) => JSON.parse(request.body) as Record<string, unknown>);
      assert.deepEqual(notices.map((notice) => notice.event), ['new-critical', 'grade-dropped']);
      assert.deepEqual(notices[0], { event: 'new-critical', repository: 'acme/app', digest: v2, grade: 'D', previousGrade: 'B', advisories: ['CVE-2024-0001'], at: notices[0]!.at });
      assert.deepEqual(notices[1], { event: 'grade-dropped', repository: 'acme/app', digest: v2, grade: 'D', previousGrade: 'B', advisories: [], at: notices[1]!.at });

      // The delivery log says what happened (recorded just after the receiver answered).
      let log = await installed.webhooks.deliveries(all.id, 100);
      for (let wait = 0; wait < 100 && log.some((entry) => entry.status !== 'delivered'); wait++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        log = await installed.webhooks.deliveries(all.id, 100);
      }
      assert.equal(log.length, expected);
      assert.ok(log.every((entry) => entry.status === 'delivered' && entry.responseCode === 204 && entry.latencyMs !== null && entry.attempts === 1));
    });

    it('retries a failing receiver with backoff, disables the hook after repeated failures, and sends a test event on demand', async () => {
      let failing = true;
      receiver.status = (request) => (request.path === '/flaky' && failing ? 503 : 204);
      const { webhook } = await installed.webhooks.create({ repository: 'acme/flaky', url: `${receiver.url}/flaky`, secret: SECRET }, 'alice');
      bus.publish('tag.deleted', { repository: 'acme/flaky', tag: 'a' });
      bus.publish('tag.deleted', { repository: 'acme/flaky', tag: 'b' });
      await bus.drain();
      for (let wait = 0; wait < 200 && (await installed.store.get(webhook.id))!.enabled; wait++) await new Promise((resolve) => setTimeout(resolve, 25));
      const disabled = (await installed.store.get(webhook.id))!;
      assert.equal(disabled.enabled, false, 'disabled after 4 failures in a row');
      assert.match(disabled.disabledReason!, /4 failed deliveries in a row/);
      const log = await installed.webhooks.deliveries(webhook.id, 10);
      assert.deepEqual(log.map((entry) => [entry.status, entry.attempts, entry.responseCode]), [['pending', 0, null], ['pending', 4, 503]], 'the second waits behind the first');

      // A test event is sent once, now, even to a disabled hook, and reports the answer.
      const failed = await installed.webhooks.sendTest(webhook.id, 'alice');
      assert.equal(failed.status, 'failed');
      assert.equal(failed.responseCode, 503);
      failing = false;
      const test = await installed.webhooks.sendTest(webhook.id, 'alice');
      assert.equal(test.status, 'delivered');
      assert.equal(test.responseCode, 204);
      assert.ok(test.latencyMs !== null && test.latencyMs >= 0);
      const testBody = JSON.parse(receiver.on('/flaky').at(-1)!.body) as CloudEventBody;
      assert.equal(testBody.type, 'io.custody.webhook.test');

      // Re-enabled, it resumes where it stopped, in order.
      await installed.webhooks.setEnabled(webhook.id, true);
      await receiver.waitFor(() => receiver.on('/flaky').length >= 3, 10_000, 'the resumed deliveries');
      assert.deepEqual(
        receiver.on('/flaky').slice(1).map((request) => (JSON.parse(request.body) as CloudEventBody).data.tag),
        ['a', 'b'],
      );
    });

    it('signs the timestamp with the body: an old or altered signature does not verify', () => {
      const body = '{"hello":"world"}';
      const now = Date.now();
      const header = signWebhook(SECRET, body, now);
      assert.match(header, /^t=\d+,v1=[0-9a-f]{64}$/);
      assert.ok(verifyWebhookSignature(SECRET, header, body, { nowMs: now }));
      assert.equal(verifyWebhookSignature(SECRET, header, body, { nowMs: now + 600_000 }), false, 'replayed ten minutes later');
      assert.equal(verifyWebhookSignature(SECRET, header.replace(/t=\d+/, `t=${Math.floor(now / 1000) + 1}`), body, { nowMs: now }), false);
      assert.equal(verifyWebhookSignature(SECRET, 'garbage', body), false);
      assert.equal(verifyWebhookSignature(SECRET, undefined, body), false);
    });

    /** How many events the namespace hook with every type should get (counted from the log of persisted deliveries). */
    async function heardFor(id: number): Promise<number> {
      return (await installed.store.deliveries(id, { limit: 1000 })).length;
    }
  });
}

/** Event types received for one repository, in arrival order. */
function orderIn(received: readonly ReceivedRequest[], repository: string): DomainEventType[] {
  return received
    .map((request) => JSON.parse(request.body) as CloudEventBody)
    .filter((event) => event.data.repository === repository || (event.type === 'io.custody.retention.run' && event.data.scope === repository))
    .map((event) => event.type.replace(/^io\.custody\./, '') as DomainEventType);
}

describe('webhooks', () => {
  let directory: string;
  let database: TestDatabase | undefined;
  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'custody-webhooks-db-'));
    database = await createTestDatabase();
  });
  after(async () => {
    await database?.drop();
    await rm(directory, { recursive: true, force: true });
  });
  webhookSuite('sqlite', async () => new SqliteClient(join(directory, `${Math.random().toString(36).slice(2)}.db`)));
  webhookSuite('postgres', async () => (await openSchemaClient(database!.url)).client);
});
