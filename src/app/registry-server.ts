// `custody serve` composed: the stores and the registry, the security services and the
// action log, image quality, webhooks, the signing policy (a write guard in the registry and the
// read checks of the distribution API), the one job scheduler with its jobs, and the HTTP
// server over all of it, the web catalog included. Shutdown runs in the reverse order.
import { readFileSync } from 'node:fs';
import type { Config } from '../config/config.ts';
import type { Logger } from '../observability/logger.ts';
import { startServer } from '../server/http-server.ts';
import { SigningPolicyApi } from '../server/signing-policy-api.ts';
import { GarbageCollector } from '../registry/garbage-collector.ts';
import { SqlSignatureStore } from '../metadata/sql-signature-store.ts';
import { SqlSigningPolicyStore } from '../metadata/sql-signing-policy-store.ts';
import { RegistrySigningPolicy } from '../trust/registry-signing-policy.ts';
import { openStores } from './open-stores.ts';
import { openSecurity } from './open-security.ts';
import { openQuality } from './open-quality.ts';
import { openMirrors } from './open-mirrors.ts';
import { createScheduler, registerMaintenanceJobs } from './jobs.ts';
import { vulndbUpdaterJob } from './open-vulndb-updater.ts';
import { reindexJob } from '../scan/reindex-job.ts';
import { installWebhooks } from './install-webhooks.ts';
import { createWebCatalog } from '../ui/index.ts';
import { SqlWebSessionStore } from '../metadata/sql-web-session-store.ts';
import { SqlCatalogIndexStore } from '../metadata/sql-catalog-index-store.ts';
import { openPullThroughCache } from '../proxy/index.ts';
import { SqlCacheUsageStore } from '../metadata/sql-cache-usage-store.ts';
import { installLifecycle } from '../lifecycle/install-lifecycle.ts';

export interface RunningRegistry {
  readonly url: string;
  /** Whether requests are authenticated (auth.enabled). */
  readonly authenticated: boolean;
  readonly tls: boolean;
  /** Stops accepting requests, lets those in flight finish, stops the jobs, closes the stores. */
  close(): Promise<void>;
}

const HEALTH_TIMEOUT_MS = 3_000;

/** Runs `work`, failing after `ms` (a dependency that hangs is as bad as one that is down). */
async function withinMs(ms: number, work: () => Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([work(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function startRegistry(config: Config, logger: Logger): Promise<RunningRegistry> {
  const stores = await openStores(config, {
    serving: true,
    onEventError: (error, type) => logger.error('event subscriber failed', { event: type, error }),
    onCoordinationError: (error) => logger.warn('replica coordination', { error }),
  });
  const scheduler = createScheduler(stores.jobLeases, logger);
  const hooks = await installWebhooks({ sql: stores.sql, events: stores.events, scheduler, logger, config });
  const mirrors = await openMirrors(config, stores, scheduler, logger);
  const secured = await openSecurity({ config, stores, scheduler, logger, webhooks: hooks.webhooks, mirrors });
  // Immutability, quotas, the time machine, tag expiry and retention (issue 14).
  secured.management.useLifecycle(
    installLifecycle({ sql: stores.sql, registry: stores.registry, registryGuards: stores.guards, scheduler, events: stores.events, actions: secured.actionLog, logger, settings: config.lifecycle }),
  );
  const quality = await openQuality({ config, stores, security: secured.security, scheduler, logger });
  // Advisory data kept current from the publishers, and images indexed again after an analyzer upgrade.
  const vulndbUpdate = vulndbUpdaterJob(config, stores, quality, logger);
  if (vulndbUpdate) scheduler.register(vulndbUpdate);
  if (config.quality.enabled) scheduler.register(reindexJob(quality.service));
  const signingPolicy = new RegistrySigningPolicy(stores.registry, new SqlSigningPolicyStore(stores.sql));
  // The tag rule of `pull,tag` policies holds on every write path, not only over HTTP.
  stores.guards.push(signingPolicy);
  registerMaintenanceJobs({ config, scheduler, collector: new GarbageCollector(stores.registry, stores.maintenance, logger, { locks: stores.locks }), logger });
  // The pull-through cache wraps the registry the server serves (its upstreams' namespaces);
  // what it stores goes through the core, so events, guards and jobs see it like a push.
  const cache = openPullThroughCache(stores.registry, config.proxy, logger, new SqlCacheUsageStore(stores.sql));
  for (const job of cache?.jobs ?? []) scheduler.register(job);

  // The web catalog: its API before the management API (which answers 404 for any other
  // /api/v1 path), its pages last (every path no other route set serves).
  const web = createWebCatalog({
    registry: stores.registry, repositories: stores.identity, security: secured.security, management: config.auth.enabled ? secured.management : undefined, quality: quality.service,
    signing: signingPolicy, logger, events: stores.events, sessions: new SqlWebSessionStore(stores.sql), tls: config.tls !== undefined,
    index: new SqlCatalogIndexStore(stores.sql),
  });
  scheduler.register(web.sessions.purgeJob());
  // Fills Explore's search index for data pushed before it existed (events keep it current after).
  if (web.indexer) scheduler.register(web.indexer.rebuildJob());
  const tls = config.tls ? { cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) } : undefined;
  const server = await startServer(
    {
      registry: cache?.registry ?? stores.registry,
      security: secured.security,
      actions: secured.actionLog,
      routes: [...secured.routes, ...quality.routes, new SigningPolicyApi(signingPolicy, secured.security, secured.actionLog), web.api, ...secured.managementRoutes, web.router],
      manifestGuard: signingPolicy,
      signatures: cache ? cache.registry.signatures(new SqlSignatureStore(stores.sql)) : new SqlSignatureStore(stores.sql),
      registerMetrics: (registry) => secured.actionLog.registerMetrics(registry),
      logger,
      tls,
      tlsFiles: config.tls,
      shutdownTimeoutMs: config.shutdownTimeoutMs,
      // Readiness for a load balancer: fails when the database or the bucket cannot be
      // reached, within a bound, so a replica cut off from either leaves the rotation.
      healthCheck: () =>
        withinMs(HEALTH_TIMEOUT_MS, async () => {
          await stores.sql.query('SELECT 1 AS ok');
          await (stores.blobs.ready ? stores.blobs.ready() : stores.blobs.check());
        }),
      storage: { space: () => stores.blobs.space(), minFreeBytes: config.storage.minFreeBytes },
      bodyIdleTimeoutMs: config.limits.bodyIdleTimeoutMs,
      maxConnectionsPerAddress: config.limits.maxConnectionsPerAddress,
    },
    config.listen.host,
    config.listen.port,
  );
  hooks.setRegistryUrl(server.url);
  scheduler.start();
  return {
    url: server.url,
    authenticated: secured.security !== undefined,
    tls: tls !== undefined,
    async close() {
      await server.close();
      await scheduler.stop();
      cache?.close();
      await quality.close();
      await secured.close();
      // Whatever was heard is queued for its webhooks before the database closes.
      await stores.events.drain();
      await hooks.close();
      await stores.close();
    },
  };
}
