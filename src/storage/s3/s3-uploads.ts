// Uploads in progress, kept entirely in the bucket so any replica can take the next chunk:
// uploads/<id>/state (JSON) says where the bytes are (a multipart upload's parts, then
// small segment objects), and is the commit point of every append. It also keeps the
// layout from before the last append, because the registry records an upload's size only
// after the append returns: a crash in between leaves storage one append ahead, and the
// next append rewinds onto that earlier layout.
//
// A body that breaks (the client went away, or the idle timeout cut it) ends an append
// like a complete one: the bytes that arrived are stored and recorded (the last of them
// as a segment), and the append rejects with UploadInterruptedError, so the client
// resumes right after them. A refusal by the store (the size limit, S3 failing) records
// nothing of the request.
import { randomBytes } from 'node:crypto';
import { finished, PassThrough, Readable } from 'node:stream';
import { InvalidInput, NotFound, TooLarge } from '../../core/errors.ts';
import { UploadInterruptedError } from '../blob-store.ts';
import type { ObjectStore } from './s3-objects.ts';
import { LayoutWriter, MIN_PART_BYTES, layoutSize, partsSize, segmentsSize, type Layout, type Segment } from './part-writer.ts';

const UPLOAD_ID = /^[A-Za-z0-9-]{1,64}$/;
const STATE = 'state';

interface UploadRecord {
  readonly v: 1;
  readonly current: Layout;
  readonly previous?: Layout | undefined;
}

const EMPTY: Layout = { parts: [], segments: [] };

export class S3Uploads {
  private readonly objects: ObjectStore;
  private readonly partBytes: number;

  constructor(objects: ObjectStore, partBytes: number) {
    this.objects = objects;
    this.partBytes = partBytes;
  }

  prefix(uploadId: string): string {
    if (!UPLOAD_ID.test(uploadId)) throw new NotFound('upload', 'malformed upload id');
    return `uploads/${uploadId}/`;
  }

  async create(uploadId: string): Promise<void> {
    await this.save(uploadId, { v: 1, current: EMPTY });
  }

  async size(uploadId: string): Promise<number | null> {
    const record = await this.load(uploadId);
    return record ? layoutSize(record.current) : null;
  }

  async append(uploadId: string, offset: number, body: Readable, onData?: (chunk: Buffer) => void, maxBytes?: number): Promise<number> {
    const record = await this.require(uploadId);
    const size = layoutSize(record.current);
    if (offset > size) throw new InvalidInput('upload', `upload ${uploadId} holds ${size} bytes, expected ${offset}`);
    const base = rewind(record, offset);
    const writer = new LayoutWriter(this.objects, this.prefix(uploadId), base, this.partBytes);
    let written = 0;
    let broken: BrokenBody | undefined;
    let next: Layout | undefined;
    try {
      broken = await feed(body, async (bytes) => {
        written += bytes.length;
        if (maxBytes !== undefined && written > maxBytes) throw new TooLarge('upload', `upload exceeds the ${maxBytes}-byte limit`);
        onData?.(bytes);
        await writer.write(bytes);
      });
      // Every byte onData saw is in the writer: stored now, broken body or not.
      if (written > 0 || offset !== size) next = await writer.finish();
    } catch (error) {
      // Nothing is recorded: the state still names the old layout, and whatever this
      // request stored is unreferenced (overwritten or removed with the upload).
      await writer.abandon();
      throw error;
    }
    // Not abandoned when this fails: S3 may have stored the state before failing to answer,
    // and then it names this layout (remove() cleans up either way).
    if (next) await this.replace(uploadId, record, { v: 1, current: next, previous: base });
    if (broken) throw new UploadInterruptedError(offset + written, broken.error);
    return offset + written;
  }

