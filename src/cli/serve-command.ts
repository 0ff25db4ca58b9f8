// `custody serve`: the registry server.
import { readFileSync } from 'node:fs';
import { describeSettings } from '../config/config.ts';
import { createLogger } from '../observability/logger.ts';
import { startServer } from '../server/http-server.ts';
import { GarbageCollector } from '../registry/garbage-collector.ts';
import { parseServerArgs } from './config-flags.ts';
import { openStores } from './open-stores.ts';
import { openSecurity } from './open-security.ts';
import { openQuality } from './open-quality.ts';
import { SqlSignatureStore } from '../metadata/sql-signature-store.ts';
import { VERSION } from './version.ts';
import { SqlSigningPolicyStore } from '../metadata/sql-signing-policy-store.ts';
import { RegistrySigningPolicy } from '../trust/registry-signing-policy.ts';
import { SigningPolicyApi } from '../server/signing-policy-api.ts';
import type { Command } from './main.ts';
import { InProcessEventBus } from '../events/in-process-event-bus.ts';
import { TimerScheduler } from '../jobs/timer-scheduler.ts';
import { installLifecycle, lifecycleGuards, type LifecycleGuards } from '../lifecycle/install-lifecycle.ts';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve the registry (OCI Distribution API)',
  usage: [
    'Usage: custody serve [--config FILE] [options]',
    '',
    'Serves the OCI Distribution API. Settings come from the YAML file given by --config',
    '(or CUSTODY_CONFIG), then CUSTODY_* environment variables, then these flags:',
    '',
    describeSettings(),
  ].join('\n'),
  async run(args) {
    const { config } = parseServerArgs(args);
    const logger = createLogger(config.log.level);
    // Until the composition root (src/app) owns them: the event bus and the one scheduler.
    const events = new InProcessEventBus({ onError: (error, event) => logger.warn('event handler failed', { type: event.type, error }) });
    const scheduler = new TimerScheduler({ onError: (job, error) => logger.error('scheduled job failed', { job, error }) });
    let guards: LifecycleGuards | undefined;
    const stores = await openStores(config, { events, guards: (sql, metadata) => (guards = lifecycleGuards(sql, metadata, events)).guards });
    const secured = await openSecurity(config, stores, logger);
    secured.management.useLifecycle(installLifecycle({ guards: guards!, registry: stores.registry, scheduler, events, actions: secured.actionLog, logger, settings: config.lifecycle }));
    scheduler.start();
    const quality = await openQuality(config, stores, secured.security, logger);
    const signingPolicy = new RegistrySigningPolicy(stores.registry, new SqlSigningPolicyStore(stores.sql));
    const tls = config.tls ? { cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) } : undefined;
    const server = await startServer(
      {
        registry: stores.registry,
        security: secured.security,
        actions: secured.actionLog,
        routes: [...secured.routes, ...quality.routes, new SigningPolicyApi(signingPolicy, secured.security, secured.actionLog), ...secured.managementRoutes],
        manifestGuard: signingPolicy,
        onManifestPushed: quality.manifestPushed,
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
    logger.info('custody serving', {
      version: VERSION,
      url: server.url,
      database: config.database.driver,
      storage: config.storage.driver === 's3' ? `s3://${config.storage.s3.bucket}` : config.storage.path,
      tls: Boolean(tls),
      auth: secured.security ? 'token' : 'disabled',
    });

    const collector = new GarbageCollector(stores.registry, stores.maintenance, logger);
    const maintenance = setInterval(() => {
      void collector.expireUploads(config.uploads.expireAfterMs).catch((error: unknown) => logger.error('upload expiry failed', { error }));
    }, Math.min(config.uploads.expireAfterMs, 15 * 60_000));
    maintenance.unref();
    let background: NodeJS.Timeout | undefined;
    if (config.gc.online) {
      background = setInterval(() => {
        void collector
          .collect({ dryRun: false, deleteUntagged: config.gc.deleteUntagged, gracePeriodMs: config.gc.gracePeriodMs })
          .then((report) => logger.info('garbage collection', { ...report }))
          .catch((error: unknown) => logger.error('garbage collection failed', { error }));
      }, config.gc.intervalMs);
      background.unref();
    }

    return new Promise<number>((resolve) => {
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) {
          // A second Ctrl-C means "now"; a repeated SIGTERM changes nothing.
          if (signal === 'SIGINT') {
            logger.warn('forced exit', { signal });
            process.exit(130);
          }
          return;
        }
        stopping = true;
        logger.info('shutting down', { signal });
        clearInterval(maintenance);
        if (background) clearInterval(background);
        void server
          .close()
          .then(() => scheduler.stop())
          .then(() => events.drain())
          .then(() => quality.close())
          .then(() => secured.close())
          .then(() => stores.close())
          .then(
            () => {
              logger.info('stopped');
              resolve(0);
            },
            (error: unknown) => {
              logger.error('shutdown failed', { error });
              resolve(1);
            },
          );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    });
  },
};
