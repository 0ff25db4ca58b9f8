// Explore's search index through `custody serve`: two replicas on one PostgreSQL database
// (and one storage directory), authentication on. A push through one replica is found by
// the next search on it and, within moments, on the other (the row is in SQL, not in a
// process); a scan and a deletion change what is found; a private repository is never
// shown, counted or offered as a namespace to an outsider; the rebuild job fills rows the
// index lacks after a start.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_PASSWORD, startCustody, type CustodyServer } from './support/custody-server.ts';
import { createTestDatabase, type TestDatabase } from './support/postgres.ts';
import { sha256, OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST } from './support/images.ts';
import { LAYER_A } from './support/hostile-images.ts';
import { PostgresClient } from '../src/metadata/postgres-client.ts';

interface Found {
  total: number;
  items: { name: string; latest: { tag: string; status: string } | null }[];
  namespaces: string[];
  platforms: { os: string[]; arch: string[] };
}

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const ADMIN = basic('admin', ADMIN_PASSWORD);
const BOB = basic('bob', 'bob-password-1');

describe('catalog search index across replicas', () => {
  let database: TestDatabase;
  let dataDir: string;
  let a: CustodyServer;
  let b: CustodyServer;

  async function call(server: CustodyServer, path: string, auth: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${server.url}${path}`, { ...init, headers: { authorization: auth, ...(init.headers ?? {}) } });
  }

  async function search(server: CustodyServer, auth: string, query: string): Promise<Found> {
    const response = await call(server, `/api/v1/catalog/repositories?${query}`, auth);
    assert.equal(response.status, 200, await response.clone().text());
    return (await response.json()) as Found;
  }

  /** Polls until `check` holds (another replica's row lands once its write commits). */
  async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!(await check())) {
      if (Date.now() > deadline) assert.fail(`not within 10 s: ${what}`);
      await new Promise((done) => setTimeout(done, 100));
    }
  }

  async function pushImage(server: CustodyServer, repository: string, tag: string, vendor: string, architecture: string): Promise<string> {
    const config = Buffer.from(JSON.stringify({ architecture, os: 'linux', config: { Labels: { 'org.opencontainers.image.vendor': vendor } }, rootfs: { type: 'layers', diff_ids: [] } }));
    for (const body of [config, LAYER_A]) {
      const response = await call(server, `/v2/${repository}/blobs/uploads/?digest=${sha256(body)}`, ADMIN, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
      assert.equal(response.status, 201, await response.text());
    }
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: sha256(config), size: config.length },
      layers: [{ mediaType: OCI_LAYER_GZIP, digest: sha256(LAYER_A), size: LAYER_A.length }],
    }));
    const response = await call(server, `/v2/${repository}/manifests/${tag}`, ADMIN, { method: 'PUT', body: manifest, headers: { 'content-type': OCI_MANIFEST } });
    assert.equal(response.status, 201, await response.text());
    return sha256(manifest);
  }

  before(async () => {
    database = await createTestDatabase();
    dataDir = await mkdtemp(join(tmpdir(), 'custody-catalog-index-'));
    const env = { CUSTODY_DATABASE_URL: database.url };
    a = await startCustody({ auth: true, dataDir, env });
    b = await startCustody({ auth: true, dataDir, env });
    const created = await call(a, '/api/v1/users', ADMIN, { method: 'POST', body: JSON.stringify({ name: 'bob', password: 'bob-password-1' }), headers: { 'content-type': 'application/json' } });
    assert.equal(created.status, 201, await created.text());
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await rm(dataDir, { recursive: true, force: true });
    await database?.drop();
  });

  it('finds a push at once on its replica and soon on the other; a scan and a deletion keep it current; outsiders never count it', async () => {
    const digest = await pushImage(a, 'admin/needle-app', 'v1', 'Haystack Corp', 'arm64');
    await pushImage(a, 'admin/other', 'v1', 'Someone Else', 'amd64');
    // The pushing replica: found by the very next search, by vendor and by architecture.
    const own = await search(a, ADMIN, 'q=haystack');
    assert.deepEqual({ total: own.total, names: own.items.map((item) => item.name), tag: own.items[0]?.latest?.tag }, { total: 1, names: ['admin/needle-app'], tag: 'v1' });
    assert.deepEqual((await search(a, ADMIN, 'arch=arm64')).items.map((item) => item.name), ['admin/needle-app']);
    // The other replica reads the same rows.
    await eventually('replica b finds the push', async () => (await search(b, ADMIN, 'q=haystack')).total === 1);
    assert.deepEqual((await search(b, ADMIN, '')).platforms, { os: ['linux'], arch: ['amd64', 'arm64'] });

    // An outsider: private repositories are neither listed, counted nor offered as a namespace.
    for (const server of [a, b]) {
      const outsider = await search(server, BOB, 'q=haystack');
      assert.deepEqual({ total: outsider.total, items: outsider.items, namespaces: outsider.namespaces }, { total: 0, items: [], namespaces: [] });
      assert.equal((await search(server, BOB, '')).total, 0);
      assert.equal((await search(server, BOB, 'namespace=admin')).total, 0);
    }
    // Made public, it is found by the outsider too (the rule is read at query time).
    const opened = await call(b, '/api/v1/repositories/admin/needle-app', ADMIN, { method: 'PATCH', body: JSON.stringify({ visibility: 'public' }), headers: { 'content-type': 'application/json' } });
    assert.equal(opened.status, 200, await opened.text());
    const now = await search(a, BOB, '');
    assert.deepEqual({ total: now.total, names: now.items.map((item) => item.name), namespaces: now.namespaces }, { total: 1, names: ['admin/needle-app'], namespaces: ['admin'] });

    // The scan's end (scan.completed) rewrites the row: the grade filter sees its result.
    await eventually('the image is scanned', async () => {
      const status = (await (await call(a, `/api/v1/repositories/admin/needle-app/-/manifests/${digest}/status`, ADMIN)).json()) as { status: string };
      return status.status === 'indexed' || status.status === 'failed';
    });
    await eventually('the scanned state is on the index row', async () => {
      const found = await search(b, ADMIN, 'q=haystack');
      return found.items[0]?.latest?.status !== undefined && found.items[0].latest.status !== 'queued' && found.items[0].latest.status !== 'not indexed';
    });

    // Deleted through the other replica: no longer found by its vendor, anywhere.
    const deleted = await call(b, `/v2/admin/needle-app/manifests/${digest}`, ADMIN, { method: 'DELETE' });
    assert.equal(deleted.status, 202, await deleted.text());
    assert.equal((await search(b, ADMIN, 'q=haystack')).total, 0);
    await eventually('replica a no longer finds the deleted image', async () => (await search(a, ADMIN, 'q=haystack')).total === 0);
    assert.deepEqual((await search(a, ADMIN, 'arch=arm64')).total, 0);
  });

  it('fills rows the index lacks (data from before it) by the rebuild job soon after start', async () => {
    assert.equal((await search(a, ADMIN, 'q=someone')).total, 1);
    const sql = new PostgresClient({ url: database.url });
    try {
      await sql.run('DELETE FROM catalog_index');
    } finally {
      await sql.close();
    }
    assert.equal((await search(a, ADMIN, 'q=someone')).total, 0);
    // Restarted (the job's lease is given back at stop, so the new process runs it).
    await a.stop();
    await b.stop();
    a = await startCustody({ auth: true, dataDir, env: { CUSTODY_DATABASE_URL: database.url } });
    b = await startCustody({ auth: true, dataDir, env: { CUSTODY_DATABASE_URL: database.url } });
    await eventually('the rebuild job fills the row again', async () => (await search(b, ADMIN, 'q=someone')).total === 1);
  });
});
