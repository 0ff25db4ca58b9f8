// Existence oracle (issue 10, item 4): a caller who may not see a repository, an
// organization, a team, a user's or an organization's robots must not learn whether it
// exists. Every route that names such a thing is asked, through curl, by an outsider (a
// user in no organization) and, for repository routes, by a plain member of the
// organization, once for a thing that exists and is private to them and once for one
// that does not: status and body must be identical (the name itself aside).
// Against a real `custody serve` on SQLite and on PostgreSQL, set up through the API.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, startCustody, type CustodyServer } from './support/custody-server.ts';
import { curl, type CurlResult } from './support/curl.ts';
import { createTestDatabase, type TestDatabase } from './support/postgres.ts';
import { OCI_MANIFEST, sha256 } from './support/images.ts';

interface Credentials {
  readonly username: string;
  readonly secret: string;
}

const ADMIN: Credentials = { username: 'admin', secret: ADMIN_PASSWORD };
const OUTSIDER: Credentials = { username: 'outsider', secret: 'outsider-password-1' };
const MEMBER: Credentials = { username: 'member', secret: 'member-password-2' };
const VICTIM: Credentials = { username: 'victim', secret: 'victim-password-3' };

type Vars = Readonly<Record<string, string>>;

interface Route {
  readonly method: string;
  /** Path with {placeholders} filled from a pair's variables. */
  readonly path: string;
  readonly json?: unknown;
}

interface Family {
  readonly name: string;
  readonly routes: readonly Route[];
  /** The existing thing first, then missing ones. */
  readonly cases: readonly Vars[];
  readonly callers: readonly Credentials[];
}

// A config blob and an image manifest pushed into acme/secret; its digest stands in for
// {digest} everywhere, also in the repositories that do not exist.
const CONFIG = Buffer.from('{}');
const MANIFEST = Buffer.from(
  JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(CONFIG), size: CONFIG.length }, layers: [] }),
);
const DIGEST = sha256(MANIFEST);

const REPOSITORY_ROUTES: readonly Route[] = [
  { method: 'POST', path: '/api/v1/repositories', json: { name: '{repo}' } },
  { method: 'GET', path: '/api/v1/repositories/{repo}' },
  { method: 'PATCH', path: '/api/v1/repositories/{repo}', json: { visibility: 'public' } },
  { method: 'GET', path: '/api/v1/repositories/{repo}/-/permissions' },
  { method: 'PUT', path: '/api/v1/repositories/{repo}/-/permissions/user/outsider', json: { role: 'admin' } },
  { method: 'DELETE', path: '/api/v1/repositories/{repo}/-/permissions/user/outsider' },
  { method: 'GET', path: '/api/v1/repositories/{repo}/-/access' },
  { method: 'GET', path: '/api/v1/repositories/{repo}/-/signing-policy' },
  { method: 'PUT', path: '/api/v1/repositories/{repo}/-/signing-policy', json: { mode: 'pull', keys: [] } },
  { method: 'DELETE', path: '/api/v1/repositories/{repo}/-/signing-policy' },
  { method: 'GET', path: '/api/v1/repositories/{repo}/-/manifests/{digest}/signatures' },
  ...['status', 'packages', 'findings', 'errata', 'grade', 'secrets', 'sbom'].map((view) => ({ method: 'GET', path: `/api/v1/repositories/{repo}/-/manifests/{digest}/${view}` })),
  { method: 'POST', path: '/api/v1/repositories/{repo}/-/manifests/{digest}/sbom?format=spdx' },
  { method: 'GET', path: '/api/v1/logs?repository={repo}' },
  { method: 'GET', path: '/api/v1/logs/export?repository={repo}' },
  { method: 'GET', path: '/v2/{repo}/tags/list' },
  { method: 'GET', path: '/v2/{repo}/manifests/{digest}' },
  { method: 'HEAD', path: '/v2/{repo}/manifests/{digest}' },
  { method: 'DELETE', path: '/v2/{repo}/manifests/{digest}' },
  { method: 'GET', path: `/v2/{repo}/blobs/${sha256(CONFIG)}` },
  { method: 'POST', path: '/v2/{repo}/blobs/uploads/' },
  { method: 'GET', path: '/v2/{repo}/referrers/{digest}' },
  { method: 'GET', path: '/extensions/v2/{repo}/signatures/{digest}' },
];

