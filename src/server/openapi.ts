// The OpenAPI 3.1 document of the management API, generated from the route table
// (src/management/routes.ts) and the schemas the server validates with, so it describes
// exactly what the server does.
import { MANAGEMENT_ROUTES, PATH_PARAMETERS, type ManagementRoute } from '../management/routes.ts';
import { SCHEMAS } from '../management/schemas.ts';
import { VERSION } from '../core/version.ts';
import { openApiOperation, type ApiOperation } from './api-operations.ts';
import { QUALITY_OPERATIONS } from './quality-api.ts';
import { SIGNING_POLICY_OPERATIONS } from './signing-policy-api.ts';
import { CATALOG_OPERATIONS } from './catalog-api.ts';

/** The /api/v1 routes outside the management table, each API module's own list. */
export function describedOperations(): readonly ApiOperation[] {
  return [...QUALITY_OPERATIONS, ...SIGNING_POLICY_OPERATIONS, ...CATALOG_OPERATIONS];
}

const ERROR_RESPONSES: Readonly<Record<string, string>> = {
  '400': 'InvalidRequest',
  '401': 'Unauthorized',
  '403': 'Denied',
  '404': 'NotFound',
  '409': 'Conflict',
  '413': 'TooLarge',
  '415': 'UnsupportedMediaType',
  '429': 'TooManyRequests',
};

function schemaRef(name: string): Record<string, unknown> {
  if (name.startsWith('[') && name.endsWith(']')) return { type: 'array', items: { $ref: `#/components/schemas/${name.slice(1, -1)}` } };
  return { $ref: `#/components/schemas/${name}` };
}

function operation(route: ManagementRoute): Record<string, unknown> {
  const parameters: Record<string, unknown>[] = [];
  for (const [, name] of route.path.matchAll(/\{(\w+)\}/g)) {
    const parameter = PATH_PARAMETERS[name!]!;
    parameters.push({ name, in: 'path', required: true, description: parameter.description, schema: parameter.schema ?? { type: 'string', pattern: `^(?:${parameter.pattern})$` } });
  }
  for (const parameter of route.query ?? []) parameters.push({ name: parameter.name, in: 'query', required: false, description: parameter.description, schema: parameter.schema });

  const responses: Record<string, unknown> = {};
  const success = route.status === 204 ? 'Done (no content)' : route.status === 201 ? 'Created' : 'OK';
  responses[String(route.status)] =
    route.response === undefined
      ? { description: success, ...(route.operationId === 'getOpenApi' ? { content: { 'application/json': { schema: { type: 'object' } } } } : {}) }
      : { description: success, content: { 'application/json': { schema: schemaRef(route.response) } } };
  const errors = route.auth ? ['400', '401', '403', '404', '409', '429'] : [];
  if (route.body !== undefined) errors.push('413');
  // State-changing requests must be JSON or carry X-Custody-Request (src/server/api-request-guard.ts).
  if (route.method !== 'GET') errors.push('415');
  for (const status of errors.sort()) responses[status] = { $ref: `#/components/responses/${ERROR_RESPONSES[status]}` };

  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    ...(route.auth ? {} : { security: [] }),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body === undefined ? {} : { requestBody: { required: true, content: { 'application/json': { schema: schemaRef(route.body) } } } }),
    responses,
  };
}

// The action log API (src/server/action-log-api.ts) has its own handler; its two routes
// are described here, next to the table-driven ones.
const LOG_FILTERS: readonly Record<string, unknown>[] = [
  { name: 'namespace', in: 'query', required: false, description: 'user or organization (you must administer it unless superuser)', schema: { type: 'string' } },
  { name: 'repository', in: 'query', required: false, description: 'repository name (you must administer it unless superuser)', schema: { type: 'string' } },
  { name: 'actor', in: 'query', required: false, description: 'user or robot name; anyone may read their own actions', schema: { type: 'string' } },
  { name: 'kind', in: 'query', required: false, description: 'one or more kinds, comma-separated or repeated (pull, push, delete, mount, login, token, robot_token, account, team, membership, permission, repository, credential)', schema: { type: 'string' } },
  { name: 'result', in: 'query', required: false, description: 'success, denied or failure', schema: { type: 'string', enum: ['success', 'denied', 'failure'] } },
  { name: 'since', in: 'query', required: false, description: 'inclusive start: ISO 8601 time or epoch milliseconds', schema: { type: 'string' } },
  { name: 'until', in: 'query', required: false, description: 'exclusive end: ISO 8601 time or epoch milliseconds', schema: { type: 'string' } },
];
const LOG_ERRORS = ['400', '401', '403'];

