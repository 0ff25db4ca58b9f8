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
import type { WriteGuard } from '../registry/write-guard.ts';
import type { EventPublisher } from '../core/events.ts';
import type { MetadataStore } from '../metadata/metadata-store.ts';

/** What the server adds to the Registry: where events go, and the guards (built on the opened database). */
export interface RegistryExtras {
  readonly events?: EventPublisher | undefined;
  readonly guards?: ((sql: SqlClient, metadata: MetadataStore) => readonly WriteGuard[]) | undefined;
}

export interface OpenedStores {
  readonly blobs: BlobStore;
  readonly sql: SqlClient;
  readonly metadata: SqlMetadataStore;
  readonly registry: Registry;
  readonly identity: SqlIdentityStore;
  /** What garbage collection and fsck ask of the metadata. */
  readonly maintenance: MaintenanceStore;
  close(): Promise<void>;
}

export async function openStores(config: Config, extras: RegistryExtras = {}): Promise<OpenedStores> {
  // Everything the server writes (database, blobs, uploads) is private to its user.
  process.umask(0o077);
  const blobs = await openBlobStore(config);
  const sql: SqlClient = config.database.driver === 'postgres' ? new PostgresClient({ url: config.database.url }) : new SqliteClient(config.database.path);
  try {
    await migrate(sql);
  } catch (error) {
    await sql.close().catch(() => {});
    throw new Error(`cannot open the metadata database (${config.database.driver}): ${(error as Error).message}`, { cause: error });
  }
  const metadata = new SqlMetadataStore(sql);
  const registry = new CoreRegistry(blobs, metadata, {
    maxManifestBytes: config.limits.maxManifestBytes,
    maxBlobBytes: config.limits.maxBlobBytes,
    maxPageSize: config.limits.maxPageSize,
    automaticMount: config.uploads.automaticMount,
    events: extras.events,
    guards: extras.guards?.(sql, metadata),
  });
  const identity = new SqlIdentityStore(sql);
  return {
    blobs,
    sql,
    metadata,
    registry,
    identity,
    // The collector keeps what the time machine can still restore.
    maintenance: new SqlMaintenanceStore(sql, { timeMachineWindowMs: config.lifecycle.timeMachineWindowMs }),
    close: async () => {
      await metadata.close();
      blobs.close?.();
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
