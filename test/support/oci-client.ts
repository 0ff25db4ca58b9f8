// A small fetch-based client for the OCI Distribution API, for tests: raw requests with
// the response's status, headers and body, plus the few push helpers tests repeat.
import { createHash } from 'node:crypto';

export interface OciError {
  readonly code: string;
  readonly message?: string;
  readonly detail?: unknown;
}

export interface OciResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
  header(name: string): string | null;
  text(): string;
  json<T = unknown>(): T;
  /** The error envelope's entries; throws when the body is not one. */
  errors(): OciError[];
  /** The Location header as a path (+ query), whether the server sent it absolute or relative. */
  location(): string;
}

export interface RequestOptions {
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array | string;
  readonly query?: Readonly<Record<string, string>>;
}

export function sha256(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export class OciClient {
  readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  /** Sends one request; `path` may be a path or an absolute URL (a Location). */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<OciResponse> {
    const url = new URL(path, `${this.baseUrl}/`);
    for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, value);
    const response = await fetch(url, {
      method,
      headers: options.headers ?? {},
      ...(options.body === undefined ? {} : { body: options.body }),
      redirect: 'manual',
    });
    const body = Buffer.from(await response.arrayBuffer());
    const base = this.baseUrl;
    return {
      status: response.status,
      headers: response.headers,
      body,
      header: (name) => response.headers.get(name),
      text: () => body.toString('utf8'),
      json: <T>() => JSON.parse(body.toString('utf8')) as T,
      errors() {
        const parsed = JSON.parse(body.toString('utf8')) as { errors?: OciError[] };
        if (!Array.isArray(parsed.errors)) throw new Error(`not an error envelope: ${body.toString('utf8').slice(0, 200)}`);
        return parsed.errors;
      },
      location() {
        const value = response.headers.get('location');
        if (value === null) throw new Error(`no Location header on a ${response.status} response`);
        const resolved = new URL(value, `${base}/`);
        return `${resolved.pathname}${resolved.search}`;
      },
    };
  }

  /** POST then PUT: a monolithic upload through an upload session. */
  async pushBlob(name: string, content: Uint8Array | string, digest = sha256(content)): Promise<OciResponse> {
    const started = await this.request('POST', `/v2/${name}/blobs/uploads/`);
    if (started.status !== 202) throw new Error(`POST upload for ${name} answered ${started.status}: ${started.text()}`);
    return this.request('PUT', started.location(), {
      query: { digest },
      headers: { 'Content-Type': 'application/octet-stream' },
      body: content,
    });
  }

  async pushManifest(name: string, reference: string, content: Uint8Array | string, mediaType: string): Promise<OciResponse> {
    return this.request('PUT', `/v2/${name}/manifests/${reference}`, { headers: { 'Content-Type': mediaType }, body: content });
  }
}
