// The management API: the domain service against SQLite and PostgreSQL (in process), the
// route table against the OpenAPI document, and the HTTP API and `custody admin` against
// a real `custody serve` with authentication on.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SqliteClient } from '../src/metadata/sqlite-client.ts';
import { migrate } from '../src/metadata/migrations.ts';
import { SqlIdentityStore } from '../src/metadata/sql-identity-store.ts';
import type { SqlClient } from '../src/metadata/sql-client.ts';
import { AccessControl } from '../src/auth/access-control.ts';
import { Authenticator } from '../src/auth/authenticator.ts';
import { LoginThrottle } from '../src/auth/login-throttle.ts';
import { SqlLoginAttemptStore } from '../src/metadata/sql-login-attempt-store.ts';
import { hashPassword } from '../src/auth/passwords.ts';
import { generateSecret, hashSecret } from '../src/auth/secrets.ts';
import type { ActionEntry } from '../src/audit/action.ts';
import type { Account, Principal } from '../src/core/identity.ts';
import { ManagementService } from '../src/management/management-service.ts';
import { MANAGEMENT_ROUTES, compilePath } from '../src/management/routes.ts';
import { ManagementApi } from '../src/server/management-api.ts';
import { describedOperations, openApiDocument } from '../src/server/openapi.ts';
import type { HttpRequest, HttpResponse } from '../src/server/http-types.ts';
import type { SecurityServices } from '../src/server/security.ts';
import { createTestDatabase, openSchemaClient, type TestDatabase } from './support/postgres.ts';
import { startCustody, runCustody, ADMIN_PASSWORD, type CustodyServer } from './support/custody-server.ts';

// ---- the service, on both databases ------------------------------------------------------

interface Fixture {
  readonly service: ManagementService;
  readonly identity: SqlIdentityStore;
  readonly access: AccessControl;
  readonly actions: ActionEntry[];
  readonly admin: Principal;
  principal(name: string): Promise<Principal>;
}

async function fixture(sql: SqlClient): Promise<Fixture> {
  await migrate(sql);
  const identity = new SqlIdentityStore(sql);
  const actions: ActionEntry[] = [];
  const recorder = { record: (entry: ActionEntry) => void actions.push(entry) };
  const access = new AccessControl(identity, { anonymousPull: true });
  const authenticator = new Authenticator({ store: identity, throttle: new LoginThrottle(new SqlLoginAttemptStore(sql), { maxFailures: 5, windowMs: 60_000, maxLockoutMs: 60_000 }), actions: recorder });
  const service = new ManagementService({ identity, access, actions: recorder, authenticator });
  const admin = await identity.createAccount({ name: 'root', kind: 'user', superuser: true, passwordHash: await hashPassword('root-password') });
  const principal = async (name: string): Promise<Principal> => ({ kind: 'account', account: (await identity.findAccount(name)) as Account, via: 'password' });
  return { service, identity, access, actions, admin: { kind: 'account', account: admin, via: 'password' }, principal };
}

async function rejects(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: { code?: string; message?: string }) => {
    assert.equal(error.code, code, `expected ${code}, got ${error.code}: ${error.message}`);
    if (message) assert.match(error.message ?? '', message);
    return true;
  });
}

