// A real S3-compatible server for the tests: s3rver (@20minutes/s3rver) on a free loopback
// port, checking every SigV4 signature. Where s3rver is laxer than S3 in ways the driver
// must respect, a thin layer in front of it adds S3's rule:
// - CompleteMultipartUpload fails with EntityTooSmall when a part other than the last is
//   under 5 MiB (s3rver accepts any part size);
// - AbortMultipartUpload is answered (s3rver does not implement it), and the multipart
//   uploads left open are counted, so tests can see that none leak;
// - a GET of `Range: bytes=0-0` returns one byte (s3rver reads an end of 0 as "to the end").
// - ListMultipartUploads and ListParts are answered from what this layer saw (CNCF
//   Distribution's s3 driver needs them to resume an upload; s3rver has neither).
// What s3rver still lacks (and the tests therefore do not exercise): conditional writes (If-Match/If-None-Match on PUT), checksums other
// than MD5 ETags, SigV4 for virtual-host requests (it canonicalises them as path-style),
// bucket lifecycle rules, and the consistency and throttling behaviour of a distributed store.
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import S3rver from '@20minutes/s3rver';

/** s3rver's only account. */
export const S3_ACCESS_KEY = 'S3RVER';
export const S3_SECRET_KEY = 'S3RVER';
const MIN_PART = 5 * 1024 * 1024;

export interface S3TestServer {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  readonly port: number;
  createBucket(name?: string): Promise<string>;
  /** Multipart uploads initiated and neither completed nor aborted. */
  openMultipartUploads(): number;
  /** Sizes of the parts of every multipart upload completed so far, in part order. */
  readonly completedPartSizes: number[][];
  /** Requests served so far: DeleteObject of one blob (blobs/...), and DeleteObjects (a batch). */
  readonly requests: { BlobDeleteObject: number; DeleteObjects: number };
  close(): Promise<void>;
}

let buckets = 0;

export interface S3ServerOptions {
  /**
   * Serve <bucket>.s3.localhost (virtual-host addressing). s3rver then checks no signature:
   * it canonicalises virtual-host requests as path-style ones, which SigV4 does not.
   */
  readonly virtualHosts?: boolean;
}

