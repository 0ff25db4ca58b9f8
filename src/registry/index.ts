// Library entry point for the registry domain and its stores.
export { CoreRegistry, type Registry, type RegistryOptions, type UploadState, type BlobHandle, type Listing } from './registry.ts';
export { RegistryDecorator } from './registry-decorator.ts';
export { GarbageCollector, type CollectOptions, type CollectReport } from './garbage-collector.ts';
export { fsck, type FsckReport, type FsckProblem } from './fsck.ts';
export type { BlobStore } from '../storage/blob-store.ts';
export { FilesystemBlobStore } from '../storage/filesystem-blob-store.ts';
export type { MetadataStore } from '../metadata/metadata-store.ts';
export type { SqlClient } from '../metadata/sql-client.ts';
export { SqlMetadataStore } from '../metadata/sql-metadata-store.ts';
export { SqliteClient } from '../metadata/sqlite-client.ts';
export { PostgresClient } from '../metadata/postgres-client.ts';
export { migrate } from '../metadata/migrations.ts';
