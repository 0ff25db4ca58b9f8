// The pull-through cache: upstream registries mapped to namespaces, read through a layer
// around the registry (PullThroughRegistry). The composition root wraps the registry it
// serves with `openPullThroughCache` when upstreams are configured.
import type { ProxyConfig } from '../config/proxy-config.ts';
import { describeUpstream } from '../config/proxy-config.ts';
import type { Logger } from '../observability/logger.ts';
import type { Registry } from '../registry/registry-interface.ts';
import { PullThroughRegistry } from './pull-through-registry.ts';
import { Upstream } from './upstream.ts';
import { UpstreamRoutes } from './upstream-routes.ts';
import { cacheEvictionJob } from './cache-eviction.ts';
import type { JobDefinition } from '../jobs/job-scheduler.ts';
import type { CacheUsageStore } from '../metadata/cache-usage-store.ts';

export { PullThroughRegistry } from './pull-through-registry.ts';
export { Upstream } from './upstream.ts';
export { UpstreamRoutes, type UpstreamRoute } from './upstream-routes.ts';
export { cacheEvictionJob, evictLeastRecentlyPulled } from './cache-eviction.ts';

export interface PullThroughCache {
  readonly registry: PullThroughRegistry;
  /** Periodic work to register on the scheduler (the size bound's eviction). */
  readonly jobs: readonly JobDefinition[];
  close(): void;
}

/** The registry wrapped with the cache, or null when no upstream is configured. */
export function openPullThroughCache(registry: Registry, config: ProxyConfig, logger: Logger, usage?: CacheUsageStore): PullThroughCache | null {
  if (config.upstreams.length === 0) return null;
  const upstreams = config.upstreams.map((upstream) => new Upstream(upstream, { timeoutMs: config.timeoutMs, logger }));
  const routes = new UpstreamRoutes(upstreams, config.defaultNamespace, (repository) => registry.metadata.repositoryExists(repository));
  logger.info('pull-through cache', { upstreams: config.upstreams.map((upstream) => ({ ...describeUpstream(upstream), ttlMs: upstream.ttlMs, authenticated: upstream.username !== undefined })), default: config.defaultNamespace });
  const cache = new PullThroughRegistry(registry, { routes, notFoundTtlMs: config.notFoundTtlMs, logger, usage });
  const jobs: JobDefinition[] = [];
  if (config.maxBytes !== undefined && usage) {
    const namespaces = config.upstreams.map((upstream) => upstream.namespace);
    jobs.push(cacheEvictionJob({ usage, registry, namespaces, maxBytes: config.maxBytes, intervalMs: config.evictionIntervalMs, logger }));
  }
  return { registry: cache, jobs, close: () => cache.close() };
}