function serviceSuite(name: string, open: () => Promise<{ sql: SqlClient; close: () => Promise<void> }>): void {
  describe(`management service (${name})`, () => {
    let f: Fixture;
    let close: () => Promise<void>;
    before(async () => {
      const opened = await open();
      close = opened.close;
      f = await fixture(opened.sql);
    });
    after(async () => close?.());

    it('creates users with the password policy, and only superusers may', async () => {
      await rejects(f.service.createUser(f.admin, { name: 'alice', password: 'short' }), 'INVALID_REQUEST', /at least 8/);
      await rejects(f.service.createUser(f.admin, { name: 'Alice', password: 'long-enough' }), 'INVALID_REQUEST', /invalid user name/);
      const alice = await f.service.createUser(f.admin, { name: 'alice', password: 'alice-password', email: 'alice@example.com' });
      assert.equal(alice.generatedPassword, undefined);
      const bob = await f.service.createUser(f.admin, { name: 'bob' });
      assert.ok(bob.generatedPassword && bob.generatedPassword.length >= 16, 'a generated password is returned once');
      await rejects(f.service.createUser(f.admin, { name: 'alice', password: 'alice-password' }), 'CONFLICT');
      await rejects(f.service.createUser(await f.principal('alice'), { name: 'eve', password: 'eve-password' }), 'DENIED');
      await rejects(f.service.createUser({ kind: 'anonymous' }, { name: 'eve', password: 'eve-password' }), 'UNAUTHORIZED');
      assert.ok(f.actions.some((a) => a.kind === 'account' && a.result === 'denied' && a.actor.name === 'alice'), 'the refusal is recorded');
      assert.ok(f.actions.some((a) => a.kind === 'account' && a.result === 'success' && (a.detail as { account?: string }).account === 'alice'));
    });

    it('lets users change their own email and password (with the current one), not their superuser flag', async () => {
      const alice = await f.principal('alice');
      await rejects(f.service.updateUser(alice, 'alice', { password: 'new-alice-password' }), 'DENIED', /current password/);
      await f.service.updateUser(alice, 'alice', { password: 'new-alice-password', currentPassword: 'alice-password', email: 'a@example.org' });
      await rejects(f.service.updateUser(alice, 'alice', { superuser: true }), 'DENIED');
      await rejects(f.service.updateUser(alice, 'bob', { email: 'x@example.org' }), 'DENIED');
      await rejects(f.service.updateUser(f.admin, 'root', { superuser: false }), 'CONFLICT', /last superuser/);
      await rejects(f.service.deleteUser(f.admin, 'root'), 'CONFLICT');
      assert.equal((await f.service.getUser(f.admin, 'alice')).email, 'a@example.org');
    });

    it('makes the creator of an organization an admin through its owners team', async () => {
      const alice = await f.principal('alice');
      await f.service.createOrganization(alice, { name: 'acme' });
      const teams = await f.service.listTeams(alice, 'acme');
      assert.deepEqual(teams.map((t) => [t.name, t.role]), [['owners', 'admin']]);
      assert.deepEqual((await f.service.listTeamMembers(alice, 'acme', 'owners')).map((m) => m.name), ['alice']);
      const bob = await f.principal('bob');
      await rejects(f.service.getOrganization(bob, 'acme'), 'DENIED');
      await rejects(f.service.createTeam(bob, 'acme', { name: 'devs' }), 'DENIED');
      await rejects(f.service.removeTeamMember(alice, 'acme', 'owners', 'alice'), 'CONFLICT', /no administrator/);
      await rejects(f.service.updateTeam(alice, 'acme', 'owners', { role: 'member' }), 'CONFLICT');
    });

    it('manages teams, robots and permissions, and the access view agrees with AccessControl', async () => {
      const alice = await f.principal('alice');
      await f.service.createTeam(alice, 'acme', { name: 'devs', role: 'member' });
      await f.service.createTeam(alice, 'acme', { name: 'builders', role: 'creator' });
      await rejects(f.service.createTeam(alice, 'acme', { name: 'devs' }), 'CONFLICT');
      await rejects(f.service.createTeam(alice, 'acme', { name: 'x', role: 'boss' as never }), 'INVALID_REQUEST');
      await f.service.addTeamMember(alice, 'acme', 'devs', 'bob');
      const robot = await f.service.createRobot(alice, 'acme', { name: 'ci' });
      assert.match(robot.token, /^cst_robot_/);
      assert.equal(robot.name, 'acme+ci');
      assert.ok(!JSON.stringify(await f.service.listRobots(alice, 'acme')).includes(robot.token), 'a robot token is never listed');
      await f.service.addTeamMember(alice, 'acme', 'builders', 'acme+ci');
      await rejects(f.service.createRobot(await f.principal('bob'), 'acme', { name: 'x' }), 'DENIED');

      // A creator-team robot may create a repository and administers what it created.
      const ci = await f.principal('acme+ci');
      const created = await f.service.createRepository(ci, { name: 'acme/tools/app', visibility: 'private' });
      assert.equal(created.role, 'admin');
      assert.equal((await f.access.access(ci, 'acme/tools/app')).role, 'admin');
      await rejects(f.service.createRepository(alice, { name: 'acme/tools/app' }), 'CONFLICT');
      await rejects(f.service.createRepository(await f.principal('bob'), { name: 'acme/other' }), 'DENIED');
      await rejects(f.service.createRepository(alice, { name: 'Bad Name' }), 'INVALID_REQUEST');

      await f.service.setPermission(alice, 'acme/tools/app', { kind: 'team', name: 'acme/devs' }, 'write');
      await f.service.setPermission(alice, 'acme/tools/app', { kind: 'user', name: 'bob' }, 'read');
      await rejects(f.service.setPermission(alice, 'acme/tools/app', { kind: 'user', name: 'nobody' }, 'read'), 'NOT_FOUND');
      await rejects(f.service.setPermission(alice, 'acme/tools/app', { kind: 'user', name: 'bob' }, 'owner' as never), 'INVALID_REQUEST');
      await rejects(f.service.setPermission(await f.principal('bob'), 'acme/tools/app', { kind: 'user', name: 'bob' }, 'admin'), 'DENIED');
      assert.equal((await f.access.access(await f.principal('bob'), 'acme/tools/app')).role, 'write');
      await f.service.setDefaultPermission(alice, 'acme', { kind: 'team', name: 'devs' }, 'read');

      const view = await f.service.repositoryAccess(alice, 'acme/tools/app');
      const byName = new Map(view.entries.map((entry) => [entry.principal.name, entry]));
      assert.deepEqual(
        byName.get('bob')!.sources.map((s) => [s.via, s.role]).sort(),
        [
          ['default', 'read'],
          ['direct', 'read'],
          ['team', 'write'],
        ],
      );
      for (const entry of view.entries) {
        if (entry.principal.name === null) continue;
        const role = (await f.access.access(await f.principal(entry.principal.name), 'acme/tools/app')).role;
        assert.equal(entry.role, role, `${entry.principal.name}: the view says ${entry.role}, AccessControl ${role}`);
      }
      assert.equal(byName.get('root')!.sources[0]!.via, 'superuser');
      assert.ok(byName.get('alice')!.sources.some((s) => s.via === 'admin-team' && s.team === 'acme/owners'));
      assert.ok(f.actions.some((a) => a.kind === 'permission' && a.repository === 'acme/tools/app' && a.result === 'success'));
      assert.ok(f.actions.some((a) => a.kind === 'membership' && a.result === 'success'));

      await f.service.deletePermission(alice, 'acme/tools/app', { kind: 'team', name: 'acme/devs' });
      await rejects(f.service.deletePermission(alice, 'acme/tools/app', { kind: 'team', name: 'acme/devs' }), 'NOT_FOUND');
      await f.service.updateRepository(alice, 'acme/tools/app', { visibility: 'public' });
      const publicView = await f.service.repositoryAccess(alice, 'acme/tools/app');
      assert.ok(publicView.entries.some((entry) => entry.principal.kind === 'anonymous' && entry.role === 'read'));
    });

    it('issues personal access tokens shown once, lists them without secrets, and revokes them', async () => {
      const bob = await f.principal('bob');
      const token = await f.service.createToken(bob, { name: 'ci', expiresAt: new Date(Date.now() + 86_400_000).toISOString() });
      assert.match(token.token, /^cst_pat_/);
      const listed = await f.service.listTokens(bob);
      assert.deepEqual(listed.map((t) => t.name), ['ci']);
      assert.ok(!JSON.stringify(listed).includes(token.token));
      await rejects(f.service.createToken(bob, { name: 'old', expiresAt: '2001-01-01T00:00:00Z' }), 'INVALID_REQUEST', /future/);
      await rejects(f.service.revokeToken(await f.principal('alice'), token.id), 'NOT_FOUND');
      await f.service.revokeToken(bob, token.id);
      assert.deepEqual(await f.service.listTokens(bob), []);
      await rejects(f.service.createToken(await f.principal('acme+ci'), { name: 'x' }), 'DENIED');
    });

    it('lists and revokes sessions: your own, a user\'s (superusers), a robot\'s (its managers); regenerating a robot ends its', async () => {
      const session = async (name: string, mintedVia: 'password' | 'robot-token'): Promise<number> => {
        const account = (await f.identity.findAccount(name))!;
        // A robot's login is minted from its token, as the token endpoint records it.
        const parentId = mintedVia === 'robot-token' ? (await f.identity.listCredentials(account.id, 'robot'))[0]!.id : null;
        const credential = await f.identity.addCredential({
          accountId: account.id,
          kind: 'refresh',
          name: 'login',
          secretHash: hashSecret(generateSecret('refresh')),
          expiresAt: Date.now() + 60_000,
          parentId,
          mintedVia,
          userAgent: 'docker/27',
          ip: '10.0.0.1',
        });
        return credential.id;
      };
      const bob = await f.principal('bob');
      const alice = await f.principal('alice');
      const mine = await session('bob', 'password');
      assert.deepEqual((await f.service.sessions.list(bob, { kind: 'self' })).map((s) => [s.id, s.mintedFrom, s.userAgent, s.ip]), [[mine, 'password', 'docker/27', '10.0.0.1']]);
      await rejects(f.service.sessions.list(alice, { kind: 'user', name: 'bob' }), 'DENIED');
      await rejects(f.service.sessions.revoke(alice, { kind: 'self' }, mine), 'NOT_FOUND');
      assert.equal((await f.service.sessions.list(f.admin, { kind: 'user', name: 'bob' })).length, 1);
      await f.service.sessions.revoke(bob, { kind: 'self' }, mine);
      assert.deepEqual(await f.service.sessions.list(bob, { kind: 'self' }), []);
      assert.ok(f.actions.some((a) => a.kind === 'credential' && (a.detail as { credentialKind?: string; action?: string }).credentialKind === 'refresh' && a.actor.name === 'bob'));

      await session('acme+ci', 'robot-token');
      await rejects(f.service.sessions.list(bob, { kind: 'robot', name: 'acme+ci' }), 'DENIED');
      assert.equal((await f.service.sessions.list(alice, { kind: 'robot', name: 'acme+ci' })).length, 1, 'an organization admin manages its robots');
      await rejects(f.service.sessions.list(await f.principal('acme+ci'), { kind: 'self' }), 'DENIED');
      assert.deepEqual(await f.service.sessions.revokeAll(f.admin, { kind: 'user', name: 'alice' }), { revoked: 0 });
    });

    it('regenerates and deletes robots; deleting an organization removes its teams and robots', async () => {
      const alice = await f.principal('alice');
      const again = await f.service.regenerateRobotToken(alice, 'acme+ci');
      assert.match(again.token, /^cst_robot_/);
      assert.deepEqual(await f.service.sessions.list(alice, { kind: 'robot', name: 'acme+ci' }), [], "the robot's sessions ended with its token");
      assert.equal((await f.identity.listCredentials((await f.identity.findAccount('acme+ci'))!.id, 'robot')).length, 1);
      await rejects(f.service.getRobot(alice, 'acme+nope'), 'NOT_FOUND');
      await f.service.deleteRobot(alice, 'acme+ci');
      await rejects(f.service.deleteOrganization(await f.principal('bob'), 'acme'), 'DENIED');
      await f.service.deleteOrganization(alice, 'acme');
      assert.equal(await f.identity.findAccount('acme'), null);
      assert.deepEqual(await f.service.listOrganizations(alice), []);
    });
  });
}

