// A minimal OCI Distribution client over node:http with a keep-alive agent: just what the
// benchmark needs, with as little client-side work per request as possible (bodies of
// large downloads are counted and dropped, never collected).
import { Agent, request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { createHash } from 'node:crypto';

export type RequestBody = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

export interface RequestOptions {
  readonly headers?: OutgoingHttpHeaders;
  readonly body?: RequestBody;
  /** Count the response body's bytes but do not keep them. */
  readonly discardBody?: boolean;
  /** Feed every response chunk to this function (e.g. a hash). */
  readonly onData?: (chunk: Buffer) => void;
  /** Statuses that count as success; anything else rejects with HttpStatusError. */
  readonly expect?: readonly number[];
  /** Overrides the client's agent (e.g. one with more sockets). */
  readonly agent?: Agent;
}

export interface HttpResult {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly bytes: number;
}

export class HttpStatusError extends Error {
  readonly status: number;
  constructor(method: string, path: string, status: number, body: string) {
    super(`${method} ${path} -> HTTP ${status}: ${body.slice(0, 400)}`);
    this.name = 'HttpStatusError';
    this.status = status;
  }
}

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const MANIFEST_ACCEPT = [OCI_MANIFEST, 'application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'].join(', ');

const REQUEST_TIMEOUT_MS = 300_000;

export function sha256Digest(data: Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function newAgent(maxSockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, keepAliveMsecs: 10_000 });
}

export class OciClient {
  readonly baseUrl: string;
  readonly host: string;
  readonly port: number;
  readonly agent: Agent;

  /** Headers sent with every request (Authorization, for the authentication rows). */
  readonly defaultHeaders: Readonly<OutgoingHttpHeaders>;

  constructor(baseUrl: string, maxSockets = 128, defaultHeaders: Readonly<OutgoingHttpHeaders> = {}) {
    this.defaultHeaders = defaultHeaders;
    const url = new URL(baseUrl);
    this.baseUrl = url.origin;
    this.host = url.hostname;
    this.port = Number(url.port);
    this.agent = newAgent(maxSockets);
  }

  close(): void {
    this.agent.destroy();
  }