const ORGANIZATION_ROUTES: readonly Route[] = [
  { method: 'GET', path: '/api/v1/organizations/{org}' },
  { method: 'PATCH', path: '/api/v1/organizations/{org}', json: { description: 'taken over' } },
  { method: 'DELETE', path: '/api/v1/organizations/{org}' },
  { method: 'GET', path: '/api/v1/organizations/{org}/teams' },
  { method: 'POST', path: '/api/v1/organizations/{org}/teams', json: { name: 'intruders', role: 'admin' } },
  { method: 'GET', path: '/api/v1/organizations/{org}/teams/{team}' },
  { method: 'PATCH', path: '/api/v1/organizations/{org}/teams/{team}', json: { role: 'admin' } },
  { method: 'DELETE', path: '/api/v1/organizations/{org}/teams/{team}' },
  { method: 'GET', path: '/api/v1/organizations/{org}/teams/{team}/members' },
  { method: 'PUT', path: '/api/v1/organizations/{org}/teams/{team}/members/outsider' },
  { method: 'DELETE', path: '/api/v1/organizations/{org}/teams/{team}/members/member' },
  { method: 'GET', path: '/api/v1/organizations/{org}/robots' },
  { method: 'POST', path: '/api/v1/organizations/{org}/robots', json: { name: 'intruder' } },
  { method: 'GET', path: '/api/v1/organizations/{org}/default-permissions' },
  { method: 'PUT', path: '/api/v1/organizations/{org}/default-permissions/user/outsider', json: { role: 'admin' } },
  { method: 'DELETE', path: '/api/v1/organizations/{org}/default-permissions/user/outsider' },
  { method: 'GET', path: '/api/v1/organizations/{org}/signing-policy' },
  { method: 'PUT', path: '/api/v1/organizations/{org}/signing-policy', json: { mode: 'pull', keys: [] } },
  { method: 'DELETE', path: '/api/v1/organizations/{org}/signing-policy' },
  { method: 'GET', path: '/api/v1/logs?namespace={org}' },
  { method: 'GET', path: '/api/v1/logs/export?namespace={org}' },
];

const USER_ROUTES: readonly Route[] = [
  { method: 'GET', path: '/api/v1/users/{user}' },
  { method: 'PATCH', path: '/api/v1/users/{user}', json: { email: 'taken@example.com' } },
  { method: 'DELETE', path: '/api/v1/users/{user}' },
  { method: 'GET', path: '/api/v1/users/{user}/robots' },
  { method: 'POST', path: '/api/v1/users/{user}/robots', json: { name: 'intruder' } },
  { method: 'GET', path: '/api/v1/organizations/{user}/signing-policy' },
  { method: 'PUT', path: '/api/v1/organizations/{user}/signing-policy', json: { mode: 'pull', keys: [] } },
  { method: 'GET', path: '/api/v1/logs?namespace={user}' },
  { method: 'GET', path: '/api/v1/logs?actor={user}' },
];

const ROBOT_ROUTES: readonly Route[] = [
  { method: 'GET', path: '/api/v1/robots/{robot}' },
  { method: 'DELETE', path: '/api/v1/robots/{robot}' },
  { method: 'POST', path: '/api/v1/robots/{robot}/token' },
];

const FAMILIES: readonly Family[] = [
  {
    name: 'repositories',
    routes: REPOSITORY_ROUTES,
    cases: [{ repo: 'acme/secret', digest: DIGEST }, { repo: 'acme/missing', digest: DIGEST }, { repo: 'nosuchorg/missing', digest: DIGEST }],
    callers: [OUTSIDER, MEMBER],
  },
  { name: 'organizations', routes: ORGANIZATION_ROUTES, cases: [{ org: 'acme', team: 'devs' }, { org: 'nosuchorg', team: 'devs' }, { org: 'acme', team: 'nosuchteam' }], callers: [OUTSIDER] },
  { name: 'users', routes: USER_ROUTES, cases: [{ user: 'victim' }, { user: 'nosuchuser' }], callers: [OUTSIDER, MEMBER] },
  {
    name: 'robots',
    routes: ROBOT_ROUTES,
    cases: [
      { robot: 'acme+ci', owner: 'acme' },
      { robot: 'acme+nosuch', owner: 'acme' },
      { robot: 'nosuchorg+ci', owner: 'nosuchorg' },
      { robot: 'victim+bot', owner: 'victim' },
      { robot: 'nosuchuser+bot', owner: 'nosuchuser' },
    ],
    callers: [OUTSIDER],
  },
];

function fill(template: string, vars: Vars): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => vars[name] ?? whole);
}

function fillJson(value: unknown, vars: Vars): unknown {
  return value === undefined ? undefined : (JSON.parse(fill(JSON.stringify(value), vars)) as unknown);
}

/** The response with the case's own names put back as placeholders (longest first). */
function normalised(response: CurlResult, vars: Vars): { status: number; body: string } {
  let body = response.text;
  for (const [name, value] of Object.entries(vars).sort((a, b) => b[1].length - a[1].length)) body = body.split(value).join(`{${name}}`);
  return { status: response.status, body };
}

