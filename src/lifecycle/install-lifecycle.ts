// Lifecycle in one place for the composition root: the guards the Registry must be built
// with (immutability, quotas), then the services, the event subscription (the
// `quay.expires-after` label) and the scheduled jobs (tag expiry, quota reconciliation).
import type { ActionRecorder } from '../audit/action.ts';
import type { EventPublisher, EventSubscriber } from '../core/events.ts';
import type { JobScheduler } from '../jobs/job-scheduler.ts';
import type { MetadataStore } from '../metadata/metadata-store.ts';
import type { SqlClient } from '../metadata/sql-client.ts';
import { SqlLifecycleStore } from '../metadata/sql-lifecycle-store.ts';
import { SqlQuotaStore } from '../metadata/sql-quota-store.ts';
import type { LifecycleStore } from '../metadata/lifecycle-store.ts';
import type { QuotaStore } from '../metadata/quota-store.ts';
import type { Logger } from '../observability/logger.ts';
import type { Registry } from '../registry/registry.ts';
import type { WriteGuard } from '../registry/write-guard.ts';
import { ImmutabilityGuard } from './immutability-guard.ts';
import { QuotaGuard } from './quota-guard.ts';
import { TagExpiry } from './tag-expiry.ts';
import { TimeMachine } from './time-machine.ts';
import { Retention } from './retention.ts';
import { SqlRetentionStore } from '../metadata/sql-retention-store.ts';
import type { RetentionStore } from '../metadata/retention-store.ts';

/** A pull is recorded at most this often per tag (retention's "pulled within" needs no more). */
const PULL_RECORD_INTERVAL_MS = 60_000;

export interface LifecycleSettings {
  /** The registry's default time-machine window. */
  readonly timeMachineWindowMs: number;
  /** How often the expiry job looks for expired tags. */
  readonly expiryIntervalMs: number;
  /** How often quota usage is recounted from the links. */
  readonly quotaReconcileIntervalMs: number;
  /** How often retention policies run over every repository. */
  readonly retentionIntervalMs: number;
}

export interface LifecycleGuards {
  readonly store: LifecycleStore;
  readonly quotas: QuotaStore;
  readonly immutability: ImmutabilityGuard;
  readonly quota: QuotaGuard;
  readonly retentionStore: RetentionStore;
  /** What the Registry is built with. */
  readonly guards: readonly WriteGuard[];
}

/** The guards alone (the Registry runs them before every write). */
export function lifecycleGuards(sql: SqlClient, metadata: MetadataStore, events?: EventPublisher): LifecycleGuards {
  const store = new SqlLifecycleStore(sql);
  const quotas = new SqlQuotaStore(sql);
  const immutability = new ImmutabilityGuard(store, metadata);
  const quota = new QuotaGuard(quotas, events);
  return { store, quotas, immutability, quota, retentionStore: new SqlRetentionStore(sql), guards: [immutability, quota] };
}

export interface Lifecycle extends LifecycleGuards {
  readonly timeMachine: TimeMachine;
  readonly expiry: TagExpiry;
  readonly retention: Retention;
  readonly settings: LifecycleSettings;
}

export interface InstallLifecycleOptions {
  readonly sql: SqlClient;
  readonly registry: Registry;
  /** The registry's guard list: lifecycle's guards are added to it. */
  readonly registryGuards: WriteGuard[];
  readonly scheduler: JobScheduler;
  readonly events?: (EventPublisher & EventSubscriber) | undefined;
  readonly actions?: ActionRecorder | undefined;
  readonly logger?: Logger | undefined;
  readonly settings: LifecycleSettings;
}

/** Once the Registry exists: its guards, the services, the event subscriptions and the jobs. */
export function installLifecycle(options: InstallLifecycleOptions): Lifecycle {
  const { registry, scheduler, events, logger, settings } = options;
  const guards = lifecycleGuards(options.sql, registry.metadata, events);
  options.registryGuards.push(...guards.guards);
  const timeMachine = new TimeMachine(registry, guards.store, { defaultWindowMs: settings.timeMachineWindowMs });
  const expiry = new TagExpiry(registry, guards.store, { events, actions: options.actions, logger });
  const retention = new Retention(registry, guards.retentionStore, { events, actions: options.actions });
  events?.subscribe((event) => expiry.onManifestPushed(event), ['manifest.pushed']);
  const pulls = new Map<string, number>();
  events?.subscribe(async (event) => {
    if (event.type !== 'manifest.pulled' || event.data.reference.includes(':')) return;
    const key = `${event.data.repository}:${event.data.reference}`;
    if (event.time - (pulls.get(key) ?? 0) < PULL_RECORD_INTERVAL_MS) return;
    if (pulls.size > 100_000) pulls.clear();
    pulls.set(key, event.time);
    await guards.retentionStore.touchPulled(event.data.repository, event.data.reference, event.time);
  }, ['manifest.pulled']);
  scheduler.register({
    name: 'lifecycle.retention',
    intervalMs: settings.retentionIntervalMs,
    run: async ({ signal }) => {
      const report = await retention.run('registry', '', false, signal);
      if (report.removed.length > 0) logger?.info('retention run', { removed: report.removed.length, repositories: report.repositories, durationMs: report.durationMs });
    },
  });
  scheduler.register({
    name: 'lifecycle.tag-expiry',
    intervalMs: settings.expiryIntervalMs,
    run: async ({ signal }) => {
      const removed = await expiry.expireDue(signal);
      if (removed > 0) logger?.info('expired tags removed', { removed });
    },
  });
  scheduler.register({
    name: 'lifecycle.quota-reconcile',
    intervalMs: settings.quotaReconcileIntervalMs,
    run: async () => {
      const drift = await guards.quotas.reconcile();
      if (drift.length > 0) logger?.warn('quota usage recounted', { drift });
    },
  });
  return { ...guards, timeMachine, expiry, retention, settings };
}