describe('management service', () => {
  let directory: string;
  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'custody-management-'));
  });
  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });
  serviceSuite('sqlite', async () => {
    const sql = new SqliteClient(join(directory, randomBytes(6).toString('hex'), 'custody.db'));
    return { sql, close: () => sql.close() };
  });
  let database: TestDatabase | undefined;
  after(async () => database?.drop());
  serviceSuite('postgres', async () => {
    database = await createTestDatabase();
    const { client } = await openSchemaClient(database.url);
    return { sql: client, close: () => client.close() };
  });
});

// ---- the route table and the OpenAPI document -------------------------------------------

describe('OpenAPI document', () => {
  it('describes every route the API serves, and nothing else', () => {
    const document = openApiDocument() as { openapi: string; paths: Record<string, Record<string, { operationId: string; parameters?: { name: string; in: string }[] }>> };
    assert.equal(document.openapi, '3.1.0');
    const documented = new Set<string>();
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        documented.add(`${method.toUpperCase()} ${path}`);
        const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
        assert.deepEqual((operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name), templated, `${method} ${path}: path parameters`);
      }
    }
    // The action log's two routes are documented beside the table (its own handler), and
    // so are the other API modules' routes (quality, signing policies, catalog).
    const routes = new Set([...MANAGEMENT_ROUTES.map((route) => `${route.method} ${route.path}`), 'GET /api/v1/logs', 'GET /api/v1/logs/export', ...describedOperations().map((operation) => `${operation.method} ${operation.path}`)]);
    assert.deepEqual([...documented].sort(), [...routes].sort());
    // Every $ref resolves.
    const text = JSON.stringify(document);
    for (const [, kind, name] of text.matchAll(/"#\/components\/(\w+)\/(\w+)"/g)) {
      assert.ok((document as unknown as { components: Record<string, Record<string, unknown>> }).components[kind!]?.[name!], `unresolved $ref ${kind}/${name}`);
    }
  });

  it('the API matches each documented route with a sample path, and no route shadows another', () => {
    const api = new ManagementApi({} as ManagementService, {} as SecurityServices);
    const samples: Record<string, string> = { name: 'alice', org: 'acme', team: 'devs', account: 'acme+ci', robot: 'acme+ci', id: '7', repository: 'acme/tools/app', kind: 'team', grantee: 'acme/devs' };
    const response = { setHeader() {} } as unknown as HttpResponse;
    for (const route of MANAGEMENT_ROUTES) {
      const path = route.path.replace(/\{(\w+)\}/g, (_whole, name: string) => samples[name]!);
      const request = { method: route.method, headers: {} } as unknown as HttpRequest;
      const match = api.match(request, response, path, new URLSearchParams());
      assert.equal(match?.route, `api_${route.operationId}`, `${route.method} ${path}`);
      assert.ok(compilePath(route.path).regex.test(path));
    }
    // The action log is someone else's; paths outside /api/v1 are not ours.
    const get = { method: 'GET', headers: {} } as unknown as HttpRequest;
    assert.equal(api.match(get, response, '/api/v1/logs', new URLSearchParams()), null);
    assert.equal(api.match(get, response, '/api/v1/logs/export', new URLSearchParams()), null);
    assert.equal(api.match(get, response, '/v2/', new URLSearchParams()), null);
    assert.equal(api.match(get, response, '/api/v1/nothing-here', new URLSearchParams())?.route, 'api_unknown');
    // A repository named like a sub-resource stays a repository.
    assert.equal(api.match(get, response, '/api/v1/repositories/acme/permissions', new URLSearchParams())?.route, 'api_getRepository');
    assert.equal(api.match(get, response, '/api/v1/repositories/acme%2Fapp/-/access', new URLSearchParams())?.route, 'api_getRepositoryAccess');
  });
});