function engineSuite(engine: 'sqlite' | 'postgres'): void {
  describe(`existence oracle: ${engine}`, () => {
    let server: CustodyServer;
    let database: TestDatabase | undefined;
    const call = (method: string, path: string, user: Credentials | null, json?: unknown): Promise<CurlResult> =>
      curl(`${server.url}${path}`, { method, user, ...(json === undefined ? {} : { json }) });
    async function ok(method: string, path: string, json?: unknown): Promise<CurlResult> {
      const response = await call(method, path, ADMIN, json);
      assert.ok(response.status >= 200 && response.status < 300, `setup ${method} ${path}: ${response.status} ${response.text}`);
      return response;
    }

    before(async () => {
      if (engine === 'postgres') database = await createTestDatabase();
      server = await startCustody({ auth: true, env: database ? { CUSTODY_DATABASE_URL: database.url } : {} });
      for (const user of [OUTSIDER, MEMBER, VICTIM]) await ok('POST', '/api/v1/users', { name: user.username, password: user.secret });
      await ok('POST', '/api/v1/organizations', { name: 'acme' });
      await ok('POST', '/api/v1/organizations/acme/teams', { name: 'devs', role: 'member' });
      await ok('PUT', '/api/v1/organizations/acme/teams/devs/members/member');
      await ok('POST', '/api/v1/organizations/acme/robots', { name: 'ci' });
      await ok('POST', '/api/v1/users/victim/robots', { name: 'bot' });
      const blob = await curl(`${server.url}/v2/acme/secret/blobs/uploads/?digest=${sha256(CONFIG)}`, { method: 'POST', user: ADMIN, bytes: CONFIG });
      assert.equal(blob.status, 201, blob.text);
      const manifest = await curl(`${server.url}/v2/acme/secret/manifests/1.0`, { method: 'PUT', user: ADMIN, bytes: MANIFEST, contentType: OCI_MANIFEST });
      assert.equal(manifest.status, 201, manifest.text);
    });

    after(async () => {
      await server?.dispose();
      await database?.drop();
    });

    test('the existing things exist (for the administrator)', async () => {
      for (const path of ['/api/v1/repositories/acme/secret', '/api/v1/organizations/acme', '/api/v1/organizations/acme/teams/devs', '/api/v1/users/victim', '/api/v1/robots/acme+ci', '/api/v1/robots/victim+bot']) {
        assert.equal((await call('GET', path, ADMIN)).status, 200, path);
      }
      assert.equal((await call('GET', `/v2/acme/secret/manifests/${DIGEST}`, ADMIN)).status, 200);
    });

    for (const family of FAMILIES) {
      for (const caller of family.callers) {
        const label = (vars: Vars): string => Object.entries(vars).filter(([name]) => name !== 'digest' && name !== 'owner').map(([, value]) => value).join(' ');
        test(`${family.name}: ${caller.username} gets one answer for ${family.cases.map(label).join(', ')}`, async () => {
          const [existing, ...missing] = family.cases;
          for (const route of family.routes) {
            const answer = async (vars: Vars): Promise<{ status: number; body: string }> =>
              normalised(await call(route.method, fill(route.path, vars), caller, fillJson(route.json, vars)), vars);
            const known = await answer(existing!);
            const what = `${caller.username}: ${route.method} ${fill(route.path, existing!)}`;
            assert.ok(known.status >= 400 && known.status < 500, `${what} is refused with a 4xx: ${known.status} ${known.body}`);
            for (const vars of missing) {
              assert.deepEqual(await answer(vars), known, `${what} answers as ${route.method} ${fill(route.path, vars)} does`);
            }
          }
        });
      }
    }

    test('nothing the callers tried changed anything', async () => {
      const repository = await call('GET', '/api/v1/repositories/acme/secret', ADMIN);
      assert.equal(repository.json<{ visibility: string }>()?.visibility, 'private');
      const teams = await call('GET', '/api/v1/organizations/acme/teams', ADMIN);
      assert.deepEqual(teams.json<{ name: string; role: string }[]>()?.map((team) => `${team.name}:${team.role}`), ['devs:member', 'owners:admin']);
      assert.equal((await call('GET', '/api/v1/organizations/nosuchorg', ADMIN)).status, 404);
      assert.equal((await call('GET', '/api/v1/repositories/acme/missing', ADMIN)).status, 404);
      assert.equal((await call('GET', '/api/v1/robots/acme+ci', ADMIN)).status, 200);
    });
  });
}

engineSuite('sqlite');
engineSuite('postgres');
