// The action log: ActionRecorder for the producers, query and export for the API.
//
// record() only sanitises the entry and appends it to an in-memory queue; nothing on the
// request path touches the database. The queue is written every flushIntervalMs, or as
// soon as a batch (500) is waiting, in one transaction per batch with one multi-row
// INSERT. The queue is bounded: when the database cannot keep up (or is down) beyond
// MAX_QUEUE entries, new entries are dropped and counted, with one warning per interval.
// A failed write keeps its batch at the front of the queue and retries with backoff.
// Retention deletes old entries in short chunks, hourly, the first time shortly after start:
// a job (`audit.retention`) on the scheduler the composition root gives, so one replica
// purges; the flush tick stays a local timer, since it writes this process's own buffer.
import type { Logger } from '../observability/logger.ts';
import type { Counter, MetricsRegistry } from '../observability/metrics.ts';
import type { ActionEntry, ActionRecorder } from './action.ts';
import { MAX_PAGE_SIZE, type ActionFilter, type ActionLogStore, type ActionPage, type ActionRow, type StoredAction } from './action-log-store.ts';
import type { ActionForwarder } from './forwarders.ts';
import { sanitizeEntry } from './sanitize.ts';
import type { JobScheduler } from '../jobs/job-scheduler.ts';
import { TimerScheduler } from '../jobs/timer-scheduler.ts';

export interface ActionLogOptions {
  readonly store: ActionLogStore;
  readonly logger: Logger;
  /** How often waiting entries are written (audit.flushInterval). */
  readonly flushIntervalMs: number;
  /** Entries older than this are deleted (audit.retention); 0 or less keeps everything. */
  readonly retentionMs: number;
  /** Receive every entry once it is stored. */
  readonly forwarders?: readonly ActionForwarder[] | undefined;
  readonly metrics?: MetricsRegistry | undefined;
  /** Entries per transaction and the queue length that triggers an early write (500). */
  readonly batchSize?: number | undefined;
  /** The queue's bound (50,000); entries beyond it are dropped and counted. */
  readonly maxQueue?: number | undefined;
  /** How often retention runs (1 hour) and when it first runs (1 minute after start). */
  readonly purgeIntervalMs?: number | undefined;
  readonly firstPurgeDelayMs?: number | undefined;
  /** Longest wait between retries of a failed write (30 s). */
  readonly maxBackoffMs?: number | undefined;
  /** Where retention runs as the job `audit.retention`; without one (tools, tests) the log
   * runs it on a scheduler of its own, stopped by close(). */
  readonly scheduler?: JobScheduler | undefined;
}

/** The scheduler job that applies retention. */
export const RETENTION_JOB = 'audit.retention';

export interface ActionLogStats {
  /** Entries accepted by record(). */
  readonly recorded: number;
  /** Entries committed to the database. */
  readonly written: number;
  /** Entries lost: queue full, recorded after close, or unwritable at close. */
  readonly dropped: number;
  /** Committed write transactions. */
  readonly batches: number;
  /** Failed write transactions (each retried). */
  readonly failures: number;
  /** Entries waiting to be written. */
  readonly queued: number;
  /** Entries deleted by retention. */
  readonly purged: number;
}

export const DEFAULT_BATCH_SIZE = 500;
export const DEFAULT_MAX_QUEUE = 50_000;
const DEFAULT_PURGE_INTERVAL_MS = 3_600_000;
const DEFAULT_FIRST_PURGE_DELAY_MS = 60_000;
const DEFAULT_MAX_BACKOFF_MS = 30_000;
const CLOSE_ATTEMPTS = 5;

export class ActionLog implements ActionRecorder {
  private readonly store: ActionLogStore;
  private readonly logger: Logger;
  private readonly flushIntervalMs: number;
  private readonly retentionMs: number;
  private readonly forwarders: readonly ActionForwarder[];
  private readonly batchSize: number;
  private readonly maxQueue: number;
  private readonly maxBackoffMs: number;

  private queue: ActionRow[] = [];
  private flushing: Promise<boolean> | null = null;
  private flushScheduled = false;
  private retryAt = 0;
  private consecutiveFailures = 0;
  private purging: Promise<number> | null = null;
  private closed = false;
  private closing: Promise<void> | null = null;
  private droppedSinceWarning = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  /** The scheduler this log started for itself, when it was given none. */
  private ownScheduler: TimerScheduler | null = null;
  private counters: { written: Counter; dropped: Counter } | null = null;
  private counts = { recorded: 0, written: 0, dropped: 0, batches: 0, failures: 0, purged: 0 };

  constructor(options: ActionLogOptions) {
    this.store = options.store;
    this.logger = options.logger;
    this.flushIntervalMs = Math.max(10, options.flushIntervalMs);
    this.retentionMs = options.retentionMs;
    this.forwarders = options.forwarders ?? [];
    this.batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH_SIZE);
    this.maxQueue = Math.max(this.batchSize, options.maxQueue ?? DEFAULT_MAX_QUEUE);
    this.maxBackoffMs = options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
    if (options.metrics) this.registerMetrics(options.metrics);