export const ACTION_LOG_PATHS: Readonly<Record<string, Record<string, unknown>>> = {
  '/api/v1/logs': {
    get: {
      operationId: 'queryActionLog',
      summary: 'Action log entries, newest first, one page',
      tags: ['logs'],
      parameters: [
        ...LOG_FILTERS,
        { name: 'limit', in: 'query', required: false, description: 'entries per page, 1 to 1000 (default 100)', schema: { type: 'integer', minimum: 1, maximum: 1000 } },
        { name: 'cursor', in: 'query', required: false, description: 'the `next` of the previous page', schema: { type: 'string' } },
      ],
      responses: {
        '200': { description: 'OK', content: { 'application/json': { schema: { $ref: '#/components/schemas/ActionPage' } } } },
        ...Object.fromEntries(LOG_ERRORS.map((status) => [status, { $ref: `#/components/responses/${ERROR_RESPONSES[status]}` }])),
      },
    },
  },
  '/api/v1/logs/export': {
    get: {
      operationId: 'exportActionLog',
      summary: 'Every matching entry as JSON Lines, streamed',
      tags: ['logs'],
      parameters: LOG_FILTERS,
      responses: {
        '200': { description: 'OK', content: { 'application/x-ndjson': { schema: { $ref: '#/components/schemas/ActionEntry' } } } },
        ...Object.fromEntries(LOG_ERRORS.map((status) => [status, { $ref: `#/components/responses/${ERROR_RESPONSES[status]}` }])),
      },
    },
  },
};

const ACTION_SCHEMAS: Readonly<Record<string, unknown>> = {
  ActionEntry: {
    type: 'object',
    required: ['id', 'time', 'kind', 'result', 'actor'],
    properties: {
      id: { type: 'string' },
      time: { type: 'string', format: 'date-time' },
      kind: { type: 'string' },
      result: { type: 'string', enum: ['success', 'denied', 'failure'] },
      actor: { type: 'object', properties: { kind: { type: 'string', enum: ['user', 'robot', 'anonymous'] }, name: { type: ['string', 'null'] }, via: { type: ['string', 'null'] } } },
      ip: { type: ['string', 'null'] },
      userAgent: { type: ['string', 'null'] },
      namespace: { type: ['string', 'null'] },
      repository: { type: ['string', 'null'] },
      tag: { type: ['string', 'null'] },
      digest: { type: ['string', 'null'] },
      detail: { type: ['object', 'null'] },
    },
  },
  ActionPage: {
    type: 'object',
    required: ['entries', 'next'],
    properties: { entries: { type: 'array', items: { $ref: '#/components/schemas/ActionEntry' } }, next: { type: ['string', 'null'] } },
  },
};

let built: Record<string, unknown> | undefined;

/** The document (built once). */
export function openApiDocument(): Record<string, unknown> {
  if (built) return built;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of MANAGEMENT_ROUTES) {
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = operation(route);
  }
  Object.assign(paths, ACTION_LOG_PATHS);
  for (const operation of describedOperations()) {
    paths[operation.path] ??= {};
    paths[operation.path]![operation.method.toLowerCase()] = openApiOperation(operation);
  }
  const errorResponse = (description: string): Record<string, unknown> => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
  built = {
    openapi: '3.1.0',
    info: {
      title: 'Custody management API',
      version: VERSION,
      description: [
        'Users, organizations, teams, robots, repository visibility and permissions, personal access tokens and login sessions; image quality (packages, findings, errata, grade, SBOM), signing policies and signatures; and the catalog the web pages show.',
        '',
        'Authenticate with HTTP basic (a password, robot token or personal access token as the password) or `Authorization: Bearer <personal access token>`.',
        'Registry bearer tokens (from /auth/token) are good for /v2/ only and are refused here. A 401 carries no WWW-Authenticate challenge, so browsers never prompt.',
        'POST, PUT, PATCH and DELETE must be JSON (`Content-Type: application/json`, also without a body) or carry the header `X-Custody-Request: 1`; a request with a foreign `Origin` is refused (403).',
        'Every failure is the error envelope `{"errors":[{"code","message","detail"}]}`: 400 INVALID_REQUEST, 401 UNAUTHORIZED, 403 DENIED, 404 NOT_FOUND, 409 CONFLICT.',
        '',
        'Repository names contain slashes: a repository\'s sub-resources follow a `/-/` separator, e.g. `/api/v1/repositories/acme/app/-/permissions`.',
        'Secrets (robot tokens, personal access tokens, generated passwords) appear once, in the response that created them.',
      ].join('\n'),
    },
    servers: [{ url: '/' }],
    tags: [...new Set([...MANAGEMENT_ROUTES.map((route) => route.tag), 'logs', ...describedOperations().map((operation) => operation.tag)])].map((name) => ({ name })),
    security: [{ basic: [] }, { bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        basic: { type: 'http', scheme: 'basic', description: 'username and a password, robot token or personal access token' },
        bearer: { type: 'http', scheme: 'bearer', description: 'a personal access token (cst_pat_...); registry tokens from /auth/token are refused' },
      },
      schemas: { ...SCHEMAS, ...ACTION_SCHEMAS },
      responses: {
        InvalidRequest: errorResponse('INVALID_REQUEST: the input is invalid (the message says how)'),
        Unauthorized: errorResponse('UNAUTHORIZED: no, wrong or revoked credentials, or a registry token (no WWW-Authenticate challenge)'),
        Denied: errorResponse('DENIED: authenticated, but not allowed; or a request from another origin'),
        NotFound: errorResponse('NOT_FOUND: no such resource'),
        Conflict: errorResponse('CONFLICT: the name is taken, or the change would leave no administrator'),
        TooLarge: errorResponse('INVALID_REQUEST: the body is larger than 1 MiB'),
        UnsupportedMediaType: errorResponse('INVALID_REQUEST: the body is not application/json, or a state-changing request is neither JSON nor marked with X-Custody-Request'),
        TooManyRequests: errorResponse('TOOMANYREQUESTS: too many failed logins; see Retry-After'),
      },
    },
  };
  return built;
}
