// The composition root: the one place that picks concrete drivers from configuration.
import type { Config } from '../config/config.ts';
import { FilesystemBlobStore } from '../storage/filesystem-blob-store.ts';
import { SqliteClient } from '../metadata/sqlite-client.ts';
import { PostgresClient } from '../metadata/postgres-client.ts';
import { migrate } from '../metadata/migrations.ts';
import { SqlMetadataStore } from '../metadata/sql-metadata-store.ts';
import type { SqlClient } from '../metadata/sql-client.ts';
import { Registry } from '../registry/registry.ts';
import { SqlIdentityStore } from '../metadata/sql-identity-store.ts';

export interface OpenedStores {
  readonly blobs: FilesystemBlobStore;
  readonly sql: SqlClient;
  readonly metadata: SqlMetadataStore;
  readonly registry: Registry;
  readonly identity: SqlIdentityStore;
  close(): Promise<void>;
}

export async function openStores(config: Config): Promise<OpenedStores> {
  // Everything the server writes (database, blobs, uploads) is private to its user.
  process.umask(0o077);
  const blobs = new FilesystemBlobStore(config.storage.path);
  await blobs.init();
  const sql: SqlClient = config.database.driver === 'postgres' ? new PostgresClient({ url: config.database.url }) : new SqliteClient(config.database.path);
  try {
    await migrate(sql);
  } catch (error) {
    await sql.close().catch(() => {});
    throw new Error(`cannot open the metadata database (${config.database.driver}): ${(error as Error).message}`, { cause: error });
  }
  const metadata = new SqlMetadataStore(sql);
  const registry = new Registry(blobs, metadata, {
    maxManifestBytes: config.limits.maxManifestBytes,
    maxBlobBytes: config.limits.maxBlobBytes,
    maxPageSize: config.limits.maxPageSize,
    automaticMount: config.uploads.automaticMount,
  });
  const identity = new SqlIdentityStore(sql);
  return { blobs, sql, metadata, registry, identity, close: () => metadata.close() };
}
