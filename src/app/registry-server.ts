// `custody serve` composed: the stores and the registry, the security services and the
// action log, image quality, the signing policy (a write guard in the registry and the
// read checks of the distribution API), the one job scheduler with its jobs, and the HTTP
// server over all of it. Shutdown runs in the reverse order.
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

export interface RunningRegistry {
  readonly url: string;
  /** Whether requests are authenticated (auth.enabled). */
  readonly authenticated: boolean;
  readonly tls: boolean;
  /** Stops accepting requests, lets those in flight finish, stops the jobs, closes the stores. */
  close(): Promise<void>;
}

export async function startRegistry(config: Config, logger: Logger): Promise<RunningRegistry> {
  const stores = await openStores(config, { onEventError: (error, type) => logger.error('event subscriber failed', { event: type, error }) });
  const scheduler = createScheduler(stores.jobLeases, logger);
  const mirrors = await openMirrors(config, stores, scheduler, logger);
  const secured = await openSecurity({ config, stores, scheduler, logger, mirrors });
  const quality = await openQuality({ config, stores, security: secured.security, scheduler, logger });
  const signingPolicy = new RegistrySigningPolicy(stores.registry, new SqlSigningPolicyStore(stores.sql));
  // The tag rule of `pull,tag` policies holds on every write path, not only over HTTP.
  stores.guards.push(signingPolicy);
  registerMaintenanceJobs({ config, scheduler, collector: new GarbageCollector(stores.registry, stores.maintenance, logger), logger });

  const tls = config.tls ? { cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) } : undefined;
  const server = await startServer(
    {
      registry: stores.registry,
      security: secured.security,
      actions: secured.actionLog,
      routes: [...secured.routes, ...quality.routes, new SigningPolicyApi(signingPolicy, secured.security, secured.actionLog), ...secured.managementRoutes],
      manifestGuard: signingPolicy,
      signatures: new SqlSignatureStore(stores.sql),
      registerMetrics: (registry) => secured.actionLog.registerMetrics(registry),
      logger,
      tls,
      tlsFiles: config.tls,
      shutdownTimeoutMs: config.shutdownTimeoutMs,
      healthCheck: async () => {
        await stores.sql.query('SELECT 1 AS ok');
        await stores.blobs.check();
      },
      storage: { space: () => stores.blobs.space(), minFreeBytes: config.storage.minFreeBytes },
      bodyIdleTimeoutMs: config.limits.bodyIdleTimeoutMs,
      maxConnectionsPerAddress: config.limits.maxConnectionsPerAddress,
    },
    config.listen.host,
    config.listen.port,
  );
  scheduler.start();
  return {
    url: server.url,
    authenticated: secured.security !== undefined,
    tls: tls !== undefined,
    async close() {
      await server.close();
      await scheduler.stop();
      await quality.close();
      await secured.close();
      await stores.close();
    },
  };
}
