// Indexing again in the background, as a job on the one scheduler: images stored before
// indexing existed, and images indexed by an older analyzer version (each index carries
// its version), are queued once more; the quality worker takes them at its own pace.
import type { JobDefinition } from '../jobs/job-scheduler.ts';

export const REINDEX_JOB = 'quality-reindex';

export function reindexJob(quality: { reindexOutdated(): Promise<number> }, intervalMs: number = 6 * 3_600_000): JobDefinition {
  return {
    name: REINDEX_JOB,
    intervalMs,
    // Soon after start: an upgrade that changed the indexer is caught up at once.
    initialDelayMs: Math.min(intervalMs, 60_000),
    async run() {
      await quality.reindexOutdated();
    },
  };
}
