// The event bus inside one process. Handlers run after the publisher's change committed,
// asynchronously and isolated: a failing or slow subscriber never fails or slows the write
// that published. Durable delivery (webhooks, replication) is the subscriber's job: it
// persists what it must send in its own table from its handler.
import { randomUUID } from 'node:crypto';
import type { DomainEvent, DomainEventPayloads, DomainEventType, EventActor, EventBus, EventHandler } from '../core/events.ts';

interface Subscription {
  readonly handler: EventHandler;
  readonly types: ReadonlySet<DomainEventType> | null;
}

export interface InProcessEventBusOptions {
  readonly clock?: () => number;
  /** Called with a handler's failure; the bus itself never throws to a publisher. */
  readonly onError?: (error: unknown, event: DomainEvent) => void;
}

export class InProcessEventBus implements EventBus {
  private readonly subscriptions = new Set<Subscription>();
  private readonly pending = new Set<Promise<void>>();
  private readonly now: () => number;
  private readonly onError: (error: unknown, event: DomainEvent) => void;

  constructor(options: InProcessEventBusOptions = {}) {
    this.now = options.clock ?? Date.now;
    this.onError = options.onError ?? (() => {});
  }

  publish<T extends DomainEventType>(type: T, data: DomainEventPayloads[T], actor?: EventActor): void {
    const event = { id: randomUUID(), type, time: this.now(), data, ...(actor ? { actor } : {}) } as DomainEvent;
    for (const subscription of this.subscriptions) {
      if (subscription.types && !subscription.types.has(type)) continue;
      const run = Promise.resolve()
        .then(() => subscription.handler(event))
        .catch((error: unknown) => this.onError(error, event))
        .finally(() => this.pending.delete(run));
      this.pending.add(run);
    }
  }

  subscribe(handler: EventHandler, types?: readonly DomainEventType[]): () => void {
    const subscription: Subscription = { handler, types: types ? new Set(types) : null };
    this.subscriptions.add(subscription);
    return () => this.subscriptions.delete(subscription);
  }

  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
