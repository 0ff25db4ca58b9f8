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
}

export class WebhookSubscriber {
  private readonly store: WebhookStore;
  private readonly logger: Logger;
  private readonly onQueued: (count: number) => void;
  private readonly now: () => number;
  private waiting: DomainEvent[] = [];
  private next: Promise<void> | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(options: WebhookSubscriberOptions) {
    this.store = options.store;
    this.logger = options.logger;
    this.onQueued = options.onQueued ?? (() => {});
    this.now = options.clock ?? Date.now;
  }

  /** Subscribes to every event type; returns the unsubscribe function. */
  subscribeTo(bus: EventSubscriber): () => void {
    return bus.subscribe((event) => this.hear(event));
  }

  /** Resolves once `event` (and everything heard before it) is persisted. */
  hear(event: DomainEvent): Promise<void> {
    this.waiting.push(event);
    // One batch gathers while the previous one writes; every event joins the next batch.
    this.next ??= this.writing.catch(() => {}).then(() => {
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
      const hooksByScope = new Map<string, Promise<WebhookRecord[]>>();
      const deliveries: NewDelivery[] = [];
      const createdAt = this.now();
      for (const event of events) {
        const scope = eventScope(event);
        const key = `${scope.namespace ?? ''}\u0000${scope.repository ?? ''}`;
        let hooks = hooksByScope.get(key);
        if (!hooks) hooksByScope.set(key, (hooks = this.store.matching(scope.namespace, scope.repository)));
        for (const hook of await hooks) {
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
