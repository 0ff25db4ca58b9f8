// Custody on S3 end to end: `custody serve` with storage.driver s3 against a real
// S3-compatible server on loopback. skopeo pushes and pulls with identical digests, a
// chunked push with PATCHes of any size lands intact, fsck is clean, gc reclaims from the
// bucket, and with redirects on, blob downloads go to presigned URLs that skopeo follows
// (HEAD and Range still behave). A PATCH cut mid-body resumes at the Range reported.
// Also: the storage settings and their mistakes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../src/config/config.ts';
import { S3BlobStore } from '../src/storage/s3-blob-store.ts';
import type { Digest } from '../src/core/digest.ts';
import { ADMIN_PASSWORD, runCustody, startCustody, type CustodyServer } from './support/custody-server.ts';
import { buildLargeImageLayout, debianLayout, layoutEntry, layoutImage, ociRef, readLayoutBlob, sha256, type LargeImageLayout } from './support/images.ts';
import { OciClient } from './support/oci-client.ts';
import { startS3Server, S3_ACCESS_KEY, S3_SECRET_KEY, type S3TestServer } from './support/s3-server.ts';
import { containersConfig, http, requireTool, runOk, waitFor, type ContainersConfig } from './support/tools.ts';

const MiB = 1024 * 1024;

/** A raw connection, for requests a well-behaved HTTP client would not make. */
function connectTo(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      // Broken on purpose: a reset or a write after the server closed is expected.
      socket.off('error', reject).on('error', () => {});
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

describe('storage settings', () => {
  const base = { CUSTODY_STORAGE_DRIVER: 's3', CUSTODY_STORAGE_S3_BUCKET: 'registry-blobs' };

  it('reads storage.s3.* from CUSTODY_STORAGE_* and flags, credentials and region from the AWS variables when not configured', () => {
    const fromAws = loadConfig({ env: { ...base, AWS_ACCESS_KEY_ID: 'AKIAENV', AWS_SECRET_ACCESS_KEY: 'env-secret', AWS_SESSION_TOKEN: 'env-token', AWS_REGION: 'eu-west-3' } });
    assert.equal(fromAws.storage.driver, 's3');
    assert.ok(fromAws.storage.driver === 's3');
    assert.deepEqual(fromAws.storage.s3, {
      bucket: 'registry-blobs',
      region: 'eu-west-3',
      endpoint: undefined,
      forcePathStyle: false,
      credentials: { accessKeyId: 'AKIAENV', secretAccessKey: 'env-secret', sessionToken: 'env-token' },
      redirect: false,
    });
    const configured = loadConfig({
      env: { ...base, CUSTODY_STORAGE_S3_ACCESS_KEY_ID: 'AKIACONF', CUSTODY_STORAGE_S3_SECRET_ACCESS_KEY: 'conf-secret', AWS_ACCESS_KEY_ID: 'AKIAENV', AWS_SECRET_ACCESS_KEY: 'env-secret', AWS_SESSION_TOKEN: 'env-token' },
      flags: { 'storage-s3-endpoint': 'http://minio.internal:9000/', 'storage-s3-force-path-style': 'true', 'storage-s3-redirect': 'true', 'storage-s3-region': 'us-west-2' },
    });
    assert.ok(configured.storage.driver === 's3');
    assert.deepEqual(configured.storage.s3, {
      bucket: 'registry-blobs',
      region: 'us-west-2',
      endpoint: 'http://minio.internal:9000',
      forcePathStyle: true,
      // Configured keys win, and never borrow the environment's session token.
      credentials: { accessKeyId: 'AKIACONF', secretAccessKey: 'conf-secret' },
      redirect: true,
    });
    assert.equal(loadConfig({ env: {} }).storage.driver, 'filesystem');
  });

  it('reports every storage mistake, without echoing a secret', () => {
    const problems = (env: Record<string, string>): readonly string[] => {
      try {
        loadConfig({ env });
      } catch (error) {
        assert.ok(error instanceof ConfigError);
        return error.problems;
      }
      assert.fail('expected the configuration to be refused');
    };
    assert.deepEqual(problems({ CUSTODY_STORAGE_DRIVER: 'gcs' }), ['storage.driver: expected filesystem or s3, got "gcs"']);
    assert.deepEqual(problems({ CUSTODY_STORAGE_DRIVER: 's3' }), [
      'storage.s3.bucket: required with storage.driver s3',
      'storage.s3: no credentials: set storage.s3.accessKeyId and storage.s3.secretAccessKey, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
    ]);
    const half = problems({ ...base, CUSTODY_STORAGE_S3_SECRET_ACCESS_KEY: 'very-secret-value', CUSTODY_STORAGE_S3_ENDPOINT: 'minio:9000', CUSTODY_STORAGE_S3_BUCKET: 'Bad_Bucket' });
    assert.deepEqual(half, [
      'storage.s3.bucket: "Bad_Bucket" is not a valid bucket name',
      'storage.s3.endpoint: expected an http(s):// URL',
      'storage.s3: set both storage.s3.accessKeyId and storage.s3.secretAccessKey, or neither',
    ]);
    assert.ok(!half.join('\n').includes('very-secret-value'));
  });

  it('custody serve with an unreachable bucket stops at start with one line naming it', async () => {
    const data = await mkdtemp(join(tmpdir(), 'custody-s3-bad-'));
    try {
      const result = await runCustody(['serve', '--listen', '127.0.0.1:0', '--data-dir', data], {
        env: { ...base, CUSTODY_STORAGE_S3_ENDPOINT: 'http://127.0.0.1:9', CUSTODY_STORAGE_S3_FORCE_PATH_STYLE: 'true', AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b', CUSTODY_AUTH_ENABLED: 'false' },
      });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /cannot use S3 bucket registry-blobs: .*ECONNREFUSED/);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    } finally {
      await rm(data, { recursive: true, force: true });
    }
  });
});

describe('custody serve on S3', () => {
  let s3: S3TestServer;
  let skopeoBin: string;
  let work: string;
  let containers: ContainersConfig;
  let large: LargeImageLayout;

  before(async () => {
    skopeoBin = requireTool('skopeo');
    s3 = await startS3Server();
    work = await mkdtemp(join(tmpdir(), 'custody-s3-serve-'));
    containers = await containersConfig(join(work, 'containers'));
    // One 12 MiB layer: skopeo streams it in one PATCH, the driver cuts it into parts.
    large = await buildLargeImageLayout(join(work, 'large'), 12);
  });
  after(async () => {
    await s3?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const skopeo = (args: readonly string[]) => runOk(skopeoBin, ['--policy', containers.policy, ...args], { env: containers.env, timeoutMs: 180_000 });

  async function serve(bucket: string, extra: Record<string, string> = {}, auth = false): Promise<{ server: CustodyServer; env: Record<string, string> }> {
    const env = {
      CUSTODY_STORAGE_DRIVER: 's3',
      CUSTODY_STORAGE_S3_BUCKET: bucket,
      CUSTODY_STORAGE_S3_ENDPOINT: s3.endpoint,
      CUSTODY_STORAGE_S3_FORCE_PATH_STYLE: 'true',
      // Credentials and region the standard AWS way.
      AWS_ACCESS_KEY_ID: S3_ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: S3_SECRET_KEY,
      AWS_REGION: 'us-east-1',
      CUSTODY_QUALITY_ENABLED: 'false',
      // Collection itself is under test: no time-machine window holds deleted content back
      // (the window is proven in lifecycle-serve.test.ts).
      CUSTODY_LIFECYCLE_TIME_MACHINE: '0s',
      ...extra,
    };
    return { server: await startCustody({ env, auth }), env };
  }

  async function storedDigests(bucket: string): Promise<Set<string>> {
    const store = new S3BlobStore({ bucket, region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY }, redirect: false });
    const digests = new Set<string>();
    for await (const blob of store.list()) digests.add(blob.digest);
    const uploads = [];
    for await (const upload of store.listUploads()) uploads.push(upload.uploadId);
    store.close();
    assert.deepEqual(uploads, [], 'no upload is left in the bucket');
    return digests;
  }

  it('skopeo push and pull, a chunked push, fsck clean, gc reclaims from the bucket', async () => {
    const bucket = await s3.createBucket();
    const { server, env } = await serve(bucket);
    try {
      const registry = (path: string): string => `docker://${server.host}/${path}`;
      // skopeo in, and back out with identical digests.
      const debian = await layoutImage(debianLayout(), 'bookworm-curl');
      await skopeo(['copy', '--dest-tls-verify=false', ociRef(debianLayout(), 'bookworm-curl'), registry('s3/debian:curl')]);
      await skopeo(['copy', '--dest-tls-verify=false', large.ref, registry('s3/large:1')]);
      for (const [name, image, digest] of [['s3/debian:curl', 'debian', debian.digest], ['s3/large:1', 'large', large.manifestDigest]] as const) {
        const out = join(work, `pulled-${image}`);
        await skopeo(['copy', '--src-tls-verify=false', registry(name), ociRef(out, 'x')]);
        const entry = await layoutEntry(out, 'x');
        assert.equal(entry.digest, digest, `${name} comes back with its digest`);
        const pulled = await layoutImage(out, 'x');
        for (const blob of [pulled.manifest.config, ...pulled.manifest.layers]) assert.equal(sha256(await readLayoutBlob(out, blob.digest)), blob.digest);
      }
      assert.equal(sha256(await readLayoutBlob(join(work, 'pulled-large'), large.layerDigest)), large.layerDigest);

      // A chunked push with PATCHes of any size, from one byte to several MiB.
      const client = new OciClient(server.url);
      const blob = randomBytes(13 * MiB + 7);
      const digest = sha256(blob);
      let location = (await client.request('POST', '/v2/s3/chunked/blobs/uploads/')).location();
      let offset = 0;
      for (const size of [1, 100 * 1024, 6 * MiB, 3, 2 * MiB, 5 * MiB]) {
        const chunk = blob.subarray(offset, offset + size);
        const patched = await client.request('PATCH', location, { body: chunk, headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${offset + chunk.length - 1}` } });
        assert.equal(patched.status, 202, patched.text());
        offset += chunk.length;
        assert.equal(patched.header('range'), `0-${offset - 1}`);
        location = patched.location();
      }
      const last = blob.subarray(offset);
      const done = await client.request('PUT', location, { query: { digest }, body: last, headers: { 'Content-Type': 'application/octet-stream' } });
      assert.equal(done.status, 201, done.text());
      const fetched = await http(`${server.url}/v2/s3/chunked/blobs/${digest}`);
      assert.equal(fetched.status, 200);
      assert.ok(fetched.body.equals(blob), 'the chunked blob comes back intact');
      const ranged = await http(`${server.url}/v2/s3/chunked/blobs/${digest}`, { headers: { Range: 'bytes=7340030-7340039' } });
      assert.equal(ranged.status, 206);
      assert.ok(ranged.body.equals(blob.subarray(7340030, 7340040)));

      const stored = await storedDigests(bucket);
      for (const expected of [digest, large.layerDigest, large.configDigest, ...debian.manifest.layers.map((layer) => layer.digest)]) assert.ok(stored.has(expected), `${expected} is in the bucket`);
      assert.equal(s3.openMultipartUploads(), 0, 'no multipart upload left open');

      const fsck = await runCustody(['fsck', '--data-dir', server.dataDir], { env });
      assert.equal(fsck.code, 0, `fsck:\n${fsck.stdout}${fsck.stderr}`);
      assert.doesNotMatch(fsck.stdout, /: 0 manifests/);

      // Delete the large image: gc removes its layer from the bucket, keeps everything else.
      assert.equal((await http(`${server.url}/v2/s3/large/manifests/${large.manifestDigest}`, { method: 'DELETE' })).status, 202);
      const deletes = { ...s3.requests };
      const gc = await runCustody(['gc', '--data-dir', server.dataDir, '--grace-period', '0s', '--json'], { env });
      assert.equal(gc.code, 0, gc.stderr);
      // In batches: DeleteObjects, not one DeleteObject per blob.
      assert.equal(s3.requests.BlobDeleteObject - deletes.BlobDeleteObject, 0, 'gc deleted no blob one by one');
      assert.ok(s3.requests.DeleteObjects > deletes.DeleteObjects, 'gc used DeleteObjects');
      const report = JSON.parse(gc.stdout) as { blobsDeleted: number; bytesReclaimed: number };
      assert.ok(report.blobsDeleted >= 2 && report.bytesReclaimed >= large.layerSize, gc.stdout);
      const after = await storedDigests(bucket);
      assert.ok(!after.has(large.layerDigest) && !after.has(large.configDigest), 'the deleted image\'s blobs left the bucket');
      for (const kept of debian.manifest.layers) assert.ok(after.has(kept.digest), `${kept.digest} is still referenced and kept`);
      const again = await runCustody(['fsck', '--data-dir', server.dataDir], { env });
      assert.equal(again.code, 0, `fsck after gc:\n${again.stdout}${again.stderr}`);
      await skopeo(['copy', '--src-tls-verify=false', registry('s3/debian:curl'), ociRef(join(work, 'after-gc'), 'x')]);
    } finally {
      await server.dispose();
    }
  });

  it('a PATCH cut mid-body (a client reset, a stalled body) keeps what arrived and resumes at the Range reported; one over the size limit is answered 413 and keeps nothing', async () => {
    const bucket = await s3.createBucket();
    const blob = randomBytes(20 * MiB);
    const { server } = await serve(bucket, { CUSTODY_LIMITS_BODY_IDLE_TIMEOUT: '1s', CUSTODY_LIMITS_MAX_BLOB_BYTES: String(blob.length) });
    try {
      const location = String((await http(`${server.url}/v2/s3/cut/blobs/uploads/`, { method: 'POST' })).headers.location);
      const held = async (): Promise<number> => {
        const status = await http(`${server.url}${location}`);
        assert.equal(status.status, 204);
        return Number(/^0-(\d+)$/.exec(String(status.headers.range))?.[1]) + 1;
      };
      const patchHead = (from: number): string =>
        `PATCH ${location} HTTP/1.1\r\nHost: ${server.host}\r\nContent-Type: application/octet-stream\r\nContent-Range: ${from}-${blob.length - 1}\r\nContent-Length: ${blob.length - from}\r\n\r\n`;

      // The client resets once the driver has taken a part's worth (its multipart upload
      // starts): the part and whatever else was taken stay, the registry says how much.
      const opened = s3.openMultipartUploads();
      const resetting = await connectTo(server.port);
      resetting.write(patchHead(0));
      resetting.write(blob.subarray(0, 10 * MiB));
      await waitFor('the driver to ship its first part', () => s3.openMultipartUploads() > opened, 30_000);
      resetting.resetAndDestroy();
      const afterReset = await waitFor('the upload to report what arrived', async () => {
        const size = await held();
        return size >= 8 * MiB ? size : undefined;
      }, 10_000);
      assert.ok(afterReset <= 10 * MiB, `holds ${afterReset} bytes, more than were sent`);

      // From there the body stalls past the next part boundary: answered 408 after the idle
      // timeout, and every byte sent is kept.
      const stalledAt = 16 * MiB + 3;
      const stalling = await connectTo(server.port);
      let answer = '';
      stalling.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
      stalling.write(patchHead(afterReset));
      stalling.write(blob.subarray(afterReset, stalledAt));
      await waitFor('the server to close the stalled request', () => stalling.closed, 30_000);
      assert.match(answer, /^HTTP\/1\.1 408 /);
      await waitFor('the upload to report every byte sent', async () => ((await held()) === stalledAt ? true : undefined), 10_000);

      // Over the size limit: the store refuses, the client is answered, nothing is kept.
      const over = await http(`${server.url}${location}`, { method: 'PATCH', body: randomBytes(5 * MiB), headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${stalledAt}-${stalledAt + 5 * MiB - 1}` } });
      assert.equal(over.status, 413, over.body.toString());
      assert.equal(over.json<{ errors: { code: string }[] }>()?.errors[0]?.code, 'SIZE_INVALID');
      assert.equal(await held(), stalledAt);

      // The rest, and the blob is whole.
      const digest = sha256(blob);
      const done = await http(`${server.url}${location}?digest=${digest}`, { method: 'PUT', body: blob.subarray(stalledAt), headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${stalledAt}-${blob.length - 1}` } });
      assert.equal(done.status, 201, done.body.toString());
      assert.ok((await http(`${server.url}/v2/s3/cut/blobs/${digest}`)).body.equals(blob), 'the blob comes back intact');
      assert.deepEqual([...(await storedDigests(bucket))], [digest]);
      assert.equal(s3.openMultipartUploads(), opened, 'no multipart upload left open');
      assert.ok(!server.logs.some((entry) => entry.includes('"level":"error"')), `no error logged:\n${server.logs.join('\n')}`);
    } finally {
      await server.dispose();
    }
  });

  it('with storage.s3.redirect, blob GETs redirect to presigned URLs that skopeo follows; HEAD and Range still behave', async () => {
    const bucket = await s3.createBucket();
    // The S3 endpoint under another host name than the registry, as in any real setup: clients
    // then do not forward the registry's credentials to it.
    const { server } = await serve(bucket, { CUSTODY_STORAGE_S3_REDIRECT: 'true', CUSTODY_STORAGE_S3_ENDPOINT: `http://localhost:${s3.port}` }, true);
    try {
      const creds = `admin:${ADMIN_PASSWORD}`;
      const registry = (path: string): string => `docker://${server.host}/${path}`;
      await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', creds, large.ref, registry('admin/large:1')]);
      const out = join(work, 'redirected');
      await skopeo(['copy', '--src-tls-verify=false', '--src-creds', creds, registry('admin/large:1'), ociRef(out, 'x')]);
      assert.equal((await layoutEntry(out, 'x')).digest, large.manifestDigest);
      assert.equal(sha256(await readFile(join(out, 'blobs', 'sha256', large.layerDigest.slice(7)))), large.layerDigest);

      const basic = { Authorization: `Basic ${Buffer.from(creds).toString('base64')}` };
      const blobUrl = `${server.url}/v2/admin/large/blobs/${large.layerDigest}`;
      const get = await http(blobUrl, { headers: basic });
      assert.equal(get.status, 307);
      const location = String(get.headers.location);
      assert.match(location, new RegExp(`^http://localhost:${s3.port}/${bucket}/blobs/sha256/`));
      assert.match(location, /X-Amz-Signature=/);
      // The presigned URL needs no credentials, serves the blob, and honours Range.
      const followed = await http(location);
      assert.equal(followed.status, 200);
      assert.equal(sha256(followed.body), large.layerDigest);
      const ranged = await http(location, { headers: { Range: 'bytes=100-199' } });
      assert.equal(ranged.status, 206);
      assert.equal(ranged.body.length, 100);
      // HEAD is answered by the registry itself: size and digest, no redirect.
      const head = await http(blobUrl, { method: 'HEAD', headers: basic });
      assert.equal(head.status, 200);
      assert.equal(Number(head.headers['content-length']), large.layerSize);
      assert.equal(head.headers['docker-content-digest'], large.layerDigest);
      assert.equal(head.headers.location, undefined);
      // Without access, no redirect (and so no presigned URL) is handed out.
      assert.equal((await http(blobUrl)).status, 401);
      assert.equal(((await storedDigests(bucket)) as Set<string>).has(large.layerDigest as Digest), true);
    } finally {
      await server.dispose();
    }
  });
});
