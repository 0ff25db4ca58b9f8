// The S3 REST calls the blob driver needs, signed with AWS's own SigV4 signer
// (@smithy/signature-v4) and sent with node:http(s) on keep-alive sockets. Bodies stream
// both ways with back-pressure; nothing here buffers an object. Only the few S3 operations
// the driver uses are spoken, so the whole protocol surface is in this file and s3-xml.ts.
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRequire } from 'node:module';
import type { SignatureV4 } from '@smithy/signature-v4';

// Loaded when an S3 store is opened: a registry on the filesystem never pays for the signer.
const load = createRequire(import.meta.url);
import { parseS3Error } from './s3-xml.ts';

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
}

export interface S3ConnectionSettings {
  readonly bucket: string;
  readonly region: string;
  /** Base URL of the service; AWS's regional endpoint when unset. */
  readonly endpoint?: string | undefined;
  /** `endpoint/bucket/key` instead of `bucket.endpoint/key` (MinIO, Ceph, most on-premises setups). */
  readonly forcePathStyle: boolean;
  readonly credentials: S3Credentials;
}

export interface S3ClientOptions {
  /** Name resolution for the endpoint (tests resolve `bucket.localhost` for virtual-host addressing). */
  readonly lookup?: LookupFunction | undefined;
}

export interface S3RequestOptions {
  readonly query?: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
  /** A Buffer is sent (and retried) as is; a stream needs `length`, and is never retried. */
  readonly body?: Buffer | Readable;
  readonly length?: number;
  /** Statuses answered without throwing (404 for "absent"). */
  readonly allow?: readonly number[];
}

/** An error answer from the object store, with S3's code (NoSuchKey, SlowDown...). */
export class S3Error extends Error {
  readonly code: string;
  readonly status: number;
  constructor(status: number, code: string, message: string) {
    super(`S3 ${code} (${status}): ${message}`);
    this.name = 'S3Error';
    this.code = code;
    this.status = status;
  }
}

const ATTEMPTS = 4;
/** Longest silence while sending a request or waiting for its answer's headers. */
const ANSWER_TIMEOUT_MS = 60_000;
const RETRYABLE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'UND_ERR_SOCKET']);

export class S3Client {
  readonly bucket: string;
  private readonly base: URL;
  private readonly virtualHost: boolean;
  private readonly signer: SignatureV4;
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;
  private readonly lookup: LookupFunction | undefined;

  constructor(settings: S3ConnectionSettings, options: S3ClientOptions = {}) {
    this.bucket = settings.bucket;
    this.base = new URL(settings.endpoint ?? `https://s3.${settings.region}.amazonaws.com`);
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') throw new Error(`storage.s3.endpoint must be an http(s) URL, not ${this.base.protocol}`);
    this.virtualHost = !settings.forcePathStyle;
    const { SignatureV4: Signer } = load('@smithy/signature-v4') as typeof import('@smithy/signature-v4');
    const { Hash } = load('@smithy/hash-node') as typeof import('@smithy/hash-node');
    this.signer = new Signer({
      service: 's3',
      region: settings.region,
      credentials: { ...settings.credentials },
      sha256: Hash.bind(null, 'sha256'),
      // S3 signs the path as sent (no double encoding) and accepts UNSIGNED-PAYLOAD, so
      // bodies stream without being hashed twice (their digest is checked by the registry).
      uriEscapePath: false,
      applyChecksum: false,
    });
    this.transport = this.base.protocol === 'https:' ? https : http;
    this.agent = new this.transport.Agent({ keepAlive: true, maxSockets: 64, scheduling: 'lifo' });
    this.lookup = options.lookup;
  }

