// Runs the BlobStore contract against every driver (the filesystem, and S3 on a real
// S3-compatible server on loopback), plus what only the filesystem driver promises:
// private permissions and no temporary files left behind. The S3 driver's own promises
// are in s3-blob-store.test.ts.
import { describe, it, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { digestOf } from '../src/core/digest.ts';
import { ociError } from '../src/core/errors.ts';
import { FilesystemBlobStore } from '../src/storage/filesystem-blob-store.ts';
import { S3BlobStore } from '../src/storage/s3-blob-store.ts';
import { blobStoreSuite, chunked, type BlobStoreFixture } from './suites/blob-store-suite.ts';
import { startS3Server, S3_ACCESS_KEY, S3_SECRET_KEY, type S3TestServer } from './support/s3-server.ts';

async function filesystemFixture(): Promise<BlobStoreFixture & { store: FilesystemBlobStore; base: string }> {
  const base = await mkdtemp(join(tmpdir(), 'custody-blobs-'));
  // A root that does not exist yet: init() creates it.
  const store = new FilesystemBlobStore(join(base, 'store'));
  await store.init();
  return { store, base, storesWhileAppending: true, dispose: () => rm(base, { recursive: true, force: true }) };
}

let s3: S3TestServer;
before(async () => {
  s3 = await startS3Server();
});
after(async () => {
  await s3.close();
});

async function s3Fixture(): Promise<BlobStoreFixture> {
  const bucket = await s3.createBucket();
  const store = new S3BlobStore({ bucket, region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY }, redirect: true });
  // Bytes wait in memory until they make a part, or the body ends or breaks.
  return { store, storesWhileAppending: false, dispose: async () => store.close() };
}

// One line per driver.
blobStoreSuite('filesystem', filesystemFixture);
blobStoreSuite('s3', s3Fixture);

async function walk(root: string): Promise<Array<{ path: string; mode: number; directory: boolean }>> {
  const entries: Array<{ path: string; mode: number; directory: boolean }> = [];
  for (const entry of await readdir(root, { withFileTypes: true })) {
    const path = join(root, entry.name);
    const info = await stat(path);
    entries.push({ path, mode: info.mode & 0o777, directory: entry.isDirectory() });
    if (entry.isDirectory()) entries.push(...(await walk(path)));
  }
  return entries;
}

describe('FilesystemBlobStore specifics', () => {
  let fixture: Awaited<ReturnType<typeof filesystemFixture>>;
  beforeEach(async () => {
    fixture = await filesystemFixture();
  });
  afterEach(async () => {
    await fixture.dispose();
  });

  async function exercise(): Promise<void> {
    const { store } = fixture;
    const data = randomBytes(100_000);
    const id = randomUUID();
    await store.createUpload(id);
    await store.appendUpload(id, 0, chunked(data));
    await store.commitUpload(id, digestOf(data), data.length);
    const small = Buffer.from('small');
    await store.putBlob(digestOf(small), small);
    await store.putBlob(digestOf(small, 'sha512'), small);
    const pending = randomUUID();
    await store.createUpload(pending);
    await store.appendUpload(pending, 0, chunked(Buffer.from('in progress')));
    await store.check();
    await store.check();
  }

  it('lays blobs out at blobs/<algorithm>/<2 hex>/<hex> and uploads at uploads/<id>', async () => {
    await exercise();
    const root = fixture.store.root;
    const files = (await walk(root)).filter((entry) => !entry.directory).map((entry) => relative(root, entry.path)).sort();
    const small = Buffer.from('small');
    const data = digestOf(small).slice('sha256:'.length);
    const data512 = digestOf(small, 'sha512').slice('sha512:'.length);
    assert.ok(files.includes(join('blobs', 'sha256', data.slice(0, 2), data)), files.join(', '));
    assert.ok(files.includes(join('blobs', 'sha512', data512.slice(0, 2), data512)), files.join(', '));
    assert.equal(files.filter((file) => file.startsWith(`uploads${'/'}`)).length, 1);
    assert.equal(files.length, 4);
  });

  it('leaves no temporary files behind', async () => {
    await exercise();
    const leftovers = (await walk(fixture.base)).filter((entry) => /\.tmp-|\.health-/.test(entry.path));
    assert.deepEqual(leftovers, []);
  });

  it('creates files 0600 and directories 0700', async () => {
    await exercise();
    const entries = await walk(fixture.base);
    assert.ok(entries.length >= 8);
    for (const entry of entries) {
      assert.equal(entry.mode.toString(8), entry.directory ? '700' : '600', `${relative(fixture.base, entry.path)} is ${entry.mode.toString(8)}`);
    }
  });

  it('list() ignores stray temporary files and names that are not digests', async () => {
    const { store } = fixture;
    const small = Buffer.from('content');
    const digest = digestOf(small);
    await store.putBlob(digest, small);
    const hex = digest.slice('sha256:'.length);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(store.root, 'blobs', 'sha256', hex.slice(0, 2), `${hex}.tmp-0011223344556677`), 'partial');
    await writeFile(join(store.root, 'blobs', 'sha256', hex.slice(0, 2), 'not-a-digest'), 'junk');
    const listed = [];
    for await (const entry of store.list()) listed.push(entry.digest);
    assert.deepEqual(listed, [digest]);
  });

  it('refuses malformed upload ids (no path traversal)', async () => {
    const { store } = fixture;
    await assert.rejects(store.createUpload('../escape'), (error: Error) => ociError(error)?.code === 'BLOB_UPLOAD_UNKNOWN');
    await assert.rejects(store.uploadSize('../../etc/passwd'), (error: Error) => ociError(error)?.code === 'BLOB_UPLOAD_UNKNOWN');
  });

  it('check() fails when the store is not writable', async () => {
    await rm(fixture.store.root, { recursive: true, force: true });
    await assert.rejects(fixture.store.check());
  });
});
