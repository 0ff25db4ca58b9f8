// Forwarding action log entries over HTTP, in batches, in the collector's own format:
// - `ndjson`: JSON Lines (application/x-ndjson), one entry per line (Loki, Vector, Fluent Bit);
// - `elasticsearch`: the _bulk API of Elasticsearch and OpenSearch, a `create` action per
//   entry with the entry's id as `_id`, so a batch re-sent after a lost answer is not indexed
//   twice (the duplicates come back as per-item conflicts), and data streams accept it;
// - `splunk`: the HTTP Event Collector's event endpoint, one event object per entry with its
//   time in epoch seconds.
// The collector's token travels in the Authorization scheme its format expects, and any
// extra headers are sent as given; neither ever appears in a log line. Sending goes through
// the one outbound delivery module (src/delivery), which bounds each attempt; this class
// decides when to retry (exponential backoff with jitter, honouring Retry-After).
import { hostname } from 'node:os';
import type { Logger } from '../observability/logger.ts';
import { backoffDelay, HttpDelivery, redactedTarget, splitCredentials } from '../delivery/http-delivery.ts';
import { actionJson, type StoredAction } from './action-log-store.ts';
import { CLOSE_TIMEOUT_MS, DEFAULT_MAX_BUFFER, withTimeout, type ActionForwarder, type ForwarderStats } from './forwarder.ts';

export type HttpForwardFormat = 'ndjson' | 'elasticsearch' | 'splunk';

export interface HttpForwarderOptions {
  readonly url: string;
  readonly logger: Logger;
  readonly format?: HttpForwardFormat | undefined;
  /** Elasticsearch/OpenSearch index or data stream (default custody-actions); Splunk index when given. */
  readonly index?: string | undefined;
  /** The collector's credential: `Splunk T`, `ApiKey T` or `Bearer T` by format. */
  readonly token?: string | undefined;
  readonly maxBuffer?: number | undefined;
  /** Entries per POST (500) and the longest wait before a partial batch is sent (1 s). */
  readonly batchSize?: number | undefined;
  readonly intervalMs?: number | undefined;
  readonly timeoutMs?: number | undefined;
  readonly maxBackoffMs?: number | undefined;
  /** Extra request headers (an Authorization for the collector, a tenant id). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** The outbound path (default: one of its own). */
  readonly delivery?: HttpDelivery | undefined;
}

const CONTENT_TYPES: Readonly<Record<HttpForwardFormat, string>> = {
  ndjson: 'application/x-ndjson',
  elasticsearch: 'application/x-ndjson',
  splunk: 'application/json',
};

const TOKEN_SCHEMES: Readonly<Record<HttpForwardFormat, string>> = { ndjson: 'Bearer', elasticsearch: 'ApiKey', splunk: 'Splunk' };

/** One entry as its format's record (Elasticsearch: the action line and the document). */
export function httpRecord(entry: StoredAction, format: HttpForwardFormat, index: string | undefined, host: string = hostname()): string {
  const json = actionJson(entry);
  switch (format) {
    case 'ndjson':
      return JSON.stringify(json);
    case 'elasticsearch':
      // `@timestamp` is what Kibana and OpenSearch Dashboards sort by, and data streams require.
      return `${JSON.stringify({ create: { _index: index ?? 'custody-actions', _id: String(entry.id) } })}\n${JSON.stringify({ '@timestamp': json.time, ...json })}`;
    case 'splunk':
      return JSON.stringify({ time: entry.occurredAt / 1000, host, source: 'custody', sourcetype: 'custody:action', ...(index ? { index } : {}), event: json });
  }
}

/** The body of one POST of `entries` (what the collector receives). */
export function httpBatchBody(entries: readonly StoredAction[], format: HttpForwardFormat, index?: string): string {
  return `${entries.map((entry) => httpRecord(entry, format, index)).join('\n')}\n`;
}

export class HttpForwarder implements ActionForwarder {
  readonly name: string;
  private readonly url: string;
  private readonly logger: Logger;
  private readonly format: HttpForwardFormat;
  private readonly index: string | undefined;
  private readonly maxBuffer: number;
  private readonly batchSize: number;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly maxBackoffMs: number;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly delivery: HttpDelivery;
  private readonly ownDelivery: boolean;
  private readonly host = hostname();
  private buffer: string[] = [];
  private sending: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private retryAt = 0;
  private failuresInRow = 0;
  private closed = false;
  private counts = { sent: 0, dropped: 0, failures: 0 };