  /** Sends one request and resolves with the response once its headers arrived (2xx or allowed). */
  async request(method: string, key: string | null, options: S3RequestOptions = {}): Promise<IncomingMessage> {
    const replayable = options.body === undefined || Buffer.isBuffer(options.body);
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await this.send(method, key, options);
        const status = response.statusCode ?? 0;
        if ((status >= 200 && status < 300) || options.allow?.includes(status)) return response;
        const body = await readText(response);
        const error = parseS3Error(status, body);
        if (replayable && attempt < ATTEMPTS && (status >= 500 || error.code === 'SlowDown')) {
          await backoff(attempt);
          continue;
        }
        throw new S3Error(status, error.code, error.message);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (replayable && attempt < ATTEMPTS && code !== undefined && RETRYABLE_CODES.has(code)) {
          await backoff(attempt);
          continue;
        }
        throw error;
      }
    }
  }

  /** Like request, then reads the (XML) answer; S3 reports some failures inside a 200. */
  async requestXml(method: string, key: string | null, options: S3RequestOptions = {}): Promise<string> {
    const response = await this.request(method, key, options);
    const text = await readText(response);
    if (/^\s*(<\?xml[^>]*>\s*)?<Error>/.test(text)) {
      const error = parseS3Error(response.statusCode ?? 200, text);
      throw new S3Error(response.statusCode ?? 200, error.code, error.message);
    }
    return text;
  }

  /** A presigned GET URL for `key`, valid for `expiresInSeconds`. */
  async presignGet(key: string, expiresInSeconds: number): Promise<string> {
    const target = this.target(key);
    const presigned = await this.signer.presign(
      {
        method: 'GET',
        protocol: target.protocol,
        hostname: target.hostname,
        ...(target.port ? { port: Number(target.port) } : {}),
        path: target.path,
        query: {},
        // As AWS's own presigner does: the payload is not part of a presigned URL's signature.
        headers: { host: target.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      },
      { expiresIn: expiresInSeconds },
    );
    return `${target.protocol}//${target.host}${target.path}?${encodeQuery(presigned.query as Record<string, string>)}`;
  }

  private async send(method: string, key: string | null, options: S3RequestOptions): Promise<IncomingMessage> {
    const target = this.target(key);
    const length = Buffer.isBuffer(options.body) ? options.body.length : options.length;
    const headers: Record<string, string> = {
      ...options.headers,
      host: target.host,
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      ...(length !== undefined ? { 'content-length': String(length) } : method === 'PUT' || method === 'POST' ? { 'content-length': '0' } : {}),
    };
    const query = options.query ?? {};
    const signed = await this.signer.sign({
      method,
      protocol: target.protocol,
      hostname: target.hostname,
      ...(target.port ? { port: Number(target.port) } : {}),
      path: target.path,
      query: { ...query },
      headers,
    });
    const search = encodeQuery(query);
    return new Promise<IncomingMessage>((resolve, reject) => {
      const request = this.transport.request(
        {
          protocol: target.protocol,
          hostname: target.hostname,
          port: target.port || undefined,
          method,
          path: search ? `${target.path}?${search}` : target.path,
          headers: signed.headers,
          agent: this.agent,
          ...(this.lookup ? { lookup: this.lookup } : {}),
        },
        (response) => {
          // Only the wait for an answer is timed: a download paused by a slow client is not stuck.
          request.setTimeout(0);
          resolve(response);
        },
      );
      request.setTimeout(ANSWER_TIMEOUT_MS, () => request.destroy(Object.assign(new Error(`no answer from ${target.host} within ${ANSWER_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' })));
      request.on('error', reject);
      const body = options.body;
      if (body === undefined) request.end();
      else if (Buffer.isBuffer(body)) request.end(body);
      else {
        body.on('error', (error) => request.destroy(error));
        body.pipe(request);
      }
    });
  }

  private target(key: string | null): { protocol: string; hostname: string; port: string; host: string; path: string } {
    const basePath = this.base.pathname.replace(/\/+$/, '');
    const objectPath = key === null ? '' : `/${encodeKey(key)}`;
    if (this.virtualHost) {
      const hostname = `${this.bucket}.${this.base.hostname}`;
      return { protocol: this.base.protocol, hostname, port: this.base.port, host: this.base.port ? `${hostname}:${this.base.port}` : hostname, path: `${basePath}${objectPath || '/'}` };
    }
    return { protocol: this.base.protocol, hostname: this.base.hostname, port: this.base.port, host: this.base.host, path: `${basePath}/${this.bucket}${objectPath}` };
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Reads a (small) answer body as text. */
export async function readText(response: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    size += (chunk as Buffer).length;
    // Answers the driver reads are XML listings and errors; anything far larger is not one.
    if (size > 16 * 1024 * 1024) {
      response.destroy();
      throw new Error('S3 answer too large');
    }
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts).toString('utf8');
}

/** Content-MD5 header value, which S3 requires on DeleteObjects. */
export function contentMd5(body: Buffer): string {
  return createHash('md5').update(body).digest('base64');
}

/** RFC 3986 encoding, as SigV4 canonicalises (encodeURIComponent leaves !'()* alone). */
function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function encodeKey(key: string): string {
  return key.split('/').map(rfc3986).join('/');
}

function encodeQuery(query: Readonly<Record<string, string>>): string {
  return Object.keys(query)
    .sort()
    .map((name) => `${rfc3986(name)}=${rfc3986(query[name]!)}`)
    .join('&');
}

async function backoff(attempt: number): Promise<void> {
  await sleep(Math.round(50 * 2 ** attempt * (0.5 + Math.random())));
}