export async function startS3Server(options: S3ServerOptions = {}): Promise<S3TestServer> {
  const directory = await mkdtemp(join(tmpdir(), 'custody-s3-'));
  const s3 = new S3rver({ directory, silent: true, ...(options.virtualHosts ? { serviceEndpoint: 'localhost', allowMismatchedSignatures: true } : {}) });
  const open = new Map<string, Map<number, number>>();
  /** What ListMultipartUploads and ListParts answer: each open upload's key and parts. */
  const uploads = new Map<string, { bucket: string; key: string; initiated: string; parts: Map<number, { size: number; etag: string }> }>();
  const completedPartSizes: number[][] = [];
  const requests = { BlobDeleteObject: 0, DeleteObjects: 0 };

  s3.middleware.unshift(async (ctx, next) => {
    const uploadId = ctx.query.uploadId;
    if (ctx.method === 'DELETE' && uploadId === undefined && /^\/[^/]+\/blobs\//.test(ctx.path)) requests.BlobDeleteObject++;
    if (ctx.method === 'POST' && 'delete' in ctx.query) requests.DeleteObjects++;
    if (ctx.method === 'GET' && 'uploads' in ctx.query && /^\/[^/]+\/?$/.test(ctx.path)) {
      const bucket = ctx.path.split('/')[1]!;
      const prefix = String(ctx.query.prefix ?? '');
      const listed = [...uploads.entries()].filter(([, upload]) => upload.bucket === bucket && upload.key.startsWith(prefix));
      ctx.type = 'application/xml';
      ctx.body =
        `<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${bucket}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>` +
        `<Prefix>${xmlText(prefix)}</Prefix><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>` +
        listed.map(([id, upload]) => `<Upload><Key>${xmlText(upload.key)}</Key><UploadId>${id}</UploadId><Initiated>${upload.initiated}</Initiated><StorageClass>STANDARD</StorageClass></Upload>`).join('') +
        '</ListMultipartUploadsResult>';
      return;
    }
    if (ctx.method === 'GET' && uploadId !== undefined) {
      const upload = uploads.get(uploadId);
      if (!upload) {
        ctx.status = 404;
        ctx.type = 'application/xml';
        ctx.body = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>';
        return;
      }
      const parts = [...upload.parts.entries()].sort(([a], [b]) => a - b);
      ctx.type = 'application/xml';
      ctx.body =
        `<?xml version="1.0" encoding="UTF-8"?><ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${upload.bucket}</Bucket><Key>${xmlText(upload.key)}</Key><UploadId>${uploadId}</UploadId>` +
        `<PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>${parts.at(-1)?.[0] ?? 0}</NextPartNumberMarker><MaxParts>1000</MaxParts><IsTruncated>false</IsTruncated>` +
        parts.map(([number, part]) => `<Part><PartNumber>${number}</PartNumber><LastModified>${upload.initiated}</LastModified><ETag>${xmlText(part.etag)}</ETag><Size>${part.size}</Size></Part>`).join('') +
        '</ListPartsResult>';
      return;
    }
    if (ctx.method === 'DELETE' && uploadId !== undefined) {
      open.delete(uploadId);
      uploads.delete(uploadId);
      ctx.status = 204;
      ctx.body = '';
      return;
    }
    if (ctx.method === 'POST' && uploadId !== undefined) {
      const body = await readAll(ctx.req);
      const numbers = [...body.toString('utf8').matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((match) => Number(match[1]));
      const sizes = numbers.map((number) => open.get(uploadId)?.get(number) ?? -1);
      if (sizes.slice(0, -1).some((size) => size < MIN_PART)) {
        ctx.status = 400;
        ctx.type = 'application/xml';
        ctx.body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>EntityTooSmall</Code><Message>Your proposed upload is smaller than the minimum allowed object size (parts ${sizes.join(',')}).</Message></Error>`;
        return;
      }
      ctx.req = Readable.from([body]);
      await next();
      if (ctx.status < 300) {
        open.delete(uploadId);
        uploads.delete(uploadId);
        completedPartSizes.push(sizes);
      }
      return;
    }
    await next();
    if (ctx.method === 'GET' && ctx.headers.range === 'bytes=0-0' && ctx.status === 206) {
      const size = /\/(\d+)$/.exec(String(ctx.response.get('Content-Range')))?.[1] ?? '*';
      const first = await firstByte(ctx.body as Readable);
      ctx.body = Readable.from([first]);
      ctx.set('Content-Length', String(first.length));
      ctx.set('Content-Range', `bytes 0-0/${size}`);
    }
    if (ctx.method === 'POST' && 'uploads' in ctx.query && ctx.status < 300) {
      const id = /<UploadId>([^<]+)<\/UploadId>/.exec(String(ctx.body))?.[1];
      if (id) {
        open.set(id, new Map());
        const [, bucket = '', ...key] = ctx.path.split('/');
        uploads.set(id, { bucket, key: decodeURIComponent(key.join('/')), initiated: new Date().toISOString(), parts: new Map() });
      }
    }
    if (ctx.method === 'PUT' && uploadId !== undefined && ctx.status < 300) {
      const range = /^bytes=(\d+)-(\d+)$/.exec(String(ctx.headers['x-amz-copy-source-range'] ?? ''));
      const size = range ? Number(range[2]) - Number(range[1]) + 1 : Number(ctx.headers['content-length']);
      open.get(uploadId)?.set(Number(ctx.query.partNumber), size);
      const etag = String(ctx.response.get('ETag') || /<ETag>([^<]+)<\/ETag>/.exec(String(ctx.body ?? ''))?.[1] || '');
      uploads.get(uploadId)?.parts.set(Number(ctx.query.partNumber), { size, etag });
    }
  });

  const server: Server = createServer(s3.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    completedPartSizes,
    requests,
    async createBucket(name = `custody-${process.pid}-${++buckets}`) {
      await s3.store.putBucket(name);
      return name;
    },
    openMultipartUploads: () => open.size,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(directory, { recursive: true, force: true });
    },
  };
}

function xmlText(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

async function firstByte(stream: Readable): Promise<Buffer> {
  for await (const chunk of stream) {
    stream.destroy();
    return Buffer.from(chunk as Buffer).subarray(0, 1);
  }
  return Buffer.alloc(0);
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(parts);
}
