// Webhooks through `custody serve`, on SQLite and PostgreSQL: a hook created with
// `custody admin webhook create`, a receiver that is down while images are pushed (by
// skopeo and over the API), pulled and deleted, a server restart in between, and then the
// receiver comes up and gets every event, signed, in order per repository, exactly once.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_PASSWORD, runCustody, startCustody, type CustodyServer } from './support/custody-server.ts';
import { OciClient, sha256 } from './support/oci-client.ts';
import { containersConfig, requireTool, runOk, type ContainersConfig } from './support/tools.ts';
import { debianLayout, layoutImage, ociRef, OCI_CONFIG, OCI_MANIFEST } from './support/images.ts';
import { createTestDatabase, type TestDatabase } from './support/postgres.ts';
import { WebhookReceiver } from './support/webhook-receiver.ts';
import { verifyWebhookSignature } from '../src/webhooks/signature.ts';

const SECRET = 'serve-test-secret-0123456789abcdef';
const EVENTS = 'manifest.pushed,tag.moved,tag.deleted,manifest.deleted,manifest.pulled';

interface Heard {
  readonly type: string;
  readonly repository: string;
  readonly what: string;
  readonly id: string;
}

function serveSuite(label: string, databaseUrl: () => Promise<string | undefined>): void {
  describe(`webhooks through custody serve: ${label}`, () => {
    let work: string;
    let dataDir: string;
    let env: Record<string, string>;
    let server: CustodyServer | undefined;
    let skopeoBin: string;
    let containers: ContainersConfig;
    const receiver = new WebhookReceiver();

    const start = async (): Promise<CustodyServer> => {
      server = await startCustody({ dataDir, env });
      return server;
    };
    const admin = async (args: readonly string[]): Promise<string> => {
      const result = await runCustody(['admin', ...args, '--username', 'admin', '--password-stdin'], {
        env: { CUSTODY_REGISTRY: server!.url, CUSTODY_TOKEN: '', HOME: work, REGISTRY_AUTH_FILE: join(work, 'no-auth.json') },
        input: `${ADMIN_PASSWORD}\n`,
      });
      assert.equal(result.code, 0, `custody admin ${args.join(' ')}: ${result.stderr}`);
      return result.stdout;
    };

    before(async () => {
      skopeoBin = requireTool('skopeo');
      work = await mkdtemp(join(tmpdir(), 'custody-webhooks-serve-'));
      dataDir = join(work, 'data');
      containers = await containersConfig(join(work, 'containers'));
      const url = await databaseUrl();
      env = {
        CUSTODY_ADMIN_PASSWORD: ADMIN_PASSWORD,
        CUSTODY_WEBHOOKS_RETRY_BASE: '100ms',
        CUSTODY_WEBHOOKS_RETRY_MAX: '400ms',
        CUSTODY_WEBHOOKS_DISPATCH_INTERVAL: '100ms',
        CUSTODY_WEBHOOKS_DISABLE_AFTER: '100000',
        CUSTODY_QUALITY_ENABLED: 'false',
        ...(url ? { CUSTODY_DATABASE_URL: url } : {}),
      };
      // The receiver's port is taken, then it goes down: deliveries meet a closed port.
      await receiver.start();
      await receiver.stop();
    });
    after(async () => {
      await server?.stop();
      await receiver.stop();
      await rm(work, { recursive: true, force: true });
    });

    async function pushSmall(client: OciClient, repository: string, tag: string, seed: string): Promise<string> {
      const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, seed });
      assert.equal((await client.pushBlob(repository, config)).status, 201);
      const manifest = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: sha256(config), size: Buffer.byteLength(config) }, layers: [] });
      const answer = await client.pushManifest(repository, tag, manifest, OCI_MANIFEST);
      assert.equal(answer.status, 201, answer.text());
      return sha256(manifest);
    }

    it('delivers everything in order per repository after the receiver was down and the server restarted', async () => {
      let running = await start();
      const created = await admin(['webhook', 'create', `${receiver.url}/hook?token=kept-out-of-logs`, '--namespace', 'acme', '--events', EVENTS, '--secret', SECRET, '--json']);
      const hookId = (JSON.parse(created) as { webhook: { id: number } }).webhook.id;
      assert.match(await admin(['webhook', 'list', '--namespace', 'acme']), new RegExp(`^${hookId} +acme +cloudevents +${EVENTS.replace(/\./g, '\\.')} +http://127\\.0\\.0\\.1:\\d+/… +enabled`, 'm'));

      let client = new OciClient(running.url);
      const expected: string[] = [];
      const a1 = await pushSmall(client, 'acme/app', 'v1', 'a1');
      expected.push(`manifest.pushed acme/app v1`, `tag.moved acme/app v1`);
      const d1 = await pushSmall(client, 'acme/db', 'one', 'd1');
      expected.push(`manifest.pushed acme/db one`, `tag.moved acme/db one`);
      assert.equal((await client.request('GET', '/v2/acme/app/manifests/v1', { headers: { Accept: OCI_MANIFEST } })).status, 200);
      expected.push(`manifest.pulled acme/app v1`);
      const debian = await layoutImage(debianLayout(), 'bookworm-minbase');
      await runOk(skopeoBin, ['--policy', containers.policy, 'copy', '--dest-tls-verify=false', ociRef(debianLayout(), 'bookworm-minbase'), `docker://${running.host}/acme/app:v2`], { env: containers.env, timeoutMs: 180_000 });
      expected.push(`manifest.pushed acme/app v2`, `tag.moved acme/app v2`);
      await pushSmall(client, 'other/app', 'x', 'not heard');

      // The receiver is down: attempts fail, are logged and retried.
      await new Promise((resolve) => setTimeout(resolve, 600));
      const log = await admin(['webhook', 'deliveries', String(hookId)]);
      assert.match(log, /manifest\.pushed +pending +[1-9]\d* +- +\d+ ms +.*ECONNREFUSED/);
      assert.ok(!running.logs.some((line) => line.includes('kept-out-of-logs')), 'the URL query is never logged');
      assert.ok(running.logs.some((line) => line.includes('webhooks: delivery failed; retrying')));

      // Restart while deliveries are pending; more happens after it.
      assert.equal(await running.stop(), 0);
      running = await start();
      client = new OciClient(running.url);
      assert.equal((await client.request('DELETE', '/v2/acme/app/manifests/v1')).status, 202);
      expected.push(`tag.deleted acme/app v1`);
      const d2 = await pushSmall(client, 'acme/db', 'one', 'd2');
      expected.push(`manifest.pushed acme/db one`, `tag.moved acme/db one`);
      assert.equal((await client.request('DELETE', `/v2/acme/db/manifests/${d1}`)).status, 202);
      expected.push(`manifest.deleted acme/db ${d1}`);
      assert.equal((await client.request('DELETE', `/v2/acme/app/manifests/${a1}`)).status, 202);
      expected.push(`manifest.deleted acme/app ${a1}`);

      // The receiver comes back: everything arrives.
      await receiver.start();
      await receiver.waitFor(() => receiver.on(`/hook?token=kept-out-of-logs`).length >= expected.length, 60_000, `${expected.length} events`);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const heard: Heard[] = receiver.on('/hook?token=kept-out-of-logs').map((request) => {
        assert.ok(verifyWebhookSignature(SECRET, request.headers['custody-signature'] as string, request.body), 'a valid HMAC');
        const event = JSON.parse(request.body) as { id: string; type: string; data: { repository: string; tag?: string; reference?: string; digest: string } };
        return { id: event.id, type: event.type.replace('io.custody.', ''), repository: event.data.repository, what: event.data.tag ?? event.data.reference ?? event.data.digest };
      });
      assert.equal(new Set(heard.map((event) => event.id)).size, heard.length, 'each event once');
      for (const repository of ['acme/app', 'acme/db']) {
        assert.deepEqual(
          heard.filter((event) => event.repository === repository).map((event) => `${event.type} ${event.repository} ${event.what}`),
          expected.filter((line) => line.split(' ')[1] === repository),
          `${repository} in order`,
        );
      }
      assert.equal(heard.length, expected.length);
      assert.ok(heard.some((event) => event.type === 'manifest.pushed' && event.what === 'v2'));
      assert.notEqual(d2, d1);
      assert.ok(debian.digest.startsWith('sha256:'));

      // The log shows them delivered; a test event reports its answer.
      const after = await admin(['webhook', 'deliveries', String(hookId), '--json']);
      const entries = JSON.parse(after) as { status: string; responseCode: number | null }[];
      assert.equal(entries.length, expected.length);
      assert.ok(entries.every((entry) => entry.status === 'delivered' && entry.responseCode === 204));
      const test = await runCustody(['admin', 'webhook', 'test', String(hookId), '--username', 'admin', '--password-stdin'], {
        env: { CUSTODY_REGISTRY: running.url, CUSTODY_TOKEN: '', HOME: work, REGISTRY_AUTH_FILE: join(work, 'no-auth.json') },
        input: `${ADMIN_PASSWORD}\n`,
      });
      assert.equal(test.code, 0, test.stderr);
      assert.match(test.stderr, /test event delivered \(HTTP 204, \d+ ms\)/);
      await admin(['webhook', 'delete', String(hookId)]);
      assert.equal((await admin(['webhook', 'list', '--namespace', 'acme'])).trim().split('\n').length, 1, 'only the header is left');
    });
  });
}