  constructor(options: HttpForwarderOptions) {
    const parsed = new URL(options.url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`forwardUrl: expected an http(s) URL, got ${parsed.protocol}`);
    this.format = options.format ?? 'ndjson';
    this.index = options.index;
    // Never name the URL's credentials (user:password@) or query in logs.
    this.name = `http ${redactedTarget(options.url)}`;
    this.logger = options.logger;
    this.maxBuffer = options.maxBuffer ?? DEFAULT_MAX_BUFFER;
    this.batchSize = options.batchSize ?? 500;
    this.intervalMs = options.intervalMs ?? 1000;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxBackoffMs = options.maxBackoffMs ?? 60_000;
    this.ownDelivery = options.delivery === undefined;
    this.delivery = options.delivery ?? new HttpDelivery({ concurrency: 1, timeoutMs: this.timeoutMs });
    const { url, authorization } = splitCredentials(options.url);
    this.url = url;
    const headers: Record<string, string> = {};
    if (authorization) headers.authorization = authorization;
    if (options.token) headers.authorization = `${TOKEN_SCHEMES[this.format]} ${options.token}`;
    for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;
    headers['content-type'] = CONTENT_TYPES[this.format];
    this.headers = headers;
  }

  get stats(): ForwarderStats {
    return { ...this.counts, buffered: this.buffer.length };
  }

  forward(entries: readonly StoredAction[]): void {
    if (this.closed) return;
    try {
      const index = this.format === 'splunk' ? this.index : (this.index ?? 'custody-actions');
      for (const entry of entries) this.buffer.push(httpRecord(entry, this.format, index, this.host));
      const excess = this.buffer.length - this.maxBuffer;
      if (excess > 0) {
        this.buffer.splice(0, excess);
        this.counts.dropped += excess;
        this.logger.warn('action log forwarding buffer full; oldest entries dropped', { forwarder: this.name, dropped: excess });
      }
      if (this.buffer.length >= this.batchSize && !this.sending && Date.now() >= this.retryAt) this.sendSoon(0);
      else this.sendSoon(this.intervalMs);
    } catch (error) {
      this.logger.warn('action log forwarding failed', { forwarder: this.name, error: (error as Error).message });
    }
  }

  private sendSoon(delayMs: number): void {
    if (this.sending) return;
    if (this.timer) {
      if (delayMs > 0) return;
      clearTimeout(this.timer);
    }
    const wait = Math.max(delayMs, this.retryAt - Date.now(), 0);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.sending = this.sendAll().finally(() => {
        this.sending = null;
        if (this.buffer.length > 0 && !this.closed) this.sendSoon(this.intervalMs);
      });
    }, wait);
    this.timer.unref();
  }

  /** Sends batches until the buffer is empty or a POST fails; never rejects. */
  private async sendAll(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.slice(0, this.batchSize);
      const result = await this.delivery.post({ url: this.url, headers: this.headers, body: `${batch.join('\n')}\n`, timeoutMs: this.timeoutMs });
      if (!result.ok) {
        this.counts.failures++;
        this.failuresInRow++;
        const delay = backoffDelay(this.failuresInRow, { baseMs: 500, maxMs: this.maxBackoffMs }, result.retryAfterMs);
        this.retryAt = Date.now() + delay;
        if (this.failuresInRow === 1 || this.failuresInRow % 10 === 0) {
          this.logger.warn('action log forwarding failed; retrying', { forwarder: this.name, error: result.error, buffered: this.buffer.length, retryInMs: delay });
        }
        return;
      }
      // Entries dropped from the front while this POST was in flight shift the batch: only
      // remove what is still the batch's own.
      const start = this.buffer.indexOf(batch[0]!);
      this.buffer.splice(0, start < 0 ? 0 : start + batch.length);
      this.counts.sent += batch.length;
      if (this.failuresInRow > 0) this.logger.info('action log forwarding resumed', { forwarder: this.name });
      this.failuresInRow = 0;
      this.retryAt = 0;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const deadline = Date.now() + CLOSE_TIMEOUT_MS;
    if (this.sending) await withTimeout(this.sending, CLOSE_TIMEOUT_MS);
    // One last attempt for what is left, within the deadline, ignoring backoff.
    if (this.buffer.length > 0 && Date.now() < deadline) {
      this.retryAt = 0;
      await withTimeout(this.sendAll(), Math.max(0, deadline - Date.now()));
    }
    if (this.buffer.length > 0) {
      this.counts.dropped += this.buffer.length;
      this.logger.warn('action log entries not forwarded at shutdown', { forwarder: this.name, lost: this.buffer.length });
      this.buffer = [];
    }
    if (this.ownDelivery) this.delivery.close();
  }
}
