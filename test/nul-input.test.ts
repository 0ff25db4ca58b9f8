// NUL characters in client input, against a real `custody serve` on SQLite and on
// PostgreSQL (which cannot store or compare them): every one is refused at the edge with a
// 400 and the right code, the same on both databases, and nothing is logged as an error.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, startCustody, type CustodyServer } from './support/custody-server.ts';
import { createTestDatabase, type TestDatabase } from './support/postgres.ts';
import { basic } from './support/access-fixtures.ts';
import { http } from './support/tools.ts';
import { sha256 } from './support/images.ts';

const ADMIN = basic('admin', ADMIN_PASSWORD);
const JSON_HEADERS = { Authorization: ADMIN, 'Content-Type': 'application/json' };

interface Case {
  readonly what: string;
  readonly path: string;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly status: number;
  readonly code: string;
}

const SUBJECT = sha256('no such subject');

const CASES: readonly Case[] = [
  { what: 'tags/list?last=%00', path: '/v2/admin/app/tags/list?last=%00', status: 400, code: 'TAG_INVALID' },
  { what: 'tags/list?last=a%00b', path: '/v2/admin/app/tags/list?n=5&last=a%00b', status: 400, code: 'TAG_INVALID' },
  { what: '_catalog?last=%00', path: '/v2/_catalog?last=%00', status: 400, code: 'NAME_INVALID' },
  { what: 'referrers?artifactType=%00', path: `/v2/admin/app/referrers/${SUBJECT}?artifactType=%00`, status: 400, code: 'UNSUPPORTED' },
  { what: 'a repository description with \\u0000', path: '/api/v1/repositories/admin/app', method: 'PATCH', headers: JSON_HEADERS, body: '{"description":"a\\u0000b"}', status: 400, code: 'INVALID_REQUEST' },
  { what: 'an email with \\u0000', path: '/api/v1/users/admin', method: 'PATCH', headers: JSON_HEADERS, body: '{"email":"a\\u0000b@example.com"}', status: 400, code: 'INVALID_REQUEST' },
  { what: 'an organization name with \\u0000', path: '/api/v1/organizations', method: 'POST', headers: JSON_HEADERS, body: '{"name":"org\\u0000x"}', status: 400, code: 'INVALID_REQUEST' },
  { what: 'logs?actor=a%00b', path: '/api/v1/logs?actor=a%00b', status: 400, code: 'INVALID_REQUEST' },
  { what: 'a user name with %00 in the path', path: '/api/v1/users/a%00b', status: 400, code: 'INVALID_REQUEST' },
  { what: 'a Basic username with NUL on /v2/', path: '/v2/', headers: { Authorization: basic('a\0b', 'whatever') }, status: 401, code: 'UNAUTHORIZED' },
  { what: 'a Basic username with NUL on /auth/token', path: '/auth/token?service=custody&scope=repository:admin/app:pull', headers: { Authorization: basic('a\0b', 'whatever') }, status: 401, code: 'UNAUTHORIZED' },
];

async function pushImage(server: CustodyServer): Promise<void> {
  const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
  const digest = sha256(config);
  const blob = await http(`${server.url}/v2/admin/app/blobs/uploads/?digest=${digest}`, { method: 'POST', body: config, headers: { Authorization: ADMIN } });
  assert.equal(blob.status, 201, blob.body.toString());
  const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest, size: config.length }, layers: [] });
  const put = await http(`${server.url}/v2/admin/app/manifests/v1`, { method: 'PUT', body: manifest, headers: { Authorization: ADMIN, 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(put.status, 201, put.body.toString());
}

function suite(engine: 'SQLite' | 'PostgreSQL'): void {
  describe(`NUL characters in input are refused at the edge (${engine})`, () => {
    let server: CustodyServer;
    let database: TestDatabase | undefined;
    before(async () => {
      database = engine === 'PostgreSQL' ? await createTestDatabase() : undefined;
      server = await startCustody({ auth: true, args: database ? ['--database-url', database.url] : [] });
      await pushImage(server);
    });
    after(async () => {
      await server?.dispose();
      await database?.drop();
    });

    for (const item of CASES) {
      it(`${item.what}: ${item.status} ${item.code}`, async () => {
        const response = await http(`${server.url}${item.path}`, { method: item.method ?? 'GET', headers: { Authorization: ADMIN, ...item.headers }, ...(item.body === undefined ? {} : { body: item.body }) });
        assert.equal(response.status, item.status, response.body.toString());
        assert.equal(response.json<{ errors: { code: string }[] }>()?.errors[0]?.code, item.code, response.body.toString());
      });
    }

    it('logged no server error, and the data is untouched', async () => {
      const errors = server.logs.filter((line) => line.includes('"level":"error"'));
      assert.deepEqual(errors, []);
      const tags = await http(`${server.url}/v2/admin/app/tags/list`, { headers: { Authorization: ADMIN } });
      assert.deepEqual(tags.json(), { name: 'admin/app', tags: ['v1'] });
    });
  });
}

suite('SQLite');
suite('PostgreSQL');
