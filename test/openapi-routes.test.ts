// The OpenAPI document lists every /api/v1 route: the management table, the action log,
// and the routes each other API module serves (image quality, signing policies and
// signatures, the catalog), and each described route is one its module really matches.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MANAGEMENT_ROUTES } from '../src/management/routes.ts';
import { ACTION_LOG_PATHS, describedOperations, openApiDocument } from '../src/server/openapi.ts';
import { samplePath, type ApiOperation } from '../src/server/api-operations.ts';
import { QUALITY_OPERATIONS, QualityApi } from '../src/server/quality-api.ts';
import { SIGNING_POLICY_OPERATIONS, SigningPolicyApi } from '../src/server/signing-policy-api.ts';
import { CATALOG_OPERATIONS, CatalogApi } from '../src/server/catalog-api.ts';
import type { HttpRequest, HttpResponse } from '../src/server/http-types.ts';
import type { RouteTable } from '../src/server/route-table.ts';

const paths = openApiDocument()['paths'] as Record<string, Record<string, { operationId: string }>>;

function request(method: string): HttpRequest {
  return { method, headers: {}, resume() {} } as unknown as HttpRequest;
}

describe('OpenAPI document', () => {
  it('lists every management route', () => {
    for (const route of MANAGEMENT_ROUTES) assert.equal(paths[route.path]?.[route.method.toLowerCase()]?.operationId, route.operationId, `${route.method} ${route.path}`);
  });

  it('lists the action log routes', () => {
    for (const path of Object.keys(ACTION_LOG_PATHS)) assert.ok(paths[path]?.['get'], path);
  });

  it('lists every quality, signing-policy and catalog route, each one its module matches', () => {
    const modules: [readonly ApiOperation[], RouteTable][] = [
      [QUALITY_OPERATIONS, new QualityApi(undefined as never, undefined)],
      [SIGNING_POLICY_OPERATIONS, new SigningPolicyApi(undefined as never, undefined)],
      [CATALOG_OPERATIONS, new CatalogApi(undefined as never, undefined as never, undefined)],
    ];
    assert.equal(describedOperations().length, modules.reduce((sum, [operations]) => sum + operations.length, 0));
    const ids = new Set(MANAGEMENT_ROUTES.map((route) => route.operationId));
    for (const [operations, matcher] of modules) {
      assert.ok(operations.length > 0);
      for (const operation of operations) {
        assert.equal(paths[operation.path]?.[operation.method.toLowerCase()]?.operationId, operation.operationId, `${operation.method} ${operation.path} in the document`);
        assert.ok(!ids.has(operation.operationId), `operationId ${operation.operationId} is unique`);
        ids.add(operation.operationId);
        const path = samplePath(operation.path);
        assert.ok(matcher.match(request(operation.method), {} as HttpResponse, path, new URLSearchParams()), `${operation.method} ${path} is served by its module`);
      }
    }
  });

  it('describes no /api/v1 path that nothing serves', () => {
    const described = new Set([...MANAGEMENT_ROUTES.map((route) => route.path), ...Object.keys(ACTION_LOG_PATHS), ...describedOperations().map((operation) => operation.path)]);
    for (const path of Object.keys(paths)) assert.ok(described.has(path), path);
  });
});
