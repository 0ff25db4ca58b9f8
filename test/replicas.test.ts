// The proof that Custody runs as stateless replicas: two `custody serve` processes share
// one PostgreSQL database, one S3-compatible server (s3rver) and one Redis, behind a real
// HAProxy (Debian's) that sends each request to the next replica, started by this test
// with docs/haproxy.cfg itself. Through the balancer, skopeo and podman push and pull with
// identical digests; a chunked upload whose PATCHes alternate between the replicas
// completes; a replica killed with SIGKILL in the middle of a push costs the client one
// retry and leaves fsck clean; garbage collection on one replica while pushes go through
// the other loses nothing referenced; failed logins count across both replicas; and a
// permission revoked through one replica is refused by the other within one second.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3BlobStore } from '../src/storage/s3-blob-store.ts';
import type { Digest } from '../src/core/digest.ts';
import { ADMIN_PASSWORD, runCustody, startCustody, type CustodyServer } from './support/custody-server.ts';
import { buildLargeImageLayout, debianLayout, layoutEntry, layoutImage, ociRef, readLayoutBlob, sha256 } from './support/images.ts';
import { OciClient } from './support/oci-client.ts';
import { isolatedPodman } from './support/podman.ts';
import { createTestDatabase, type TestDatabase } from './support/postgres.ts';
import { startS3Server, S3_ACCESS_KEY, S3_SECRET_KEY, type S3TestServer } from './support/s3-server.ts';
import { containersConfig, freePort, http, requireTool, run, runOk, startCommand, waitFor, type ContainersConfig, type RunningCommand } from './support/tools.ts';
import { repoRoot } from './support/paths.ts';

const MiB = 1024 * 1024;
const REDIS_URL = process.env.CUSTODY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ADMIN = `admin:${ADMIN_PASSWORD}`;
const basic = (credentials: string): string => `Basic ${Buffer.from(credentials).toString('base64')}`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Replica {
  server: CustodyServer;
  readonly env: Record<string, string>;
}

/** Requests a replica logged (its JSON access log), as method and path. */
function served(server: CustodyServer): { method: string; path: string; status?: number }[] {
  const entries = [];
  for (const line of server.logs) {
    try {
      const entry = JSON.parse(line) as { msg?: string; message?: string; method?: string; path?: string; status?: number };
      if (entry.method !== undefined && entry.path !== undefined) entries.push({ method: entry.method, path: entry.path, ...(entry.status === undefined ? {} : { status: entry.status }) });
    } catch {
      // not JSON
    }
  }
  return entries;
}

