// The BlobStore contract, as one suite every driver runs (filesystem today, S3 next).
// Each test gets a fresh, empty store from the factory and disposes of it afterwards.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { digestOf, type Digest } from '../../src/core/digest.ts';
import { ociError } from '../../src/core/errors.ts';
import { UploadInterruptedError, type BlobStore } from '../../src/storage/blob-store.ts';

export interface BlobStoreFixture {
  readonly store: BlobStore;
  /**
   * Whether an append stores bytes as they arrive, so uploadSize grows while the body
   * streams (the filesystem), rather than holding them until the body ends or breaks
   * (S3, which stores 5 MiB parts and smaller objects only at the end).
   */
  readonly storesWhileAppending: boolean;
  dispose(): Promise<void>;
}

export async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(parts);
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

/** A body arriving in several chunks, as an HTTP request does. */
export function chunked(data: Buffer, chunkSize = 64 * 1024): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunkSize) parts.push(data.subarray(i, i + chunkSize));
  return Readable.from(parts, { objectMode: false });
}

/**
 * A slow destination, like a socket: it holds each chunk until its write callback runs
 * (so a driver reusing a buffer too early corrupts what arrives) and keeps little buffered.
 */
class SlowSink extends Writable {
  readonly chunks: Buffer[] = [];
  finished = false;
  /** Every n-th write completes after a timer rather than on the next turn. */
  private readonly delayEvery: number;
  private writes = 0;

  constructor(delayEvery = 3) {
    super({ highWaterMark: 64 * 1024 });
    this.delayEvery = delayEvery;
    this.on('finish', () => (this.finished = true));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const later = (): void => {
      this.chunks.push(Buffer.from(chunk));
      callback();
    };
    if (++this.writes % this.delayEvery === 0) setTimeout(later, 2);
    else setImmediate(later);
  }

