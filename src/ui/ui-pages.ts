// The catalog's pages past the front door: repository, image, compare, SBOM download,
// package search and settings. Each asks AccessControl (through the catalog) first and
// answers "not found" for what the caller may not read.
import { RegistryError } from '../core/errors.ts';
import { validateRepositoryName } from '../core/names.ts';
import { isDigest } from '../core/digest.ts';
import { indexEntries } from '../core/manifest-reader.ts';
import type { HttpRequest, HttpResponse } from '../server/http-types.ts';
import type { CatalogService } from '../catalog/catalog-service.ts';
import type { CatalogSearch } from '../catalog/catalog-search.ts';
import type { ManagementService } from '../management/management-service.ts';
import type { Html } from './html.ts';
import type { UiAssets } from './assets.ts';
import type { Viewer } from './layout.ts';
import type { WebCaller } from './web-auth.ts';
import type { WebAuth } from './web-auth.ts';
import { sendDownload } from './web-response.ts';
import { repositoryPage, type TagStates } from './pages/repository.ts';
import { requestContext } from '../server/request-auth.ts';
import { imagePage, TABS, type Quality, type Tab } from './pages/image.ts';
import { comparePage } from './pages/compare.ts';
import { packagesPage } from './pages/packages.ts';
import { SettingsPages } from './pages/settings.ts';
import { tagHistoryPage } from './pages/tag-history.ts';

export interface PageRequest {
  readonly request: HttpRequest;
  readonly response: HttpResponse;
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly caller: WebCaller;
  readonly viewer: Viewer;
  readonly host: string;
  send(status: number, title: string, body: Html, cookies?: string[]): void;
  readForm(): Promise<URLSearchParams>;
}

const REPOSITORY_PATH = /^\/r\/(.+?)(?:\/-\/(image|compare|sbom|settings|history)(?:\/([^/]+))?)?\/?$/;

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new RegistryError('INVALID_REQUEST', 'malformed percent-encoding in the path');
  }
}

export class UiPages {
  private readonly catalog: CatalogService;
  private readonly search: CatalogSearch;
  private readonly settings: SettingsPages;
  private readonly auth: WebAuth;
  private readonly management: ManagementService | undefined;

  constructor(options: { catalog: CatalogService; search: CatalogSearch; auth: WebAuth; management?: ManagementService | undefined }, _assets: UiAssets) {
    this.catalog = options.catalog;
    this.search = options.search;
    this.settings = new SettingsPages(options.catalog, options.auth, options.management);
    this.auth = options.auth;
    this.management = options.management;
  }

  async dispatch(context: PageRequest): Promise<boolean> {
    const { path, method, query, caller } = context;
    const isGet = method === 'GET' || method === 'HEAD';
    if (path === '/packages' && isGet) {
      const name = (query.get('name') ?? '').trim().slice(0, 200);
      const hits = name === '' ? [] : await this.search.packages(caller.principal, name);
      context.send(200, name ? `Packages: ${name}` : 'Packages', packagesPage(name, hits));
      return true;
    }
    if (path.startsWith('/settings/')) return this.settings.account(context);
    const found = REPOSITORY_PATH.exec(path);
    if (!found) return false;
    const repository = validateRepositoryName(found[1]!.split('/').map(decode).join('/'));
    const section = found[2];
    await this.catalog.requireReadable(caller.principal, repository);
    if (section === 'settings') return this.settings.repository(context, repository);
    if (section === 'history') {
      if (!this.management) return false;
      return tagHistoryPage(context, repository, { catalog: this.catalog, auth: this.auth, management: this.management });
    }
    if (!isGet) return false;
    switch (section) {
      case undefined: {
        const info = await this.catalog.repository(repository);
        const lifecycle = await this.tagStates(context, repository, info.tags.map((row) => row.tag));
        context.send(200, repository, repositoryPage(info, context.host, await this.catalog.mayAdminister(caller.principal, repository), lifecycle));
        return true;
      }
      case 'image': {
        const reference = found[3] !== undefined ? decode(found[3]) : (query.get('ref') ?? 'latest');
        const tab = (TABS as readonly string[]).includes(query.get('tab') ?? '') ? (query.get('tab') as Tab) : 'overview';
        const data = await this.imageData(repository, reference, tab, query.get('platform'), context.host);
        context.send(200, `${repository}${data.tag ? `:${data.tag}` : ''}`, imagePage(data, query));
        return true;
      }
      case 'compare': {
        const from = query.get('from') ?? '';
        const to = query.get('to') ?? '';
        const comparison = await this.search.compare(repository, from, to);
        context.send(200, `Compare ${from} and ${to}`, comparePage(repository, from, to, await this.catalog.tagNames(repository), comparison));
        return true;
      }
      case 'sbom': {
        const digest = decode(found[3] ?? '');
        const format = query.get('format') === 'cyclonedx' ? 'cyclonedx' : 'spdx';
        if (!isDigest(digest) || !this.catalog.quality) throw new RegistryError('NOT_FOUND', 'no SBOM');
        await this.catalog.quality.manifestIn(repository, digest);
        const { mediaType, document } = await this.catalog.quality.sbom(repository, digest, format);
        const name = `${repository.replaceAll('/', '_')}-${digest.slice(7, 19)}.${format === 'spdx' ? 'spdx' : 'cdx'}.json`;
        sendDownload(context.response, method, mediaType, name, Buffer.from(JSON.stringify(document, null, 2)));
        return true;
      }
      default:
        return false;
    }
  }

