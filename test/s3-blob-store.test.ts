// What the S3 driver promises beyond the BlobStore contract, on a real S3-compatible server
// (s3rver on loopback, with S3's 5 MiB minimum part size enforced in front of it): chunks of
// any size, uploads continued by another process, rewinds after a crash between storing
// and recording, bodies that break (kept up to the last byte taken) or are refused (nothing
// kept), nothing visible before the commit, no multipart upload left behind,
// presigned redirects, both addressing styles, and failures that say what is wrong.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { Readable } from 'node:stream';
import { digestOf } from '../src/core/digest.ts';
import { ociError } from '../src/core/errors.ts';
import { UploadInterruptedError } from '../src/storage/blob-store.ts';
import { S3BlobStore, type S3BlobStoreOptions } from '../src/storage/s3-blob-store.ts';
import { chunked, readAll } from './suites/blob-store-suite.ts';
import { startS3Server, S3_ACCESS_KEY, S3_SECRET_KEY, type S3TestServer } from './support/s3-server.ts';
import { http, waitFor } from './support/tools.ts';

const MiB = 1024 * 1024;
const credentials = { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY };

let s3: S3TestServer;
before(async () => {
  s3 = await startS3Server();
});
after(async () => {
  await s3.close();
});

async function openStore(options: S3BlobStoreOptions & { bucket?: string; redirect?: boolean } = {}): Promise<S3BlobStore> {
  const bucket = options.bucket ?? (await s3.createBucket());
  return new S3BlobStore({ bucket, region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials, redirect: options.redirect ?? false }, options);
}

async function blobDigests(store: S3BlobStore): Promise<string[]> {
  const digests: string[] = [];
  for await (const blob of store.list()) digests.push(blob.digest);
  return digests;
}