    const tick = setInterval(() => this.onTick(), this.flushIntervalMs);
    tick.unref();
    this.timers.push(tick);
    if (this.retentionMs > 0 && Number.isFinite(this.retentionMs)) {
      let scheduler = options.scheduler;
      if (!scheduler) scheduler = this.ownScheduler = new TimerScheduler();
      scheduler.register({
        name: RETENTION_JOB,
        intervalMs: options.purgeIntervalMs ?? DEFAULT_PURGE_INTERVAL_MS,
        initialDelayMs: options.firstPurgeDelayMs ?? DEFAULT_FIRST_PURGE_DELAY_MS,
        run: async () => {
          if (!this.closed) await this.purge();
        },
      });
      this.ownScheduler?.start();
    }
  }

  /** Adds the log's counters and queue gauge to a metrics registry (once). */
  registerMetrics(registry: MetricsRegistry): void {
    if (this.counters) return;
    this.counters = {
      written: registry.counter('custody_action_log_written_total', 'Action log entries written to the database.'),
      dropped: registry.counter('custody_action_log_dropped_total', 'Action log entries dropped (queue full or unwritable at shutdown).'),
    };
    registry.gauge('custody_action_log_queued', 'Action log entries waiting to be written.', () => this.queue.length);
  }

  /** Queues `entry`; returns at once and never throws. */
  record(entry: ActionEntry): void {
    try {
      if (this.closed || this.queue.length >= this.maxQueue) {
        this.drop(1);
        return;
      }
      this.queue.push(sanitizeEntry(entry, Date.now()));
      this.counts.recorded++;
      if (this.queue.length >= this.batchSize) this.scheduleFlush();
    } catch {
      this.drop(1);
    }
  }

  get stats(): ActionLogStats {
    return { ...this.counts, queued: this.queue.length };
  }

  /**
   * Writes every waiting entry now (in batches). Resolves true when the queue was emptied,
   * false when a write failed (the entries stay queued and are retried later). Never rejects.
   */
  flush(): Promise<boolean> {
    if (!this.flushing) {
      this.flushing = this.drain().finally(() => {
        this.flushing = null;
      });
    }
    return this.flushing;
  }

  /** One page of entries, newest first. Throws CursorError for a malformed cursor. */
  query(filter: ActionFilter): Promise<ActionPage> {
    return this.store.query(filter);
  }

  /** Every entry matching `filter` (its cursor is the starting point), page by page. */
  async *export(filter: ActionFilter): AsyncIterable<StoredAction> {
    let cursor = filter.cursor;
    for (;;) {
      const page = await this.store.query({ ...filter, limit: MAX_PAGE_SIZE, cursor });
      yield* page.entries;
      if (page.next === null) return;
      cursor = page.next;
    }
  }

  /** Deletes entries older than the retention period, in short chunks. Returns how many. */
  purge(now = Date.now()): Promise<number> {
    if (!(this.retentionMs > 0)) return Promise.resolve(0);
    if (!this.purging) {
      const started = Date.now();
      this.purging = this.store
        .purge(now - this.retentionMs, { shouldStop: () => this.closed })
        .then((deleted) => {
          this.counts.purged += deleted;
          if (deleted > 0) this.logger.info('action log retention', { deleted, ms: Date.now() - started });
          return deleted;
        })
        .catch((error: unknown) => {
          this.logger.warn('action log retention failed', { error });
          return 0;
        })
        .finally(() => {
          this.purging = null;
        });
    }
    return this.purging;
  }

  /** Stops the timers, writes everything still queued, then closes the forwarders. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.length = 0;
    await this.ownScheduler?.stop();
    if (this.purging) await this.purging;
    for (let attempt = 1; this.queue.length > 0 || this.flushing; attempt++) {
      if (await this.flush()) continue;
      if (attempt >= CLOSE_ATTEMPTS) {
        const lost = this.queue.length;
        this.queue = [];
        this.drop(lost);
        this.logger.error('action log entries could not be written at shutdown', { lost });
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
    }
    this.warnAboutDrops();
    await Promise.all(this.forwarders.map((forwarder) => forwarder.close().catch(() => {})));
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.flushing || Date.now() < this.retryAt) return;
    this.flushScheduled = true;
    // Out of the caller's tick: a request that fills a batch does not pay for its write.
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  private onTick(): void {
    this.warnAboutDrops();
    if (this.queue.length > 0 && Date.now() >= this.retryAt) void this.flush();
  }

  private async drain(): Promise<boolean> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.batchSize);
      let stored: StoredAction[];
      try {
        stored = await this.store.insert(batch);
      } catch (error) {
        // Back to the front, in order; the queue may briefly exceed its bound by one batch.
        this.queue = batch.concat(this.queue);
        this.counts.failures++;
        this.consecutiveFailures++;
        const delay = Math.min(this.maxBackoffMs, Math.max(this.flushIntervalMs, 250) * 2 ** Math.min(this.consecutiveFailures - 1, 16));
        this.retryAt = Date.now() + delay;
        if (this.consecutiveFailures === 1 || this.consecutiveFailures % 10 === 0) {
          this.logger.error('action log write failed; retrying', { error, queued: this.queue.length, failures: this.consecutiveFailures, retryInMs: delay });
        }
        return false;
      }
      if (this.consecutiveFailures > 0) this.logger.info('action log writes resumed', { after: this.consecutiveFailures });
      this.consecutiveFailures = 0;
      this.retryAt = 0;
      this.counts.written += stored.length;
      this.counts.batches++;
      this.counters?.written.inc({}, stored.length);
      for (const forwarder of this.forwarders) {
        try {
          forwarder.forward(stored);
        } catch (error) {
          this.logger.warn('action log forwarder failed', { forwarder: forwarder.name, error });
        }
      }
    }
    return true;
  }

  private drop(count: number): void {
    if (count <= 0) return;
    this.counts.dropped += count;
    this.droppedSinceWarning += count;
    this.counters?.dropped.inc({}, count);
  }

  private warnAboutDrops(): void {
    if (this.droppedSinceWarning === 0) return;
    this.logger.warn('action log entries dropped', { dropped: this.droppedSinceWarning, total: this.counts.dropped, maxQueue: this.maxQueue });
    this.droppedSinceWarning = 0;
  }
}
