// The webhook domain as the management API uses it: create (validated, with a generated
// secret shown once), list, get, enable or disable, delete, the delivery log, and "send
// test event". Who may do what is decided by the caller (src/management/webhook-service.ts).
import { randomBytes, randomUUID } from 'node:crypto';
import { InvalidInput, NotFound } from '../core/errors.ts';
import type { DomainEventOf, DomainEventType } from '../core/events.ts';
import type { DeliveryRecord, WebhookFormat, WebhookRecord, WebhookStore } from '../metadata/webhook-store.ts';
import type { WebhookDispatcher } from './webhook-dispatcher.ts';

export const WEBHOOK_FORMATS: readonly WebhookFormat[] = ['cloudevents', 'slack', 'distribution', 'quality-notice'];

/** The event types a hook may name in its filter. */
export const WEBHOOK_EVENT_TYPES: readonly DomainEventType[] = [
  'manifest.pushed',
  'tag.moved',
  'tag.deleted',
  'manifest.deleted',
  'blob.mounted',
  'upload.completed',
  'manifest.pulled',
  'scan.completed',
  'vulnerability.found',
  'grade.dropped',
  'signature.added',
  'quota.warning',
  'quota.exceeded',
  'tag.expired',
  'retention.run',
  'mirror.sync.started',
  'mirror.sync.succeeded',
  'mirror.sync.failed',
];

export interface NewWebhookInput {
  readonly name?: string | undefined;
  /** Exactly one of namespace and repository (neither: registry-wide, superusers only). */
  readonly namespace?: string | null | undefined;
  readonly repository?: string | null | undefined;
  readonly url: string;
  readonly format?: WebhookFormat | undefined;
  readonly events?: readonly string[] | undefined;
  /** The HMAC key; generated when omitted (and shown once), none with `secret: ""`. */
  readonly secret?: string | undefined;
}

/** A hook as the API shows it: never its secret. */
export interface WebhookView {
  readonly id: number;
  readonly name: string;
  readonly namespace: string | null;
  readonly repository: string | null;
  readonly url: string;
  readonly format: WebhookFormat;
  readonly events: readonly string[];
  readonly signed: boolean;
  readonly enabled: boolean;
  readonly failures: number;
  readonly disabledReason: string | null;
  readonly origin: 'api' | 'config';
  readonly createdBy: string | null;
  readonly createdAt: string;
}

export interface DeliveryView {
  readonly id: number;
  readonly event: string;
  readonly eventId: string;
  readonly status: string;
  readonly attempts: number;
  readonly responseCode: number | null;
  readonly latencyMs: number | null;
  readonly error: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly nextAttemptAt: string | null;
}

export function webhookView(hook: WebhookRecord): WebhookView {
  return {
    id: hook.id,
    name: hook.name,
    namespace: hook.namespace,
    repository: hook.repository,
    // The URL may hold a token (Slack's do): only administrators of the hook see it at all.
    url: hook.url,
    format: hook.format,
    events: hook.events,
    signed: hook.secret !== null,
    enabled: hook.enabled,
    failures: hook.failures,
    disabledReason: hook.disabledReason,
    origin: hook.origin,
    createdBy: hook.createdBy,
    createdAt: new Date(hook.createdAt).toISOString(),
  };
}

export function deliveryView(delivery: DeliveryRecord): DeliveryView {
  return {
    id: delivery.id,
    event: delivery.eventType,
    eventId: delivery.eventId,
    status: delivery.status,
    attempts: delivery.attempts,
    responseCode: delivery.lastStatus,
    latencyMs: delivery.lastLatencyMs,
    error: delivery.lastError,
    createdAt: new Date(delivery.createdAt).toISOString(),
    updatedAt: new Date(delivery.updatedAt).toISOString(),
    nextAttemptAt: delivery.status === 'pending' ? new Date(delivery.nextAttemptAt).toISOString() : null,
  };
}

export interface WebhooksOptions {
  readonly store: WebhookStore;
  readonly dispatcher: WebhookDispatcher;
  /** Called after a hook was created, enabled, disabled or deleted (the subscriber's cache). */
  readonly onChange?: () => void;
  readonly clock?: () => number;
}

export class Webhooks {
  readonly store: WebhookStore;
  private readonly dispatcher: WebhookDispatcher;
  private readonly now: () => number;
  private readonly changed: () => void;

