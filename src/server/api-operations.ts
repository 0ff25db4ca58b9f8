// The /api/v1 routes served outside the management route table (image quality, signing
// policies and signatures, the catalog), described once so the OpenAPI document lists
// them and a test can walk them. Each API module exports its own list next to its matcher.
export interface ApiParameter {
  readonly name: string;
  readonly in: 'path' | 'query';
  readonly description: string;
  readonly schema?: Record<string, unknown>;
}

export interface ApiOperation {
  readonly operationId: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** OpenAPI path template: `{repository}` holds slashes, `{digest}` is sha256:…. */
  readonly path: string;
  readonly tag: string;
  readonly summary: string;
  readonly query?: readonly ApiParameter[];
  /** Success status and content type (application/json unless said). */
  readonly status?: number;
  readonly contentType?: string;
  /** Anyone may call it (public repositories for anonymous callers). */
  readonly anonymous?: boolean;
  readonly body?: boolean;
}

const PATH_DESCRIPTIONS: Readonly<Record<string, string>> = {
  repository: 'repository name, slashes included (e.g. acme/app)',
  digest: 'manifest digest (sha256:…)',
  reference: 'a tag or a manifest digest',
  namespace: 'an organization or a user namespace',
};

/** The OpenAPI operation object of one described route. */
export function openApiOperation(operation: ApiOperation): Record<string, unknown> {
  const parameters: Record<string, unknown>[] = [];
  for (const [, name] of operation.path.matchAll(/\{(\w+)\}/g)) {
    parameters.push({ name, in: 'path', required: true, description: PATH_DESCRIPTIONS[name!] ?? name, schema: { type: 'string' } });
  }
  for (const parameter of operation.query ?? []) parameters.push({ name: parameter.name, in: 'query', required: false, description: parameter.description, schema: parameter.schema ?? { type: 'string' } });
  const status = String(operation.status ?? 200);
  const errors = operation.method === 'GET' ? ['400', '401', '403', '404'] : ['400', '401', '403', '404', '415'];
  return {
    operationId: operation.operationId,
    summary: operation.summary,
    tags: [operation.tag],
    ...(operation.anonymous ? { security: [{}, { basic: [] }, { bearer: [] }] } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(operation.body ? { requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } } } : {}),
    responses: {
      [status]: { description: status === '204' ? 'Done (no content)' : 'OK', ...(status === '204' ? {} : { content: { [operation.contentType ?? 'application/json']: { schema: { type: 'object' } } } }) },
      ...Object.fromEntries(errors.map((code) => [code, { $ref: `#/components/responses/${ERROR_REFS[code]}` }])),
    },
  };
}

const ERROR_REFS: Readonly<Record<string, string>> = { '400': 'InvalidRequest', '401': 'Unauthorized', '403': 'Denied', '404': 'NotFound', '415': 'UnsupportedMediaType' };

/** A concrete path for a template (for tests that walk the routes). */
export function samplePath(template: string): string {
  return template.replace('{repository}', 'acme/app').replace('{digest}', `sha256:${'a'.repeat(64)}`).replace('{reference}', 'latest').replace('{namespace}', 'acme');
}
