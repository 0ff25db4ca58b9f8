// The one job scheduler of a server process and the registry's own periodic jobs on it.
// Every periodic task of every feature is a named job here (the name is its lease key),
// never a timer of its own: garbage collection, upload expiry, action log retention
// (`audit.retention`), quality re-matching and re-grading (`quality.rematch`,
// `quality.regrade`), and tomorrow's retention rules, tag expiry, mirror syncs and
// webhook retries. Leases live in the shared database, so among replicas one runs each job.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Config } from '../config/config.ts';
import type { Logger } from '../observability/logger.ts';
import type { JobScheduler } from '../jobs/job-scheduler.ts';
import { TimerScheduler } from '../jobs/timer-scheduler.ts';
import type { JobLeaseStore } from '../metadata/job-lease-store.ts';
import type { GarbageCollector } from '../registry/garbage-collector.ts';

export const GC_JOB = 'registry.gc';
export const UPLOAD_EXPIRY_JOB = 'registry.upload-expiry';

/** The scheduler of this process, leasing its exclusive jobs in `leases`. */
export function createScheduler(leases: JobLeaseStore, logger: Logger): TimerScheduler {
  return new TimerScheduler({
    leases,
    // Names this process among the replicas (what a lease row shows as its holder).
    holder: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
    onError: (job, error) => logger.error('scheduled job failed', { job, error }),
  });
}

export interface MaintenanceJobsOptions {
  readonly config: Config;
  readonly scheduler: JobScheduler;
  readonly collector: GarbageCollector;
  readonly logger: Logger;
}

/** Upload expiry always; online garbage collection when `gc.online`. */
export function registerMaintenanceJobs({ config, scheduler, collector, logger }: MaintenanceJobsOptions): void {
  scheduler.register({
    name: UPLOAD_EXPIRY_JOB,
    intervalMs: Math.min(config.uploads.expireAfterMs, 15 * 60_000),
    run: async () => {
      await collector.expireUploads(config.uploads.expireAfterMs).catch((error: unknown) => logger.error('upload expiry failed', { error }));
    },
  });
  if (!config.gc.online) return;
  scheduler.register({
    name: GC_JOB,
    intervalMs: config.gc.intervalMs,
    run: async () => {
      await collector
        .collect({ dryRun: false, deleteUntagged: config.gc.deleteUntagged, gracePeriodMs: config.gc.gracePeriodMs })
        .then((report) => (report.skipped ? logger.debug('garbage collection skipped', { reason: report.skipped }) : logger.info('garbage collection', { ...report })))
        .catch((error: unknown) => logger.error('garbage collection failed', { error }));
    },
  });
}

export const MIRROR_SYNC_JOB = 'mirror.sync';
/** How often due mirrors are looked for; each mirror's own interval decides whether it syncs. */
export const MIRROR_CHECK_INTERVAL_MS = 30_000;

export interface MirrorJobsOptions {
  readonly scheduler: JobScheduler;
  readonly mirrors: { syncDue(signal?: AbortSignal): Promise<void> };
}

/** Syncs the mirrors whose interval has passed; leased, so one replica syncs them. */
export function registerMirrorJobs({ scheduler, mirrors }: MirrorJobsOptions): void {
  scheduler.register({ name: MIRROR_SYNC_JOB, intervalMs: MIRROR_CHECK_INTERVAL_MS, run: ({ signal }) => mirrors.syncDue(signal) });
}
