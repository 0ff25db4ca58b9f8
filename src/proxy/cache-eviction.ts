// The pull-through cache's size bound: a job on the one scheduler that, while the cache's
// namespaces hold more than `maxBytes`, removes the least recently pulled images (through
// the core registry, as the system actor, so guards, events and the action log see it) and
// unlinks the blobs no remaining manifest of their repository needs. The bytes themselves
// go at the next garbage collection, like any unreferenced content; an evicted image is
// fetched again from its upstream on its next pull.
import { DomainError } from '../core/errors.ts';
import type { CacheUsageStore } from '../metadata/cache-usage-store.ts';
import type { JobDefinition } from '../jobs/job-scheduler.ts';
import type { Logger } from '../observability/logger.ts';
import type { Registry } from '../registry/registry-interface.ts';
import { CACHE_ACTOR } from './blob-fill.ts';
import { parseManifest } from '../core/manifest.ts';

function blobsOf(content: Uint8Array, mediaType: string): string[] {
  try {
    return parseManifest(content, mediaType).blobs.map((blob) => blob.digest);
  } catch {
    return [];
  }
}

export interface CacheEvictionOptions {
  readonly usage: CacheUsageStore;
  /** The core registry (never the cache layer: it refuses writes to its namespaces). */
  readonly registry: Registry;
  readonly namespaces: readonly string[];
  readonly maxBytes: number;
  readonly intervalMs: number;
  readonly logger: Logger;
}

const BATCH = 16;

export function cacheEvictionJob(options: CacheEvictionOptions): JobDefinition {
  return {
    name: 'proxy-cache-eviction',
    intervalMs: options.intervalMs,
    run: async ({ signal }) => {
      await evictLeastRecentlyPulled(options, signal);
    },
  };
}

/** Evicts until the cache fits its bound; returns the images removed. */
export async function evictLeastRecentlyPulled(options: CacheEvictionOptions, signal?: AbortSignal): Promise<number> {
  let used = await options.usage.usedBytes(options.namespaces);
  const before = used;
  let evicted = 0;
  const tried = new Set<string>();
  while (used > options.maxBytes && !signal?.aborted) {
    const batch = (await options.usage.leastRecentlyPulled(options.namespaces, BATCH + tried.size)).filter((entry) => !tried.has(`${entry.repository}@${entry.digest}`));
    if (batch.length === 0) break;
    for (const entry of batch) {
      tried.add(`${entry.repository}@${entry.digest}`);
      // Only the evicted image's own blobs are unlinked: others linked in the repository
      // without a manifest yet belong to an image a fill is completing.
      const stored = await options.registry.metadata.getManifestByDigest(entry.repository, entry.digest);
      const own = new Set(stored ? blobsOf(stored.content, stored.mediaType) : []);
      try {
        await options.registry.deleteManifest(entry.repository, entry.digest, CACHE_ACTOR);
        evicted++;
      } catch (error) {
        // Removed meanwhile, or a guard keeps it: the next candidate then.
        if (!(error instanceof DomainError)) throw error;
        continue;
      }
      for (const digest of await options.usage.unreferencedBlobs(entry.repository, Number.MAX_SAFE_INTEGER)) {
        if (!own.has(digest)) continue;
        await options.registry.deleteBlob(entry.repository, digest).catch((error: unknown) => {
          if (!(error instanceof DomainError)) throw error;
        });
      }
      options.logger.info('pull-through cache evicted an image', { repository: entry.repository, digest: entry.digest, lastUsedAt: new Date(entry.lastUsedAt).toISOString() });
      used = await options.usage.usedBytes(options.namespaces);
      if (used <= options.maxBytes || signal?.aborted) break;
    }
  }
  if (evicted > 0) options.logger.info('pull-through cache eviction', { before, after: used, maxBytes: options.maxBytes, evicted });
  return evicted;
}