  /** Streams the first `length` bytes (sealing the upload into one object first). */
  read(uploadId: string, length: number): Readable {
    const seal = (): Promise<Segment> => this.seal(uploadId, length);
    const objects = this.objects;
    return Readable.from(
      (async function* () {
        if (length === 0) return;
        const staged = await seal();
        const stream = await objects.get(staged.key, { start: 0, end: length - 1 });
        if (!stream) throw new NotFound('upload', `upload ${uploadId} is not in storage`);
        yield* stream;
      })(),
      { objectMode: false },
    );
  }

  /**
   * Makes the first `length` bytes one object (completing the multipart upload, or joining
   * small segments), records it as the upload's only segment and returns it.
   */
  async seal(uploadId: string, length: number): Promise<Segment> {
    const record = await this.require(uploadId);
    const size = layoutSize(record.current);
    if (length > size) throw new InvalidInput('upload', `upload ${uploadId} holds ${size} bytes, not ${length}`);
    const base = rewind(record, length);
    const only = base.segments[0];
    if (base.parts.length === 0 && base.segments.length === 1 && only) {
      if (base !== record.current) await this.replace(uploadId, record, { v: 1, current: base });
      return only;
    }
    let sealed: Segment;
    if (base.parts.length === 0 && segmentsSize(base.segments) < MIN_PART_BYTES) {
      // Small: join the segments into one object (a few MiB at most, streamed).
      const key = `${this.prefix(uploadId)}joined-${randomBytes(8).toString('hex')}`;
      await this.objects.put(key, Readable.from(this.segmentBytes(base.segments), { objectMode: false }), length);
      sealed = { key, size: length, objectSize: length };
    } else {
      const writer = new LayoutWriter(this.objects, this.prefix(uploadId), base, this.partBytes);
      try {
        const multipart = await writer.finishAsObject();
        sealed = { key: multipart.key, size: length, objectSize: length };
      } catch (error) {
        await writer.abandon();
        throw error;
      }
    }
    await this.replace(uploadId, record, { v: 1, current: { parts: [], segments: [sealed] } });
    return sealed;
  }

  async remove(uploadId: string): Promise<void> {
    const prefix = this.prefix(uploadId);
    const record = await this.load(uploadId);
    for (const multipart of multiparts(record)) await this.objects.abortMultipart(multipart.key, multipart.id);
    const keys: string[] = [];
    for await (const object of this.objects.list(prefix)) keys.push(object.key);
    // The state goes last: until then the upload is still known and can be removed again.
    const state = `${prefix}${STATE}`;
    await this.objects.deleteMany(keys.filter((key) => key !== state));
    await this.objects.delete(state);
  }

  async *list(): AsyncIterable<{ readonly uploadId: string; readonly modifiedAt: Date }> {
    for await (const object of this.objects.list('uploads/')) {
      const match = /^uploads\/([A-Za-z0-9-]{1,64})\/state$/.exec(object.key);
      if (match) yield { uploadId: match[1]!, modifiedAt: object.lastModified };
    }
  }

  private async *segmentBytes(segments: readonly Segment[]): AsyncGenerator<Buffer> {
    for (const segment of segments) {
      if (segment.size === 0) continue;
      const stream = await this.objects.get(segment.key, { start: 0, end: segment.size - 1 });
      if (!stream) throw new NotFound('upload', 'upload data is missing from storage');
      for await (const chunk of stream) yield chunk as Buffer;
    }
  }

  private async require(uploadId: string): Promise<UploadRecord> {
    const record = await this.load(uploadId);
    if (!record) throw new NotFound('upload', `upload ${uploadId} is not in storage`);
    return record;
  }

  private async load(uploadId: string): Promise<UploadRecord | null> {
    const stream = await this.objects.get(`${this.prefix(uploadId)}${STATE}`);
    if (!stream) return null;
    const parts: Buffer[] = [];
    for await (const chunk of stream) parts.push(chunk as Buffer);
    const record = JSON.parse(Buffer.concat(parts).toString('utf8')) as UploadRecord;
    if (record.v !== 1 || !Array.isArray(record.current?.parts) || !Array.isArray(record.current?.segments)) {
      throw new Error(`upload ${uploadId} has a state this version does not understand`);
    }
    return record;
  }

