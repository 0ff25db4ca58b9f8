// The webhook seam: hooks (who hears what, where, in which format) and their deliveries,
// which are at once the durable queue and the delivery log.
import type { DomainEventType } from '../core/events.ts';

export type WebhookFormat = 'cloudevents' | 'slack' | 'distribution' | 'quality-notice';
export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface WebhookRecord {
  readonly id: number;
  readonly name: string;
  /** Set for a namespace's or a repository's hook; null (with repository) for a registry-wide one. */
  readonly namespace: string | null;
  readonly repository: string | null;
  readonly url: string;
  readonly format: WebhookFormat;
  /** The event types it hears; empty means every type but pulls (which are opt-in). */
  readonly events: readonly DomainEventType[];
  /** The HMAC key (never shown after creation). */
  readonly secret: string | null;
  readonly enabled: boolean;
  /** Failed attempts in a row; reset by a success. */
  readonly failures: number;
  readonly disabledReason: string | null;
  /** `config` for the hooks the configuration declares (quality.notifyUrl). */
  readonly origin: 'api' | 'config';
  readonly createdBy: string | null;
  readonly createdAt: number;
}

export type NewWebhook = Omit<WebhookRecord, 'id' | 'enabled' | 'failures' | 'disabledReason'>;

export interface DeliveryRecord {
  readonly id: number;
  readonly webhookId: number;
  readonly eventId: string;
  readonly eventType: string;
  /** Deliveries with the same key (a repository, or a namespace) are sent in id order. */
  readonly orderKey: string;
  /** The domain event as JSON; rendered in the hook's format when sent. */
  readonly payload: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly lastStatus: number | null;
  readonly lastLatencyMs: number | null;
  readonly lastError: string | null;
}

export interface NewDelivery {
  readonly webhookId: number;
  readonly eventId: string;
  readonly eventType: string;
  readonly orderKey: string;
  readonly payload: string;
  readonly createdAt: number;
}

export interface AttemptOutcome {
  readonly delivered: boolean;
  readonly status?: number | undefined;
  readonly latencyMs: number;
  readonly error?: string | undefined;
  /** When to try again; null gives the delivery up (status `failed`). Ignored when delivered. */
  readonly retryAt: number | null;
  readonly now: number;
  /** The hook is disabled when its failures in a row reach this. */
  readonly disableAfter: number;
}

export interface WebhookStore {
  create(hook: NewWebhook): Promise<WebhookRecord>;
  get(id: number): Promise<WebhookRecord | null>;
  /** Hooks in id order: all, or those of one namespace (its repositories' included), or of one repository. */
  list(filter?: { readonly namespace?: string | undefined; readonly repository?: string | undefined }): Promise<WebhookRecord[]>;
  delete(id: number): Promise<boolean>;
  /** Re-enables (resetting the failure count) or disables a hook. */
  setEnabled(id: number, enabled: boolean, reason?: string | null): Promise<boolean>;
  /**
   * The configuration's hook named `name` becomes `hook` (created, or its URL and format
   * replaced), or is removed when `hook` is null. Its deliveries are kept across restarts.
   */
  syncConfigured(name: string, hook: Omit<NewWebhook, 'name' | 'origin'> | null): Promise<WebhookRecord | null>;
  /** Enabled hooks whose scope covers `repository` (or, for namespace-level events, the namespace alone). */
  matching(namespace: string | null, repository: string | null): Promise<WebhookRecord[]>;
  /** Inserts deliveries in one transaction, in order; a (hook, event) pair already queued is skipped. */
  enqueue(deliveries: readonly NewDelivery[]): Promise<number>;
  /**
   * Pending deliveries of the queues whose oldest pending delivery (the head) is due, of
   * enabled hooks, in id order: each queue's first row here is its head, and a queue whose
   * head waits for a retry contributes nothing, so callers that send a queue's rows in order
   * and stop at its first failure keep every queue in order.
   */
  due(now: number, limit: number): Promise<DeliveryRecord[]>;
  /** Records one attempt on the delivery and the hook's failure count (one transaction);
   * returns whether the hook is now disabled. */
  recordAttempt(deliveryId: number, outcome: AttemptOutcome): Promise<{ readonly hookDisabled: boolean }>;
  /** Records several attempts in order in one transaction; returns the hooks this disabled. */
  recordAttempts(attempts: readonly { readonly deliveryId: number; readonly webhookId: number; readonly outcome: AttemptOutcome }[]): Promise<ReadonlySet<number>>;
  getDelivery(id: number): Promise<DeliveryRecord | null>;
  /** A hook's deliveries, newest first. */
  deliveries(webhookId: number, options: { readonly limit: number; readonly before?: number | undefined }): Promise<DeliveryRecord[]>;
  /** Removes finished (delivered or failed) deliveries last updated before `before`. */
  purge(before: number): Promise<number>;
}
