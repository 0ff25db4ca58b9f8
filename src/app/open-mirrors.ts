// Repository mirroring composed for `custody serve`: the SQL store, the secret box (its
// key in the data directory, mode 0600), the MirrorService writing into the registry, the
// read-only rule as a write guard, and the scheduled sync of due mirrors (src/app/jobs.ts).
import { join } from 'node:path';
import type { Config } from '../config/config.ts';
import type { Logger } from '../observability/logger.ts';
import type { JobScheduler } from '../jobs/job-scheduler.ts';
import { SqlMirrorStore } from '../metadata/sql-mirror-store.ts';
import { MirrorService } from '../mirror/mirror-service.ts';
import { MirrorReadOnlyGuard } from '../mirror/read-only-guard.ts';
import { SecretBox } from '../mirror/secret-box.ts';
import type { OpenedStores } from './open-stores.ts';
import { registerMirrorJobs } from './jobs.ts';

/** Where the key sealing mirror credentials lives. Replicas must share it (same data directory or a copy). */
export function mirrorKeyFile(config: Config): string {
  return join(config.dataDir, 'mirror-secret.key');
}

export async function openMirrors(config: Config, stores: OpenedStores, scheduler: JobScheduler, logger: Logger): Promise<MirrorService> {
  const service = new MirrorService({
    store: new SqlMirrorStore(stores.sql),
    registry: stores.registry,
    box: await SecretBox.open(mirrorKeyFile(config)),
    events: stores.events,
    logger,
  });
  stores.guards.push(new MirrorReadOnlyGuard((repository) => service.sourceOf(repository)));
  registerMirrorJobs({ scheduler, mirrors: service });
  return service;
}
