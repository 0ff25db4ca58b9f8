// The management API over HTTP: /api/v1/ (except /api/v1/logs, served elsewhere). Matches
// requests against the route table (src/management/routes.ts), authenticates the caller,
// reads and validates the JSON body, calls the ManagementService and writes JSON. Errors
// are thrown as RegistryError; the server's central handler writes the envelope.
import { sendJson, decodePathPart } from './json-response.ts';
import { RegistryError } from '../core/errors.ts';
import type { ManagementService } from '../management/management-service.ts';
import { MANAGEMENT_ROUTES, compilePath, type CompiledPath, type ManagementRoute } from '../management/routes.ts';
import { SCHEMAS } from '../management/schemas.ts';
import { validateBody } from '../management/validate.ts';
import { openApiDocument } from './openapi.ts';
import type { SecurityServices } from './security.ts';
import { readLimitedBody } from './request-body.ts';
import type { RouteMatch } from './distribution-api.ts';
import { apiPrincipal, requestContext } from './request-auth.ts';
import { isJson } from './api-request-guard.ts';
import { header, type HttpRequest, type HttpResponse } from './http-types.ts';

/** Request bodies larger than this are refused (413). */
export const MAX_BODY_BYTES = 1024 * 1024;

const PREFIX = '/api/v1';

interface PathGroup {
  readonly compiled: CompiledPath;
  readonly routes: Map<string, ManagementRoute>;
}

function buildGroups(): PathGroup[] {
  const groups = new Map<string, PathGroup>();
  for (const route of MANAGEMENT_ROUTES) {
    let group = groups.get(route.path);
    if (!group) {
      group = { compiled: compilePath(route.path), routes: new Map() };
      groups.set(route.path, group);
    }
    if (group.routes.has(route.method)) throw new Error(`duplicate route ${route.method} ${route.path}`);
    group.routes.set(route.method, route);
  }
  return [...groups.values()];
}

/** True for paths another component serves under /api/v1 (the action log). */
function servedElsewhere(path: string): boolean {
  return path === `${PREFIX}/logs` || path.startsWith(`${PREFIX}/logs/`);
}

export class ManagementApi {
  private readonly service: ManagementService;
  private readonly security: SecurityServices;
  private readonly groups: readonly PathGroup[] = buildGroups();

  constructor(service: ManagementService, security: SecurityServices) {
    this.service = service;
    this.security = security;
  }

  /** Matches a request under /api/v1/ to its handler; null for paths it does not serve. */
  match(request: HttpRequest, response: HttpResponse, path: string, query: URLSearchParams): RouteMatch | null {
    if (path !== PREFIX && !path.startsWith(`${PREFIX}/`)) return null;
    if (servedElsewhere(path)) return null;
    const method = request.method ?? 'GET';
    for (const group of this.groups) {
      const found = group.compiled.regex.exec(path);
      if (!found) continue;
      const route = group.routes.get(method === 'HEAD' ? 'GET' : method);
      if (!route) {
        const allowed = [...group.routes.keys()];
        return {
          route: `api_${group.routes.values().next().value!.operationId}`,
          handle: async () => {
            request.resume();
            response.setHeader('Allow', allowed.join(', '));
            throw new RegistryError('UNSUPPORTED', `${method} is not supported on ${group.compiled.template}`, { status: 405 });
          },
        };
      }
      return { route: `api_${route.operationId}`, handle: () => this.handle(route, group.compiled, found, request, response, method, query) };
    }
    return {
      route: 'api_unknown',
      handle: async () => {
        request.resume();
        throw new RegistryError('NOT_FOUND', `no management API route for ${method} ${path.slice(0, 200)}`);
      },
    };
  }

  private async handle(route: ManagementRoute, compiled: CompiledPath, found: RegExpExecArray, request: HttpRequest, response: HttpResponse, method: string, query: URLSearchParams): Promise<void> {
    const params: Record<string, string> = {};
    compiled.names.forEach((name, index) => {
      params[name] = decodePathPart(found[index + 1]!, `the ${name} in the path is not valid percent-encoding`);
    });
    if (route.operationId === 'getOpenApi') {
      request.resume();
      return sendJson(response, method, 200, openApiDocument(), { cacheControl: 'public, max-age=300' });
    }
    // Credentials first: an anonymous or wrong caller learns nothing from body validation.
    const principal = await apiPrincipal(this.security, request);
    if (route.auth && principal.kind === 'anonymous') {
      request.resume();
      throw new RegistryError('UNAUTHORIZED', 'authentication required');
    }
    let body: unknown;
    if (route.body !== undefined) body = validateBody(SCHEMAS[route.body]!, await readJsonBody(request));
    else request.resume();
    const caller = { ...principal, ...requestContext(request) };
    const result = await route.handle(this.service, { caller, params, query, body });
    if (route.status === 204) {
      response.statusCode = 204;
      response.setHeader('Cache-Control', 'no-store');
      response.writeHead(204);
      response.end();
      return;
    }
    sendJson(response, method, route.status, result, { cacheControl: 'no-store' });
  }
}

/** The request's JSON body: at most 1 MiB, Content-Type application/json. An empty body is {}. */
export async function readJsonBody(request: HttpRequest): Promise<unknown> {
  const tooLarge = (): RegistryError => new RegistryError('INVALID_REQUEST', `the request body is larger than ${MAX_BODY_BYTES} bytes`, { status: 413 });
  const text = (await readLimitedBody(request, MAX_BODY_BYTES, tooLarge)).toString('utf8');
  if (text.trim() === '') return {};
  if (!isJson(header(request, 'content-type'))) {
    throw new RegistryError('INVALID_REQUEST', 'the request body must be JSON (Content-Type: application/json)', { status: 415 });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new RegistryError('INVALID_REQUEST', `the request body is not valid JSON: ${(error as Error).message.slice(0, 200)}`);
  }
}
