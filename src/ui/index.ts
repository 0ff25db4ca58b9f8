// The web catalog as one route set for `custody serve`: built from the services the
// composition root already has, and matched after every other route set (it answers
// every path outside /v2, /api, /auth, /extensions, /healthz and /metrics).
import type { Registry } from '../registry/registry.ts';
import type { Logger } from '../observability/logger.ts';
import type { EventSubscriber } from '../core/events.ts';
import type { RepositoryAccessStore } from '../metadata/identity-store.ts';
import type { QualityService } from '../scan/quality-service.ts';
import type { RegistrySigningPolicy } from '../trust/registry-signing-policy.ts';
import type { ManagementService } from '../management/management-service.ts';
import type { SecurityServices } from '../server/security.ts';
import { CatalogService } from '../catalog/catalog-service.ts';
import { CatalogSearch } from '../catalog/catalog-search.ts';
import { CatalogIndexer } from '../catalog/catalog-indexer.ts';
import type { CatalogIndexStore } from '../metadata/catalog-index-store.ts';
import { UiRouter } from './ui-router.ts';
import { WebAuth } from './web-auth.ts';
import { WebSessions } from './web-sessions.ts';
import type { WebSessionStore } from '../metadata/web-session-store.ts';
import { CatalogApi } from '../server/catalog-api.ts';

export interface WebCatalogOptions {
  readonly registry: Registry;
  readonly repositories: Pick<RepositoryAccessStore, 'findRepository'>;
  /** Absent when authentication is off: everyone reads everything, nobody logs in. */
  readonly security?: SecurityServices | undefined;
  readonly management?: ManagementService | undefined;
  readonly quality?: QualityService | undefined;
  readonly signing?: RegistrySigningPolicy | undefined;
  readonly logger?: Logger | undefined;
  /** The domain event bus, when there is one: explore's summaries are dropped at each push, tag change or scan. */
  readonly events?: EventSubscriber | undefined;
  /** Where browser sessions live (SQL, shared by replicas). */
  readonly sessions: WebSessionStore;
  /** Served over TLS: the session cookie is Secure. */
  readonly tls: boolean;
  /** Explore's search index in SQL (kept current from `events`); without it, search summarises in memory. */
  readonly index?: CatalogIndexStore | undefined;
}

/** The pages (matched last) and the catalog's /api/v1 routes (matched before the management API, which answers 404 for any other /api/v1 path). */
export function createWebCatalog(options: WebCatalogOptions): { router: UiRouter; api: CatalogApi; catalog: CatalogService; search: CatalogSearch; sessions: WebSessions; indexer: CatalogIndexer | undefined } {
  const catalog = new CatalogService({ registry: options.registry, access: options.security?.access, repositories: options.repositories, quality: options.quality, signing: options.signing });
  const indexer = options.index ? new CatalogIndexer(catalog, options.index, { logger: options.logger }) : undefined;
  const search = new CatalogSearch(catalog, { events: options.events, index: options.index, settled: indexer ? () => indexer.settled() : undefined });
  if (indexer && options.events) indexer.subscribe(options.events);
  const sessions = new WebSessions(options.sessions);
  const auth = new WebAuth(options.security, sessions, { secure: options.tls });
  const publicHost = options.security?.publicUrl ? new URL(options.security.publicUrl).host : undefined;
  const router = new UiRouter({ catalog, search, auth, management: options.management, publicHost, publicUrl: options.security?.publicUrl, logger: options.logger });
  return { router, api: new CatalogApi(catalog, search, options.security), catalog, search, sessions, indexer };
}