  /** Expiry and immutability per tag, from the lifecycle service (logged-in readers; none without lifecycle). */
  private async tagStates(context: PageRequest, repository: string, tags: readonly string[]): Promise<TagStates | null> {
    if (!this.management || context.caller.principal.kind !== 'account') return null;
    try {
      return await this.management.lifecycle.tagStates({ ...context.caller.principal, ...requestContext(context.request) }, repository, tags);
    } catch (error) {
      if ((error as { code?: string }).code === 'UNSUPPORTED') return null;
      throw error;
    }
  }

  private async quality(repository: string, digest: string, tab: Tab): Promise<Quality> {
    const service = this.catalog.quality;
    if (!service) return { status: 'scanning is off', index: null, findings: null, errata: null, grade: null, databaseRevision: null };
    const status = await service.status(repository, digest).catch((error: unknown) => ({ status: (error as Error).message, databaseRevision: null }));
    if (status.status !== 'indexed') return { status: status.status, index: null, findings: null, errata: null, grade: null, databaseRevision: null };
    // Errata only for the Security tab: the other tabs show counts, not errata.
    const [index, findings, errata, grade] = await Promise.all([
      service.index(repository, digest).catch(() => null),
      service.findings(repository, digest).catch(() => null),
      tab === 'security' ? service.errata(repository, digest).catch(() => null) : Promise.resolve(null),
      service.grade(repository, digest).catch(() => null),
    ]);
    return { status: status.status, index, findings, errata, grade, databaseRevision: findings?.revision ?? status.databaseRevision };
  }

  private async imageData(repository: string, reference: string, tab: Tab, platform: string | null, host: string) {
    const record = await this.catalog.image(repository, reference);
    const isIndex = Array.isArray(record.manifest.manifests);
    const image = await this.catalog.platformImage(repository, record, platform);
    const tags = await this.catalog.tagNames(repository);
    const tag = tags.includes(reference) ? reference : null;
    const [quality, signatures, referrers] = await Promise.all([
      this.quality(repository, image.digest, tab),
      this.catalog.signing ? this.catalog.signing.signatures(repository, image.digest).then((found) => ({ policies: found.policies.length, signatures: found.signatures, satisfied: found.satisfied })).catch(() => null) : Promise.resolve(null),
      this.catalog.referrers(repository, image.digest).catch(() => []),
    ]);
    return {
      repository, reference, tag, tags,
      index: isIndex ? record : null,
      platforms: isIndex ? indexEntries(record.manifest).filter((child) => child.platform?.os !== 'unknown') : [],
      image, tab, quality, signatures, referrers, host, row: null,
      buildFiles: tab === 'containerfile' && !Array.isArray(image.manifest.manifests) ? await this.catalog.buildFiles(repository, image.digest) : [],
    };
  }
}

