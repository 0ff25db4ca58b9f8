// The server's route tables: one 405 (with Allow) for every area, and one not-found for a
// path no route serves (404 NOT_FOUND in the error envelope), against `custody serve`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, startCustody, type CustodyServer } from './support/custody-server.ts';
import { dispatch, routeTable } from '../src/server/route-table.ts';
import type { HttpRequest, HttpResponse } from '../src/server/http-types.ts';

describe('route tables over HTTP', () => {
  let server: CustodyServer;
  const admin = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;

  before(async () => {
    server = await startCustody({ auth: true });
  });
  after(() => server.dispose());

  const call = async (method: string, path: string): Promise<{ status: number; allow: string | null; code: string | undefined }> => {
    const response = await fetch(`${server.url}${path}`, { method, headers: { Authorization: admin } });
    const text = await response.text();
    const code = text === '' ? undefined : (JSON.parse(text) as { errors?: { code: string }[] }).errors?.[0]?.code;
    return { status: response.status, allow: response.headers.get('allow'), code };
  };

  it('answers a path no route serves with 404 NOT_FOUND, in and outside /v2/', async () => {
    for (const path of ['/nothing', '/v2x', '/auth', '/v2/acme/app/nothing/here', '/v2/acme/app/manifests', '/extensions/v2/acme/app/other/x']) {
      assert.deepEqual(await call('GET', path), { status: 404, allow: null, code: 'NOT_FOUND' }, path);
    }
    // Inside the /v2/ grammar, an unknown repository stays the spec's NAME_UNKNOWN.
    assert.deepEqual(await call('GET', '/v2/acme/never-pushed/tags/list'), { status: 404, allow: null, code: 'NAME_UNKNOWN' });
  });

  it('answers a method a path does not serve with 405 UNSUPPORTED and Allow, in every area', async () => {
    const cases: [string, string, string][] = [
      ['DELETE', '/v2/', 'GET, HEAD'],
      ['POST', '/v2/_catalog', 'GET'],
      ['POST', '/v2/acme/app/manifests/latest', 'GET, HEAD, PUT, DELETE'],
      ['PUT', '/auth/token', 'GET, POST'],
      ['POST', '/auth/jwks.json', 'GET, HEAD'],
      ['DELETE', '/api/v1/logs', 'GET'],
      ['DELETE', '/api/v1/users', 'GET, POST'],
      ['POST', '/api/v1/organizations/acme/signing-policy', 'GET, HEAD, PUT, DELETE'],
      ['DELETE', '/extensions/v2/acme/app/signatures/sha256:0000000000000000000000000000000000000000000000000000000000000000', 'GET, HEAD, PUT'],
    ];
    for (const [method, path, allow] of cases) assert.deepEqual(await call(method, path), { status: 405, allow, code: 'UNSUPPORTED' }, `${method} ${path}`);
  });
});

describe('routeTable', () => {
  const request = (method: string) => ({ method, headers: {}, resume() {} }) as unknown as HttpRequest;
  const headers = new Map<string, string>();
  const response = { setHeader: (name: string, value: string) => headers.set(name, value) } as unknown as HttpResponse;
  const seen: string[] = [];
  const table = routeTable('demo', [
    { name: 'item', path: /^\/demo\/items\/([^/]+)$/, methods: { GET: async ({ params, method }) => void seen.push(`${method} ${params[0]}`), DELETE: async () => {} } },
    { name: 'root', path: '/demo', methods: { GET: async () => void seen.push('root') } },
  ], { prefix: '/demo', headAsGet: true });

  it('matches a path pattern and a method to a handler, HEAD by GET when asked', async () => {
    await dispatch([table], request('GET'), response, '/demo/items/a%2Fb', new URLSearchParams())!.handle();
    await table.match(request('HEAD'), response, '/demo/items/x', new URLSearchParams())!.handle();
    await table.match(request('GET'), response, '/demo', new URLSearchParams())!.handle();
    assert.deepEqual(seen, ['GET a%2Fb', 'HEAD x', 'root']);
  });

  it('answers another method with the one 405, and an unknown path under its prefix with the one not-found', async () => {
    const refused = table.match(request('PUT'), response, '/demo/items/x', new URLSearchParams())!;
    assert.equal(refused.route, 'item');
    await assert.rejects(refused.handle(), (error: { code: string; status: number }) => error.code === 'UNSUPPORTED' && error.status === 405);
    assert.equal(headers.get('Allow'), 'GET, DELETE');
    const unknown = table.match(request('GET'), response, '/demo/other', new URLSearchParams())!;
    assert.equal(unknown.route, 'demo_unknown');
    await assert.rejects(unknown.handle(), (error: { code: string; status: number }) => error.code === 'NOT_FOUND' && error.status === 404);
    assert.equal(dispatch([table], request('GET'), response, '/elsewhere', new URLSearchParams()), null);
  });
});
