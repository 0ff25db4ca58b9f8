// Mark and sweep, safe while pushes continue. Marking is done by the database (what
// tags reach, through indexes and referrers; what manifests reference); sweeping
// re-checks each candidate under a row lock. A grace period protects uploads in flight
// and content pushed moments ago that no manifest references yet.
import type { Digest } from '../core/digest.ts';
import type { Logger } from '../observability/logger.ts';
import type { MaintenanceStore } from '../metadata/maintenance-store.ts';
import type { Registry } from './registry.ts';
import type { NamedLocks } from '../core/coordination.ts';
import { LocalLocks } from '../cluster/local-coordination.ts';

/** Blobs deleted per transaction and storage call (S3's DeleteObjects takes up to 1000). */
const DELETE_BATCH = 500;

export interface CollectOptions {
  readonly dryRun: boolean;
  /** Also remove manifests no tag reaches (with their referrers when those are unreached too). */
  readonly deleteUntagged: boolean;
  readonly gracePeriodMs: number;
}

export interface CollectReport {
  readonly dryRun: boolean;
  readonly untaggedManifestsRemoved: number;
  readonly manifestsDeleted: number;
  readonly blobsDeleted: number;
  readonly orphanFilesDeleted: number;
  readonly uploadsExpired: number;
  readonly bytesReclaimed: number;
  readonly durationMs: number;
  /** Set when nothing ran because another process (a replica, `custody gc`) was collecting. */
  readonly skipped?: 'another collector is running';
}

export interface CollectorOptions {
  /** One collector at a time across replicas (the `gc` lock); in-process by default. */
  readonly locks?: NamedLocks | undefined;
}

export class GarbageCollector {
  private readonly registry: Registry;
  private readonly maintenance: MaintenanceStore;
  private readonly logger: Logger;
  private readonly locks: NamedLocks;
  private running: Promise<CollectReport> | undefined;

  constructor(registry: Registry, maintenance: MaintenanceStore, logger: Logger, options: CollectorOptions = {}) {
    this.registry = registry;
    this.maintenance = maintenance;
    this.logger = logger;
    this.locks = options.locks ?? new LocalLocks();
  }

  /**
   * One collection at a time: a second call in this process joins the running one; while
   * another process holds the `gc` lock, nothing runs and the report says `skipped`.
   * Two sweeps would not corrupt anything (each batch re-checks under row locks), but
   * they would double the storage listing and the deletes for nothing.
   */
  collect(options: CollectOptions): Promise<CollectReport> {
    this.running ??= this.locks
      .withLock('gc', () => this.run(options), { wait: false })
      .then((report) => report ?? skippedReport(options.dryRun))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(options: CollectOptions): Promise<CollectReport> {
    const started = Date.now();
    const before = started - options.gracePeriodMs;
    const blobs = this.registry.blobs;
    let untaggedManifestsRemoved = 0;
    let manifestsDeleted = 0;
    let blobsDeleted = 0;
    let orphanFilesDeleted = 0;
    let bytesReclaimed = 0;

    if (options.deleteUntagged) {
      for (const ref of await this.maintenance.unreachableManifests(before)) {
        if (options.dryRun || (await this.maintenance.removeRepositoryManifest(ref, before))) {
          untaggedManifestsRemoved++;
          this.logger.debug('untagged manifest removed', { repository: ref.repository, digest: ref.digest, dryRun: options.dryRun });
        }
      }
    }

    const orphanManifests = await this.maintenance.orphanManifests(before);
    for (const manifest of orphanManifests) {
      if (options.dryRun || (await this.maintenance.deleteOrphanManifest(manifest.digest, before))) {
        manifestsDeleted++;
        bytesReclaimed += manifest.size;
      }
    }

    // In a dry run nothing was deleted above, so blobs referenced only by manifests that
    // would go are not counted: the report is a lower bound, never an overstatement.
    // Deleted in batches: one transaction and one storage call (S3 DeleteObjects) each.
    const unreferenced = await this.maintenance.unreferencedBlobs(before);
    for (let i = 0; i < unreferenced.length; i += DELETE_BATCH) {
      const batch = unreferenced.slice(i, i + DELETE_BATCH);
      const sizes = new Map(batch.map((blob) => [blob.digest, blob.size]));
      const deleted = options.dryRun ? batch.map((blob) => blob.digest) : await this.maintenance.deleteBlobs([...sizes.keys()], before, (digests) => blobs.deleteMany(digests));
      for (const digest of deleted) {
        blobsDeleted++;
        bytesReclaimed += sizes.get(digest) ?? 0;
      }
    }

    // Files with no record: left by a crash between storing and recording, or by a
    // deletion whose transaction failed after the file went.
    let pending: Array<{ digest: Digest; size: number }> = [];
    const flush = async (): Promise<void> => {
      const known = await this.maintenance.knownBlobs(pending.map((entry) => entry.digest));
      const unrecorded = pending.filter((entry) => !known.has(entry.digest));
      const sizes = new Map(unrecorded.map((entry) => [entry.digest, entry.size]));
      const removed = options.dryRun ? [...sizes.keys()] : await this.maintenance.deleteUnrecordedContents([...sizes.keys()], (digests) => blobs.deleteMany(digests));
      for (const digest of removed) {
        orphanFilesDeleted++;
        bytesReclaimed += sizes.get(digest) ?? 0;
      }
      pending = [];
    };
    for await (const stored of blobs.list()) {
      if (stored.modifiedAt.getTime() >= before) continue;
      pending.push({ digest: stored.digest, size: stored.size });
      if (pending.length >= DELETE_BATCH) await flush();
    }
    await flush();

    const uploadsExpired = options.dryRun ? 0 : await this.expireUploads(options.gracePeriodMs);
    const report: CollectReport = {
      dryRun: options.dryRun,
      untaggedManifestsRemoved,
      manifestsDeleted,
      blobsDeleted,
      orphanFilesDeleted,
      uploadsExpired,
      bytesReclaimed,
      durationMs: Date.now() - started,
    };
    return report;
  }

  /** Removes uploads untouched for `maxAgeMs`, with upload files no record knows. */
  async expireUploads(maxAgeMs: number): Promise<number> {
    const before = Date.now() - maxAgeMs;
    let expired = 0;
    for (;;) {
      const stale = await this.registry.metadata.uploadsUpdatedBefore(before, 500);
      for (const upload of stale) {
        // Under the upload's own lock (a chunk may be arriving on any replica), and only
        // if it is still untouched: a chunk that got the lock first keeps its upload.
        const removed = await this.locks
          .withLock(`upload:${upload.id}`, async () => {
            const current = await this.registry.metadata.getUpload(upload.id);
            if (!current || current.updatedAt >= before) return false;
            await this.registry.blobs.deleteUpload(upload.id);
            await this.registry.metadata.deleteUpload(upload.id);
            return true;
          })
          .catch(() => false);
        if (removed) expired++;
      }
      if (stale.length < 500) break;
    }
    const known = await this.maintenance.uploadIds();
    for await (const upload of this.registry.blobs.listUploads()) {
      if (!known.has(upload.uploadId) && upload.modifiedAt.getTime() < before) {
        await this.registry.blobs.deleteUpload(upload.uploadId);
        expired++;
      }
    }
    return expired;
  }
}

function skippedReport(dryRun: boolean): CollectReport {
  return { dryRun, untaggedManifestsRemoved: 0, manifestsDeleted: 0, blobsDeleted: 0, orphanFilesDeleted: 0, uploadsExpired: 0, bytesReclaimed: 0, durationMs: 0, skipped: 'another collector is running' };
}