  private async save(uploadId: string, record: UploadRecord): Promise<void> {
    await this.objects.put(`${this.prefix(uploadId)}${STATE}`, Buffer.from(JSON.stringify(record)));
  }

  /** Records `next`, then removes what neither of its layouts still uses (best effort). */
  private async replace(uploadId: string, old: UploadRecord, next: UploadRecord): Promise<void> {
    await this.save(uploadId, next);
    const kept = new Set([...segmentKeys(next), ...multiparts(next).map((multipart) => multipart.id)]);
    const unused = segmentKeys(old).filter((key) => !kept.has(key));
    const sealedKeys = new Set(segmentKeys(next));
    try {
      for (const multipart of multiparts(old)) {
        // A completed multipart upload became a segment object; it has nothing to abort.
        if (!kept.has(multipart.id) && !sealedKeys.has(multipart.key)) await this.objects.abortMultipart(multipart.key, multipart.id);
      }
      if (unused.length > 0) await this.objects.deleteMany(unused);
    } catch {
      // Leftovers stay under the upload's prefix and go when the upload is removed.
    }
  }
}

interface BrokenBody {
  readonly error: unknown;
}

/**
 * Passes `body` to `take` chunk by chunk, one at a time. A body that breaks ends the feed
 * like one that ends, after every chunk that arrived, and is returned. A failure of `take`
 * (the store's side) is thrown and leaves the body unread but not destroyed, so the caller
 * can still answer (413, 503) on the same connection.
 */
async function feed(body: Readable, take: (chunk: Buffer) => Promise<void>): Promise<BrokenBody | undefined> {
  // Piped into a relay rather than iterated: iterating would destroy the body when `take`
  // fails, and stop at once when it breaks, while the relay is ended instead, so what it
  // already holds still reaches `take`.
  const relay = new PassThrough();
  let broken: BrokenBody | undefined;
  const unwatch = finished(body, { writable: false }, (error) => {
    if (!error) return;
    broken = { error };
    body.unpipe(relay);
    relay.end();
  });
  body.pipe(relay);
  try {
    for await (const chunk of relay) await take(chunk as Buffer);
  } catch (error) {
    body.unpipe(relay);
    throw error;
  } finally {
    unwatch();
  }
  return broken;
}

/**
 * The layout holding exactly the first `offset` bytes: the current one, or the one from
 * before the last append (after a crash between storing and recording), with its segments
 * cut at `offset` (segments are read by length, so cutting them rewrites nothing).
 */
function rewind(record: UploadRecord, offset: number): Layout {
  for (const layout of [record.current, record.previous]) {
    if (!layout) continue;
    const parts = partsSize(layout);
    if (offset < parts || offset > parts + segmentsSize(layout.segments)) continue;
    if (offset === layoutSize(layout)) return layout;
    const segments: Segment[] = [];
    let remaining = offset - parts;
    for (const segment of layout.segments) {
      if (remaining === 0) break;
      const size = Math.min(segment.size, remaining);
      segments.push({ ...segment, size });
      remaining -= size;
    }
    return { multipart: layout.multipart ?? record.current.multipart, parts: layout.parts, segments };
  }
  // Restarting from scratch reuses the multipart upload; its parts are overwritten.
  if (offset === 0) return { multipart: record.current.multipart, parts: [], segments: [] };
  throw new InvalidInput('upload', `upload cannot resume at byte ${offset}: storage no longer holds the bytes before it`);
}

function segmentKeys(record: UploadRecord): string[] {
  return [record.current, record.previous].flatMap((layout) => (layout ? layout.segments.map((segment) => segment.key) : []));
}

function multiparts(record: UploadRecord | null): Array<{ key: string; id: string }> {
  if (!record) return [];
  const found = new Map<string, { key: string; id: string }>();
  for (const layout of [record.current, record.previous]) if (layout?.multipart) found.set(layout.multipart.id, layout.multipart);
  return [...found.values()];
}
