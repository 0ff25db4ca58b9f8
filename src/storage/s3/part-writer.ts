// Turns an upload's bytes into S3 multipart parts. S3 wants every part but the last to be
// at least 5 MiB, while registry clients send chunks of any size: bytes that do not make a
// part yet stay in the bucket as "segments" (small objects), and only when enough bytes
// are at hand are they cut into parts. Memory is bounded: one part being filled and one on
// the wire per upload.
import { randomBytes } from 'node:crypto';
import { NotFound, TooLarge } from '../../core/errors.ts';
import type { ObjectStore, UploadedPart } from './s3-objects.ts';

/** S3's minimum size of every part but the last. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
/** S3's most parts in one multipart upload. */
const MAX_PARTS = 10_000;

/** Bytes 0..size-1 of an object the upload owns. */
export interface Segment {
  readonly key: string;
  readonly size: number;
  /** The object's own size (larger than `size` after a rewind). */
  readonly objectSize: number;
}

export interface Multipart {
  readonly key: string;
  readonly id: string;
}

/** Where an upload's bytes are, in order: the multipart upload's parts, then the segments. */
export interface Layout {
  readonly multipart?: Multipart | undefined;
  readonly parts: readonly UploadedPart[];
  readonly segments: readonly Segment[];
}

export function layoutSize(layout: Layout): number {
  return partsSize(layout) + segmentsSize(layout.segments);
}

export function partsSize(layout: Layout): number {
  return layout.parts.reduce((sum, part) => sum + part.size, 0);
}

export function segmentsSize(segments: readonly Segment[]): number {
  return segments.reduce((sum, segment) => sum + segment.size, 0);
}

/**
 * Part sizes grow with the part number (8 MiB for the first 2000 parts, doubling every
 * 2000 after), so a blob of up to ~480 GiB fits in S3's 10 000 parts while small uploads
 * keep small buffers.
 */
export function partSizeFor(number: number, base: number): number {
  return base * 2 ** Math.floor((number - 1) / 2000);
}

/** Appends bytes to a layout; `finish` returns the new layout once everything is stored. */
export class LayoutWriter {
  private readonly objects: ObjectStore;
  private readonly prefix: string;
  private readonly partBytes: number;
  private multipart: Multipart | undefined;
  /** The multipart upload this writer started, if any (the base layout had none). */
  private started: Multipart | undefined;
  private readonly parts: UploadedPart[];
  private segments: Segment[];
  /** Bytes received but not stored yet, while they may still become a segment. */
  private fresh: Buffer[] = [];
  private freshSize = 0;
  private filling: Buffer | undefined;
  private filled = 0;
  private inFlight: Promise<void> | undefined;
  private cutting = false;

  constructor(objects: ObjectStore, prefix: string, base: Layout, partBytes: number) {
    this.objects = objects;
    this.prefix = prefix;
    this.partBytes = partBytes;
    this.multipart = base.multipart;
    this.parts = [...base.parts];
    this.segments = [...base.segments];
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.cutting) return this.cut(chunk);
    this.fresh.push(chunk);
    this.freshSize += chunk.length;
    if (segmentsSize(this.segments) + this.freshSize >= this.nextPartSize()) await this.startCutting();
  }

  /** Stores what is left: as a segment while under 5 MiB, else as parts. */
  async finish(): Promise<Layout> {
    if (!this.cutting) {
      if (segmentsSize(this.segments) + this.freshSize < MIN_PART_BYTES) {
        if (this.freshSize > 0) this.segments.push(await this.putSegment(Buffer.concat(this.fresh, this.freshSize)));
        this.fresh = [];
        this.freshSize = 0;
        return this.layout();
      }
      await this.startCutting();
    }
    await this.settle();
    if (this.filled >= MIN_PART_BYTES) {
      this.ship();
      await this.settle();
    }
    if (this.filled > 0) this.segments = [await this.putSegment(Buffer.from(this.filling!.subarray(0, this.filled)))];
    this.filling = undefined;
    this.filled = 0;
    return this.layout();
  }

  /** Stores everything as parts, the remainder as the last one, and completes the multipart upload. */
  async finishAsObject(): Promise<Multipart> {
    if (!this.cutting) await this.startCutting();
    await this.settle();
    if (this.filled > 0) {
      this.ship();
      await this.settle();
    }
    const multipart = this.multipart ?? (await this.startMultipart());
    await this.objects.completeMultipart(multipart.key, multipart.id, this.parts);
    return multipart;
  }

  /**
   * Cleans up after a failure, before anything names the new layout: waits for a part
   * still on the wire, and aborts the multipart upload this writer started, which no
   * state records (S3 would keep its parts, and bill them, until a lifecycle rule runs).
   */
  async abandon(): Promise<void> {
    await this.inFlight?.catch(() => {});
    const started = this.started;
    this.started = undefined;
    if (started) await this.objects.abortMultipart(started.key, started.id).catch(() => {});
  }

  private layout(): Layout {
    return { multipart: this.multipart, parts: this.parts, segments: this.segments };
  }

  private nextPartSize(): number {
    return partSizeFor(this.parts.length + (this.inFlight ? 2 : 1), this.partBytes);
  }

  /** From now on bytes go to parts: first the segments' bytes, then what was held back. */
  private async startCutting(): Promise<void> {
    this.cutting = true;
    const segments = this.segments;
    this.segments = [];
    for (const segment of segments) {
      if (segment.size === 0) continue;
      const stream = await this.objects.get(segment.key, { start: 0, end: segment.size - 1 });
      if (!stream) throw new NotFound('upload', 'upload data is missing from storage');
      for await (const chunk of stream) await this.cut(chunk as Buffer);
    }
    const fresh = this.fresh;
    this.fresh = [];
    this.freshSize = 0;
    for (const chunk of fresh) await this.cut(chunk);
  }

  private async cut(chunk: Buffer): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      this.filling ??= Buffer.allocUnsafe(this.nextPartSize());
      const copied = chunk.copy(this.filling, this.filled, offset);
      this.filled += copied;
      offset += copied;
      if (this.filled === this.filling.length) {
        // One part on the wire at a time: wait for the previous before sending this one.
        await this.settle();
        this.ship();
      }
    }
  }

  private ship(): void {
    const data = this.filling!.subarray(0, this.filled);
    this.filling = undefined;
    this.filled = 0;
    const number = this.parts.length + 1;
    if (number > MAX_PARTS) throw new TooLarge('upload', 'blob is larger than the S3 driver can store in one multipart upload');
    this.inFlight = (async () => {
      const multipart = this.multipart ?? (await this.startMultipart());
      this.parts.push(await this.objects.uploadPart(multipart.key, multipart.id, number, data));
    })();
    // Observed by settle(); never an unhandled rejection meanwhile.
    this.inFlight.catch(() => {});
  }

  private async settle(): Promise<void> {
    const inFlight = this.inFlight;
    this.inFlight = undefined;
    await inFlight;
  }

  private async startMultipart(): Promise<Multipart> {
    const key = `${this.prefix}data-${randomBytes(8).toString('hex')}`;
    this.multipart = { key, id: await this.objects.createMultipart(key) };
    this.started = this.multipart;
    return this.multipart;
  }

  private async putSegment(data: Buffer): Promise<Segment> {
    const key = `${this.prefix}segment-${randomBytes(8).toString('hex')}`;
    await this.objects.put(key, data);
    return { key, size: data.length, objectSize: data.length };
  }
}
