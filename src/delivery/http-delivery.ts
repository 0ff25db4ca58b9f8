// The one outbound HTTP path: action-log forwarders, quality notices and webhooks all send
// through here. One attempt is bounded in time (a timeout covers connecting, headers and
// the body) and in number (a process-wide bound on requests in flight, so a flood of
// events never opens thousands of sockets); retries are the caller's decision, helped by
// `backoffDelay` (exponential, full jitter) and the receiver's Retry-After. Nothing here
// logs: callers name a target only by `redactedTarget`, never its credentials or query.

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

  constructor(options: HttpDeliveryOptions = {}) {
    this.limit = Math.max(1, options.concurrency ?? 16);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.userAgent = options.userAgent ?? 'custody';
    this.now = options.clock ?? Date.now;
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
      const timeout = AbortSignal.timeout(request.timeoutMs ?? this.timeoutMs);
      const response = await fetch(request.url, {
        method: 'POST',
        headers: { 'user-agent': this.userAgent, ...request.headers },
        body: request.body,
        signal: request.signal ? AbortSignal.any([timeout, request.signal]) : timeout,
        redirect: 'manual',
      });
      // The answer's body is not ours to read: drain it cheaply so the socket is reused.
      await response.body?.cancel().catch(() => {});
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), this.now());
      return {
        ok: response.status >= 200 && response.status < 300,
        status: response.status,
        latencyMs: Math.round(performance.now() - started),
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        ...(response.status >= 200 && response.status < 300 ? {} : { error: `HTTP ${response.status}` }),
      };
    } catch (error) {
      return { ok: false, latencyMs: Math.round(performance.now() - started), error: describeFailure(error) };
    } finally {
      this.release();
    }
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

/** Why a request failed, from fetch's error (whose message never holds the URL; its cause may). */
function describeFailure(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return 'timed out';
    if (error.name === 'AbortError') return 'aborted';
    const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
    if (cause && typeof cause.code === 'string') return `${error.message}: ${cause.code}`;
    // undici's own refusals ("bad port") carry a message, never the URL.
    if (cause && typeof cause.message === 'string') return `${error.message}: ${cause.message}`;
    return error.message;
  }
  return String(error);
}
