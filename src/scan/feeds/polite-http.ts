// HTTP as a guest of the publishers: one request at a time per host (so one connection
// per host), retries with exponential backoff on 429, 5xx and dropped connections,
// `Retry-After` honoured, conditional requests (ETag / Last-Modified) so an unchanged
// index costs a 304, and downloads that stream to a file and resume with `Range` where a
// cut left them, this run or the next.
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { HttpValidators } from '../../metadata/feed-source-store.ts';

export class HttpStatusError extends Error {
  readonly status: number;
  constructor(url: string, status: number, detail = '') {
    super(`${url}: HTTP ${status}${detail ? ` ${detail}` : ''}`);
    this.status = status;
  }
}

export interface PoliteHttpOptions {
  readonly fetch?: typeof fetch;
  /** Attempts after the first (default 4). */
  readonly retries?: number;
  /** First backoff delay (default 1 s; doubles, with jitter). */
  readonly backoffMs?: number;
  /** A Retry-After longer than this fails the request instead of waiting (default 5 min). */
  readonly maxRetryAfterMs?: number;
  readonly userAgent?: string;
  readonly signal?: AbortSignal;
  /** Counts every byte received (progress, and tests that check what was transferred). */
  readonly onBytes?: (count: number) => void;
}

export interface Fetched<T> {
  /** True for a 304: `value` is then null and the validators unchanged. */
  readonly notModified: boolean;
  readonly value: T | null;
  readonly validators: HttpValidators;
}

const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);

function validatorsOf(response: Response): HttpValidators {
  const etag = response.headers.get('etag') ?? undefined;
  const lastModified = response.headers.get('last-modified') ?? undefined;
  return { ...(etag ? { etag } : {}), ...(lastModified ? { lastModified } : {}) };
}