// ---- over HTTP, against `custody serve` ------------------------------------------------

describe('management API over HTTP', () => {
  let server: CustodyServer;
  const admin = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;
  const basic = (user: string, secret: string): string => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;

  async function call(method: string, path: string, options: { auth?: string | null; body?: unknown; raw?: string; contentType?: string } = {}): Promise<{ status: number; body: any; headers: Headers }> {
    // Marked as an API client's request, as `custody admin` does (the cross-site request guard).
    const headers: Record<string, string> = { 'x-custody-request': '1' };
    const auth = options.auth === undefined ? admin : options.auth;
    if (auth !== null) headers.authorization = auth;
    const payload = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    if (payload !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    const response = await fetch(`${server.url}${path}`, { method, headers, ...(payload === undefined ? {} : { body: payload }) });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text), headers: response.headers };
  }

  function assertError(result: { status: number; body: any }, status: number, code: string): void {
    assert.equal(result.status, status, JSON.stringify(result.body));
    assert.equal(result.body?.errors?.[0]?.code, code, JSON.stringify(result.body));
    assert.equal(typeof result.body.errors[0].message, 'string');
  }

  before(async () => {
    server = await startCustody({ auth: true });
  });
  after(async () => server?.dispose());

  it('serves the OpenAPI document without credentials', async () => {
    const result = await call('GET', '/api/v1/openapi.json', { auth: null });
    assert.equal(result.status, 200);
    assert.equal(result.body.openapi, '3.1.0');
    assert.ok(result.body.paths['/api/v1/repositories/{repository}/-/access']);
  });

  it('answers anonymous callers 401 without a challenge (browsers must not prompt) and wrong passwords 401', async () => {
    const anonymous = await call('GET', '/api/v1/users', { auth: null });
    assertError(anonymous, 401, 'UNAUTHORIZED');
    assert.equal(anonymous.headers.get('www-authenticate'), null);
    assertError(await call('GET', '/api/v1/user', { auth: basic('admin', 'wrong-password') }), 401, 'UNAUTHORIZED');
  });

  it('lets the administrator create users, organizations, teams and robots', async () => {
    const alice = await call('POST', '/api/v1/users', { body: { name: 'alice', password: 'alice-password', email: 'alice@example.com' } });
    assert.equal(alice.status, 201);
    assert.equal(alice.body.name, 'alice');
    assert.equal(alice.body.password, undefined);
    assert.equal((await call('POST', '/api/v1/users', { body: { name: 'bob', password: 'bob-password' } })).status, 201);
    assert.equal((await call('POST', '/api/v1/organizations', { body: { name: 'acme' } })).status, 201);
    const team = await call('POST', '/api/v1/organizations/acme/teams', { body: { name: 'devs', role: 'member' } });
    assert.equal(team.status, 201);
    assert.equal(team.body.role, 'member');
    assert.equal((await call('PUT', '/api/v1/organizations/acme/teams/devs/members/alice')).status, 200);
    const members = await call('GET', '/api/v1/organizations/acme/teams/devs/members');
    assert.deepEqual(members.body, [{ name: 'alice', kind: 'user', synced: false }]);
    assert.equal((await call('DELETE', '/api/v1/organizations/acme/teams/devs/members/alice')).status, 204);
    assert.equal((await call('GET', '/api/v1/users')).body.length, 3);
  });

  it('rejects invalid input with 4xx and the error envelope', async () => {
    assertError(await call('POST', '/api/v1/users', { body: { name: 'carol', password: 'short' } }), 400, 'INVALID_REQUEST');
    assertError(await call('POST', '/api/v1/users', { body: { name: 'carol', password: 'carol-password', admin: true } }), 400, 'INVALID_REQUEST');
    assertError(await call('POST', '/api/v1/users', { raw: '{"name": ' }), 400, 'INVALID_REQUEST');
    assertError(await call('POST', '/api/v1/users', { raw: 'name=carol', contentType: 'application/x-www-form-urlencoded' }), 415, 'INVALID_REQUEST');
    assertError(await call('POST', '/api/v1/users', { raw: JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 10) }) }), 413, 'INVALID_REQUEST');
    assertError(await call('POST', '/api/v1/organizations/acme/teams', { body: { name: 'devs' } }), 409, 'CONFLICT');
    assertError(await call('GET', '/api/v1/organizations/nope'), 404, 'NOT_FOUND');
    assertError(await call('PUT', '/api/v1/repositories/acme/nothing/-/permissions/user/alice', { body: { role: 'write' } }), 404, 'NOT_FOUND');
    assertError(await call('GET', '/api/v1/no-such-thing'), 404, 'NOT_FOUND');
    const wrongMethod = await call('DELETE', '/api/v1/users');
    assertError(wrongMethod, 405, 'UNSUPPORTED');
    assert.equal(wrongMethod.headers.get('allow'), 'GET, POST');
  });

  it('answers 403 to an authenticated caller who may not', async () => {
    const alice = basic('alice', 'alice-password');
    assertError(await call('GET', '/api/v1/users', { auth: alice }), 403, 'DENIED');
    assertError(await call('POST', '/api/v1/users', { auth: alice, body: { name: 'mallory', password: 'mallory-password' } }), 403, 'DENIED');
    assertError(await call('POST', '/api/v1/organizations/acme/teams', { auth: alice, body: { name: 'mine' } }), 403, 'DENIED');
    assertError(await call('POST', '/api/v1/repositories', { auth: alice, body: { name: 'acme/app' } }), 403, 'DENIED');
    assertError(await call('PATCH', '/api/v1/users/bob', { auth: alice, body: { email: 'bob@example.com' } }), 403, 'DENIED');
    assert.equal((await call('GET', '/api/v1/user', { auth: alice })).body.name, 'alice');
  });

  it('shows a robot token once, never in listings, and the token logs in', async () => {
    const created = await call('POST', '/api/v1/organizations/acme/robots', { body: { name: 'ci', description: 'builds' } });
    assert.equal(created.status, 201);
    const token: string = created.body.token;
    assert.match(token, /^cst_robot_/);
    const listed = await call('GET', '/api/v1/organizations/acme/robots');
    assert.deepEqual(listed.body.map((robot: { name: string }) => robot.name), ['acme+ci']);
    assert.ok(!JSON.stringify(listed.body).includes(token));
    assert.equal((await call('GET', '/api/v1/robots/acme+ci')).body.token, undefined);
    const whoami = await call('GET', '/api/v1/user', { auth: basic('acme+ci', token) });
    assert.equal(whoami.body.name, 'acme+ci');
    assertError(await call('GET', '/api/v1/users', { auth: basic('acme+ci', token) }), 403, 'DENIED');
    const regenerated = await call('POST', '/api/v1/robots/acme%2Bci/token');
    assert.equal(regenerated.status, 201);
    assert.notEqual(regenerated.body.token, token);
    assertError(await call('GET', '/api/v1/user', { auth: basic('acme+ci', token) }), 401, 'UNAUTHORIZED');
  });

  it('manages repositories and permissions, and tells who can do what', async () => {
    const repo = await call('POST', '/api/v1/repositories', { body: { name: 'acme/tools/app', visibility: 'private', description: 'the app' } });
    assert.equal(repo.status, 201);
    assert.equal(repo.body.visibility, 'private');
    assert.equal((await call('PUT', '/api/v1/repositories/acme/tools/app/-/permissions/user/bob', { body: { role: 'write' } })).status, 200);
    assert.equal((await call('PUT', '/api/v1/repositories/acme/tools/app/-/permissions/team/acme/devs', { body: { role: 'read' } })).status, 200);
    assertError(await call('PUT', '/api/v1/repositories/acme/tools/app/-/permissions/user/bob', { body: { role: 'owner' } }), 400, 'INVALID_REQUEST');
    const permissions = await call('GET', '/api/v1/repositories/acme/tools/app/-/permissions');
    assert.deepEqual(
      permissions.body.map((p: { grantee: { kind: string; name: string }; role: string }) => `${p.grantee.kind}:${p.grantee.name}:${p.role}`).sort(),
      ['team:acme/devs:read', 'user:bob:write'],
    );
    const bob = basic('bob', 'bob-password');
    assert.equal((await call('GET', '/api/v1/repositories/acme/tools/app', { auth: bob })).body.role, 'write');
    assertError(await call('PATCH', '/api/v1/repositories/acme/tools/app', { auth: bob, body: { visibility: 'public' } }), 403, 'DENIED');
    assertError(await call('GET', '/api/v1/repositories/acme/tools/app', { auth: basic('alice', 'alice-password') }), 403, 'DENIED');
    const access = await call('GET', '/api/v1/repositories/acme/tools/app/-/access');
    const bobEntry = access.body.entries.find((entry: { principal: { name: string } }) => entry.principal.name === 'bob');
    assert.deepEqual(bobEntry, { principal: { kind: 'user', name: 'bob' }, role: 'write', sources: [{ via: 'direct', role: 'write' }] });
    assert.equal((await call('PATCH', '/api/v1/repositories/acme%2Ftools%2Fapp', { body: { visibility: 'public' } })).body.visibility, 'public');
    assert.equal((await call('DELETE', '/api/v1/repositories/acme/tools/app/-/permissions/user/bob')).status, 204);
    assert.equal((await call('PUT', '/api/v1/organizations/acme/default-permissions/team/devs', { body: { role: 'read' } })).status, 200);
    assert.deepEqual((await call('GET', '/api/v1/organizations/acme/default-permissions')).body, [{ grantee: { kind: 'team', name: 'acme/devs' }, role: 'read' }]);
  });

  it('personal access tokens work as Bearer on the API and as a basic-auth password, until revoked', async () => {
    const bob = basic('bob', 'bob-password');
    const created = await call('POST', '/api/v1/user/tokens', { auth: bob, body: { name: 'laptop', expiresAt: new Date(Date.now() + 3_600_000).toISOString() } });
    assert.equal(created.status, 201);
    const token: string = created.body.token;
    assert.match(token, /^cst_pat_/);
    assert.equal((await call('GET', '/api/v1/user', { auth: `Bearer ${token}` })).body.name, 'bob');
    assert.equal((await call('GET', '/api/v1/user', { auth: basic('bob', token) })).body.name, 'bob');
    const listed = await call('GET', '/api/v1/user/tokens', { auth: `Bearer ${token}` });
    assert.deepEqual(listed.body.map((t: { name: string }) => t.name), ['laptop']);
    assert.ok(!JSON.stringify(listed.body).includes(token));
    assertError(await call('POST', '/api/v1/user/tokens', { auth: bob, body: { name: 'x', expiresAt: 'tomorrow' } }), 400, 'INVALID_REQUEST');
    assert.equal((await call('DELETE', `/api/v1/user/tokens/${created.body.id}`, { auth: bob })).status, 204);
    assertError(await call('GET', '/api/v1/user', { auth: `Bearer ${token}` }), 401, 'UNAUTHORIZED');
    assertError(await call('GET', '/api/v1/user', { auth: basic('bob', token) }), 401, 'UNAUTHORIZED');
  });

  it('`custody admin` drives the API: happy path and one error', async () => {
    const env = { CUSTODY_REGISTRY: server.url, CUSTODY_TOKEN: '', HOME: server.dataDir, XDG_RUNTIME_DIR: '', REGISTRY_AUTH_FILE: join(server.dataDir, 'no-auth.json') };
    const admin = async (args: string[], input?: string) => runCustody(['admin', ...args, '--username', 'admin', '--password-stdin'], { env, input: input ?? `${ADMIN_PASSWORD}\n` });
    let result = await admin(['user', 'create', 'dave', '--email', 'dave@example.com'], `${ADMIN_PASSWORD}\ndave-password\n`);
    assert.equal(result.code, 0, result.stderr);
    result = await admin(['org', 'create', 'widgets']);
    assert.equal(result.code, 0, result.stderr);
    result = await admin(['team', 'create', 'widgets', 'devs', '--role', 'creator']);
    assert.equal(result.code, 0, result.stderr);
    result = await admin(['team', 'add-member', 'widgets', 'devs', 'dave']);
    assert.equal(result.code, 0, result.stderr);
    result = await admin(['robot', 'create', 'widgets', 'deployer']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout.trim(), /^cst_robot_[A-Za-z0-9_-]+$/, 'the token alone on stdout');
    result = await admin(['repo', 'create', 'widgets/web', '--visibility', 'private']);
    assert.equal(result.code, 0, result.stderr);
    result = await admin(['permission', 'set', 'widgets/web', '--robot', 'widgets+deployer', 'write']);
    assert.equal(result.code, 0, result.stderr);
    result = await admin(['permission', 'list', 'widgets/web']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^PRINCIPAL\s+KIND\s+ROLE\s+FROM/m);
    assert.match(result.stdout, /widgets\+deployer\s+robot\s+write\s+direct/);
    result = await admin(['permission', 'list', 'widgets/web', '--json']);
    const view = JSON.parse(result.stdout) as { entries: { principal: { name: string }; role: string }[] };
    assert.equal(view.entries.find((entry) => entry.principal.name === 'widgets+deployer')?.role, 'write');

    // A personal access token from the CLI drives the CLI.
    const dave = await runCustody(['admin', 'token', 'create', 'cli', '--expires', '30d', '--username', 'dave', '--password-stdin'], { env, input: 'dave-password\n' });
    assert.equal(dave.code, 0, dave.stderr);
    const pat = dave.stdout.trim();
    const listed = await runCustody(['admin', 'token', 'list', '--json'], { env: { ...env, CUSTODY_TOKEN: pat } });
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual((JSON.parse(listed.stdout) as { name: string }[]).map((t) => t.name), ['cli']);

    // An error: one line, non-zero exit.
    const denied = await runCustody(['admin', 'user', 'list'], { env: { ...env, CUSTODY_TOKEN: pat } });
    assert.equal(denied.code, 1);
    assert.equal(denied.stderr.trim().split('\n').length, 1, denied.stderr);
    assert.match(denied.stderr, /^custody admin: DENIED: only a superuser may list users/);
    const usage = await runCustody(['admin', 'permission', 'set', 'widgets/web', 'write'], { env });
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /exactly one of --user, --robot or --team/);
    const help = await runCustody(['admin', '--help'], { env });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /permission list REPO/);
  });
});
