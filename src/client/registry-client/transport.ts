// One HTTP(S) exchange at a time over keep-alive agents: no auth, no retries (the
// client layers those on top). Follows redirects for GET and HEAD, dropping the
// Authorization header when the redirect leaves the registry's origin.
import type { Agent as HttpAgent, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import type { NetConnectOpts, Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { RegistryClientError, isTlsCertificateError } from './errors.ts';

// Taken with getBuiltinModule, not `import`: an ES import of node:http builds its whole
// namespace, whose lazy WebSocket/fetch getters load undici (20–40 ms of every start-up).
// node:https (and TLS) is loaded only when an https URL is first asked for.
const { Agent: HttpAgentClass, request: httpRequest } = process.getBuiltinModule('node:http');
const { createConnection } = process.getBuiltinModule('node:net');

/**
 * Plain-HTTP sockets read into one buffer of their own, reused for every read (net's
 * `onread`), instead of a fresh 64 KiB buffer per read: node:http's parser copies what it
 * keeps (body chunks, header strings) out of each read, so nothing holds on to it. A blob
 * download then leaves half the garbage, in reads four times larger (fewer chunks through
 * the parser and the streams). TLS sockets do not offer `onread`; they read as usual.
 */
const READ_BUFFER = 256 * 1024;

function createReusingConnection(options: NetConnectOpts, callback?: () => void): Socket {
  const buffer = Buffer.allocUnsafeSlow(READ_BUFFER);
  return createConnection(
    {
      ...options,
      onread: {
        buffer,
        // `this` is the socket. Its 'data' listener (node:http's) parses the bytes at once;
        // pausing the socket (backpressure) stops reading until it resumes.
        callback(this: Socket, bytes: number): boolean {
          this.emit('data', buffer.subarray(0, bytes));
          return true;
        },
      },
    },
    callback,
  );
}

export interface TlsOptions {
  /** Extra CA certificates (PEM), trusted in addition to the system's. */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  /** Client certificate and key (PEM) for mutual TLS. */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** false turns certificate verification off (--tls-verify=false). Default true. */
  readonly rejectUnauthorized?: boolean;
}

export interface TransportOptions {
  readonly tls?: TlsOptions;
  readonly userAgent: string;
  /** Idle socket timeout; default 60 s. */
  readonly timeoutMs?: number;
  /** Sockets kept per origin; default 8. */
  readonly maxSockets?: number;
}

export type RequestBody = Buffer | string | (() => Readable);

export interface HttpRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string | number>>;
  /** A buffer, or a factory for a fresh stream (called once per attempt) with Content-Length set by the caller. */
  readonly body?: RequestBody;
  readonly authorization?: string;
}

const MAX_REDIRECTS = 5;

export class HttpTransport {
  readonly #http: HttpAgent;
  #https: HttpsAgent | undefined;
  readonly #tls: TlsOptions;
  readonly #maxSockets: number;
  readonly #userAgent: string;
  readonly #timeoutMs: number;

  constructor(options: TransportOptions) {
    this.#tls = options.tls ?? {};
    this.#maxSockets = options.maxSockets ?? 8;
    this.#http = new HttpAgentClass({ keepAlive: true, maxSockets: this.#maxSockets });
    (this.#http as unknown as { createConnection: typeof createReusingConnection }).createConnection = createReusingConnection;
    this.#userAgent = options.userAgent;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
  }

  #httpsAgent(): HttpsAgent {
    if (this.#https === undefined) {
      const tls = this.#tls;
      const extraCa = tls.ca === undefined ? [] : Array.isArray(tls.ca) ? (tls.ca as (string | Buffer)[]) : [tls.ca as string | Buffer];
      const rootCertificates = extraCa.length > 0 ? process.getBuiltinModule('node:tls').rootCertificates : [];
      this.#https = new (process.getBuiltinModule('node:https').Agent)({
        keepAlive: true,
        maxSockets: this.#maxSockets,
        ...(extraCa.length > 0 ? { ca: [...rootCertificates, ...extraCa] } : {}),
        ...(tls.cert === undefined ? {} : { cert: tls.cert }),
        ...(tls.key === undefined ? {} : { key: tls.key }),
        rejectUnauthorized: tls.rejectUnauthorized ?? true,
      });
    }
    return this.#https;
  }

  /** Sends the request, following redirects for GET/HEAD; the caller consumes the response. */
  async send(request: HttpRequest): Promise<IncomingMessage> {
    let url = request.url;
    let authorization = request.authorization;
    const follow = request.method === 'GET' || request.method === 'HEAD';
    for (let hop = 0; ; hop++) {
      const response = await this.#once(request, url, authorization);
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (!follow || ![301, 302, 303, 307, 308].includes(status) || location === undefined) return response;
      response.resume();
      if (hop >= MAX_REDIRECTS) throw new RegistryClientError('PROTOCOL', `${request.method} ${request.url.pathname}: more than ${MAX_REDIRECTS} redirects`, { status });
      const next = new URL(location, url);
      if (next.origin !== request.url.origin) authorization = undefined;
      url = next;
    }
  }

  #once(request: HttpRequest, url: URL, authorization: string | undefined): Promise<IncomingMessage> {
    const https = url.protocol === 'https:';
    const headers: OutgoingHttpHeaders = { 'User-Agent': this.#userAgent, ...request.headers };
    if (authorization !== undefined) headers.Authorization = authorization;
    const body = typeof request.body === 'string' ? Buffer.from(request.body) : request.body;
    if (Buffer.isBuffer(body)) headers['Content-Length'] = body.length;
    else if (body === undefined && !['GET', 'HEAD', 'DELETE'].includes(request.method)) headers['Content-Length'] = 0;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const options = { method: request.method, headers, agent: https ? this.#httpsAgent() : this.#http };
      const req = https ? process.getBuiltinModule('node:https').request(url, options, resolve) : httpRequest(url, options, resolve);
      req.setTimeout(this.#timeoutMs, () => {
        req.destroy(Object.assign(new Error(`no response from ${url.host} in ${this.#timeoutMs} ms`), { code: 'ETIMEDOUT' }));
      });
      req.on('error', (error) => reject(describeNetworkError(error, request.method, url)));
      if (typeof body === 'function') {
        const source = body();
        source.on('error', (error) => req.destroy(error));
        source.pipe(req);
      } else {
        req.end(body);
      }
    });
  }

  close(): void {
    this.#http.destroy();
    this.#https?.destroy();
  }
}

/** Adds the request to a network error's message, and turns certificate failures into a clear typed error. */
export function describeNetworkError(error: Error, method: string, url: URL): Error {
  if (isTlsCertificateError(error)) {
    return new RegistryClientError(
      'TLS_CERTIFICATE',
      `TLS certificate verification failed for ${url.origin}: ${error.message} (${(error as { code?: string }).code}); trust the registry's CA (certs.d) or disable verification for this registry`,
      { cause: error },
    );
  }
  if (error instanceof RegistryClientError) return error;
  const wrapped = new Error(`${method} ${url.origin}${url.pathname}: ${error.message}`, { cause: error });
  (wrapped as { code?: unknown }).code = (error as { code?: unknown }).code;
  return wrapped;
}

/** Reads a whole (small) response body, refusing more than `limit` bytes. */
export async function readBody(response: IncomingMessage, limit = 4 * 1024 * 1024): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) {
      response.destroy();
      throw new RegistryClientError('PROTOCOL', `response body larger than ${limit} bytes`, { status: response.statusCode ?? 0 });
    }
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

/** Discards a response body so its socket returns to the pool. */
export function drain(response: IncomingMessage): void {
  response.resume();
}

export function header(response: IncomingMessage, name: string): string | undefined {
  const value = response.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
