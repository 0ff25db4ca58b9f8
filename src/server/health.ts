// /healthz and the storage gauges of /metrics. Healthy means the dependencies answer
// (the health check) and storage has room: below `minFreeBytes` free the registry is
// "degraded", so monitoring hears of a filling disk before pushes fail with 507.
import { formatBytes } from '../core/size.ts';
import type { MetricsRegistry } from '../observability/metrics.ts';
import type { StorageSpace } from '../storage/blob-store.ts';

export interface StorageHealth {
  space(): Promise<StorageSpace | null>;
  /** Free bytes below which /healthz says degraded; 0 never does. */
  readonly minFreeBytes: number;
}

export type HealthReport = { readonly status: 200 | 503; readonly text: string; readonly problem?: unknown };

/** What /healthz answers: 200 "ok", or 503 with the reason ("unavailable" hides the error). */
export async function healthReport(check: (() => Promise<void>) | undefined, storage: StorageHealth | undefined): Promise<HealthReport> {
  try {
    await check?.();
  } catch (error) {
    return { status: 503, text: 'unavailable\n', problem: error };
  }
  if (storage && storage.minFreeBytes > 0) {
    let space: StorageSpace | null;
    try {
      space = await storage.space();
    } catch (error) {
      return { status: 503, text: 'unavailable\n', problem: error };
    }
    if (space && space.freeBytes < storage.minFreeBytes) {
      return { status: 503, text: `degraded: storage has ${formatBytes(space.freeBytes)} free of ${formatBytes(space.totalBytes)}, below the ${formatBytes(storage.minFreeBytes)} minimum (storage.minFreeBytes)\n` };
    }
  }
  return { status: 200, text: 'ok\n' };
}

/** Registers custody_storage_free_bytes and _total_bytes; call the result before rendering. */
export function storageGauges(registry: MetricsRegistry, storage: StorageHealth): () => Promise<void> {
  const free = registry.gauge('custody_storage_free_bytes', 'Bytes the registry may still write to blob storage.');
  const total = registry.gauge('custody_storage_total_bytes', 'Size of the blob storage filesystem in bytes.');
  return async () => {
    const space = await storage.space().catch(() => null);
    if (!space) return;
    free.set(space.freeBytes);
    total.set(space.totalBytes);
  };
}
