// Image quality over HTTP, per manifest of a repository:
//   GET  /api/v1/repositories/{name}/-/manifests/{digest}/status | packages | findings |
//        errata | grade | secrets | sbom?format=spdx|cyclonedx
//   POST /api/v1/repositories/{name}/-/manifests/{digest}/sbom?format=...  (attach as a referrer)
// Reading needs read access to the repository (as pulling does); attaching writes to it,
// so it needs write access. Errors are thrown as RegistryError for the central writer.
import { sendJson, decodePathPart } from './json-response.ts';
import { RegistryError } from '../core/errors.ts';
import { isDigest } from '../core/digest.ts';
import { validateRepositoryName } from '../core/names.ts';
import type { Principal } from '../core/identity.ts';
import type { QualityService, SbomFormat } from '../scan/quality-service.ts';
import { aggregateFindings, aggregateGrade } from '../scan/platform-aggregate.ts';
import type { SecurityServices } from './security.ts';
import { routeTable, type RouteCall, type RouteHandler, type RouteMatch, type RouteTable } from './route-table.ts';
import { apiPrincipal } from './request-auth.ts';
import { checkApiRequest } from './api-request-guard.ts';
import type { HttpRequest, HttpResponse } from './http-types.ts';
import type { ApiOperation } from './api-operations.ts';

const MANIFEST = '/api/v1/repositories/{repository}/-/manifests/{digest}';
/** The routes this module serves, for the OpenAPI document. */
export const QUALITY_OPERATIONS: readonly ApiOperation[] = [
  { operationId: 'getImageStatus', method: 'GET', path: `${MANIFEST}/status`, tag: 'quality', summary: 'Indexing status of an image (queued on first ask)', anonymous: true },
  { operationId: 'getImagePackages', method: 'GET', path: `${MANIFEST}/packages`, tag: 'quality', summary: 'Packages found in an image, with the layer each came from', anonymous: true },
  { operationId: 'getImageFindings', method: 'GET', path: `${MANIFEST}/findings`, tag: 'quality', summary: 'Vulnerability findings against the current advisory database (with and without a fix)', anonymous: true },
  { operationId: 'getImageErrata', method: 'GET', path: `${MANIFEST}/errata`, tag: 'quality', summary: 'Unapplied errata grouped as security fixes, bug fixes and enhancements', anonymous: true },
  { operationId: 'getImageGrade', method: 'GET', path: `${MANIFEST}/grade`, tag: 'quality', summary: 'Container Health Index grade A–F, why, and when it drops next', anonymous: true },
  { operationId: 'getImageSecrets', method: 'GET', path: `${MANIFEST}/secrets`, tag: 'quality', summary: 'Secrets found in the image layers (redacted)', anonymous: true },
  { operationId: 'getImageSbom', method: 'GET', path: `${MANIFEST}/sbom`, tag: 'quality', summary: 'SBOM of an image, SPDX 2.3 or CycloneDX 1.6 JSON', anonymous: true, query: [{ name: 'format', in: 'query', description: 'spdx (default) or cyclonedx', schema: { type: 'string', enum: ['spdx', 'cyclonedx'] } }] },
  { operationId: 'attachImageSbom', method: 'POST', path: `${MANIFEST}/sbom`, tag: 'quality', summary: 'Store the SBOM as an OCI artifact referring to the image (write access)', status: 201, query: [{ name: 'format', in: 'query', description: 'spdx (default) or cyclonedx', schema: { type: 'string', enum: ['spdx', 'cyclonedx'] } }] },
];

const VIEWS = ['status', 'packages', 'findings', 'errata', 'grade', 'secrets', 'sbom'] as const;
type View = (typeof VIEWS)[number];

export class QualityApi implements RouteTable {
  readonly area = 'quality';
  private readonly service: QualityService;
  private readonly security: SecurityServices | undefined;
  private readonly table: RouteTable;