describe('S3 driver: uploads', () => {
  it('takes PATCH chunks of any size, cuts S3 parts of at least 5 MiB, and keeps the bytes intact', async () => {
    const store = await openStore();
    const id = randomUUID();
    // 1 byte, a few KiB, 3 MiB, 7 MiB, 300 KiB, 9 MiB, 1 byte: parts and leftovers of every kind.
    const chunks = [1, 4097, 3 * MiB, 7 * MiB + 5, 300 * 1024, 9 * MiB, 1].map((size) => randomBytes(size));
    const whole = Buffer.concat(chunks);
    const before = s3.completedPartSizes.length;
    await store.createUpload(id);
    let offset = 0;
    for (const chunk of chunks) {
      offset = await store.appendUpload(id, offset, chunked(chunk, 100_000));
      assert.equal(await store.uploadSize(id), offset);
    }
    assert.equal(offset, whole.length);
    const digest = digestOf(whole);
    await store.commitUpload(id, digest, whole.length);
    assert.ok((await readAll(await store.read(digest))).equals(whole));
    const completed = s3.completedPartSizes.slice(before);
    assert.ok(completed.length >= 1, 'the upload went through a multipart upload');
    for (const sizes of completed) for (const size of sizes.slice(0, -1)) assert.ok(size >= 5 * MiB, `part of ${size} bytes`);
    assert.equal(s3.openMultipartUploads(), 0, 'no multipart upload is left open');
    store.close();
  });

  it('an upload started by one process is continued, re-read and committed by another', async () => {
    const first = await openStore();
    const second = await openStore({ bucket: first.bucket });
    const id = randomUUID();
    const a = randomBytes(6 * MiB + 3);
    const b = randomBytes(2 * MiB);
    const c = randomBytes(11 * MiB);
    await first.createUpload(id);
    let size = await first.appendUpload(id, 0, chunked(a));
    size = await second.appendUpload(id, size, chunked(b));
    size = await first.appendUpload(id, size, chunked(c));
    const whole = Buffer.concat([a, b, c]);
    assert.equal(await second.uploadSize(id), whole.length);
    // The second process never saw the first bytes: it re-hashes by reading the upload back.
    const reread = await readAll(second.readUpload(id, whole.length));
    assert.ok(reread.equals(whole));
    const digest = digestOf(reread);
    await second.commitUpload(id, digest, whole.length);
    assert.ok((await readAll(await first.read(digest))).equals(whole));
    assert.equal(await first.uploadSize(id), null);
    first.close();
    second.close();
  });

  it('rewinds onto the layout before the last append when the registry never recorded it (crash between storing and recording)', async () => {
    const store = await openStore();
    const id = randomUUID();
    const recorded = randomBytes(6 * MiB);
    await store.createUpload(id);
    await store.appendUpload(id, 0, chunked(recorded));
    // This append reached storage, but the process died before the registry recorded it.
    await store.appendUpload(id, recorded.length, chunked(randomBytes(9 * MiB)));
    const retried = randomBytes(5 * MiB + 123);
    assert.equal(await store.appendUpload(id, recorded.length, chunked(retried)), recorded.length + retried.length);
    const whole = Buffer.concat([recorded, retried]);
    assert.ok((await readAll(store.readUpload(id, whole.length))).equals(whole));
    await store.commitUpload(id, digestOf(whole), whole.length);
    assert.ok((await readAll(await store.read(digestOf(whole)))).equals(whole));
    store.close();
  });

  it('nothing is visible under the digest before the commit; a body that breaks keeps every byte taken, parts and tail, and the upload resumes after them', async () => {
    const store = await openStore();
    const id = randomUUID();
    const recorded = randomBytes(12 * MiB);
    await store.createUpload(id);
    await store.appendUpload(id, 0, chunked(recorded));
    assert.deepEqual(await blobDigests(store), []);
    // A request that dies after some 6 MiB: past a part boundary (8 MiB with what was
    // recorded), with a tail too small for a part.
    const body = randomBytes(8 * MiB);
    const failing = (async function* () {
      let sent = 0;
      for await (const chunk of chunked(body)) {
        yield chunk as Buffer;
        sent += (chunk as Buffer).length;
        if (sent > 6 * MiB) throw Object.assign(new Error('client went away'), { code: 'ECONNRESET' });
      }
    })();
    let taken = 0;
    const interrupted = await store.appendUpload(id, recorded.length, Readable.from(failing), (chunk) => (taken += chunk.length)).then(
      () => assert.fail('the append succeeded'),
      (error: unknown) => error,
    );
    assert.ok(interrupted instanceof UploadInterruptedError, String(interrupted));
    assert.equal((interrupted.cause as { code?: string }).code, 'ECONNRESET');
    assert.ok(taken > 4 * MiB, `only ${taken} bytes were taken`);
    assert.equal(interrupted.size, recorded.length + taken, 'every byte onData saw is kept');
    assert.equal(await store.uploadSize(id), interrupted.size);
    assert.deepEqual(await blobDigests(store), [], 'still nothing under a digest');
    // The client resumes at the size reported, from another process even.
    const other = await openStore({ bucket: store.bucket });
    assert.equal(await other.appendUpload(id, interrupted.size, chunked(body.subarray(taken))), recorded.length + body.length);
    const whole = Buffer.concat([recorded, body]);
    const before = s3.completedPartSizes.length;
    await other.commitUpload(id, digestOf(whole), whole.length);
    // Two whole parts (the second cut across the break), then the tail and the rest.
    assert.deepEqual(s3.completedPartSizes.slice(before), [[8 * MiB, 8 * MiB, whole.length - 16 * MiB]]);
    assert.ok((await readAll(await store.read(digestOf(whole)))).equals(whole));
    assert.equal(s3.openMultipartUploads(), 0);
    store.close();
    other.close();
  });

  it('a break between 5 and 8 MiB stores one short part; a break before any new byte keeps the upload as it was', async () => {
    const store = await openStore();
    const id = randomUUID();
    const first = randomBytes(MiB);
    await store.createUpload(id);
    await store.appendUpload(id, 0, chunked(first));
    const sent = randomBytes(5 * MiB + 12345);
    const broken = new Readable({ read() {} });
    let taken = 0;
    const appending = store.appendUpload(id, first.length, broken, (chunk) => (taken += chunk.length));
    broken.push(sent);
    await waitFor('the driver to take the bytes', () => taken === sent.length, 10_000, 5);
    broken.destroy(new Error('aborted'));
    await assert.rejects(appending, (error: unknown) => error instanceof UploadInterruptedError && error.size === first.length + sent.length);
    // Nothing at all arrives before the next break: the upload holds what it held.
    let reading = false;
    const silent = new Readable({ read: () => void (reading = true) });
    const nothing = store.appendUpload(id, first.length + sent.length, silent);
    await waitFor('the driver to read the body', () => reading, 10_000, 5);
    silent.destroy(new Error('aborted'));
    await assert.rejects(nothing, (error: unknown) => error instanceof UploadInterruptedError && error.size === first.length + sent.length);
    const last = randomBytes(3 * MiB);
    assert.equal(await store.appendUpload(id, first.length + sent.length, chunked(last)), first.length + sent.length + last.length);
    const whole = Buffer.concat([first, sent, last]);
    const before = s3.completedPartSizes.length;
    await store.commitUpload(id, digestOf(whole), whole.length);
    assert.ok((await readAll(await store.read(digestOf(whole)))).equals(whole));
    // The break made the bytes before it one part (over S3's 5 MiB minimum, under 8 MiB).
    assert.deepEqual(s3.completedPartSizes.slice(before), [[first.length + sent.length, last.length]]);
    assert.equal(s3.openMultipartUploads(), 0);
    store.close();
  });

  it('a refusal by the store (the size limit) keeps none of the request and leaves its body intact, so the registry can still answer', async () => {
    const store = await openStore();
    const id = randomUUID();
    const first = randomBytes(MiB);
    await store.createUpload(id);
    await store.appendUpload(id, 0, chunked(first));
    // Over the limit after a whole part went out.
    const body = chunked(randomBytes(20 * MiB));
    await assert.rejects(store.appendUpload(id, first.length, body, undefined, 12 * MiB), (error: unknown) => ociError(error)?.code === 'SIZE_INVALID' && ociError(error)?.status === 413);
    assert.equal(body.destroyed, false, 'the body is not destroyed');
    assert.equal(await store.uploadSize(id), first.length);
    const rest = randomBytes(2 * MiB);
    assert.equal(await store.appendUpload(id, first.length, chunked(rest)), first.length + rest.length);
    const whole = Buffer.concat([first, rest]);
    await store.commitUpload(id, digestOf(whole), whole.length);
    assert.ok((await readAll(await store.read(digestOf(whole)))).equals(whole));
    assert.equal(s3.openMultipartUploads(), 0);
    store.close();
  });

  it('cancelling an upload aborts its multipart upload and removes its objects', async () => {
    const store = await openStore();
    const id = randomUUID();
    await store.createUpload(id);
    await store.appendUpload(id, 0, chunked(randomBytes(10 * MiB)));
    assert.ok(s3.openMultipartUploads() >= 1);
    await store.deleteUpload(id);
    assert.equal(s3.openMultipartUploads(), 0);
    assert.equal(await store.uploadSize(id), null);
    const left = [];
    for await (const upload of store.listUploads()) left.push(upload);
    assert.deepEqual(left, []);
    store.close();
  });

  it('commits blobs larger than one CopyObject may copy with a multipart copy', async () => {
    const store = await openStore({ copyObjectLimit: 6 * MiB });
    const id = randomUUID();
    const data = randomBytes(14 * MiB + 1);
    await store.createUpload(id);
    await store.appendUpload(id, 0, chunked(data));
    await store.commitUpload(id, digestOf(data), data.length);
    assert.ok((await readAll(await store.read(digestOf(data)))).equals(data));
    assert.ok((await readAll(await store.read(digestOf(data), { start: 6 * MiB - 2, end: 6 * MiB + 2 }))).equals(data.subarray(6 * MiB - 2, 6 * MiB + 3)));
    store.close();
  });
});

