// The composition of the advisory updater for `custody serve`: the updater over the
// server's database, as a job for the one scheduler (null when vulndb.update is off, for
// air-gapped registries fed by `custody vulndb import/pull`).
import { join } from 'node:path';
import type { Config } from '../config/config.ts';
import { ConfigError } from '../config/config-error.ts';
import type { JobDefinition } from '../jobs/job-scheduler.ts';
import type { Logger } from '../observability/logger.ts';
import { SqlAdvisoryStore } from '../metadata/sql-advisory-store.ts';
import { SqlFeedSourceStore } from '../metadata/sql-feed-source-store.ts';
import { SqlQualityStore } from '../metadata/sql-quality-store.ts';
import { FeedUpdater, parseSourceSpec, type SourceSpec } from '../scan/feeds/feed-updater.ts';
import { neededSources, vulndbUpdateJob } from '../scan/feeds/update-job.ts';
import type { OpenedQuality } from './open-quality.ts';
import type { OpenedStores } from './open-stores.ts';

function configuredSources(text: string | undefined): SourceSpec[] | null {
  if (text === undefined) return null;
  try {
    return text.split(',').filter((entry) => entry.trim() !== '').map(parseSourceSpec);
  } catch (error) {
    throw new ConfigError([`vulndb.sources: ${(error as Error).message}`]);
  }
}

export function vulndbUpdaterJob(config: Config, stores: OpenedStores, quality: OpenedQuality, logger: Logger): JobDefinition | null {
  const configured = configuredSources(config.vulndb.sources);
  if (!config.vulndb.update) return null;
  const updater = new FeedUpdater({
    advisories: new SqlAdvisoryStore(stores.sql),
    sources: new SqlFeedSourceStore(stores.sql),
    workDir: join(config.dataDir, 'feeds'),
    warn: (message) => logger.warn('vulndb update', { message }),
  });
  const images = new SqlQualityStore(stores.sql);
  return vulndbUpdateJob({
    updater,
    sources: async () => neededSources(await images.storedNeeds(), configured),
    ...(config.quality.enabled ? { regrade: () => quality.service.rematchIfDatabaseChanged() } : {}),
    intervalMs: config.vulndb.updateIntervalMs,
    logger,
  });
}
