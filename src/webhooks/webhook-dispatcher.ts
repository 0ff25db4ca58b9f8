// Sends persisted webhook deliveries. Each pass takes the pending deliveries of every
// (hook, repository) queue whose head's turn has come; queues are sent side by side
// (bounded by the delivery module), each in order, and a queue stops at a failure until
// its head is delivered or given up, so one repository's events arrive in order. A failure is retried with exponential
// backoff and jitter (or the receiver's Retry-After) until `giveUpAfterMs` after the event;
// a hook failing `disableAfter` times in a row is disabled. It runs as a job on the one
// scheduler and is also woken as soon as the subscriber queues something.
import { randomUUID } from 'node:crypto';
import type { DomainEvent } from '../core/events.ts';
import { backoffDelay, redactedTarget, type HttpDelivery } from '../delivery/http-delivery.ts';
import type { AttemptOutcome, DeliveryRecord, WebhookRecord, WebhookStore } from '../metadata/webhook-store.ts';
import type { Logger } from '../observability/logger.ts';
import { renderEvent } from './formats.ts';
import { SIGNATURE_HEADER, signWebhook } from './signature.ts';

export interface WebhookRetryPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
  readonly giveUpAfterMs: number;
  readonly disableAfter: number;
}

export const DEFAULT_RETRY_POLICY: WebhookRetryPolicy = { baseMs: 10_000, maxMs: 3_600_000, giveUpAfterMs: 24 * 3_600_000, disableAfter: 50 };

export interface WebhookDispatcherOptions {
  readonly store: WebhookStore;
  readonly delivery: HttpDelivery;
  readonly logger: Logger;
  /** The registry's external base URL (CloudEvents `source`, Distribution target URLs). */
  readonly registryUrl: () => string;
  readonly retry?: Partial<WebhookRetryPolicy> | undefined;
  readonly timeoutMs?: number | undefined;
  /** Queue heads taken per pass. */
  readonly batchSize?: number | undefined;
  /** How long a wake waits for company before a pass starts (default 5 ms). */
  readonly wakeDelayMs?: number | undefined;
  /**
   * Starts a run the way the scheduler does (its lease first, so among replicas only the
   * holder sends); default: `run()` directly, for a process that is the only sender.
   */
  readonly trigger?: (() => Promise<void>) | undefined;
  readonly clock?: () => number;
}

export class WebhookDispatcher {
  private readonly store: WebhookStore;
  private readonly delivery: HttpDelivery;
  private readonly logger: Logger;
  private readonly registryUrl: () => string;
  private readonly retry: WebhookRetryPolicy;
  private readonly timeoutMs: number;
  private readonly batchSize: number;
  private readonly now: () => number;
  private readonly instanceId = randomUUID();
  private running: Promise<void> | null = null;
  private dirty = false;
  private wakeTimer: NodeJS.Timeout | null = null;
  private readonly wakeDelayMs: number;
  private readonly trigger: () => Promise<void>;
  private stopped = false;

  constructor(options: WebhookDispatcherOptions) {
    this.store = options.store;
    this.delivery = options.delivery;
    this.logger = options.logger;
    this.registryUrl = options.registryUrl;
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.batchSize = options.batchSize ?? 500;
    this.wakeDelayMs = options.wakeDelayMs ?? 5;
    this.trigger = options.trigger ?? (() => this.run());
    this.now = options.clock ?? Date.now;
  }

