// Typed object operations over the S3 client: what a key holds, streaming reads and
// writes, listings page by page, batch deletes, server-side copies of any size and the
// multipart calls. Keys here are bucket keys; the driver decides what they mean.
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { S3Client, S3Error, contentMd5 } from './s3-client.ts';
import { completeMultipartXml, deleteObjectsXml, parseDeleteErrors, parseListing, xmlText, type ListedObject } from './s3-xml.ts';

export interface ObjectInfo {
  readonly size: number;
  readonly lastModified: Date;
}

export interface UploadedPart {
  readonly number: number;
  readonly etag: string;
  readonly size: number;
}

/** S3 refuses DeleteObjects with more keys. */
const DELETE_BATCH = 1000;
/** Parts of a server-side multipart copy (S3 allows up to 5 GiB each). */
const COPY_PART_BYTES = 1024 * 1024 * 1024;
const COPY_CONCURRENCY = 4;

export interface ObjectStoreOptions {
  /** Largest object a single CopyObject may copy (S3: 5 GiB); larger ones are copied in parts. */
  readonly copyObjectLimit?: number;
}

export class ObjectStore {
  readonly client: S3Client;
  private readonly copyObjectLimit: number;

  constructor(client: S3Client, options: ObjectStoreOptions = {}) {
    this.client = client;
    this.copyObjectLimit = options.copyObjectLimit ?? 5 * 1024 * 1024 * 1024;
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const response = await this.client.request('HEAD', key, { allow: [404] });
    response.resume();
    if (response.statusCode === 404) return null;
    return { size: Number(response.headers['content-length']), lastModified: new Date(response.headers['last-modified'] ?? 0) };
  }

  /** Streams an object (or bytes `start`..`end` inclusive), or null when absent. */
  async get(key: string, range?: { readonly start: number; readonly end: number }): Promise<IncomingMessage | null> {
    const response = await this.client.request('GET', key, { allow: [404], ...(range ? { headers: { range: `bytes=${range.start}-${range.end}` } } : {}) });
    if (response.statusCode === 404) {
      response.resume();
      return null;
    }
    return response;
  }

  async put(key: string, body: Buffer | Readable, length?: number): Promise<string> {
    const response = await this.client.request('PUT', key, { body, ...(length !== undefined ? { length } : {}) });
    response.resume();
    return etagOf(response);
  }

  async delete(key: string): Promise<void> {
    (await this.client.request('DELETE', key, { allow: [404] })).resume();
  }

  /** Deletes keys in batches of 1000 (DeleteObjects); absent keys are not an error. */
  async deleteMany(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const body = Buffer.from(deleteObjectsXml(keys.slice(i, i + DELETE_BATCH)));
      const answer = await this.client.requestXml('POST', null, { query: { delete: '' }, body, headers: { 'content-md5': contentMd5(body), 'content-type': 'application/xml' } });
      const failed = parseDeleteErrors(answer).filter((error) => error.code !== 'NoSuchKey');
      if (failed.length > 0) throw new S3Error(200, failed[0]!.code, `could not delete ${failed.length} object(s), first ${failed[0]!.key}: ${failed[0]!.message}`);
    }
  }

  /** Every object under `prefix`, one listing page (up to 1000 keys) in memory at a time. */
  async *list(prefix: string): AsyncIterable<ListedObject> {
    let token: string | undefined;
    do {
      const query: Record<string, string> = { 'list-type': '2', prefix, ...(token ? { 'continuation-token': token } : {}) };
      const page = parseListing(await this.client.requestXml('GET', null, { query }));
      yield* page.objects;
      token = page.next;
    } while (token);
  }

  /**
   * Copies the first `length` bytes of `source` (an object of `sourceSize` bytes) to
   * `target`, inside the store. The target appears whole or not at all: one CopyObject, or
   * a multipart copy whose completion is atomic.
   */
  async copy(source: string, sourceSize: number, target: string, length = sourceSize): Promise<void> {
    if (length === 0) {
      await this.put(target, Buffer.alloc(0));
      return;
    }
    if (length === sourceSize && length <= this.copyObjectLimit) {
      await this.client.requestXml('PUT', target, { headers: { 'x-amz-copy-source': copySource(this.client.bucket, source) } });
      return;
    }
    const upload = await this.createMultipart(target);
    try {
      const ranges: Array<{ number: number; start: number; end: number }> = [];
      const step = length <= this.copyObjectLimit ? length : Math.min(COPY_PART_BYTES, this.copyObjectLimit);
      for (let start = 0, number = 1; start < length; start += step, number++) {
        ranges.push({ number, start, end: Math.min(start + step, length) - 1 });
      }
      const parts: UploadedPart[] = new Array(ranges.length);
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < ranges.length) {
          const range = ranges[next++]!;
          const answer = await this.client.requestXml('PUT', target, {
            query: { partNumber: String(range.number), uploadId: upload },
            headers: { 'x-amz-copy-source': copySource(this.client.bucket, source), 'x-amz-copy-source-range': `bytes=${range.start}-${range.end}` },
          });
          const etag = xmlText(answer, 'ETag');
          if (!etag) throw new Error('UploadPartCopy answer without an ETag');
          parts[range.number - 1] = { number: range.number, etag, size: range.end - range.start + 1 };
        }
      };
      await Promise.all(Array.from({ length: Math.min(COPY_CONCURRENCY, ranges.length) }, worker));
      await this.completeMultipart(target, upload, parts);
    } catch (error) {
      await this.abortMultipart(target, upload);
      throw error;
    }
  }

  async createMultipart(key: string): Promise<string> {
    const answer = await this.client.requestXml('POST', key, { query: { uploads: '' } });
    const id = xmlText(answer, 'UploadId');
    if (!id) throw new Error('CreateMultipartUpload answer without an UploadId');
    return id;
  }

  async uploadPart(key: string, uploadId: string, number: number, body: Buffer): Promise<UploadedPart> {
    const response = await this.client.request('PUT', key, { query: { partNumber: String(number), uploadId }, body });
    response.resume();
    return { number, etag: etagOf(response), size: body.length };
  }

  async completeMultipart(key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<void> {
    const body = Buffer.from(completeMultipartXml(parts));
    await this.client.requestXml('POST', key, { query: { uploadId }, body, headers: { 'content-type': 'application/xml' } });
  }

  /**
   * Frees the parts of an unfinished multipart upload. Best effort: an upload already gone
   * is fine, and a server without AbortMultipartUpload leaves the parts to the bucket's
   * lifecycle rule (AbortIncompleteMultipartUpload), which operators should set anyway.
   */
  async abortMultipart(key: string, uploadId: string): Promise<void> {
    try {
      (await this.client.request('DELETE', key, { query: { uploadId }, allow: [404] })).resume();
    } catch (error) {
      if (error instanceof S3Error && ['NoSuchUpload', 'NotImplemented', 'MethodNotAllowed'].includes(error.code)) return;
      throw error;
    }
  }
}

function etagOf(response: IncomingMessage): string {
  const etag = response.headers.etag;
  if (typeof etag !== 'string' || etag === '') throw new Error('S3 answer without an ETag');
  return etag;
}

function copySource(bucket: string, key: string): string {
  return `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

