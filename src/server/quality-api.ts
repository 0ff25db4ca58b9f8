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
import type { RouteMatch } from './distribution-api.ts';
import { apiPrincipal } from './request-auth.ts';
import { checkApiRequest } from './api-request-guard.ts';
import type { HttpRequest, HttpResponse } from './http-types.ts';

const PATH = /^\/api\/v1\/repositories\/(.+)\/-\/manifests\/([^/]+)\/(status|packages|findings|errata|grade|secrets|sbom)$/;

type View = 'status' | 'packages' | 'findings' | 'errata' | 'grade' | 'secrets' | 'sbom';

export class QualityApi {
  private readonly service: QualityService;
  private readonly security: SecurityServices | undefined;

  constructor(service: QualityService, security: SecurityServices | undefined) {
    this.service = service;
    this.security = security;
  }

  match(request: HttpRequest, response: HttpResponse, path: string, query: URLSearchParams): RouteMatch | null {
    const found = PATH.exec(path);
    if (!found) return null;
    const view = found[3] as View;
    const method = request.method ?? 'GET';
    const allowed = view === 'sbom' ? ['GET', 'HEAD', 'POST'] : ['GET', 'HEAD'];
    return {
      route: `api_quality_${view}`,
      handle: async () => {
        request.resume();
        if (!allowed.includes(method)) {
          response.setHeader('Allow', allowed.join(', '));
          throw new RegistryError('UNSUPPORTED', `${method} is not supported on .../${view}`, { status: 405 });
        }
        const repository = validateRepositoryName(decodePathPart(found[1]!));
        const digest = decodePathPart(found[2]!);
        if (!isDigest(digest)) throw new RegistryError('INVALID_REQUEST', `"${digest.slice(0, 80)}" is not a manifest digest`);
        await this.authorize(request, repository, method === 'POST' ? 'write' : 'read');
        // The manifest must be in this repository: reading a repository says nothing of others'.
        await this.service.manifestIn(repository, digest);
        const body = await this.view(view, method, repository, digest, query);
        sendJson(response, method, method === 'POST' ? 201 : 200, body.payload, { contentType: body.contentType, cacheControl: 'no-store' });
      },
    };
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
