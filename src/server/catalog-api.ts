// The catalog over HTTP: everything the web pages show, as JSON.
//   GET /api/v1/catalog/repositories                                  search, filter, sort, page
//   GET /api/v1/catalog/repositories/{repository}/-/tags              a repository and its tags judged
//   GET /api/v1/catalog/repositories/{repository}/-/images/{reference} an image's configuration, layers, Containerfile
//   GET /api/v1/catalog/repositories/{repository}/-/compare?from=&to= two tags compared
//   GET /api/v1/catalog/packages?name=                                which images ship a package
// Reading asks AccessControl through the catalog: a repository the caller may not read is
// "not known", exactly like one that does not exist.
import { sendJson, decodePathPart } from './json-response.ts';
import { RegistryError } from '../core/errors.ts';
import { ANONYMOUS, type Principal } from '../core/identity.ts';
import { validateRepositoryName } from '../core/names.ts';
import type { CatalogService } from '../catalog/catalog-service.ts';
import { searchQueryFrom, type CatalogSearch } from '../catalog/catalog-search.ts';
import { claimedOrigin, layersWithSteps, reconstructContainerfile } from '../catalog/image-config.ts';
import { indexEntries } from '../core/manifest-reader.ts';
import type { SecurityServices } from './security.ts';
import { routeTable, type Route, type RouteCall, type RouteMatch, type RouteTable } from './route-table.ts';
import { apiPrincipal } from './request-auth.ts';
import { checkApiRequest } from './api-request-guard.ts';
import type { HttpRequest, HttpResponse } from './http-types.ts';
import type { ApiOperation } from './api-operations.ts';

const SEARCH_PARAMETERS = [
  { name: 'q', in: 'query', description: 'text in the name, description, title or vendor label' },
  { name: 'namespace', in: 'query', description: 'only this namespace' },
  { name: 'grade', in: 'query', description: 'latest tag graded A–F', schema: { type: 'string', enum: ['A', 'B', 'C', 'D', 'E', 'F'] } },
  { name: 'signed', in: 'query', description: 'yes or no', schema: { type: 'string', enum: ['yes', 'no'] } },
  { name: 'os', in: 'query', description: 'a tag for this OS' },
  { name: 'arch', in: 'query', description: 'a tag for this architecture' },
  { name: 'pushed', in: 'query', description: 'latest tag pushed within this many days', schema: { type: 'integer' } },
  { name: 'sort', in: 'query', description: 'name (default), pushed or grade', schema: { type: 'string', enum: ['name', 'pushed', 'grade'] } },
  { name: 'page', in: 'query', description: 'page number from 1', schema: { type: 'integer' } },
  { name: 'perPage', in: 'query', description: 'results per page, 1 to 100 (default 20)', schema: { type: 'integer' } },
] as const;

/** The routes this module serves, for the OpenAPI document. */
export const CATALOG_OPERATIONS: readonly ApiOperation[] = [
  { operationId: 'searchCatalog', method: 'GET', path: '/api/v1/catalog/repositories', tag: 'catalog', summary: 'Repositories you may read: search, filter, sort, page; each with its latest tag, grade, signature state and last push', anonymous: true, query: SEARCH_PARAMETERS },
  { operationId: 'getCatalogRepository', method: 'GET', path: '/api/v1/catalog/repositories/{repository}/-/tags', tag: 'catalog', summary: 'A repository, its description and its tags with digest, platforms, size, push time, grade, signature state and findings by severity', anonymous: true },
  { operationId: 'getCatalogImage', method: 'GET', path: '/api/v1/catalog/repositories/{repository}/-/images/{reference}', tag: 'catalog', summary: "An image's configuration (labels, env, entrypoint, ports), claimed origin, layers with the step that made each, and the Containerfile its history implies", anonymous: true, query: [{ name: 'platform', in: 'query', description: "for an index: the image's digest (default linux/amd64)" }] },
  { operationId: 'compareCatalogTags', method: 'GET', path: '/api/v1/catalog/repositories/{repository}/-/compare', tag: 'catalog', summary: 'Two tags compared: packages added, removed and updated, advisories fixed and introduced, grade change', anonymous: true, query: [{ name: 'from', in: 'query', description: 'the earlier tag or digest' }, { name: 'to', in: 'query', description: 'the later tag or digest' }] },
  { operationId: 'searchCatalogPackages', method: 'GET', path: '/api/v1/catalog/packages', tag: 'catalog', summary: 'Which images you may read ship a package (name contains), and in which version', anonymous: true, query: [{ name: 'name', in: 'query', description: 'package name or part of it' }] },
];