describe('S3 driver: serving and configuration', () => {
  it('redirectUrl is a presigned GET that works without credentials, with Range; null when redirects are off', async () => {
    const store = await openStore({ redirect: true });
    const data = randomBytes(100_000);
    const digest = digestOf(data);
    await store.putBlob(digest, data);
    const url = await store.redirectUrl(digest);
    assert.ok(url);
    assert.match(url, /X-Amz-Signature=/);
    const whole = await http(url);
    assert.equal(whole.status, 200);
    assert.ok(whole.body.equals(data));
    const ranged = await http(url, { headers: { Range: 'bytes=10-19' } });
    assert.equal(ranged.status, 206);
    assert.ok(ranged.body.equals(data.subarray(10, 20)));
    // Tampering with the signed URL is refused by the store.
    const tampered = await http(url.replace(/X-Amz-Signature=[0-9a-f]{4}/, 'X-Amz-Signature=0000'));
    assert.equal(tampered.status, 403);
    const plain = await openStore({ bucket: store.bucket, redirect: false });
    assert.equal(await plain.redirectUrl(digest), null);
    store.close();
    plain.close();
  });

  it('wrong credentials and an unreachable endpoint make check() fail with the store\'s reason', async () => {
    const bucket = await s3.createBucket();
    const wrong = new S3BlobStore({ bucket, region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: 'not-the-secret' }, redirect: false });
    await assert.rejects(wrong.check(), /SignatureDoesNotMatch/);
    const missing = new S3BlobStore({ bucket: 'no-such-bucket', region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials, redirect: false });
    await assert.rejects(missing.check(), /NoSuchBucket/);
    const closed = new S3BlobStore({ bucket, region: 'us-east-1', endpoint: 'http://127.0.0.1:9', forcePathStyle: true, credentials, redirect: false });
    await assert.rejects(closed.check(), /ECONNREFUSED/);
    for (const store of [wrong, missing, closed]) store.close();
  });

  it('a missing blob is BLOB_UNKNOWN, an unknown upload BLOB_UPLOAD_UNKNOWN, not an S3 error', async () => {
    const store = await openStore();
    await assert.rejects(store.read(digestOf('absent')), (error: unknown) => ociError(error)?.code === 'BLOB_UNKNOWN');
    await assert.rejects(readAll(store.readUpload(randomUUID(), 10)), (error: unknown) => ociError(error)?.code === 'BLOB_UPLOAD_UNKNOWN');
    store.close();
  });
});

