// The composition of image quality for `custody serve`: the store, the advisory
// database (the same SQL database), the indexing worker fed by the registry's
// manifest.pushed events, its periodic jobs on the root's scheduler, and the API routes.
import type { Config } from '../config/config.ts';
import type { Logger } from '../observability/logger.ts';
import type { JobScheduler } from '../jobs/job-scheduler.ts';
import { SqlAdvisoryStore } from '../metadata/sql-advisory-store.ts';
import { QualityService } from '../scan/quality-service.ts';
import { SqlQualityStore } from '../metadata/sql-quality-store.ts';
import { QualityApi } from '../server/quality-api.ts';
import type { RouteTable } from '../server/route-table.ts';
import type { SecurityServices } from '../server/security.ts';
import type { OpenedStores } from './open-stores.ts';

export interface OpenedQuality {
  readonly service: QualityService;
  readonly routes: readonly RouteTable[];
  close(): Promise<void>;
}

export interface OpenQualityOptions {
  readonly config: Config;
  readonly stores: OpenedStores;
  readonly security: SecurityServices | undefined;
  readonly scheduler: JobScheduler;
  readonly logger: Logger;
}

export async function openQuality({ config, stores, security, scheduler, logger }: OpenQualityOptions): Promise<OpenedQuality> {
  const service = new QualityService({
    store: new SqlQualityStore(stores.sql),
    registry: stores.registry,
    advisories: new SqlAdvisoryStore(stores.sql),
    logger,
    workers: config.quality.workers,
    // quality.notifyUrl is a webhook (install-webhooks.ts) that hears these events.
    events: stores.events,
    recheckIntervalMs: config.quality.recheckIntervalMs,
    limits: config.quality.limits,
    timeBudgetMs: config.quality.timeBudgetMs,
    maxDataAgeMs: config.vulndb.maxAgeMs,
    // SQLite serves one host: stale claims at start are this process's own.
    soleWorker: config.database.driver === 'sqlite',
    scheduler,
  });
  const enabled = config.quality.enabled;
  // Every manifest pushed, whatever the entry point, is queued (no-op when disabled).
  const unsubscribe = enabled ? service.subscribeTo(stores.events) : () => {};
  if (enabled) await service.start();
  return {
    service,
    // The API answers even when indexing is off: it reports what was indexed before.
    routes: [new QualityApi(service, security)],
    close: async () => {
      unsubscribe();
      if (enabled) await service.stop();
    },
  };
}