export class CatalogApi implements RouteTable {
  readonly area = 'catalog';
  private readonly catalog: CatalogService;
  private readonly search: CatalogSearch;
  private readonly security: SecurityServices | undefined;
  private readonly table: RouteTable;

  constructor(catalog: CatalogService, search: CatalogSearch, security: SecurityServices | undefined) {
    this.catalog = catalog;
    this.search = search;
    this.security = security;
    const get = (name: string, path: string | RegExp, produce: (call: RouteCall, principal: Principal) => Promise<unknown>): Route => ({
      name,
      path,
      methods: {
        GET: async (call) => {
          call.request.resume();
          const principal = await this.principal(call.request);
          sendJson(call.response, call.method, 200, await produce(call, principal), { cacheControl: 'no-store' });
        },
      },
    });
    this.table = routeTable(this.area, [
      get('api_catalog_search', '/api/v1/catalog/repositories', ({ query }, principal) => this.search.search(principal, searchQueryFrom(query))),
      get('api_catalog_packages', '/api/v1/catalog/packages', async ({ query }, principal) => ({ name: query.get('name') ?? '', images: await this.search.packages(principal, query.get('name') ?? '') })),
      get('api_catalog_tags', /^\/api\/v1\/catalog\/repositories\/(.+)\/-\/tags$/, async ({ params }, principal) => this.catalog.repository(await this.readable(principal, params[0]!))),
      get('api_catalog_compare', /^\/api\/v1\/catalog\/repositories\/(.+)\/-\/compare$/, async ({ params, query }, principal) => {
        const repository = await this.readable(principal, params[0]!);
        const comparison = await this.search.compare(repository, query.get('from') ?? '', query.get('to') ?? '');
        if (!comparison) throw new RegistryError('CONFLICT', 'both images must be scanned before they can be compared');
        return comparison;
      }),
      get('api_catalog_image', /^\/api\/v1\/catalog\/repositories\/(.+)\/-\/images\/([^/]+)$/, async ({ params, query }, principal) => this.imageView(await this.readable(principal, params[0]!), decodePathPart(params[1]!), query.get('platform'))),
    ], { prefix: '/api/v1/catalog', unknownRoute: 'api_catalog_unknown', headAsGet: true });
  }

  match(request: HttpRequest, response: HttpResponse, path: string, query: URLSearchParams): RouteMatch | null {
    return this.table.match(request, response, path, query);
  }

  /** The repository named in the path, when the caller may read it (else "not known"). */
  private async readable(principal: Principal, encoded: string): Promise<string> {
    const repository = validateRepositoryName(decodePathPart(encoded));
    await this.catalog.requireReadable(principal, repository);
    return repository;
  }

  private async imageView(repository: string, reference: string, platform: string | null): Promise<unknown> {
    const record = await this.catalog.image(repository, reference);
    const image = await this.catalog.platformImage(repository, record, platform);
    return {
      repository,
      digest: record.digest,
      mediaType: record.mediaType,
      platforms: Array.isArray(record.manifest.manifests) ? indexEntries(record.manifest).map((child) => ({ digest: child.digest, platform: child.platform ?? null })) : [],
      image: {
        digest: image.digest,
        size: image.size,
        ...image.facts,
        annotations: image.annotations,
        claimed: claimedOrigin(image.facts.labels, image.annotations),
        containerfile: reconstructContainerfile(image.facts),
        layers: layersWithSteps(image.manifest, image.facts).map(({ descriptor, step }) => ({ digest: descriptor.digest, size: descriptor.size, mediaType: descriptor.mediaType, step })),
      },
    };
  }

  private async principal(request: HttpRequest): Promise<Principal> {
    if (!this.security) {
      checkApiRequest(request, undefined);
      return ANONYMOUS;
    }
    return apiPrincipal(this.security, request);
  }
}
