// Hears every domain event and, in the same step, persists one delivery per matching hook
// (scope covers the event's repository or namespace, the filter names its type, the format
// can express it). The bus waits for this handler (`drain`), so an event heard before a
// shutdown is in SQL before the process exits; sending is the dispatcher's job.
//
// Events are persisted in the order they were heard, in batches: while one batch's
// transaction runs, the next events gather, so a burst costs a few transactions rather
// than one per event, and one repository's deliveries get ids in event order.
import type { DomainEvent, EventSubscriber } from '../core/events.ts';
import type { NewDelivery, WebhookRecord, WebhookStore } from '../metadata/webhook-store.ts';
import type { Logger } from '../observability/logger.ts';
import { eventScope, hears } from './event-scope.ts';

export interface WebhookSubscriberOptions {
  readonly store: WebhookStore;
  readonly logger: Logger;
  /** Called after deliveries were queued (the dispatcher sends them at once). */
  readonly onQueued?: (count: number) => void;
  readonly clock?: () => number;
  /**
   * How long the hooks matching a scope are remembered (default 2 s): a write then costs no
   * lookup. Changes made through this process invalidate at once; another replica's within
   * this time.
   */
  readonly cacheMs?: number;
  /** How long a batch gathers events before it is written (default 2 ms). */
  readonly batchDelayMs?: number;
}

export class WebhookSubscriber {
  private readonly store: WebhookStore;
  private readonly logger: Logger;
  private readonly onQueued: (count: number) => void;
  private readonly now: () => number;
  private waiting: DomainEvent[] = [];
  private next: Promise<void> | null = null;
  private writing: Promise<void> = Promise.resolve();
  private readonly cacheMs: number;
  private readonly batchDelayMs: number;
  private cache = new Map<string, { readonly until: number; readonly hooks: Promise<WebhookRecord[]> }>();

  constructor(options: WebhookSubscriberOptions) {
    this.store = options.store;
    this.logger = options.logger;
    this.onQueued = options.onQueued ?? (() => {});
    this.now = options.clock ?? Date.now;
    this.cacheMs = options.cacheMs ?? 2000;
    this.batchDelayMs = options.batchDelayMs ?? 2;
  }

  /** Forgets the remembered hooks (a hook was created, changed or deleted). */
  invalidate(): void {
    this.cache = new Map();
  }

  private hooksFor(namespace: string | null, repository: string | null): Promise<WebhookRecord[]> {
    const key = `${namespace ?? ''}\u0000${repository ?? ''}`;
    const now = this.now();
    const cached = this.cache.get(key);
    if (cached && cached.until > now) return cached.hooks;
    const hooks = this.store.matching(namespace, repository);
    // A failed lookup is not remembered.
    hooks.catch(() => this.cache.delete(key));
    if (this.cache.size > 10_000) this.cache = new Map();
    this.cache.set(key, { until: now + this.cacheMs, hooks });
    return hooks;
  }

  /** Subscribes to every event type; returns the unsubscribe function. */
  subscribeTo(bus: EventSubscriber): () => void {
    return bus.subscribe((event) => this.hear(event));
  }

  /** Resolves once `event` (and everything heard before it) is persisted. */
  hear(event: DomainEvent): Promise<void> {
    this.waiting.push(event);
    // One batch gathers while the previous one writes; every event joins the next batch.
    this.next ??= this.writing.catch(() => {}).then(async () => {
      // A moment to gather what is published alongside: a burst is one transaction.
      if (this.batchDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.batchDelayMs));
      const batch = this.waiting;
      this.waiting = [];
      this.next = null;
      return this.persist(batch);
    });
    this.writing = this.next;
    return this.next;
  }

  private async persist(events: readonly DomainEvent[]): Promise<void> {
    try {
      const deliveries: NewDelivery[] = [];
      const createdAt = this.now();
      for (const event of events) {
        const scope = eventScope(event);
        for (const hook of await this.hooksFor(scope.namespace, scope.repository)) {
          if (!hears(hook, event.type)) continue;
          deliveries.push({ webhookId: hook.id, eventId: event.id, eventType: event.type, orderKey: scope.orderKey, payload: JSON.stringify(event), createdAt });
        }
      }
      const queued = await this.store.enqueue(deliveries);
      if (queued > 0) this.onQueued(queued);
    } catch (error) {
      // Nothing to retry into: the change is committed. Say loudly what was not queued.
      this.logger.error('webhooks: events could not be queued', { events: events.length, types: [...new Set(events.map((event) => event.type))], error: (error as Error).message });
      throw error;
    }
  }

  /** Resolves when everything heard so far is persisted. */
  async drain(): Promise<void> {
    await this.writing.catch(() => {});
  }
}
