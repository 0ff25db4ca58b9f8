// What one image may cost the indexer. A layer is data from whoever pushed it: a few MiB
// of gzip can inflate to terabytes, and a manifest can list thousands of layers. The walk
// counts what it inflates and the tar entries it reads, per layer and per image, and stops
// (destroying the decompression streams) at the first bound crossed. The registry also
// gives each image a time budget, so one image cannot hold the queue whatever it holds.
import { formatBytes } from '../../core/size.ts';

export interface IndexLimits {
  /** Inflated bytes of one layer (its tar stream, headers and padding included). */
  readonly maxLayerBytes: number;
  /** Inflated bytes of all the layers walked for one image (a layer walked twice counts twice). */
  readonly maxImageBytes: number;
  /** Tar entries read for one image: each is a node of the file tree held in memory. */
  readonly maxEntries: number;
}

/**
 * Well above real images: the largest seen in the wild (CUDA and ML framework images)
 * inflate to about 20 GB in layers of a few GB, and big distributions hold a few hundred
 * thousand files. Measured here: the indexer walks a Debian image at ~180 MiB/s on one
 * core, so the image bound takes about 3 minutes, inside the default time budget; the
 * file tree holds ~190 bytes per entry, so the entry bound is ~180 MiB of heap.
 */
export const DEFAULT_INDEX_LIMITS: IndexLimits = {
  maxLayerBytes: 16 * 1024 ** 3,
  maxImageBytes: 32 * 1024 ** 3,
  maxEntries: 1_000_000,
};

/** The registry's default time budget per image (quality.timeBudget). */
export const DEFAULT_TIME_BUDGET_MS = 5 * 60_000;

/** Which bound an image crossed. */
export type IndexLimit = 'layerBytes' | 'imageBytes' | 'entries' | 'time';

/**
 * An image that is not indexed because it crossed a bound. Not a fault to retry: the same
 * image crosses the same bound again. The message is for people ("too large: ...").
 */
export class IndexLimitError extends Error {
  override readonly name = 'IndexLimitError';
  readonly limit: IndexLimit;
  constructor(limit: IndexLimit, message: string) {
    super(message);
    this.limit = limit;
  }
}

/** `300000` → `5m`, `1500` → `1.5s`: durations the way the settings are written. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`;
}

export function timeBudgetExceeded(budgetMs: number): IndexLimitError {
  return new IndexLimitError('time', `took longer than ${formatDuration(budgetMs)}`);
}

/** Counts one image's walk against the limits; each method throws IndexLimitError when a bound is crossed. */
export class IndexBudget {
  readonly limits: IndexLimits;
  #imageBytes = 0;
  #entries = 0;
  #layerBytes = 0;

  constructor(limits: IndexLimits = DEFAULT_INDEX_LIMITS) {
    this.limits = limits;
  }

  /** A new layer starts (its bytes are counted from zero). */
  startLayer(): void {
    this.#layerBytes = 0;
  }

  /** `bytes` more of the current layer were inflated; `what` names the layer. */
  addBytes(bytes: number, what: string): void {
    this.#layerBytes += bytes;
    this.#imageBytes += bytes;
    if (this.#layerBytes > this.limits.maxLayerBytes) {
      throw new IndexLimitError('layerBytes', `too large: ${what} inflates to more than ${formatBytes(this.limits.maxLayerBytes, { limit: true })}`);
    }
    if (this.#imageBytes > this.limits.maxImageBytes) {
      throw new IndexLimitError('imageBytes', `too large: the layers inflate to more than ${formatBytes(this.limits.maxImageBytes, { limit: true })} (at ${what})`);
    }
  }

  addEntry(what: string): void {
    if (++this.#entries > this.limits.maxEntries) {
      throw new IndexLimitError('entries', `too large: more than ${this.limits.maxEntries.toLocaleString('en-US')} files and other entries (at ${what})`);
    }
  }
}