  /** One request. `target` is a path (with query) or an absolute URL on this server (as Location gives). */
  request(method: string, target: string, options: RequestOptions = {}): Promise<HttpResult> {
    const path = target.startsWith('http://') || target.startsWith('https://') ? pathOf(target) : target;
    const body = options.body;
    const headers: OutgoingHttpHeaders = { ...this.defaultHeaders, ...options.headers };
    if (body instanceof Uint8Array) headers['content-length'] = body.byteLength;
    else if (body === undefined && (method === 'POST' || method === 'PUT' || method === 'PATCH') && headers['content-length'] === undefined) {
      headers['content-length'] = 0;
    }
    return new Promise<HttpResult>((resolve, reject) => {
      let settled = false;
      const fail = (error: Error): void => {
        if (settled) return;
        settled = true;
        reject(error);
      };
      const request = httpRequest({ host: this.host, port: this.port, method, path, headers, agent: options.agent ?? this.agent }, (response) => {
        const status = response.statusCode ?? 0;
        const ok = options.expect === undefined || options.expect.includes(status);
        // Always keep error bodies: they are small and explain the failure.
        const keep = !ok || !options.discardBody;
        const parts: Buffer[] = [];
        let bytes = 0;
        response.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (keep) parts.push(chunk);
          options.onData?.(chunk);
        });
        response.on('end', () => {
          if (settled) return;
          settled = true;
          const content = keep ? Buffer.concat(parts) : Buffer.alloc(0);
          if (!ok) reject(new HttpStatusError(method, path, status, content.toString('utf8')));
          else resolve({ status, headers: response.headers, body: content, bytes });
        });
        response.on('error', fail);
        response.on('aborted', () => fail(new Error(`${method} ${path}: response aborted`)));
      });
      request.on('error', fail);
      request.setTimeout(REQUEST_TIMEOUT_MS, () => request.destroy(new Error(`${method} ${path}: timed out after ${REQUEST_TIMEOUT_MS} ms`)));
      if (body === undefined) request.end();
      else if (body instanceof Uint8Array) request.end(body);
      else void writeStreaming(request, body).catch((error: unknown) => request.destroy(error as Error));
    });
  }

  // ---- blobs -------------------------------------------------------------------------

  async startUpload(repository: string): Promise<string> {
    const started = await this.request('POST', `/v2/${repository}/blobs/uploads/`, { expect: [202] });
    return location(started);
  }

  /** POST, then PUT ?digest= with the whole body (the monolithic upload every client supports). */
  async pushBlob(repository: string, data: Uint8Array, digest: string): Promise<void> {
    const upload = await this.startUpload(repository);
    const done = await this.request('PUT', withDigest(upload, digest), {
      body: data,
      headers: { 'content-type': 'application/octet-stream' },
      expect: [201],
    });
    checkDigest(done, digest);
  }

  /** POST, PATCH chunk by chunk (with Content-Range), then PUT ?digest= without a body. */
  async pushBlobChunked(repository: string, data: Uint8Array, digest: string, chunkSize: number): Promise<void> {
    let upload = await this.startUpload(repository);
    for (let offset = 0; offset < data.byteLength; offset += chunkSize) {
      const chunk = data.subarray(offset, Math.min(offset + chunkSize, data.byteLength));
      const patched = await this.request('PATCH', upload, {
        body: chunk,
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + chunk.byteLength - 1}` },
        expect: [202],
      });
      upload = location(patched);
    }
    const done = await this.request('PUT', withDigest(upload, digest), { expect: [201] });
    checkDigest(done, digest);
  }

  /** Monolithic upload streamed from an iterable of known total size: never buffered whole. */
  async pushBlobStream(repository: string, chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, size: number, digest: string): Promise<void> {
    const upload = await this.startUpload(repository);
    const done = await this.request('PUT', withDigest(upload, digest), {
      body: chunks,
      headers: { 'content-type': 'application/octet-stream', 'content-length': size },
      expect: [201],
    });
    checkDigest(done, digest);
  }

  /** GETs a blob, dropping the bytes; returns how many arrived. */
  async pullBlob(repository: string, digest: string, options: { agent?: Agent; onData?: (chunk: Buffer) => void } = {}): Promise<number> {
    const result = await this.request('GET', `/v2/${repository}/blobs/${digest}`, {
      discardBody: true,
      expect: [200],
      ...(options.agent ? { agent: options.agent } : {}),
      ...(options.onData ? { onData: options.onData } : {}),
    });
    return result.bytes;
  }

  /** GETs a small blob, keeping its content. */
  async getBlob(repository: string, digest: string): Promise<Buffer> {
    return (await this.request('GET', `/v2/${repository}/blobs/${digest}`, { expect: [200] })).body;
  }

  /** Cross-repository mount; true when the registry mounted it (201). */
  async mountBlob(repository: string, digest: string, from: string): Promise<boolean> {
    const result = await this.request('POST', `/v2/${repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`, {
      expect: [201, 202],
    });
    if (result.status === 202) {
      // Not mounted: cancel the upload session the registry opened instead.
      await this.request('DELETE', location(result), { expect: [204, 202, 200, 404] }).catch(() => {});
      return false;
    }
    return true;
  }

  // ---- manifests ---------------------------------------------------------------------

  async putManifest(repository: string, reference: string, content: Uint8Array, mediaType = OCI_MANIFEST): Promise<string> {
    const result = await this.request('PUT', `/v2/${repository}/manifests/${reference}`, {
      body: content,
      headers: { 'content-type': mediaType },
      expect: [201],
    });
    return String(result.headers['docker-content-digest'] ?? '');
  }

  async getManifest(repository: string, reference: string): Promise<HttpResult> {
    return this.request('GET', `/v2/${repository}/manifests/${reference}`, { headers: { accept: MANIFEST_ACCEPT }, expect: [200] });
  }

  async headManifest(repository: string, reference: string): Promise<HttpResult> {
    return this.request('HEAD', `/v2/${repository}/manifests/${reference}`, { headers: { accept: MANIFEST_ACCEPT }, expect: [200] });
  }

  // ---- listings ----------------------------------------------------------------------

  /** Every tag of a repository, following Link headers if the registry paginates. */
  async listTags(repository: string, pageSize?: number): Promise<{ tags: string[]; requests: number }> {
    const first = `/v2/${repository}/tags/list${pageSize === undefined ? '' : `?n=${pageSize}`}`;
    const { entries, requests } = await this.followPages(first, (body) => (body as { tags?: string[] | null }).tags ?? []);
    return { tags: entries, requests };
  }

  /** The whole catalog, following Link headers. */
  async catalog(pageSize: number): Promise<{ repositories: string[]; requests: number }> {
    const { entries, requests } = await this.followPages(`/v2/_catalog?n=${pageSize}`, (body) => (body as { repositories?: string[] | null }).repositories ?? []);
    return { repositories: entries, requests };
  }

  private async followPages(first: string, pick: (body: unknown) => string[]): Promise<{ entries: string[]; requests: number }> {
    const entries: string[] = [];
    let next: string | null = first;
    let requests = 0;
    while (next !== null) {
      const result = await this.request('GET', next, { expect: [200] });
      requests++;
      const page = pick(JSON.parse(result.body.toString('utf8')));
      for (const entry of page) entries.push(entry);
      next = nextLink(result.headers.link);
      if (requests > 100_000) throw new Error(`pagination from ${first} does not end`);
    }
    return { entries, requests };
  }
}

function pathOf(url: string): string {
  const parsed = new URL(url);
  return parsed.pathname + parsed.search;
}

async function writeStreaming(request: ClientRequest, body: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
  for await (const chunk of body) {
    if (request.destroyed) return;
    if (!request.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          request.off('drain', done);
          request.off('close', done);
          resolve();
        };
        request.on('drain', done);
        request.on('close', done);
      });
    }
  }
  request.end();
}

export function location(result: HttpResult): string {
  const value = result.headers.location;
  if (typeof value !== 'string' || value === '') throw new Error(`HTTP ${result.status} without a Location header`);
  return value;
}

function withDigest(target: string, digest: string): string {
  return `${target}${target.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
}

function checkDigest(result: HttpResult, digest: string): void {
  const returned = result.headers['docker-content-digest'];
  if (returned !== undefined && returned !== digest) throw new Error(`registry stored ${String(returned)}, expected ${digest}`);
}

/** The target of `rel="next"` in a Link header, or null. */
export function nextLink(header: string | string[] | undefined): string | null {
  if (header === undefined) return null;
  for (const value of Array.isArray(header) ? header : [header]) {
    for (const part of value.split(',')) {
      const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part.trim());
      if (match) return match[1]!;
    }
  }
  return null;
}