  constructor(service: QualityService, security: SecurityServices | undefined) {
    this.service = service;
    this.security = security;
    // One route per view (its own metric name); an SBOM may also be attached (POST).
    this.table = routeTable(this.area, VIEWS.map((view) => {
      const serve = (call: RouteCall): Promise<void> => this.serve(call, view);
      const methods: Record<string, RouteHandler> = view === 'sbom' ? { GET: serve, HEAD: serve, POST: serve } : { GET: serve, HEAD: serve };
      return { name: `api_quality_${view}`, path: new RegExp(`^/api/v1/repositories/(.+)/-/manifests/([^/]+)/${view}$`), methods };
    }));
  }

  match(request: HttpRequest, response: HttpResponse, path: string, query: URLSearchParams): RouteMatch | null {
    return this.table.match(request, response, path, query);
  }

  private async serve({ request, response, method, query, params }: RouteCall, view: View): Promise<void> {
    request.resume();
    const repository = validateRepositoryName(decodePathPart(params[0]!));
    const digest = decodePathPart(params[1]!);
    if (!isDigest(digest)) throw new RegistryError('INVALID_REQUEST', `"${digest.slice(0, 80)}" is not a manifest digest`);
    await this.authorize(request, repository, method === 'POST' ? 'write' : 'read');
    // The manifest must be in this repository: reading a repository says nothing of others'.
    await this.service.manifestIn(repository, digest);
    const body = await this.view(view, method, repository, digest, query);
    sendJson(response, method, method === 'POST' ? 201 : 200, body.payload, { contentType: body.contentType, cacheControl: 'no-store' });
  }

  private async authorize(request: HttpRequest, repository: string, need: 'read' | 'write'): Promise<void> {
    if (this.security === undefined) {
      // Authentication disabled: everything is allowed, but still not from another site.
      checkApiRequest(request, undefined);
      return;
    }
    const principal: Principal = await apiPrincipal(this.security, request);
    const { role, exists } = await this.security.access.access(principal, repository);
    const sufficient = role !== null && (need === 'read' || role === 'write' || role === 'admin');
    if (sufficient && exists) return;
    if (principal.kind === 'anonymous') throw new RegistryError('UNAUTHORIZED', 'authentication required');
    // Not telling whether a private repository exists: both cases are "denied".
    throw new RegistryError('DENIED', `${need} access to ${repository} is required`);
  }

  private async view(view: View, method: string, repository: string, digest: string, query: URLSearchParams): Promise<{ contentType: string; payload: unknown }> {
    const json = (payload: unknown): { contentType: string; payload: unknown } => ({ contentType: 'application/json', payload });
    switch (view) {
      case 'status':
        return json(await this.service.status(repository, digest));
      case 'packages': {
        const index = await this.service.index(repository, digest);
        return json({ digest, os: index.os, indexerVersion: index.indexerVersion, indexedAt: index.indexedAt, layers: index.layers, packages: index.packages });
      }
      case 'findings': {
        // A multi-platform index: each platform's findings, labelled.
        const platforms = await this.service.platformsOf(repository, digest);
        if (platforms) return json({ digest, ...(await aggregateFindings(this.service, repository, platforms)) });
        return json({ digest, ...(await this.service.findings(repository, digest)) });
      }
      case 'errata':
        return json({ digest, ...(await this.service.errata(repository, digest)) });
      case 'grade': {
        // A multi-platform index: the worst grade among its platforms, each listed.
        const platforms = await this.service.platformsOf(repository, digest);
        if (platforms) return json({ digest, ...(await aggregateGrade(this.service, repository, platforms)) });
        return json({ digest, ...(await this.service.grade(repository, digest)) });
      }
      case 'secrets': {
        const index = await this.service.index(repository, digest);
        return json({ digest, secrets: index.secrets });
      }
      case 'sbom': {
        const format = sbomFormat(query);
        if (method === 'POST') return json(await this.service.attachSbom(repository, digest, format));
        const { mediaType, document } = await this.service.sbom(repository, digest, format);
        return { contentType: mediaType, payload: document };
      }
    }
  }
}

function sbomFormat(query: URLSearchParams): SbomFormat {
  const format = query.get('format') ?? 'spdx';
  if (format !== 'spdx' && format !== 'cyclonedx') throw new RegistryError('INVALID_REQUEST', `format must be spdx or cyclonedx, not "${format.slice(0, 40)}"`);
  return format;
}
