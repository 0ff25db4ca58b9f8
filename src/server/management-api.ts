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
import { routeTable, type Route, type RouteCall, type RouteHandler, type RouteMatch, type RouteTable } from './route-table.ts';
import { apiPrincipal, requestContext } from './request-auth.ts';
import { isJson } from './api-request-guard.ts';
import { header, type HttpRequest, type HttpResponse } from './http-types.ts';

/** Request bodies larger than this are refused (413). */
export const MAX_BODY_BYTES = 1024 * 1024;

const PREFIX = '/api/v1';

/** True for paths another component serves under /api/v1 (the action log). */
function servedElsewhere(path: string): boolean {
  return path === `${PREFIX}/logs` || path.startsWith(`${PREFIX}/logs/`);
}

/** The management API's route table: one route per path of MANAGEMENT_ROUTES, its methods the operations on it. */
export class ManagementApi implements RouteTable {
  readonly area = 'management';
  private readonly service: ManagementService;
  private readonly security: SecurityServices;
  private readonly table: RouteTable;

  constructor(service: ManagementService, security: SecurityServices) {
    this.service = service;
    this.security = security;
    this.table = routeTable(this.area, this.routes(), { prefix: PREFIX, unknownRoute: 'api_unknown', servedElsewhere, headAsGet: true });
  }

  /** Matches a request under /api/v1/ to its handler; null for paths it does not serve. */
  match(request: HttpRequest, response: HttpResponse, path: string, query: URLSearchParams): RouteMatch | null {
    return this.table.match(request, response, path, query);
  }

  private routes(): Route[] {
    const byPath = new Map<string, { compiled: CompiledPath; methods: Record<string, RouteHandler>; names: Record<string, string> }>();
    for (const route of MANAGEMENT_ROUTES) {
      let entry = byPath.get(route.path);
      if (!entry) byPath.set(route.path, (entry = { compiled: compilePath(route.path), methods: {}, names: {} }));
      if (entry.methods[route.method]) throw new Error(`duplicate route ${route.method} ${route.path}`);
      const compiled = entry.compiled;
      entry.methods[route.method] = (call) => this.handle(route, compiled, call);
      entry.names[route.method] = `api_${route.operationId}`;
    }
    return [...byPath.values()].map(({ compiled, methods, names }) => ({ name: names[Object.keys(methods)[0]!]!, path: compiled.regex, methods, names }));
  }

  private async handle(route: ManagementRoute, compiled: CompiledPath, { request, response, method, query, params: found }: RouteCall): Promise<void> {
    const params: Record<string, string> = {};
    compiled.names.forEach((name, index) => {
      params[name] = decodePathPart(found[index]!, `the ${name} in the path is not valid percent-encoding`);
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
