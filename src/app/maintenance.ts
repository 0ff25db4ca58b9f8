// `custody gc` and `custody fsck` composed: the stores from configuration, and the
// collector and checker on the maintenance seam.
import type { Config } from '../config/config.ts';
import type { Logger } from '../observability/logger.ts';
import { GarbageCollector, type CollectOptions, type CollectReport } from '../registry/garbage-collector.ts';
import { fsck, type FsckOptions, type FsckReport } from '../registry/fsck.ts';
import { openStores } from './open-stores.ts';

/** One garbage collection over the configured stores. */
export async function collectGarbage(config: Config, options: CollectOptions, logger: Logger): Promise<CollectReport> {
  const stores = await openStores(config);
  try {
    // The `gc` lock: one collector at a time across replicas and `custody gc`.
    return await new GarbageCollector(stores.registry, stores.maintenance, logger, { locks: stores.locks }).collect(options);
  } finally {
    await stores.close();
  }
}

/** Checks the configured stores end to end. */
export async function checkStores(config: Config, options: FsckOptions): Promise<FsckReport> {
  const stores = await openStores(config);
  try {
    return await fsck(stores.maintenance, stores.blobs, options);
  } finally {
    await stores.close();
  }
}