describe('S3 driver: virtual-host addressing', () => {
  let vhost: S3TestServer;
  before(async () => {
    // s3rver canonicalises SigV4 for virtual-host requests as if they were path-style, so
    // this server cannot check signatures; path-style tests above check them.
    vhost = await startS3Server({ virtualHosts: true });
  });
  after(async () => {
    await vhost.close();
  });

  it('sends requests to <bucket>.<endpoint host> with the key as the path', async () => {
    const bucket = await vhost.createBucket();
    const seen: string[] = [];
    // *.s3.localhost is this machine; nothing leaves loopback.
    const lookup = ((hostname: string, options: unknown, callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void) => {
      seen.push(hostname);
      if (hostname.endsWith('.localhost')) {
        if ((options as { all?: boolean }).all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
        else callback(null, '127.0.0.1', 4);
      } else dnsLookup(hostname, options as never, callback as never);
    }) as never;
    const store = new S3BlobStore({ bucket, region: 'us-east-1', endpoint: `http://s3.localhost:${vhost.port}`, forcePathStyle: false, credentials, redirect: true }, { lookup });
    const data = randomBytes(7 * MiB);
    const id = randomUUID();
    await store.createUpload(id);
    await store.appendUpload(id, 0, chunked(data));
    await store.commitUpload(id, digestOf(data), data.length);
    assert.ok((await readAll(await store.read(digestOf(data)))).equals(data));
    assert.ok(seen.length > 0 && seen.every((host) => host === `${bucket}.s3.localhost`), seen.join(', '));
    assert.match((await store.redirectUrl(digestOf(data)))!, new RegExp(`^http://${bucket}\\.s3\\.localhost:${vhost.port}/blobs/sha256/`));
    store.close();
  });
});