  get data(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

async function finished(sink: SlowSink): Promise<void> {
  if (sink.finished) return;
  await new Promise<void>((resolve, reject) => {
    sink.once('finish', resolve);
    sink.once('error', reject);
  });
}

function isCode(code: string, status?: number): (error: unknown) => boolean {
  return (error: unknown) => {
    // What the client is answered: the typed error through the one table of OCI codes.
    const answered = ociError(error);
    assert.ok(answered, `expected a typed error, got ${String(error)}`);
    assert.equal(answered.code, code);
    if (status !== undefined) assert.equal(answered.status, status);
    return true;
  };
}

export function blobStoreSuite(name: string, factory: () => Promise<BlobStoreFixture>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let fixture: BlobStoreFixture;
    let store: BlobStore;

    beforeEach(async () => {
      fixture = await factory();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.dispose();
    });

    async function commit(data: Buffer): Promise<Digest> {
      const id = randomUUID();
      const digest = digestOf(data);
      await store.createUpload(id);
      await store.appendUpload(id, 0, chunked(data));
      await store.commitUpload(id, digest, data.length);
      return digest;
    }

    it('check() succeeds on a usable store', async () => {
      await store.check();
    });

    it('a new upload is empty; an unknown upload has no size', async () => {
      const id = randomUUID();
      assert.equal(await store.uploadSize(id), null);
      await store.createUpload(id);
      assert.equal(await store.uploadSize(id), 0);
      assert.deepEqual(await readAll(store.readUpload(id, 0)), Buffer.alloc(0));
    });

    it('appends at the durable offset and reads the upload back', async () => {
      const id = randomUUID();
      const first = randomBytes(300_000);
      const second = randomBytes(123_457);
      await store.createUpload(id);
      assert.equal(await store.appendUpload(id, 0, chunked(first)), first.length);
      assert.equal(await store.uploadSize(id), first.length);
      assert.equal(await store.appendUpload(id, first.length, chunked(second)), first.length + second.length);
      assert.equal(await store.uploadSize(id), first.length + second.length);
      const whole = Buffer.concat([first, second]);
      assert.ok((await readAll(store.readUpload(id, whole.length))).equals(whole));
      // readUpload streams only the first `length` bytes.
      assert.ok((await readAll(store.readUpload(id, 1000))).equals(whole.subarray(0, 1000)));
    });

    it('an empty append changes nothing', async () => {
      const id = randomUUID();
      await store.createUpload(id);
      await store.appendUpload(id, 0, chunked(Buffer.from('abc')));
      assert.equal(await store.appendUpload(id, 3, Readable.from([])), 3);
      assert.equal(await store.uploadSize(id), 3);
    });

    it('bytes past the durable offset (a request that never completed) are discarded before appending', async () => {
      const id = randomUUID();
      await store.createUpload(id);
      await store.appendUpload(id, 0, chunked(Buffer.from('0123456789')));
      // The caller only recorded 6 bytes as durable: the next chunk goes at 6.
      assert.equal(await store.appendUpload(id, 6, chunked(Buffer.from('XY'))), 8);
      assert.equal(await store.uploadSize(id), 8);
      assert.equal((await readAll(store.readUpload(id, 8))).toString(), '012345XY');
      // Appending at 0 restarts the upload.
      assert.equal(await store.appendUpload(id, 0, chunked(Buffer.from('new'))), 3);
      assert.equal((await readAll(store.readUpload(id, 3))).toString(), 'new');
    });

    it('refuses an offset beyond the upload and unknown uploads', async () => {
      const id = randomUUID();
      await store.createUpload(id);
      await store.appendUpload(id, 0, chunked(Buffer.from('abc')));
      await assert.rejects(store.appendUpload(id, 10, chunked(Buffer.from('x'))), isCode('BLOB_UPLOAD_INVALID'));
      assert.equal(await store.uploadSize(id), 3);
      await assert.rejects(store.appendUpload(randomUUID(), 0, chunked(Buffer.from('x'))), isCode('BLOB_UPLOAD_UNKNOWN'));
    });

    it('onData sees every byte, in order', async () => {
      const id = randomUUID();
      const data = randomBytes(2 * 1024 * 1024 + 17);
      const seen: Buffer[] = [];
      await store.createUpload(id);
      const size = await store.appendUpload(id, 0, chunked(data, 100_000), (chunk) => seen.push(Buffer.from(chunk)));
      assert.equal(size, data.length);
      assert.ok(Buffer.concat(seen).equals(data));
      // And with an offset: only the new bytes.
      const more = randomBytes(5000);
      const seenMore: Buffer[] = [];
      await store.appendUpload(id, size, chunked(more, 999), (chunk) => seenMore.push(Buffer.from(chunk)));
      assert.ok(Buffer.concat(seenMore).equals(more));
    });

    it('maxBytes: a body over the limit fails with SIZE_INVALID (413), and the durable offset still works', async () => {
      const id = randomUUID();
      await store.createUpload(id);
      await store.appendUpload(id, 0, chunked(Buffer.from('head')));
      await assert.rejects(store.appendUpload(id, 4, chunked(randomBytes(200_000), 10_000), undefined, 100_000), isCode('SIZE_INVALID', 413));
      // Whatever the failed request left is discarded by the next append at the durable offset.
      assert.equal(await store.appendUpload(id, 4, chunked(Buffer.from('tail'))), 8);
      assert.equal((await readAll(store.readUpload(id, 8))).toString(), 'headtail');
      assert.equal(await store.uploadSize(id), 8);
    });

    it('a body that breaks mid-way rejects with UploadInterruptedError holding the bytes kept; a store-side refusal keeps none', async () => {
      const id = randomUUID();
      await store.createUpload(id);
      await store.appendUpload(id, 0, chunked(Buffer.from('head')));
      const sent = randomBytes(30_000);
      const broken = new Readable({ read() {} });
      let taken = 0;
      let settled = false;
      const appending = store.appendUpload(id, 4, broken, (chunk) => (taken += chunk.length));
      void appending.catch(() => {}).finally(() => (settled = true));
      broken.push(sent);
      // The client goes away once the driver holds its bytes: onData saw them and, where
      // the driver stores them as they come, uploadSize shows them (before that, the break
      // may beat them to the disk). A driver holding them in memory (S3) must keep them
      // when the body breaks: a break ends the append like the end of the body does.
      const held = async (): Promise<boolean> => taken === sent.length && (!fixture.storesWhileAppending || (await store.uploadSize(id)) === 4 + sent.length);
      while (!settled && !(await held())) await new Promise((resolve) => setTimeout(resolve, 5));
      broken.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
      await assert.rejects(appending, (error: unknown) => {
        assert.ok(error instanceof UploadInterruptedError, String(error));
        assert.equal(error.size, 4 + sent.length);
        assert.equal((error.cause as { code?: string }).code, 'ECONNRESET');
        return true;
      });
      assert.ok((await readAll(store.readUpload(id, 4 + sent.length))).equals(Buffer.concat([Buffer.from('head'), sent])));
      assert.equal(await store.uploadSize(id), 4 + sent.length);
      // Over the limit is the store refusing: the upload is cut back to where it was.
      await assert.rejects(store.appendUpload(id, 4 + sent.length, chunked(randomBytes(50_000), 10_000), undefined, 20_000), isCode('SIZE_INVALID', 413));
      assert.equal(await store.uploadSize(id), 4 + sent.length);
      // And the upload resumes where the break left it.
      assert.equal(await store.appendUpload(id, 4 + sent.length, chunked(Buffer.from('tail'))), 8 + sent.length);
      assert.ok((await readAll(store.readUpload(id, 8 + sent.length))).equals(Buffer.concat([Buffer.from('head'), sent, Buffer.from('tail')])));
    });

    it('space() reports free and total bytes (or null where the store cannot tell)', async () => {
      const space = await store.space();
      if (space === null) return;
      assert.ok(space.totalBytes > 0);
      assert.ok(space.freeBytes >= 0 && space.freeBytes <= space.totalBytes);
    });

    it('maxBytes: a body exactly at the limit is accepted', async () => {
      const id = randomUUID();
      const data = randomBytes(50_000);
      await store.createUpload(id);
      assert.equal(await store.appendUpload(id, 0, chunked(data, 7000), undefined, data.length), data.length);
      await assert.rejects(store.appendUpload(id, data.length, chunked(Buffer.from('x')), undefined, 0), isCode('SIZE_INVALID', 413));
    });

    it('commitUpload moves the upload to its content address', async () => {
      const id = randomUUID();
      const data = randomBytes(1_500_000);
      const digest = digestOf(data);
      await store.createUpload(id);
      await store.appendUpload(id, 0, chunked(data));
      assert.equal(await store.stat(digest), null);
      await store.commitUpload(id, digest, data.length);
      const stat = await store.stat(digest);
      assert.ok(stat);
      assert.equal(stat.size, data.length);
      assert.ok(stat.modifiedAt instanceof Date && !Number.isNaN(stat.modifiedAt.getTime()));
      assert.ok((await readAll(await store.read(digest))).equals(data));
      // The upload is gone.
      assert.equal(await store.uploadSize(id), null);
      assert.ok(!(await collect(store.listUploads())).some((entry) => entry.uploadId === id));
    });

    it('commitUpload keeps only the first `size` bytes (the verified ones)', async () => {
      const id = randomUUID();
      await store.createUpload(id);
      await store.appendUpload(id, 0, chunked(Buffer.from('verified-part+junk from a broken request')));
      const kept = Buffer.from('verified-part');
      const digest = digestOf(kept);
      await store.commitUpload(id, digest, kept.length);
      assert.equal((await store.stat(digest))?.size, kept.length);
      assert.ok((await readAll(await store.read(digest))).equals(kept));
    });

    it('commitUpload of an unknown upload fails with BLOB_UPLOAD_UNKNOWN', async () => {
      const digest = digestOf('x');
      await assert.rejects(store.commitUpload(randomUUID(), digest, 1), isCode('BLOB_UPLOAD_UNKNOWN'));
      assert.equal(await store.stat(digest), null);
    });

    it('committing content that is already stored leaves one intact copy', async () => {
      const data = randomBytes(10_000);
      const digest = await commit(data);
      assert.equal(await commit(data), digest);
      assert.ok((await readAll(await store.read(digest))).equals(data));
      assert.equal((await collect(store.list())).filter((entry) => entry.digest === digest).length, 1);
    });

    it('stat of a missing blob is null; read of a missing blob rejects with BLOB_UNKNOWN', async () => {
      const digest = digestOf('never stored');
      assert.equal(await store.stat(digest), null);
      await assert.rejects(store.read(digest), isCode('BLOB_UNKNOWN', 404));
      await assert.rejects(store.read(digest, { start: 0, end: 1 }), isCode('BLOB_UNKNOWN', 404));
    });

    it('reads byte ranges (inclusive)', async () => {
      const data = randomBytes(3 * 1024 * 1024 + 5);
      const digest = await commit(data);
      assert.ok((await readAll(await store.read(digest, { start: 0, end: 0 }))).equals(data.subarray(0, 1)));
      assert.ok((await readAll(await store.read(digest, { start: 10, end: 19 }))).equals(data.subarray(10, 20)));
      assert.ok((await readAll(await store.read(digest, { start: 1_000_000, end: data.length - 1 }))).equals(data.subarray(1_000_000)));
      assert.ok((await readAll(await store.read(digest))).equals(data));
    });

    it('send() writes a blob or a range to a slow destination, intact, and ends it', async () => {
      const data = randomBytes(5 * 1024 * 1024 + 321);
      const digest = await commit(data);
      const whole = new SlowSink();
      await store.send(digest, whole);
      await finished(whole);
      assert.ok(whole.data.equals(data), 'the whole blob arrives intact');
      const ranged = new SlowSink(1);
      await store.send(digest, ranged, { start: 1_048_570, end: 3_200_000 });
      await finished(ranged);
      assert.ok(ranged.data.equals(data.subarray(1_048_570, 3_200_001)));
      const oneByte = new SlowSink();
      await store.send(digest, oneByte, { start: data.length - 1, end: data.length - 1 });
      await finished(oneByte);
      assert.deepEqual([...oneByte.data], [data[data.length - 1]]);
      // Several at once share the driver's buffers without mixing them up.
      const others = [randomBytes(3 * 1024 * 1024), randomBytes(2 * 1024 * 1024 + 5)];
      const digests = [digest, await commit(others[0]!), await commit(others[1]!)];
      const sinks = digests.map(() => new SlowSink(2));
      await Promise.all(digests.map((entry, i) => store.send(entry, sinks[i]!)));
      await Promise.all(sinks.map(finished));
      assert.ok(sinks[0]!.data.equals(data) && sinks[1]!.data.equals(others[0]!) && sinks[2]!.data.equals(others[1]!));
    });

    it('send() of an empty blob ends the destination; of a missing blob rejects with BLOB_UNKNOWN before writing', async () => {
      const empty = digestOf(new Uint8Array(0));
      await store.putBlob(empty, new Uint8Array(0));
      const sink = new SlowSink();
      await store.send(empty, sink);
      await finished(sink);
      assert.equal(sink.data.length, 0);
      const untouched = new SlowSink();
      await assert.rejects(store.send(digestOf('never stored'), untouched), isCode('BLOB_UNKNOWN', 404));
      assert.equal(untouched.chunks.length, 0);
      assert.equal(untouched.writableEnded, false);
    });

    it('send() stops when the destination goes away', async () => {
      const digest = await commit(randomBytes(8 * 1024 * 1024));
      const sink = new SlowSink(1);
      let writes = 0;
      const originalWrite = sink.write.bind(sink);
      sink.write = ((...args: Parameters<typeof originalWrite>) => {
        if (++writes === 2) setImmediate(() => sink.destroy());
        return originalWrite(...args);
      }) as typeof sink.write;
      await assert.rejects(store.send(digest, sink));
      assert.ok(writes < 8, `kept writing after the destination was destroyed (${writes} writes)`);
    });

    it('putBlob writes content at its address; writing it again is harmless', async () => {
      const content = Buffer.from('{"hello":"world"}');
      const digest = digestOf(content);
      await store.putBlob(digest, content);
      assert.equal((await store.stat(digest))?.size, content.length);
      assert.ok((await readAll(await store.read(digest))).equals(content));
      await store.putBlob(digest, new Uint8Array(content));
      assert.ok((await readAll(await store.read(digest))).equals(content));
      // The empty blob is a blob too.
      const empty = digestOf(new Uint8Array(0));
      await store.putBlob(empty, new Uint8Array(0));
      assert.equal((await store.stat(empty))?.size, 0);
      assert.equal((await readAll(await store.read(empty))).length, 0);
    });

    it('stores sha512 content', async () => {
      const content = randomBytes(999);
      const digest = digestOf(content, 'sha512');
      await store.putBlob(digest, content);
      assert.equal((await store.stat(digest))?.size, 999);
      assert.ok((await readAll(await store.read(digest))).equals(content));
      assert.ok((await collect(store.list())).some((entry) => entry.digest === digest && entry.size === 999));
      const id = randomUUID();
      const uploaded = randomBytes(4321);
      const uploadedDigest = digestOf(uploaded, 'sha512');
      await store.createUpload(id);
      await store.appendUpload(id, 0, chunked(uploaded));
      await store.commitUpload(id, uploadedDigest, uploaded.length);
      assert.ok((await readAll(await store.read(uploadedDigest))).equals(uploaded));
    });

    it('delete removes a blob and is idempotent', async () => {
      const keep = await commit(randomBytes(100));
      const gone = await commit(randomBytes(200));
      await store.delete(gone);
      assert.equal(await store.stat(gone), null);
      await assert.rejects(store.read(gone), isCode('BLOB_UNKNOWN'));
      await store.delete(gone);
      await store.delete(digestOf('never stored'));
      assert.equal((await store.stat(keep))?.size, 100);
      assert.deepEqual(
        (await collect(store.list())).map((entry) => entry.digest),
        [keep],
      );
    });

    it('deleteMany removes many blobs at once; absent ones are no error', async () => {
      const kept = await commit(randomBytes(50));
      const gone = await Promise.all(Array.from({ length: 5 }, () => commit(randomBytes(64))));
      await store.deleteMany([...gone, digestOf('never stored')]);
      for (const digest of gone) assert.equal(await store.stat(digest), null);
      assert.deepEqual((await collect(store.list())).map((entry) => entry.digest), [kept]);
      await store.deleteMany([]);
    });

    it('list() yields every committed blob with its size, and nothing else', async () => {
      assert.deepEqual(await collect(store.list()), []);
      const expected = new Map<string, number>();
      for (let i = 0; i < 12; i++) {
        const data = randomBytes(10 + i * 31);
        const digest = i % 2 === 0 ? await commit(data) : digestOf(data);
        if (i % 2 === 1) await store.putBlob(digest, data);
        expected.set(digest, data.length);
      }
      // An upload in progress is not a blob.
      const pending = randomUUID();
      await store.createUpload(pending);
      await store.appendUpload(pending, 0, chunked(randomBytes(77)));
      const listed = await collect(store.list());
      assert.equal(listed.length, expected.size);
      for (const entry of listed) {
        assert.equal(entry.size, expected.get(entry.digest), `size of ${entry.digest}`);
        assert.ok(entry.modifiedAt instanceof Date);
      }
      assert.deepEqual(new Set(listed.map((entry) => entry.digest)), new Set(expected.keys()));
    });

    it('listUploads() yields uploads in progress; deleteUpload removes them and is idempotent', async () => {
      assert.deepEqual(await collect(store.listUploads()), []);
      const ids = [randomUUID(), randomUUID(), randomUUID()];
      for (const id of ids) await store.createUpload(id);
      await store.appendUpload(ids[1]!, 0, chunked(Buffer.from('data')));
      const listed = await collect(store.listUploads());
      assert.deepEqual(new Set(listed.map((entry) => entry.uploadId)), new Set(ids));
      for (const entry of listed) assert.ok(entry.modifiedAt instanceof Date && Math.abs(entry.modifiedAt.getTime() - Date.now()) < 60_000);
      await store.deleteUpload(ids[1]!);
      assert.equal(await store.uploadSize(ids[1]!), null);
      await store.deleteUpload(ids[1]!);
      await store.deleteUpload(randomUUID());
      assert.deepEqual(new Set((await collect(store.listUploads())).map((entry) => entry.uploadId)), new Set([ids[0], ids[2]]));
      // Uploads never show up as blobs.
      assert.deepEqual(await collect(store.list()), []);
    });

    it('redirectUrl is null (stream it) or a URL', async () => {
      const digest = await commit(randomBytes(10));
      const url = await store.redirectUrl(digest);
      if (url !== null) assert.doesNotThrow(() => new URL(url));
    });

    it('parallel uploads of the same content end with one intact blob', async () => {
      const data = randomBytes(256 * 1024);
      const digest = digestOf(data);
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          const id = randomUUID();
          await store.createUpload(id);
          await store.appendUpload(id, 0, chunked(data, 8192));
          await store.commitUpload(id, digest, data.length);
        }),
      );
      assert.ok((await readAll(await store.read(digest))).equals(data));
      assert.deepEqual((await collect(store.list())).map((entry) => entry.digest), [digest]);
      assert.deepEqual(await collect(store.listUploads()), []);
    });
  });
}
