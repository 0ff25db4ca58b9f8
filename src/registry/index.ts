// Library entry point for the registry domain and its seams. Concrete drivers (SQLite,
// PostgreSQL, the filesystem, S3) are the composition root's choice (custody/app).
export { CoreRegistry, type Registry, type RegistryOptions, type UploadState, type BlobHandle, type Listing } from './registry.ts';
export { RegistryDecorator } from './registry-decorator.ts';
export { GarbageCollector, type CollectOptions, type CollectReport } from './garbage-collector.ts';
export { fsck, type FsckReport, type FsckProblem } from './fsck.ts';
export type { WriteGuard } from './write-guard.ts';
export type { BlobStore } from '../storage/blob-store.ts';
export type { MetadataStore } from '../metadata/metadata-store.ts';
export type { SqlClient } from '../metadata/sql-client.ts';
