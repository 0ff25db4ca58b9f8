// The composition root: the one place that picks concrete drivers from configuration.
import type { Config } from '../config/config.ts';
import { FilesystemBlobStore } from '../storage/filesystem-blob-store.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { SqliteClient } from '../metadata/sqlite-client.ts';
import { PostgresClient } from '../metadata/postgres-client.ts';
import { migrate } from '../metadata/migrations.ts';
import { SqlMetadataStore } from '../metadata/sql-metadata-store.ts';
import { SqlMaintenanceStore } from '../metadata/sql-maintenance-store.ts';
import type { MaintenanceStore } from '../metadata/maintenance-store.ts';
import type { SqlClient } from '../metadata/sql-client.ts';
import { CoreRegistry, type Registry } from '../registry/registry.ts';
import { SqlIdentityStore } from '../metadata/sql-identity-store.ts';
import type { Broadcast, NamedLocks } from '../core/coordination.ts';
import type { MetadataStore } from '../metadata/metadata-store.ts';
import { CachedMetadataStore } from '../metadata/cached-metadata-store.ts';
import { openCoordination, type OpenedCoordination } from './open-coordination.ts';
import { lockSqliteForServing, type ServeLock } from '../metadata/sqlite-serve-lock.ts';

export interface OpenedStores {
  readonly blobs: BlobStore;
  readonly sql: SqlClient;
  readonly metadata: MetadataStore;
  readonly registry: Registry;
  readonly identity: SqlIdentityStore;
  /** What garbage collection and fsck ask of the metadata. */
  readonly maintenance: MaintenanceStore;
  /** Locks across replicas (uploads, gc): PostgreSQL advisory locks, or in-process on SQLite. */
  readonly locks: NamedLocks;
  /** Invalidations to the other replicas: PostgreSQL NOTIFY, or nobody on SQLite. */
  readonly broadcast: Broadcast;
  close(): Promise<void>;
}

export interface OpenStoresOptions {
  /** `custody serve`: on SQLite, refuse to start beside another server on the same file. */
  readonly serving?: boolean;
  /** Where failures of the coordination connections (PostgreSQL, Redis) are reported. */
  readonly onCoordinationError?: (error: unknown) => void;
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
  const registry = new CoreRegistry(blobs, metadata, {
    locks,
    maxManifestBytes: config.limits.maxManifestBytes,
    maxBlobBytes: config.limits.maxBlobBytes,
    maxPageSize: config.limits.maxPageSize,
    automaticMount: config.uploads.automaticMount,
  });
  const identity = new SqlIdentityStore(sql);
  return {
    blobs,
    sql,
    metadata,
    registry,
    identity,
    maintenance: new SqlMaintenanceStore(sql),
    locks,
    broadcast,
    close: async () => {
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