describe('two replicas behind HAProxy on PostgreSQL, S3 and Redis', () => {
  let database: TestDatabase;
  let s3: S3TestServer;
  let bucket: string;
  let work: string;
  let containers: ContainersConfig;
  let skopeoBin: string;
  let balancer: RunningCommand;
  let lb: string;
  const replicas: Replica[] = [];
  let sharedEnv: Record<string, string>;
  /** A layer left unreferenced at the start, for the collector to find. */
  let garbage: { layer: string; config: string } | undefined;

  const skopeo = (args: readonly string[]) => runOk(skopeoBin, ['--policy', containers.policy, ...args], { env: containers.env, timeoutMs: 180_000 });
  const registry = (path: string): string => `docker://${lb}/${path}`;
  const api = (method: string, path: string, body?: unknown, credentials = ADMIN, base = `http://${lb}`) =>
    http(`${base}${path}`, { method, headers: { Authorization: basic(credentials), 'Content-Type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

  async function startReplica(index: number, port?: number): Promise<Replica> {
    // Only the first replica collects garbage online: "GC on one replica" below.
    const env = { ...sharedEnv, ...(index === 0 ? { CUSTODY_GC_ONLINE: 'true', CUSTODY_GC_INTERVAL: '1s', CUSTODY_GC_GRACE_PERIOD: '10s' } : {}) };
    const server = await startCustody({ env, auth: true, ...(port === undefined ? {} : { port }) });
    return { server, env };
  }

  function blobStore(): S3BlobStore {
    return new S3BlobStore({ bucket, region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY }, redirect: false });
  }

  before(async () => {
    skopeoBin = requireTool('skopeo');
    const haproxy = requireTool('haproxy');
    requireTool('podman');
    database = await createTestDatabase();
    s3 = await startS3Server();
    bucket = await s3.createBucket();
    work = await mkdtemp(join(tmpdir(), 'custody-replicas-'));
    containers = await containersConfig(join(work, 'containers'));
    sharedEnv = {
      CUSTODY_DATABASE_URL: database.url,
      CUSTODY_STORAGE_DRIVER: 's3',
      CUSTODY_STORAGE_S3_BUCKET: bucket,
      CUSTODY_STORAGE_S3_ENDPOINT: s3.endpoint,
      CUSTODY_STORAGE_S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: S3_ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: S3_SECRET_KEY,
      AWS_REGION: 'us-east-1',
      CUSTODY_REDIS_URL: REDIS_URL,
      CUSTODY_AUTH_LOGIN_MAX_FAILURES: '4',
      // The image quality pipeline is proven elsewhere; here it would only share two cores.
      CUSTODY_QUALITY_ENABLED: 'false',
      // Collection itself is under test: no time-machine window holds deleted content back
      // (the window is proven in lifecycle-serve.test.ts).
      CUSTODY_LIFECYCLE_TIME_MACHINE: '0s',
    };
    // The first replica migrates the fresh database; the second finds it migrated.
    replicas.push(await startReplica(0));
    replicas.push(await startReplica(1));
    const port = await freePort();
    lb = `127.0.0.1:${port}`;
    balancer = startCommand(haproxy, ['-f', join(repoRoot, 'docs', 'haproxy.cfg'), '-db'], {
      env: { CUSTODY_LB_BIND: lb, CUSTODY_REPLICA_1: replicas[0]!.server.host, CUSTODY_REPLICA_2: replicas[1]!.server.host, CUSTODY_LB_STATE: work },
      timeoutMs: 3_600_000,
    });
    // Both replicas in rotation: requests alternate between them.
    await waitFor('both replicas behind the balancer', async () => {
      const before = replicas.map((replica) => served(replica.server).length);
      for (let i = 0; i < 4; i++) if ((await http(`http://${lb}/v2/`)).status !== 401) return false;
      return replicas.every((replica, index) => served(replica.server).length >= before[index]! + 2);
    }, 30_000, 200);
  });

  after(async () => {
    balancer?.child.kill('SIGTERM');
    await balancer?.done.catch(() => {});
    for (const replica of replicas) await replica.server.dispose();
    await s3?.close();
    await database?.drop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('skopeo and podman push and pull through the balancer with identical digests, every replica serving', async () => {
    const counts = replicas.map((replica) => served(replica.server).length);
    // Garbage first, so it is old enough for the collector by the time pushes race it.
    const junk = await buildLargeImageLayout(join(work, 'junk'), 1, 'junk');
    await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', ADMIN, junk.ref, registry('admin/junk:1')]);
    assert.equal((await api('DELETE', `/v2/admin/junk/manifests/${junk.manifestDigest}`)).status, 202);
    garbage = { layer: junk.layerDigest, config: junk.configDigest };

    const debian = await layoutImage(debianLayout(), 'bookworm-curl');
    await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', ADMIN, ociRef(debianLayout(), 'bookworm-curl'), registry('admin/debian:curl')]);
    const out = join(work, 'pulled-skopeo');
    await skopeo(['copy', '--src-tls-verify=false', '--src-creds', ADMIN, registry('admin/debian:curl'), ociRef(out, 'x')]);
    assert.equal((await layoutEntry(out, 'x')).digest, debian.digest, 'skopeo pulls back the digest it pushed');
    const pulled = await layoutImage(out, 'x');
    for (const blob of [pulled.manifest.config, ...pulled.manifest.layers]) assert.equal(sha256(await readLayoutBlob(out, blob.digest)), blob.digest);

    // podman: pull through the balancer, push under another name, pull that back.
    const podman = await isolatedPodman(join(work, 'podman'));
    const p = (args: readonly string[]) => runOk(podman.bin, [...podman.globals, ...args], { env: podman.env, timeoutMs: 180_000 });
    await p(['login', '--tls-verify=false', '--username', 'admin', '--password', ADMIN_PASSWORD, lb]);
    await p(['pull', '--signature-policy', podman.config.policy, '--tls-verify=false', `${lb}/admin/debian:curl`]);
    await p(['tag', `${lb}/admin/debian:curl`, `${lb}/admin/podman:1`]);
    const digestFile = join(work, 'podman.digest');
    await p(['push', '--signature-policy', podman.config.policy, '--tls-verify=false', '--digestfile', digestFile, `${lb}/admin/podman:1`]);
    const pushed = (await readFile(digestFile, 'utf8')).trim();
    await p(['rmi', '--force', `${lb}/admin/podman:1`, `${lb}/admin/debian:curl`]);
    await p(['pull', '--signature-policy', podman.config.policy, '--tls-verify=false', `${lb}/admin/podman:1`]);
    const inspected = JSON.parse((await p(['image', 'inspect', `${lb}/admin/podman:1`])).stdout) as { Digest: string }[];
    assert.equal(inspected[0]!.Digest, pushed, 'podman pulls back the digest it pushed');
    const viaSkopeo = JSON.parse((await skopeo(['inspect', '--raw', '--tls-verify=false', '--creds', ADMIN, registry('admin/podman:1')])).stdout) as object;
    assert.ok(viaSkopeo);
    const digestViaSkopeo = (await skopeo(['inspect', '--format', '{{.Digest}}', '--tls-verify=false', '--creds', ADMIN, registry('admin/podman:1')])).stdout.trim();
    assert.equal(digestViaSkopeo, pushed);

    // Both replicas did real work: tokens minted on one were accepted by the other.
    for (const [index, replica] of replicas.entries()) {
      const entries = served(replica.server).slice(counts[index]);
      assert.ok(entries.filter((entry) => entry.path.startsWith('/v2/admin/')).length > 10, `replica ${index + 1} served ${entries.length} requests`);
      assert.ok(entries.some((entry) => entry.method === 'PUT' || entry.method === 'PATCH'), `replica ${index + 1} took part in pushes`);
    }
  });

  it('a chunked upload whose PATCHes alternate between the replicas completes', async () => {
    const client = new OciClient(`http://${lb}`);
    const headers = { Authorization: basic(ADMIN) };
    const blob = randomBytes(11 * MiB + 5);
    const digest = sha256(blob);
    const started = await client.request('POST', '/v2/admin/chunked/blobs/uploads/', { headers });
    assert.equal(started.status, 202, started.text());
    let location = started.location();
    const id = location.split('/').pop()!.split('?')[0]!;
    let offset = 0;
    for (const size of [1, 3 * MiB, 64 * 1024, 6 * MiB, 7, 1 * MiB]) {
      const chunk = blob.subarray(offset, offset + size);
      const patched = await client.request('PATCH', location, { body: chunk, headers: { ...headers, 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${offset + chunk.length - 1}` } });
      assert.equal(patched.status, 202, patched.text());
      offset += chunk.length;
      assert.equal(patched.header('range'), `0-${offset - 1}`);
      location = patched.location();
    }
    const done = await client.request('PUT', location, { query: { digest }, body: blob.subarray(offset), headers: { ...headers, 'Content-Type': 'application/octet-stream' } });
    assert.equal(done.status, 201, done.text());
    // Access log lines reach us through the replicas' stdout, a moment after the answers.
    await waitFor('the PUT in an access log', () => replicas.some((replica) => served(replica.server).some((entry) => entry.method === 'PUT' && entry.path.includes(id))), 5_000);
    const patchesBy = replicas.map((replica) => served(replica.server).filter((entry) => entry.method === 'PATCH' && entry.path.includes(id)).length);
    assert.deepEqual(patchesBy, [3, 3], 'the six PATCHes alternated between the replicas');
    const fetched = await http(`http://${lb}/v2/admin/chunked/blobs/${digest}`, { headers });
    assert.equal(fetched.status, 200);
    assert.ok(fetched.body.equals(blob), 'the blob comes back intact');
  });

  it('a replica killed with SIGKILL in the middle of a push: the retry through the balancer succeeds and fsck is clean', async () => {
    const large = await buildLargeImageLayout(join(work, 'large'), 48, 'large');
    // The second replica: the first one collects garbage all along (gc.online), which a
    // crash in the middle of a sweep would interrupt (docs/deployment.md, "What a replica may lose").
    const victim = replicas[1]!;
    const before = served(victim.server).length;
    const push = startCommand(skopeoBin, ['--policy', containers.policy, 'copy', '--retry-times', '0', '--dest-tls-verify=false', '--dest-creds', ADMIN, large.ref, registry('admin/large:1')], { env: containers.env, timeoutMs: 180_000 });
    // Kill the replica as soon as the push reached it.
    await waitFor('the push to reach the replica', () => served(victim.server).slice(before).some((entry) => entry.path.startsWith('/v2/admin/large/blobs/uploads')), 60_000, 5);
    await sleep(150);
    await victim.server.kill();
    const first = await push.done;
    // The client retries (skopeo's own retries, or the user running it again): through
    // the balancer, which takes the dead replica out of rotation.
    if (first.code !== 0) await skopeo(['copy', '--retry-times', '3', '--dest-tls-verify=false', '--dest-creds', ADMIN, large.ref, registry('admin/large:1')]);
    const out = join(work, 'pulled-large');
    await skopeo(['copy', '--src-tls-verify=false', '--src-creds', ADMIN, registry('admin/large:1'), ociRef(out, 'x')]);
    assert.equal((await layoutEntry(out, 'x')).digest, large.manifestDigest);
    assert.equal(sha256(await readLayoutBlob(out, large.layerDigest)), large.layerDigest);
    // The replica comes back on its port, into the rotation.
    victim.server = (await startReplica(1, victim.server.port)).server;
    const fsck = await runCustody(['fsck', '--data-dir', victim.server.dataDir], { env: victim.env });
    assert.equal(fsck.code, 0, `fsck:\n${fsck.stdout}${fsck.stderr}`);
    assert.match(fsck.stdout, /^ok: [1-9]\d* manifests/m);
  });

  it('garbage collection on one replica while pushes go through the other loses nothing referenced', async () => {
    assert.ok(garbage, 'the first test left garbage');
    const other = replicas[1]!.server;
    const store = blobStore();
    try {
      const pushedDuring: { name: string; digest: string }[] = [];
      let collected = false;
      for (let round = 0; !collected || pushedDuring.length < 3; round++) {
        assert.ok(round < 40, 'the collector on the first replica removed the garbage in time');
        const image = await buildLargeImageLayout(join(work, `during-${round}`), 1, 'x');
        await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', ADMIN, image.ref, `docker://${other.host}/admin/during:${round}`]);
        pushedDuring.push({ name: `admin/during:${round}`, digest: image.manifestDigest });
        collected = (await store.stat(garbage.layer as Digest)) === null && (await store.stat(garbage.config as Digest)) === null;
      }
      assert.ok(replicas[0]!.server.logs.some((line) => line.includes('"garbage collection"') && /"blobsDeleted":[1-9]/.test(line)), 'the first replica collected');
      for (const { name, digest } of pushedDuring) {
        const out = join(work, `check-${name.replace(/\W/g, '-')}`);
        await skopeo(['copy', '--src-tls-verify=false', '--src-creds', ADMIN, registry(name), ociRef(out, 'x')]);
        assert.equal((await layoutEntry(out, 'x')).digest, digest, `${name} is intact`);
      }
      await skopeo(['inspect', '--tls-verify=false', '--creds', ADMIN, registry('admin/debian:curl')]);
      const fsck = await runCustody(['fsck', '--data-dir', other.dataDir], { env: replicas[1]!.env });
      assert.equal(fsck.code, 0, `fsck:\n${fsck.stdout}${fsck.stderr}`);
    } finally {
      store.close();
    }
  });

  it('failed logins count across both replicas: the lockout holds on each', async () => {
    assert.equal((await api('POST', '/api/v1/users', { name: 'victim', password: 'the-right-password' })).status, 201);
    const counts = replicas.map((replica) => served(replica.server).length);
    const token = (credentials: string, base = `http://${lb}`) => http(`${base}/auth/token?service=${encodeURIComponent('custody')}&scope=repository:victim/app:pull`, { headers: { Authorization: basic(credentials) } });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await token('victim:wrong-password')).status);
    assert.deepEqual(statuses, [401, 401, 401, 401]);
    const failuresBy = () => replicas.map((replica, index) => served(replica.server).slice(counts[index]).filter((entry) => entry.path.startsWith('/auth/token') && entry.status === 401).length);
    await waitFor('four failures in the access logs', () => failuresBy().reduce((sum, count) => sum + count, 0) === 4, 5_000).catch(() => {});
    assert.deepEqual(failuresBy(), [2, 2], 'the failures were spread over both replicas');
    // Four failures in all (two each) reach the limit: both replicas refuse, even the right password.
    for (const replica of replicas) {
      const refused = await token('victim:the-right-password', replica.server.url);
      assert.equal(refused.status, 429, `replica on ${replica.server.host}`);
      assert.ok(Number(refused.headers['retry-after']) >= 1);
    }
  });

  it('a permission revoked through one replica is refused by the other within one second', async () => {
    assert.equal((await api('POST', '/api/v1/users', { name: 'bob', password: 'bob-password-1' })).status, 201);
    const [a, b] = [replicas[0]!.server, replicas[1]!.server];
    const grant = await api('PUT', '/api/v1/repositories/admin/debian/-/permissions/user/bob', { role: 'read' }, ADMIN, a.url);
    assert.equal(grant.status, 200, grant.body.toString());
    const pull = () => http(`${b.url}/v2/admin/debian/manifests/curl`, { headers: { Authorization: basic('bob:bob-password-1'), Accept: 'application/vnd.oci.image.manifest.v1+json' } });
    // Replica b remembers bob's login and his access (its caches live for seconds).
    assert.equal((await pull()).status, 200);
    assert.equal((await pull()).status, 200);
    const revoked = await api('DELETE', '/api/v1/repositories/admin/debian/-/permissions/user/bob', undefined, ADMIN, a.url);
    assert.equal(revoked.status, 204, revoked.body.toString());
    const since = Date.now();
    const status = await waitFor('replica b to refuse bob', async () => {
      const answer = (await pull()).status;
      return answer === 200 ? false : answer;
    }, 1_000, 20);
    assert.ok([401, 403].includes(status), `refused with ${status}`);
    assert.ok(Date.now() - since < 1_000, `refused after ${Date.now() - since} ms`);
  });
});