describe('webhooks through two replicas on one PostgreSQL database', () => {
  let database: TestDatabase | undefined;
  let work: string;
  const servers: CustodyServer[] = [];
  const receiver = new WebhookReceiver();
  before(async () => {
    database = await createTestDatabase();
    work = await mkdtemp(join(tmpdir(), 'custody-webhooks-replicas-'));
    await receiver.start();
  });
  after(async () => {
    for (const server of servers) await server.stop();
    await receiver.stop();
    await database?.drop();
    await rm(work, { recursive: true, force: true });
  });

  it('sends each event once, in order, whichever replica heard it', async () => {
    const env = {
      CUSTODY_ADMIN_PASSWORD: ADMIN_PASSWORD,
      CUSTODY_DATABASE_URL: database!.url,
      CUSTODY_QUALITY_ENABLED: 'false',
      CUSTODY_WEBHOOKS_DISPATCH_INTERVAL: '100ms',
    };
    servers.push(await startCustody({ dataDir: join(work, 'a'), env }), await startCustody({ dataDir: join(work, 'b'), env }));
    const created = await runCustody(['admin', 'webhook', 'create', `${receiver.url}/hook`, '--namespace', 'acme', '--events', 'manifest.pushed', '--secret', SECRET, '--username', 'admin', '--password-stdin'], {
      env: { CUSTODY_REGISTRY: servers[0]!.url, CUSTODY_TOKEN: '', HOME: work, REGISTRY_AUTH_FILE: join(work, 'no-auth.json') },
      input: `${ADMIN_PASSWORD}\n`,
    });
    assert.equal(created.code, 0, created.stderr);
    const tags: string[] = [];
    for (let index = 0; index < 16; index++) {
      const client = new OciClient(servers[index % 2]!.url);
      const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, index });
      assert.equal((await client.pushBlob('acme/app', config)).status, 201);
      const manifest = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: sha256(config), size: Buffer.byteLength(config) }, layers: [] });
      assert.equal((await client.pushManifest('acme/app', `t${index}`, manifest, OCI_MANIFEST)).status, 201);
      tags.push(`t${index}`);
      // Each replica persists what it heard within milliseconds; the order between replicas is the database's.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await receiver.waitFor(() => receiver.on('/hook').length >= tags.length, 30_000, 'the pushes of both replicas');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const heard = receiver.on('/hook').map((request) => {
      assert.ok(verifyWebhookSignature(SECRET, request.headers['custody-signature'] as string, request.body));
      return (JSON.parse(request.body) as { data: { tag: string } }).data.tag;
    });
    assert.deepEqual(heard, tags, 'each once, in order');
  });
});

describe('webhooks-serve', () => {
  let database: TestDatabase | undefined;
  after(async () => {
    await database?.drop();
  });
  serveSuite('sqlite', async () => undefined);
  serveSuite('postgres', async () => {
    database = await createTestDatabase();
    return database.url;
  });
});