  /**
   * Sends until nothing is due (the scheduler's job body). A wake during a run makes the
   * run look again, so nothing queued meanwhile waits for the next interval.
   */
  run(signal?: AbortSignal): Promise<void> {
    if (this.running) {
      this.dirty = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.dirty = false;
          // A pass that found less than a full batch found everything due then; what was
          // queued since set `dirty`.
          while (!this.stopped && !signal?.aborted && (await this.pass()) >= this.batchSize);
        } while (this.dirty && !this.stopped && !signal?.aborted);
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  /** New deliveries are queued: send them now (or right after the run in progress). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.dirty = true;
      return;
    }
    // Wakes within a few milliseconds share one pass (one query, one recording).
    if (this.wakeTimer) return;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      void this.trigger().catch((error: unknown) => this.logger.error('webhooks: dispatch failed', { error: (error as Error).message }));
    }, this.wakeDelayMs);
    this.wakeTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    await this.running?.catch(() => {});
  }

  /**
   * One pass: the pending deliveries of every queue whose head is due, each queue sent in
   * order (stopping at its first failure) while queues proceed side by side. Attempts are
   * recorded together at the end of the pass, so a queue's next delivery is not held up by
   * a database write; a crash before that write sends those deliveries again (receivers
   * de-duplicate by event id, as with any at-least-once delivery). Returns how many were due.
   */
  async pass(): Promise<number> {
    const due = await this.store.due(this.now(), this.batchSize);
    if (due.length === 0) return 0;
    const queues = new Map<string, DeliveryRecord[]>();
    for (const delivery of due) {
      const key = `${delivery.webhookId}\u0000${delivery.orderKey}`;
      const queue = queues.get(key);
      if (queue) queue.push(delivery);
      else queues.set(key, [delivery]);
    }
    const hooks = new Map<number, Promise<WebhookRecord | null>>();
    const attempts: Attempt[] = [];
    await Promise.all(
      [...queues.values()].map(async (queue) => {
        const webhookId = queue[0]!.webhookId;
        let hook = hooks.get(webhookId);
        if (!hook) hooks.set(webhookId, (hook = this.store.get(webhookId)));
        const found = await hook;
        if (!found?.enabled) return;
        for (const delivery of queue) {
          if (this.stopped) return;
          const attempt = await this.send(found, delivery, false);
          attempts.push(attempt);
          if (!attempt.outcome.delivered) return;
        }
      }),
    );
    const disabled = await this.store.recordAttempts(attempts.map(({ delivery, outcome }) => ({ deliveryId: delivery.id, webhookId: delivery.webhookId, outcome })));
    for (const attempt of attempts) this.report(attempt, disabled.has(attempt.hook.id));
    return due.length;
  }

  /** Sends one delivery now and records the attempt; returns the delivery as recorded. */
  async attempt(hook: WebhookRecord, delivery: DeliveryRecord, options: { readonly once?: boolean } = {}): Promise<DeliveryRecord> {
    const attempt = await this.send(hook, delivery, options.once === true);
    const disabled = await this.store.recordAttempts([{ deliveryId: delivery.id, webhookId: hook.id, outcome: attempt.outcome }]);
    this.report(attempt, disabled.has(hook.id));
    return (await this.store.getDelivery(delivery.id)) ?? delivery;
  }

  private async send(hook: WebhookRecord, delivery: DeliveryRecord, once: boolean): Promise<Attempt> {
    const event = JSON.parse(delivery.payload) as DomainEvent;
    const { contentType, body } = renderEvent(hook.format, event, { registryUrl: this.registryUrl(), instanceId: this.instanceId });
    const headers: Record<string, string> = {
      'content-type': contentType,
      'custody-event': event.type,
      'custody-delivery': String(delivery.id),
      'custody-webhook': String(hook.id),
    };
    if (hook.secret) headers[SIGNATURE_HEADER] = signWebhook(hook.secret, body, this.now());
    const result = await this.delivery.post({ url: hook.url, headers, body, timeoutMs: this.timeoutMs });
    const now = this.now();
    let retryAt: number | null = null;
    if (!result.ok && !once) {
      const deadline = delivery.createdAt + this.retry.giveUpAfterMs;
      if (now < deadline) retryAt = Math.min(deadline, now + backoffDelay(delivery.attempts + 1, this.retry, result.retryAfterMs));
    }
    return {
      hook,
      delivery,
      eventType: event.type,
      outcome: { delivered: result.ok, status: result.status, latencyMs: result.latencyMs, error: result.error, retryAt, now, disableAfter: this.retry.disableAfter },
    };
  }

  /** A failure is logged on its first attempt, when given up, and when it disables the hook. */
  private report({ hook, delivery, eventType, outcome }: Attempt, hookDisabled: boolean): void {
    if (outcome.delivered || !(delivery.attempts === 0 || outcome.retryAt === null || hookDisabled)) return;
    // The URL may carry a token in its query or userinfo: only its origin and path are named.
    this.logger.warn(hookDisabled ? 'webhooks: hook disabled after repeated failures' : outcome.retryAt === null ? 'webhooks: delivery given up' : 'webhooks: delivery failed; retrying', {
      webhook: hook.id,
      target: redactedTarget(hook.url),
      delivery: delivery.id,
      event: eventType,
      status: outcome.status,
      error: outcome.error,
      ...(outcome.retryAt !== null ? { retryInMs: outcome.retryAt - outcome.now } : {}),
    });
  }
}

interface Attempt {
  readonly hook: WebhookRecord;
  readonly delivery: DeliveryRecord;
  readonly eventType: string;
  readonly outcome: AttemptOutcome;
}
