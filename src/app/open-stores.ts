// The composition root's foundation: the one place that picks the concrete blob store
// and SQL engine from configuration and builds the stores, the event bus and the registry
// on them. Everything above (security, quality, jobs, the server) receives interfaces.
import type { Config } from '../config/config.ts';
import { FilesystemBlobStore } from '../storage/filesystem-blob-store.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { SqliteClient } from '../metadata/sqlite-client.ts';
import { PostgresClient } from '../metadata/postgres-client.ts';
import { migrate } from '../metadata/migrations.ts';
import { SqlMetadataStore } from '../metadata/sql-metadata-store.ts';
import { SqlMaintenanceStore } from '../metadata/sql-maintenance-store.ts';
import type { MaintenanceStore } from '../metadata/maintenance-store.ts';
import type { MetadataStore } from '../metadata/metadata-store.ts';
import type { SqlClient } from '../metadata/sql-client.ts';
import { SqlIdentityStore } from '../metadata/sql-identity-store.ts';
import type { Broadcast, NamedLocks } from '../core/coordination.ts';
import { CachedMetadataStore } from '../metadata/cached-metadata-store.ts';
import { openCoordination, type OpenedCoordination } from './open-coordination.ts';
import { lockSqliteForServing, type ServeLock } from '../metadata/sqlite-serve-lock.ts';
import type { IdentityStore } from '../metadata/identity-store.ts';
import { SqlJobLeaseStore } from '../metadata/sql-job-lease-store.ts';
import type { JobLeaseStore } from '../metadata/job-lease-store.ts';
import type { EventBus } from '../core/events.ts';
import { InProcessEventBus } from '../events/in-process-event-bus.ts';
import { CoreRegistry, type Registry } from '../registry/registry.ts';
import type { WriteGuard } from '../registry/write-guard.ts';

export interface OpenedStores {
  readonly blobs: BlobStore;
  /** The SQL engine, for the composition root's other stores and health checks. */
  readonly sql: SqlClient;
  readonly metadata: MetadataStore;
  /** Where the registry (and later other domain services) announce committed changes. */
  readonly events: EventBus;
  /**
   * The registry's write guards. The root adds the ones that read through the registry
   * they guard (the signing policy) once it is built; the registry runs whatever is here.
   */
  readonly guards: WriteGuard[];
  readonly registry: Registry;
  readonly identity: IdentityStore;
  /** What garbage collection and fsck ask of the metadata. */
  readonly maintenance: MaintenanceStore;
  /** Locks across replicas (uploads, gc): PostgreSQL advisory locks, or in-process on SQLite. */
  readonly locks: NamedLocks;
  /** Invalidations to the other replicas: PostgreSQL NOTIFY, or nobody on SQLite. */
  readonly broadcast: Broadcast;
  /** Leases of the job scheduler: one replica runs each periodic job. */
  readonly jobLeases: JobLeaseStore;
  close(): Promise<void>;
}

export interface OpenStoresOptions {
  /** `custody serve`: on SQLite, refuse to start beside another server on the same file. */
  readonly serving?: boolean;
  /** Where failures of the coordination connections (PostgreSQL, Redis) are reported. */
  readonly onCoordinationError?: (error: unknown) => void;
  /** Told when an event subscriber fails (the bus never fails a write for it). */
  readonly onEventError?: ((error: unknown, type: string) => void) | undefined;
}

export async function openStores(config: Config, options: OpenStoresOptions = {}): Promise<OpenedStores> {
  // Everything the server writes (database, blobs, uploads) is private to its user.
  process.umask(0o077);
  let serveLock: ServeLock | undefined;
  if (options.serving && config.database.driver === 'sqlite') serveLock = lockSqliteForServing(config.database.path);
  const blobs = await openBlobStore(config);
  const sql: SqlClient = config.database.driver === 'postgres' ? new PostgresClient({ url: config.database.url }) : new SqliteClient(config.database.path);
  try {
    await migrate(sql);
  } catch (error) {
    await sql.close().catch(() => {});
    serveLock?.release();
    throw new Error(`cannot open the metadata database (${config.database.driver}): ${(error as Error).message}`, { cause: error });
  }
  let coordination: OpenedCoordination;
  try {
    coordination = await openCoordination(config, options.onCoordinationError);
  } catch (error) {
    await sql.close().catch(() => {});
    serveLock?.release();
    throw error;
  }
  const { locks, broadcast } = coordination;
  const sqlMetadata = new SqlMetadataStore(sql);
  const metadata: MetadataStore = coordination.cache ? new CachedMetadataStore(sqlMetadata, coordination.cache, { onError: options.onCoordinationError }) : sqlMetadata;
  const events = new InProcessEventBus({ onError: (error, event) => options.onEventError?.(error, event.type) });
  const guards: WriteGuard[] = [];
  const registry = new CoreRegistry(blobs, metadata, {
    locks,
    maxManifestBytes: config.limits.maxManifestBytes,
    maxBlobBytes: config.limits.maxBlobBytes,
    maxPageSize: config.limits.maxPageSize,
    automaticMount: config.uploads.automaticMount,
    events,
    guards,
  });
  return {
    blobs,
    sql,
    metadata,
    events,
    guards,
    registry,
    identity: new SqlIdentityStore(sql),
    maintenance: new SqlMaintenanceStore(sql),
    locks,
    broadcast,
    jobLeases: new SqlJobLeaseStore(sql),
    close: async () => {
      // Subscribers still at work (an audit entry, a queued scan) finish first.
      await events.drain();
      await coordination.close();
      await metadata.close();
      blobs.close?.();
      serveLock?.release();
    },
  };
}

async function openBlobStore(config: Config): Promise<BlobStore> {
  if (config.storage.driver === 's3') {
    // Loaded only when used: the filesystem default pays nothing for the S3 signer.
    const { S3BlobStore } = await import('../storage/s3-blob-store.ts');
    const blobs = new S3BlobStore({ ...config.storage.s3 });
    try {
      await blobs.check();
    } catch (error) {
      blobs.close();
      throw new Error(`cannot use S3 bucket ${config.storage.s3.bucket}: ${(error as Error).message}`, { cause: error });
    }
    return blobs;
  }
  const blobs = new FilesystemBlobStore(config.storage.path);
  await blobs.init();
  return blobs;
}
