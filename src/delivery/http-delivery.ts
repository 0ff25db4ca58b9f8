// The one outbound HTTP path: action-log forwarders, quality notices and webhooks all send
// through here. One attempt is bounded in time (a timeout covers connecting, headers and
// the body) and in number (a process-wide bound on requests in flight, so a flood of
// events never opens thousands of sockets); retries are the caller's decision, helped by
// `backoffDelay` (exponential, full jitter) and the receiver's Retry-After. Nothing here
// logs: callers name a target only by `redactedTarget`, never its credentials or query.
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface DeliveryRequest {
  readonly url: string;
  readonly body: string | Uint8Array;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Per attempt (default: the delivery's `timeoutMs`). */
  readonly timeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface DeliveryResult {
  /** A 2xx answer. */
  readonly ok: boolean;
  /** The answer's status; undefined when none came (refused, timed out, reset). */
  readonly status?: number | undefined;
  readonly latencyMs: number;
  /** What the receiver asked us to wait before the next attempt (Retry-After), in ms. */
  readonly retryAfterMs?: number | undefined;
  /** Why it failed, without the URL (which may hold a secret). */
  readonly error?: string | undefined;
}

export interface HttpDeliveryOptions {
  /** Requests in flight at once through this instance (default 16). */
  readonly concurrency?: number | undefined;
  readonly timeoutMs?: number | undefined;
  readonly userAgent?: string | undefined;
  readonly clock?: () => number;
}

export class HttpDelivery {
  private readonly limit: number;
  private readonly timeoutMs: number;
  private readonly userAgent: string;
  private readonly now: () => number;
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly httpAgent: HttpAgent;
  private readonly httpsAgent: HttpsAgent;

  constructor(options: HttpDeliveryOptions = {}) {
    this.limit = Math.max(1, options.concurrency ?? 16);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.userAgent = options.userAgent ?? 'custody';
    this.now = options.clock ?? Date.now;
    // Sockets beyond the bound are never needed; idle ones close after a while on their own.
    this.httpAgent = new HttpAgent({ keepAlive: true, maxSockets: this.limit, timeout: 60_000 });
    this.httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: this.limit, timeout: 60_000 });
  }

  /** Requests in flight now (for tests and metrics). */
  get inFlight(): number {
    return this.active;
  }

  /** One POST; never throws (a failure is a result, so callers decide about retries). */
  async post(request: DeliveryRequest): Promise<DeliveryResult> {
    await this.acquire();
    const started = performance.now();
    try {
      const status = await this.exchange(request);
      const latencyMs = Math.round(performance.now() - started);
      const ok = status.code >= 200 && status.code < 300;
      const retryAfterMs = parseRetryAfter(status.retryAfter, this.now());
      return { ok, status: status.code, latencyMs, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}), ...(ok ? {} : { error: `HTTP ${status.code}` }) };
    } catch (error) {
      return { ok: false, latencyMs: Math.round(performance.now() - started), error: describeFailure(error) };
    } finally {
      this.release();
    }
  }

  /**
   * The request itself, over node:http(s) with keep-alive sockets (a fraction of fetch's
   * cost per request, which matters at a thousand events a second). Redirects are not
   * followed: a receiver that moved answers 3xx, which is a failure to fix, not to chase.
   */
  private exchange(request: DeliveryRequest): Promise<{ code: number; retryAfter: string | undefined }> {
    return new Promise((resolve, reject) => {
      const url = new URL(request.url);
      const secure = url.protocol === 'https:';
      if (!secure && url.protocol !== 'http:') {
        reject(new Error(`unsupported protocol ${url.protocol}`));
        return;
      }
      const body = typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : request.body;
      const headers: Record<string, string | number> = { 'user-agent': this.userAgent, ...request.headers, 'content-length': body.byteLength };
      if (url.username !== '' || url.password !== '') headers.authorization ??= `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
      const outgoing = (secure ? httpsRequest : httpRequest)({
        method: 'POST',
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port === '' ? undefined : Number(url.port),
        path: `${url.pathname}${url.search}`,
        headers,
        agent: secure ? this.httpsAgent : this.httpAgent,
      });
      let settled = false;
      const fail = (error: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', onAbort);
        outgoing.destroy();
        reject(error);
      };
      const timer = setTimeout(() => fail(Object.assign(new Error('timed out'), { name: 'TimeoutError' })), request.timeoutMs ?? this.timeoutMs);
      const onAbort = (): void => fail(Object.assign(new Error('aborted'), { name: 'AbortError' }));
      if (request.signal?.aborted) return onAbort();
      request.signal?.addEventListener('abort', onAbort, { once: true });
      outgoing.on('error', fail);
      outgoing.on('response', (response) => {
        // The answer's body is not ours to read: drain it so the socket is reused.
        response.resume();
        response.on('error', fail);
        response.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          request.signal?.removeEventListener('abort', onAbort);
          const retryAfter = response.headers['retry-after'];
          resolve({ code: response.statusCode ?? 0, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter });
        });
      });
      outgoing.end(body);
    });
  }

  /** Closes idle keep-alive sockets (shutdown). */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private async acquire(): Promise<void> {
    if (this.active < this.limit) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next waiter: `active` stays the same.
    if (next) next();
    else this.active--;
  }
}

export interface BackoffPolicy {
  /** The first retry's ceiling (ms). */
  readonly baseMs: number;
  /** No wait is longer than this (ms). */
  readonly maxMs: number;
}

/**
 * The wait before retry number `attempt` (1 for the first retry): exponential growth with
 * "full jitter" (a random wait up to the exponential ceiling, at least a tenth of it), so
 * that senders failing together do not retry together. A receiver's Retry-After is
 * honoured when longer, up to `maxMs`.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, retryAfterMs?: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  const jittered = Math.round(ceiling * (0.1 + 0.9 * random()));
  return Math.min(policy.maxMs, Math.max(jittered, retryAfterMs ?? 0));
}

/** Retry-After as delay-seconds or an HTTP date (RFC 9110 §10.2.3), in ms from `now`. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^[0-9]{1,9}$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** A URL as logs may show it: origin and path, without credentials, query or fragment. */
export function redactedTarget(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return 'an invalid URL';
  }
}

/** A URL's user:password as an Authorization header, and the URL without them. */
export function splitCredentials(url: string): { url: string; authorization?: string } {
  const parsed = new URL(url);
  if (parsed.username === '' && parsed.password === '') return { url: parsed.href };
  const authorization = `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')}`;
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.href, authorization };
}

/** Why a request failed, without the URL: node's socket errors name only the address. */
function describeFailure(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return 'timed out';
    if (error.name === 'AbortError') return 'aborted';
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `connection failed: ${code}` : error.message;
  }
  return String(error);
}
