// Composition: webhooks on the event bus and the scheduler. The subscriber persists a
// delivery per matching hook as each event is heard; the dispatcher is a job on the one
// scheduler (and is woken at once when something is queued); `quality.notifyUrl` is kept
// as one registry-wide hook in the quality-notice format, declared by the configuration.
import type { Config } from '../config/config.ts';
import type { EventSubscriber } from '../core/events.ts';
import type { JobScheduler } from '../jobs/job-scheduler.ts';
import type { SqlClient } from '../metadata/sql-client.ts';
import { SqlWebhookStore } from '../metadata/sql-webhook-store.ts';
import type { WebhookStore } from '../metadata/webhook-store.ts';
import type { Logger } from '../observability/logger.ts';
import { HttpDelivery } from '../delivery/http-delivery.ts';
import { WebhookDispatcher } from '../webhooks/webhook-dispatcher.ts';
import { WebhookSubscriber } from '../webhooks/webhook-subscriber.ts';
import { Webhooks } from '../webhooks/webhooks.ts';
import { VERSION } from '../core/version.ts';

export interface InstalledWebhooks {
  readonly webhooks: Webhooks;
  readonly store: WebhookStore;
  readonly dispatcher: WebhookDispatcher;
  readonly subscriber: WebhookSubscriber;
  /** The registry URL receivers see, once the server knows its own (when not configured). */
  setRegistryUrl(url: string): void;
  /** Stops hearing events, waits for what was heard to be persisted, stops sending. */
  close(): Promise<void>;
}

export interface InstallWebhooksOptions {
  readonly sql: SqlClient;
  readonly events: EventSubscriber;
  readonly scheduler: JobScheduler;
  readonly logger: Logger;
  readonly config: Pick<Config, 'webhooks' | 'quality'>;
}

const DELIVERY_LOG_KEPT_MS = 30 * 24 * 3_600_000;
export const DISPATCH_JOB = 'webhooks.dispatch';

export async function installWebhooks(options: InstallWebhooksOptions): Promise<InstalledWebhooks> {
  const { config, logger } = options;
  const store = new SqlWebhookStore(options.sql);
  let registryUrl = config.webhooks.publicUrl?.replace(/\/+$/, '') ?? 'http://localhost';
  const delivery = new HttpDelivery({ concurrency: config.webhooks.concurrency, timeoutMs: config.webhooks.timeoutMs, userAgent: `custody/${VERSION} webhooks` });
  const dispatcher = new WebhookDispatcher({
    store,
    delivery,
    logger,
    registryUrl: () => registryUrl,
    retry: { baseMs: config.webhooks.retryBaseMs, maxMs: config.webhooks.retryMaxMs, giveUpAfterMs: config.webhooks.giveUpAfterMs, disableAfter: config.webhooks.disableAfter },
    timeoutMs: config.webhooks.timeoutMs,
    // A wake runs the job through the scheduler: its lease keeps one replica sending.
    trigger: () => options.scheduler.runNow(DISPATCH_JOB),
  });
  const subscriber = new WebhookSubscriber({ store, logger, onQueued: () => dispatcher.wake() });
  const unsubscribe = subscriber.subscribeTo(options.events);

  await store.syncConfigured(
    'quality.notifyUrl',
    config.quality.notifyUrl
      ? { namespace: null, repository: null, url: config.quality.notifyUrl, format: 'quality-notice', events: ['grade.dropped', 'vulnerability.found'], secret: null, createdBy: null, createdAt: Date.now() }
      : null,
  );

  options.scheduler.register({ name: DISPATCH_JOB, intervalMs: config.webhooks.dispatchIntervalMs, initialDelayMs: 0, run: ({ signal }) => dispatcher.run(signal) });
  options.scheduler.register({
    name: 'webhooks.purge-log',
    intervalMs: 3_600_000,
    run: async () => {
      const removed = await store.purge(Date.now() - DELIVERY_LOG_KEPT_MS);
      if (removed > 0) logger.info('webhooks: old deliveries removed from the log', { removed });
    },
  });

  return {
    webhooks: new Webhooks({ store, dispatcher, onChange: () => subscriber.invalidate() }),
    store,
    dispatcher,
    subscriber,
    setRegistryUrl(url) {
      if (config.webhooks.publicUrl === undefined) registryUrl = url.replace(/\/+$/, '');
    },
    async close() {
      unsubscribe();
      await subscriber.drain();
      await dispatcher.stop();
      delivery.close();
    },
  };
}