/** Retry-After in ms: delta-seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(value: string | null, now: number = Date.now()): number | null {
  if (value === null) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

export class PoliteHttp {
  private readonly fetchImpl: typeof fetch;
  private readonly options: PoliteHttpOptions;
  /** Per host, the tail of its queue: requests to one host run one after another. */
  private readonly hosts = new Map<string, Promise<unknown>>();

  constructor(options: PoliteHttpOptions = {}) {
    this.fetchImpl = options.fetch ?? fetch;
    this.options = options;
  }

  /** Runs `work` when the host is free; the host stays taken until it settles. */
  private onHost<T>(url: string, work: () => Promise<T>): Promise<T> {
    const host = new URL(url).host;
    const previous = this.hosts.get(host) ?? Promise.resolve();
    const run = previous.then(work, work);
    const tail = run.catch(() => {});
    this.hosts.set(host, tail);
    void tail.then(() => {
      if (this.hosts.get(host) === tail) this.hosts.delete(host);
    });
    return run;
  }

  private async sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const signal = this.options.signal;
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal!.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * One request with retries; `consume` reads the response while the host is held. A
   * failure inside `consume` (a cut body) is retried too, `consume` deciding how to go on.
   */
  private async attempt<T>(url: string, headers: () => Promise<Record<string, string>>, consume: (response: Response) => Promise<T>): Promise<T> {
    const retries = this.options.retries ?? 4;
    const backoff = this.options.backoffMs ?? 1000;
    let lastError: Error = new Error(`${url}: no attempt made`);
    for (let attempt = 0; attempt <= retries; attempt++) {
      this.options.signal?.throwIfAborted();
      let wait = backoff * 2 ** attempt * (0.75 + Math.random() / 2);
      try {
        return await this.onHost(url, async () => {
          const response = await this.fetchImpl(url, {
            headers: { 'user-agent': this.options.userAgent ?? 'custody-vulndb', ...(await headers()) },
            ...(this.options.signal ? { signal: this.options.signal } : {}),
          });
          if (RETRYABLE.has(response.status)) {
            await response.body?.cancel();
            const after = retryAfterMs(response.headers.get('retry-after'));
            if (after !== null) {
              if (after > (this.options.maxRetryAfterMs ?? 300_000)) throw new HttpStatusError(url, response.status, `(asked to retry after ${Math.round(after / 1000)} s)`);
              wait = after;
            }
            throw Object.assign(new HttpStatusError(url, response.status), { retryable: true });
          }
          return consume(response);
        });
      } catch (error) {
        if (this.options.signal?.aborted) throw error;
        lastError = error as Error;
        const retryable = (error as { retryable?: boolean }).retryable === true || !(error instanceof HttpStatusError);
        if (!retryable || attempt === retries) break;
        await this.sleep(wait);
      }
    }
    throw lastError;
  }

  private async readBody(response: Response): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of Readable.fromWeb(response.body! as import('node:stream/web').ReadableStream<Uint8Array>)) {
      this.options.onBytes?.((chunk as Buffer).length);
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }

  /**
   * A small file (an index, a list, a checksum), conditionally when validators are given.
   * With `optional`, a 404 is `value: null` rather than an error.
   */
  async bytes(url: string, validators: HttpValidators = {}, options: { readonly optional?: boolean } = {}): Promise<Fetched<Buffer>> {
    return this.attempt(url, async () => ({
      ...(validators.etag ? { 'if-none-match': validators.etag } : {}),
      ...(validators.lastModified ? { 'if-modified-since': validators.lastModified } : {}),
    }), async (response) => {
      if (response.status === 304) {
        await response.body?.cancel();
        return { notModified: true, value: null, validators };
      }
      if (response.status === 404 && options.optional) {
        await response.body?.cancel();
        return { notModified: false, value: null, validators: {} };
      }
      if (!response.ok || !response.body) {
        await response.body?.cancel();
        throw new HttpStatusError(url, response.status);
      }
      return { notModified: false, value: await this.readBody(response), validators: validatorsOf(response) };
    });
  }

  async text(url: string, validators: HttpValidators = {}, options: { readonly optional?: boolean } = {}): Promise<Fetched<string>> {
    const fetched = await this.bytes(url, validators, options);
    return { ...fetched, value: fetched.value === null ? null : fetched.value.toString('utf8') };
  }

  /**
   * Streams `url` into `file` (bounded memory). A partial download left by a cut (this
   * run's or an earlier one's) is resumed with `Range`, guarded by `If-Range` with the
   * ETag it started under, so a file that changed meanwhile starts over. The file appears
   * under its name only once whole.
   */
  async download(url: string, file: string): Promise<{ readonly size: number }> {
    const partial = `${file}.partial`;
    const tagFile = `${file}.partial.etag`;
    await mkdir(dirname(file), { recursive: true });
    let have = 0;
    return this.attempt(url, async (): Promise<Record<string, string>> => {
      // Decided per attempt: a retry continues from what the previous attempt wrote.
      have = await stat(partial).then((info) => info.size, () => 0);
      const etag = have > 0 ? await readFile(tagFile, 'utf8').catch(() => '') : '';
      if (have > 0 && etag) return { range: `bytes=${have}-`, 'if-range': etag };
      have = 0;
      return {};
    }, async (response) => {
      if (response.status !== 200 && response.status !== 206) {
        await response.body?.cancel();
        throw new HttpStatusError(url, response.status);
      }
      const append = response.status === 206;
      if (!append) await writeFile(tagFile, response.headers.get('etag') ?? '');
      const counted = Readable.fromWeb(response.body! as import('node:stream/web').ReadableStream<Uint8Array>);
      counted.on('data', (chunk: Buffer) => this.options.onBytes?.(chunk.length));
      await pipeline(counted, createWriteStream(partial, { flags: append ? 'a' : 'w', mode: 0o600 }));
      const expected = Number(response.headers.get('content-length') ?? NaN);
      const size = (await stat(partial)).size;
      if (Number.isFinite(expected) && size !== (append ? have : 0) + expected) throw new Error(`${url}: download cut at ${size} bytes`);
      await rename(partial, file);
      await rm(tagFile, { force: true });
      return { size };
    });
  }
}