  constructor(options: WebhooksOptions) {
    this.store = options.store;
    this.dispatcher = options.dispatcher;
    this.now = options.clock ?? Date.now;
    this.changed = options.onChange ?? (() => {});
  }

  /** Creates a hook; the answer carries the secret, the only time it is shown. */
  async create(input: NewWebhookInput, createdBy: string | null): Promise<{ webhook: WebhookView; secret: string | null }> {
    const url = checkUrl(input.url);
    const format = input.format ?? 'cloudevents';
    if (!WEBHOOK_FORMATS.includes(format)) throw new InvalidInput('webhook', `format must be one of ${WEBHOOK_FORMATS.join(', ')}`);
    const events = checkEvents(input.events ?? []);
    const namespace = input.repository ? input.repository.split('/')[0]! : (input.namespace ?? null);
    const secret = input.secret === undefined ? randomBytes(32).toString('base64url') : input.secret === '' ? null : input.secret;
    if (secret !== null && (secret.length < 16 || secret.length > 256)) throw new InvalidInput('webhook', 'a secret is 16 to 256 characters');
    const name = (input.name ?? '').trim() || `${format} ${new URL(url).host}`;
    if (name.length > 200) throw new InvalidInput('webhook', 'a name is at most 200 characters');
    const hook = await this.store.create({ name, namespace, repository: input.repository ?? null, url, format, events, secret, origin: 'api', createdBy, createdAt: this.now() });
    this.changed();
    return { webhook: webhookView(hook), secret };
  }

  async get(id: number): Promise<WebhookRecord> {
    const hook = await this.store.get(id);
    if (!hook) throw new NotFound('webhook', `webhook ${id} not found`);
    return hook;
  }

  async setEnabled(id: number, enabled: boolean): Promise<WebhookView> {
    await this.get(id);
    await this.store.setEnabled(id, enabled, enabled ? null : 'disabled by an administrator');
    this.changed();
    if (enabled) this.dispatcher.wake();
    return webhookView(await this.get(id));
  }

  async delete(id: number): Promise<void> {
    if (!(await this.store.delete(id))) throw new NotFound('webhook', `webhook ${id} not found`);
    this.changed();
  }

  async deliveries(id: number, limit: number, before?: number): Promise<DeliveryView[]> {
    await this.get(id);
    return (await this.store.deliveries(id, { limit, before })).map(deliveryView);
  }

  /** Sends a test event to the hook now (enabled or not) and answers with the attempt as logged. */
  async sendTest(id: number, requestedBy: string | null): Promise<DeliveryView> {
    const hook = await this.get(id);
    const event: DomainEventOf<'webhook.test'> = {
      id: randomUUID(),
      type: 'webhook.test',
      time: this.now(),
      ...(requestedBy ? { actor: { name: requestedBy, kind: 'user' as const } } : {}),
      data: { webhook: hook.id, namespace: hook.namespace, repository: hook.repository, message: `test event for webhook ${hook.id} (${hook.name})` },
    };
    // Its own queue: a test is not held behind the hook's pending deliveries.
    await this.store.enqueue([{ webhookId: hook.id, eventId: event.id, eventType: event.type, orderKey: `test:${event.id}`, payload: JSON.stringify(event), createdAt: event.time }]);
    const queued = (await this.store.deliveries(hook.id, { limit: 50 })).find((delivery) => delivery.eventId === event.id);
    if (!queued) throw new NotFound('webhook', `webhook ${id} not found`);
    // A test is tried once: it reports, it does not retry for a day.
    const sent = await this.dispatcher.attempt(hook, queued, { once: true });
    return deliveryView(sent);
  }
}

function checkUrl(value: unknown): string {
  if (typeof value !== 'string' || value.length > 2048) throw new InvalidInput('webhook', 'url must be an http(s) URL of at most 2048 characters');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidInput('webhook', 'url must be an http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidInput('webhook', 'url must be an http(s) URL');
  return url.href;
}

function checkEvents(events: readonly unknown[]): DomainEventType[] {
  if (!Array.isArray(events) || events.length > WEBHOOK_EVENT_TYPES.length) throw new InvalidInput('webhook', 'events must be a list of event types');
  for (const type of events) {
    if (typeof type !== 'string' || !WEBHOOK_EVENT_TYPES.includes(type as DomainEventType)) {
      throw new InvalidInput('webhook', `unknown event type; known types: ${WEBHOOK_EVENT_TYPES.join(', ')}`);
    }
  }
  return [...new Set(events as DomainEventType[])];
}
