// Issue 10, items 1, 2 and 11, against a real `custody serve` with authentication on and
// through the clients users have: curl for the repro, skopeo and podman using
// refresh tokens the way docker login leaves them (auth.json `identitytoken`, spent
// through the OAuth2 refresh_token grant), `custody admin` for the session commands.
// - Registry bearer tokens are good for /v2/ only: every /api route refuses them.
// - Refresh tokens end with what minted them (robot token, personal access token,
//   password, the account), are listed and revoked by their users and administrators,
//   and a revocation also ends registry tokens and remembered logins, on another replica
//   too (two servers on one PostgreSQL database).
// - /api answers 401 without a Basic challenge, wants JSON or X-Custody-Request for
//   state-changing requests, and refuses a foreign Origin.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_PASSWORD, runCustody, startCustody, type CustodyServer } from './support/custody-server.ts';
import { basic } from './support/access-fixtures.ts';
import { containersConfig, explain, http, requireTool, run, waitFor, type ContainersConfig, type HttpResult, type RunResult } from './support/tools.ts';
import { debianLayout, layoutImage, OCI_MANIFEST, ociRef, type LayoutImage } from './support/images.ts';
import { isolatedPodman, type IsolatedPodman } from './support/podman.ts';
import { createTestDatabase, type TestDatabase } from './support/postgres.ts';

const ADMIN = basic('admin', ADMIN_PASSWORD);
const REPOSITORY = 'acme/app';
const ACCEPT = `${OCI_MANIFEST}, application/vnd.docker.distribution.manifest.v2+json`;
const QUIET = { CUSTODY_AUDIT_FLUSH_INTERVAL: '100ms', CUSTODY_QUALITY_ENABLED: 'false' };

interface Api {
  (method: string, path: string, options?: { auth?: string | null; body?: unknown; headers?: Record<string, string> }): Promise<HttpResult>;
}

/** A JSON API client for one server, as an API client (JSON, own origin) would call it. */
function apiClient(server: CustodyServer): Api {
  return (method, path, options = {}) => {
    const headers: Record<string, string> = { 'Content-Type': 'application/json', ...options.headers };
    const auth = options.auth === undefined ? ADMIN : options.auth;
    if (auth !== null) headers.Authorization = auth;
    return http(`${server.url}${path}`, { method, headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) });
  };
}

function errorCode(response: HttpResult): string | undefined {
  return response.json<{ errors?: { code: string }[] }>()?.errors?.[0]?.code;
}

function expectStatus(response: HttpResult, status: number, what: string): void {
  assert.equal(response.status, status, `${what}: ${response.body.toString('utf8').slice(0, 400)}`);
}

/** A refresh token the way `docker login` gets one: GET /auth/token?offline_token=true with basic credentials. */
async function offlineLogin(server: CustodyServer, username: string, secret: string, userAgent = 'docker/27.0.0 (test)'): Promise<string> {
  const query = new URLSearchParams({ service: 'custody', offline_token: 'true', client_id: 'docker', account: username });
  const response = await http(`${server.url}/auth/token?${query}`, { headers: { Authorization: basic(username, secret), 'User-Agent': userAgent } });
  expectStatus(response, 200, `offline login of ${username}`);
  const refresh = response.json<{ refresh_token?: string }>()?.refresh_token;
  assert.match(refresh ?? '', /^cst_refresh_/);
  return refresh!;
}

/** A bearer token for /v2/ from the token endpoint. */
async function registryToken(server: CustodyServer, authorization: string | null, scopes: readonly string[]): Promise<string> {
  const query = new URLSearchParams({ service: 'custody' });
  for (const scope of scopes) query.append('scope', scope);
  const response = await http(`${server.url}/auth/token?${query}`, { headers: authorization ? { Authorization: authorization } : {} });
  expectStatus(response, 200, 'token endpoint');
  return response.json<{ token: string }>()!.token;
}

describe('credentials: what each is good for, and how long', () => {
  let work: string;
  let server: CustodyServer;
  let api: Api;
  let config: ContainersConfig;
  let podman: IsolatedPodman;
  let skopeoBin: string;
  let curlBin: string;
  let image: LayoutImage;
  let authfiles = 0;

  const skopeo = (args: readonly string[]): Promise<RunResult> => run(skopeoBin, ['--policy', config.policy, ...args], { env: config.env, timeoutMs: 120_000 });
  const podmanRun = (args: readonly string[]): Promise<RunResult> => run(podman.bin, [...podman.globals, ...args], { env: podman.env, timeoutMs: 180_000 });

  /** An auth.json holding a refresh token as `docker login` stores it (identitytoken). */
  async function refreshAuthfile(username: string, refresh: string, target = server): Promise<string> {
    const file = join(work, `auth-${++authfiles}.json`);
    const auths = { [target.host]: { auth: Buffer.from(`${username}:`).toString('base64'), identitytoken: refresh } };
    await writeFile(file, JSON.stringify({ auths }), { mode: 0o600 });
    return file;
  }
  const inspect = (authfile: string, target = server): Promise<RunResult> => skopeo(['inspect', '--tls-verify=false', '--authfile', authfile, `docker://${target.host}/${REPOSITORY}:1.0`]);
  function assertWorks(result: RunResult, what: string): void {
    assert.equal(result.code, 0, `${what}\n${explain(result)}`);
  }
  function assertRefused(result: RunResult, what: string): void {
    assert.notEqual(result.code, 0, `${what}: expected a refusal\n${explain(result)}`);
    assert.match(result.stderr, /unauthorized|invalid username\/password|authentication required/i, `${what}\n${explain(result)}`);
  }

  /** A user with a password of its own; returns its basic authorization. */
  async function user(name: string, target = server): Promise<{ name: string; password: string; auth: string }> {
    const password = `${name}-password-1`;
    expectStatus(await apiClient(target)('POST', '/api/v1/users', { body: { name, password } }), 201, `create user ${name}`);
    return { name, password, auth: basic(name, password) };
  }

  before(async () => {
    skopeoBin = requireTool('skopeo');
    curlBin = requireTool('curl');
    work = await mkdtemp(join(tmpdir(), 'custody-credentials-'));
    config = await containersConfig(join(work, 'config'));
    podman = await isolatedPodman(join(work, 'podman'));
    image = await layoutImage(debianLayout(), 'bookworm-minbase');
    server = await startCustody({ auth: true, env: QUIET });
    api = apiClient(server);
    // acme/app: public (every account may pull it), written by the robot acme+ci.
    expectStatus(await api('POST', '/api/v1/organizations', { body: { name: 'acme' } }), 201, 'create acme');
    const pushed = await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', `admin:${ADMIN_PASSWORD}`, ociRef(debianLayout(), 'bookworm-minbase'), `docker://${server.host}/${REPOSITORY}:1.0`]);
    assertWorks(pushed, 'the administrator pushes acme/app');
    expectStatus(await api('PATCH', `/api/v1/repositories/${REPOSITORY}`, { body: { visibility: 'public' } }), 200, 'acme/app public');
  });

  after(async () => {
    await server?.dispose();
    if (work) await rm(work, { recursive: true, force: true });
  });

  describe('registry bearer tokens are good for /v2/ only', () => {
    test("the issue's repro with curl: a pull-only token cannot mint a personal access token", async () => {
      const bob = await user('bob');
      const token = await run(curlBin, ['-s', '-u', `bob:${bob.password}`, `${server.url}/auth/token?service=custody&scope=repository:${REPOSITORY}:pull`]);
      const jwt = (JSON.parse(token.stdout) as { token: string }).token;
      const claims = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { purpose: string; aud: string };
      assert.deepEqual([claims.aud, claims.purpose], ['custody', 'registry'], 'the token names its audience and its purpose');
      const minted = await run(curlBin, ['-s', '-i', '-H', `Authorization: Bearer ${jwt}`, '-H', 'Content-Type: application/json', '-X', 'POST', `${server.url}/api/v1/user/tokens`, '-d', '{"name":"x"}']);
      assert.match(minted.stdout, /^HTTP\/1\.1 401 /, minted.stdout);
      assert.match(minted.stdout, /"code":"UNAUTHORIZED","message":"[^"]*registry tokens are good for \/v2\/ only/);
      assert.doesNotMatch(minted.stdout, /cst_pat_[A-Za-z0-9_-]{20}/, 'no token was minted');
      assert.doesNotMatch(minted.stdout, /^WWW-Authenticate:/im, 'no challenge a browser would act on');
      assert.deepEqual((await api('GET', '/api/v1/user/tokens', { auth: bob.auth })).json(), [], 'no personal access token was made');
      // The same token still does what it was issued for.
      const pulled = await run(curlBin, ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-H', `Authorization: Bearer ${jwt}`, '-H', `Accept: ${ACCEPT}`, `${server.url}/v2/${REPOSITORY}/manifests/1.0`]);
      assert.equal(pulled.stdout, '200');
    });

    test('every /api route refuses registry tokens, scoped or not, even a superuser\'s', async () => {
      const bob = basic('bob', 'bob-password-1');
      const pullOnly = await registryToken(server, bob, [`repository:${REPOSITORY}:pull`]);
      const noScope = await registryToken(server, bob, []);
      const superuser = await registryToken(server, ADMIN, ['registry:catalog:*', `repository:${REPOSITORY}:*`]);
      const manifest = `/api/v1/repositories/${REPOSITORY}/-/manifests/${image.digest}`;
      const calls: readonly [string, string, string, unknown?][] = [
        ['bob', 'GET', '/api/v1/user'],
        ['bob', 'PATCH', '/api/v1/user', { email: 'mallory@example.com' }],
        ['bob', 'POST', '/api/v1/organizations', { name: 'bobs-org' }],
        ['admin', 'POST', '/api/v1/users', { name: 'mallory', password: 'mallory-password', superuser: true }],
        ['admin', 'GET', '/api/v1/logs?actor=admin'],
        ['admin', 'GET', `${manifest}/status`],
        ['admin', 'GET', `/api/v1/repositories/${REPOSITORY}/-/signing-policy`],
        ['admin', 'GET', `${manifest}/signatures`],
      ];
      for (const [who, method, path, body] of calls) {
        for (const token of who === 'admin' ? [superuser] : [pullOnly, noScope]) {
          const response = await api(method, path, { auth: `Bearer ${token}`, body });
          expectStatus(response, 401, `${method} ${path} with ${who}'s registry token`);
          assert.equal(errorCode(response), 'UNAUTHORIZED');
          assert.equal(response.headers['www-authenticate'], undefined);
        }
      }
      assert.equal((await api('GET', '/api/v1/users/bob')).json<{ email: string | null }>()?.email, null, "bob's email is unchanged");
      expectStatus(await api('GET', '/api/v1/users/mallory'), 404, 'no superuser was created');
      expectStatus(await api('GET', '/api/v1/organizations/bobs-org'), 404, 'no organization was created');
      // What is meant for the API works: basic credentials and a personal access token.
      expectStatus(await api('GET', '/api/v1/user', { auth: bob }), 200, 'basic');
      const pat = (await api('POST', '/api/v1/user/tokens', { auth: bob, body: { name: 'api' } })).json<{ token: string }>()!.token;
      expectStatus(await api('GET', '/api/v1/user', { auth: `Bearer ${pat}` }), 200, 'a personal access token');
      // A refresh token is no API credential either.
      const refresh = await offlineLogin(server, 'bob', 'bob-password-1');
      expectStatus(await api('GET', '/api/v1/user', { auth: `Bearer ${refresh}` }), 401, 'a refresh token as bearer');
    });
  });

  describe('refresh tokens end with what minted them', () => {
    test("a robot's: regenerating its token ends them (podman, with a refresh token and with a saved login)", async () => {
      const robot = (await api('POST', '/api/v1/organizations/acme/robots', { body: { name: 'ci' } })).json<{ token: string }>()!.token;
      expectStatus(await api('PUT', `/api/v1/repositories/${REPOSITORY}/-/permissions/robot/acme+ci`, { body: { role: 'write' } }), 200, 'robot may write');
      const refreshAuth = await refreshAuthfile('acme+ci', await offlineLogin(server, 'acme+ci', robot));
      const loginAuth = join(work, 'auth-podman-login.json');
      const login = await run(podman.bin, [...podman.globals, 'login', '--authfile', loginAuth, '--tls-verify=false', '--username', 'acme+ci', '--password-stdin', server.host], { env: podman.env, input: robot });
      assertWorks(login, 'podman login with the robot token');
      const bearerBefore = await registryToken(server, basic('acme+ci', robot), [`repository:${REPOSITORY}:pull`]);

      const local = `${server.host}/${REPOSITORY}:podman`;
      assertWorks(await podmanRun(['pull', '--signature-policy', podman.config.policy, ociRef(debianLayout(), 'bookworm-minbase')]), 'podman pull from the layout');
      assertWorks(await podmanRun(['tag', image.manifest.config.digest.slice('sha256:'.length), local]), 'podman tag');
      const push = (authfile: string): Promise<RunResult> => podmanRun(['push', '--authfile', authfile, '--tls-verify=false', '--signature-policy', podman.config.policy, local]);
      assertWorks(await push(refreshAuth), 'podman push with the refresh token');
      assertWorks(await push(loginAuth), 'podman push with the saved login');

      const regenerated = await runCustody(['admin', 'robot', 'regenerate', 'acme+ci', '--registry', server.url, '--username', 'admin', '--password-stdin', '--json'], { input: `${ADMIN_PASSWORD}\n` });
      assert.equal(regenerated.code, 0, regenerated.stderr);
      assertRefused(await push(refreshAuth), 'podman push with the refresh token minted from the old robot token');
      assertRefused(await push(loginAuth), 'podman push with the old robot token');
      const stale = await http(`${server.url}/v2/${REPOSITORY}/manifests/1.0`, { headers: { Authorization: `Bearer ${bearerBefore}`, Accept: ACCEPT } });
      expectStatus(stale, 401, 'a registry token issued from the old robot token');
      assert.match(String(stale.headers['www-authenticate']), /error="invalid_token"/);
      // The new token works, and a refresh token minted from it does.
      const fresh = (JSON.parse(regenerated.stdout) as { token: string }).token;
      assertWorks(await push(await refreshAuthfile('acme+ci', await offlineLogin(server, 'acme+ci', fresh))), 'podman push with a refresh token from the new robot token');
    });

    test("a personal access token's: revoking it ends them (skopeo)", async () => {
      const erin = await user('erin');
      const pat = (await api('POST', '/api/v1/user/tokens', { auth: erin.auth, body: { name: 'laptop' } })).json<{ id: number; token: string }>()!;
      // The OAuth2 password grant, as docker login does with a token for a password.
      const form = new URLSearchParams({ grant_type: 'password', username: 'erin', password: pat.token, access_type: 'offline', client_id: 'docker', service: 'custody' });
      const granted = await http(`${server.url}/auth/token`, { method: 'POST', body: form.toString(), headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
      expectStatus(granted, 200, 'password grant with the personal access token');
      const authfile = await refreshAuthfile('erin', granted.json<{ refresh_token: string }>()!.refresh_token);
      assertWorks(await inspect(authfile), 'skopeo with the refresh token');
      expectStatus(await api('DELETE', `/api/v1/user/tokens/${pat.id}`, { auth: erin.auth }), 204, 'revoke the token');
      assertRefused(await inspect(authfile), 'skopeo with a refresh token minted from a revoked personal access token');
    });

    test('a password change ends those minted with the password, not those minted from a token', async () => {
      const frank = await user('frank');
      const withPassword = await refreshAuthfile('frank', await offlineLogin(server, 'frank', frank.password));
      const pat = (await api('POST', '/api/v1/user/tokens', { auth: frank.auth, body: { name: 'ci' } })).json<{ token: string }>()!.token;
      const withToken = await refreshAuthfile('frank', await offlineLogin(server, 'frank', pat));
      assertWorks(await inspect(withPassword), 'before the change');
      const changed = await api('PATCH', '/api/v1/user', { auth: frank.auth, body: { password: 'frank-password-2', currentPassword: frank.password } });
      expectStatus(changed, 200, 'change the password');
      assertRefused(await inspect(withPassword), 'a refresh token minted with the old password');
      assertWorks(await inspect(withToken), 'a refresh token minted from a personal access token that still stands');
    });

    test('disabling ends them for good; deleting an account and reusing its name revives none', async () => {
      const carol = await user('carol');
      const authfile = await refreshAuthfile('carol', await offlineLogin(server, 'carol', carol.password));
      assertWorks(await inspect(authfile), 'before');
      expectStatus(await api('PATCH', '/api/v1/users/carol', { body: { disabled: true } }), 200, 'disable');
      assertRefused(await inspect(authfile), 'while disabled');
      expectStatus(await api('PATCH', '/api/v1/users/carol', { body: { disabled: false } }), 200, 'enable again');
      assertRefused(await inspect(authfile), 'after being enabled again: the session ended, it was not suspended');
      assertWorks(await inspect(await refreshAuthfile('carol', await offlineLogin(server, 'carol', carol.password))), 'a new login works');

      const dave = await user('dave');
      const daveAuth = await refreshAuthfile('dave', await offlineLogin(server, 'dave', dave.password));
      const daveBearer = await registryToken(server, dave.auth, [`repository:${REPOSITORY}:pull`]);
      expectStatus(await api('DELETE', '/api/v1/users/dave'), 204, 'delete dave');
      await user('dave');
      assertRefused(await inspect(daveAuth), "the deleted dave's refresh token, for the new dave");
      const stale = await http(`${server.url}/v2/${REPOSITORY}/manifests/1.0`, { headers: { Authorization: `Bearer ${daveBearer}`, Accept: ACCEPT } });
      expectStatus(stale, 401, "the deleted dave's registry token, for the new dave");
    });
  });

  describe('sessions: listed and revoked by their users and administrators', () => {
    test('the API shows each refresh token: id, times, client, address, what minted it; revoking one ends it alone', async () => {
      const grace = await user('grace');
      const pat = (await api('POST', '/api/v1/user/tokens', { auth: grace.auth, body: { name: 'desk' } })).json<{ id: number; token: string }>()!;
      const laptop = await offlineLogin(server, 'grace', grace.password, 'docker/27.0.0 (laptop)');
      const desk = await offlineLogin(server, 'grace', pat.token, 'podman/4.3.1 (desk)');
      const laptopAuth = await refreshAuthfile('grace', laptop);
      const deskAuth = await refreshAuthfile('grace', desk);
      assertWorks(await inspect(laptopAuth), 'the laptop session');

      type Session = { id: number; kind: string; createdAt: string; lastUsedAt: string | null; expiresAt: string; userAgent: string; ip: string; mintedFrom: string; fromTokenId: number | null };
      const sessions = (await api('GET', '/api/v1/user/sessions', { auth: grace.auth })).json<Session[]>()!;
      assert.equal(sessions.length, 2, JSON.stringify(sessions));
      const [first, second] = sessions as [Session, Session];
      assert.deepEqual(
        sessions.map((s) => [s.kind, s.userAgent, s.ip, s.mintedFrom, s.fromTokenId]),
        [
          ['refresh-token', 'docker/27.0.0 (laptop)', '127.0.0.1', 'password', null],
          ['refresh-token', 'podman/4.3.1 (desk)', '127.0.0.1', 'personal-token', pat.id],
        ],
      );
      assert.ok(first.lastUsedAt !== null && Date.parse(first.lastUsedAt) >= Date.parse(first.createdAt), 'skopeo used the laptop session');
      assert.equal(second.lastUsedAt, null);
      const lifetime = Date.parse(first.expiresAt) - Date.parse(first.createdAt);
      assert.ok(Math.abs(lifetime - 30 * 86_400_000) < 60_000, `30 days by default: ${lifetime}`);
      assert.ok(!JSON.stringify(sessions).includes('cst_refresh_'), 'never a secret');

      expectStatus(await api('DELETE', `/api/v1/user/sessions/${first.id}`, { auth: grace.auth }), 204, 'revoke the laptop session');
      assertRefused(await inspect(laptopAuth), 'the revoked session');
      assertWorks(await inspect(deskAuth), 'the other session');
      expectStatus(await api('DELETE', `/api/v1/user/sessions/${first.id}`, { auth: grace.auth }), 404, 'revoked already');
      // Someone else's session is not found, and other users' lists are superusers' only.
      const heidi = await user('heidi');
      expectStatus(await api('DELETE', `/api/v1/user/sessions/${second.id}`, { auth: heidi.auth }), 404, "another user's session");
      expectStatus(await api('GET', '/api/v1/users/grace/sessions', { auth: heidi.auth }), 403, "another user's list");
      assert.deepEqual((await api('GET', '/api/v1/users/grace/sessions')).json<Session[]>()!.map((s) => s.id), [second.id], 'a superuser sees them');
      await waitFor('the revocation in the action log', async () => {
        const logged = await api('GET', '/api/v1/logs?actor=grace&kind=credential', { auth: grace.auth });
        return logged.json<{ entries: { detail: { action?: string; credentialKind?: string } }[] }>()!.entries.some((e) => e.detail.action === 'revoke' && e.detail.credentialKind === 'refresh');
      }, 10_000);
    });

    test('`custody admin session` lists and revokes, for yourself, a user (superusers) and a robot (its managers)', async () => {
      const ivan = await user('ivan');
      const env = { CUSTODY_REGISTRY: server.url, CUSTODY_TOKEN: '', HOME: work, XDG_RUNTIME_DIR: '', REGISTRY_AUTH_FILE: join(work, 'none.json') };
      const as = (username: string, password: string, args: readonly string[]) => runCustody(['admin', ...args, '--username', username, '--password-stdin'], { env, input: `${password}\n` });
      await offlineLogin(server, 'ivan', ivan.password, 'skopeo/1.9.3');
      const listed = await as('ivan', ivan.password, ['session', 'list']);
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, /^ID\s+FROM\s+CLIENT\s+ADDRESS\s+CREATED\s+LAST USED\s+EXPIRES/m);
      assert.match(listed.stdout, /^\d+\s+password\s+skopeo\/1\.9\.3\s+127\.0\.0\.1\s/m);
      const [session] = JSON.parse((await as('ivan', ivan.password, ['session', 'list', '--json'])).stdout) as { id: number }[];
      const revoked = await as('ivan', ivan.password, ['session', 'revoke', String(session!.id)]);
      assert.equal(revoked.code, 0, revoked.stderr);
      assert.match(revoked.stderr, new RegExp(`ended session ${session!.id}`));
      assert.deepEqual(JSON.parse((await as('ivan', ivan.password, ['session', 'list', '--json'])).stdout), []);

      await offlineLogin(server, 'ivan', ivan.password);
      const refused = await as('ivan', ivan.password, ['session', 'list', '--user', 'admin']);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /^custody admin: DENIED: only a superuser may manage the sessions of other users\n$/);
      const byAdmin = await as('admin', ADMIN_PASSWORD, ['session', 'revoke', '--all', '--user', 'ivan']);
      assert.equal(byAdmin.code, 0, byAdmin.stderr);
      assert.match(byAdmin.stderr, /ended 1 session of ivan/);

      const robot = (await api('POST', '/api/v1/organizations/acme/robots', { body: { name: 'deploy' } })).json<{ token: string }>()!.token;
      const robotAuth = await refreshAuthfile('acme+deploy', await offlineLogin(server, 'acme+deploy', robot));
      const robots = await as('admin', ADMIN_PASSWORD, ['session', 'list', '--robot', 'acme+deploy', '--json']);
      assert.deepEqual((JSON.parse(robots.stdout) as { mintedFrom: string }[]).map((s) => s.mintedFrom), ['robot-token'], robots.stderr);
      assert.equal((await as('ivan', ivan.password, ['session', 'list', '--robot', 'acme+deploy'])).code, 1, 'not a manager of the robot');
      assert.equal((await as('admin', ADMIN_PASSWORD, ['session', 'revoke', '--all', '--robot', 'acme+deploy'])).code, 0);
      assertRefused(await inspect(robotAuth), "the robot's ended session");
      // custody logs keeps working through the same guard.
      const logs = await runCustody(['logs', '--actor', 'ivan', '--kind', 'credential', '--json', '--username', 'ivan', '--password-stdin'], { env, input: `${ivan.password}\n` });
      assert.equal(logs.code, 0, logs.stderr);
    });
  });

  describe('cross-site requests to /api', () => {
    test('a 401 from /api carries the envelope and no Basic challenge; /v2/ and /auth/token keep theirs', async () => {
      const paths = ['/api/v1/user', '/api/v1/logs?actor=admin', `/api/v1/repositories/${REPOSITORY}/-/manifests/${image.digest}/status`, `/api/v1/repositories/${REPOSITORY}/-/signing-policy`];
      for (const path of paths) {
        for (const auth of [null, basic('nobody', 'wrong-password')]) {
          const response = await api('GET', path, { auth });
          expectStatus(response, 401, path);
          assert.equal(errorCode(response), 'UNAUTHORIZED');
          assert.equal(response.headers['www-authenticate'], undefined, `${path}: no challenge`);
        }
      }
      assert.match(String((await http(`${server.url}/v2/${REPOSITORY}/tags/list`)).headers['www-authenticate']), /^Bearer realm=/);
      const token = await http(`${server.url}/auth/token?service=custody`, { headers: { Authorization: basic('nobody', 'wrong-password') } });
      expectStatus(token, 401, 'token endpoint');
      assert.equal(token.headers['www-authenticate'], 'Basic realm="custody"');
    });

    test('a state-changing request must be JSON or carry X-Custody-Request: a cross-site form regenerates nothing', async () => {
      const robot = (await api('POST', '/api/v1/organizations/acme/robots', { body: { name: 'forms' } })).json<{ token: string }>()!.token;
      const regenerate = (headers: Record<string, string>, body?: string): Promise<HttpResult> =>
        http(`${server.url}/api/v1/robots/acme%2Bforms/token`, { method: 'POST', headers: { Authorization: ADMIN, ...headers }, ...(body === undefined ? {} : { body }) });
      for (const [what, headers, body] of [
        ['no Content-Type, no body', {}, undefined],
        ['a form', { 'Content-Type': 'application/x-www-form-urlencoded' }, 'x=1'],
        ['text/plain', { 'Content-Type': 'text/plain' }, '{}'],
        ['multipart', { 'Content-Type': 'multipart/form-data; boundary=b' }, '--b--\r\n'],
      ] as const) {
        const response = await regenerate(headers, body);
        expectStatus(response, 415, what);
        assert.equal(errorCode(response), 'INVALID_REQUEST');
        assert.match(response.json<{ errors: { message: string }[] }>()!.errors[0]!.message, /Content-Type: application\/json .* or the header X-Custody-Request/);
      }
      expectStatus(await api('GET', '/api/v1/user', { auth: basic('acme+forms', robot) }), 200, 'the robot token still works: nothing was regenerated');
      expectStatus(await http(`${server.url}/api/v1/organizations/acme/teams/owners/members/heidi`, { method: 'PUT', headers: { Authorization: ADMIN } }), 415, 'a body-less PUT');
      expectStatus(await regenerate({ 'X-Custody-Request': '1' }), 201, 'with X-Custody-Request');
      expectStatus(await regenerate({ 'Content-Type': 'application/json' }), 201, 'JSON without a body');
      expectStatus(await api('GET', '/api/v1/user', { auth: basic('acme+forms', robot) }), 401, 'now the old token is gone');
    });

    test('a foreign Origin is refused with 403 DENIED; the own origin (Host, or auth.publicUrl) is not', async () => {
      const create = (origin: string, name: string, target = server): Promise<HttpResult> => apiClient(target)('POST', '/api/v1/organizations', { body: { name }, headers: { Origin: origin } });
      for (const origin of ['https://evil.example', 'null', `http://127.0.0.1:${server.port + 1}`, `https://${server.host}`]) {
        const response = await create(origin, 'from-elsewhere');
        expectStatus(response, 403, `Origin ${origin}`);
        assert.equal(errorCode(response), 'DENIED');
      }
      expectStatus(await api('GET', '/api/v1/user', { headers: { Origin: 'https://evil.example' } }), 403, 'a read from another origin');
      expectStatus(await api('GET', '/api/v1/organizations/from-elsewhere'), 404, 'nothing was created');
      expectStatus(await create(server.url, 'from-here'), 201, 'the own origin');

      const behindProxy = await startCustody({ auth: true, env: { ...QUIET, CUSTODY_AUTH_PUBLIC_URL: 'https://registry.example.test' } });
      try {
        expectStatus(await create('https://registry.example.test', 'via-public-url', behindProxy), 201, 'the configured public origin');
        expectStatus(await create(behindProxy.url, 'via-host', behindProxy), 201, 'the origin the Host header names');
        expectStatus(await create('https://registry.example.test.evil.example', 'nope', behindProxy), 403, 'a look-alike');
      } finally {
        await behindProxy.dispose();
      }
    });
  });
});

describe('two replicas on one PostgreSQL database: a revocation on one reaches the other', () => {
  let database: TestDatabase;
  let first: CustodyServer;
  let second: CustodyServer;

  before(async () => {
    database = await createTestDatabase();
    const env = { ...QUIET, CUSTODY_DATABASE_URL: database.url };
    first = await startCustody({ auth: true, env });
    second = await startCustody({ auth: true, env, args: ['--storage-path', first.dataDir] });
  });
  after(async () => {
    await second?.dispose();
    await first?.dispose();
    await database?.drop();
  });

  test('remembered basic logins and registry tokens on one replica end within seconds of a revocation on the other', async () => {
    const onFirst = apiClient(first);
    const onSecond = apiClient(second);
    expectStatus(await onFirst('POST', '/api/v1/organizations', { body: { name: 'acme' } }), 201, 'acme');
    expectStatus(await onFirst('POST', '/api/v1/repositories', { body: { name: REPOSITORY } }), 201, 'acme/app');
    const robot = (await onFirst('POST', '/api/v1/organizations/acme/robots', { body: { name: 'ci' } })).json<{ token: string }>()!.token;
    expectStatus(await onFirst('PUT', `/api/v1/repositories/${REPOSITORY}/-/permissions/robot/acme+ci`, { body: { role: 'read' } }), 200, 'robot reads');
    expectStatus(await onFirst('POST', '/api/v1/users', { body: { name: 'bob', password: 'bob-password-1' } }), 201, 'bob');
    expectStatus(await onFirst('PATCH', `/api/v1/repositories/${REPOSITORY}`, { body: { visibility: 'public' } }), 200, 'public');

    // On the first replica: the robot's basic login is remembered, bob holds a registry token.
    const tags = `${first.url}/v2/`;
    const robotBasic = { Authorization: basic('acme+ci', robot) };
    const bobToken = await registryToken(first, basic('bob', 'bob-password-1'), [`repository:${REPOSITORY}:pull`]);
    const bobBearer = { Authorization: `Bearer ${bobToken}` };
    expectStatus(await http(tags, { headers: robotBasic }), 200, 'robot, before');
    expectStatus(await http(tags, { headers: bobBearer }), 200, 'bob, before');

    // On the second replica: the robot's token is regenerated, bob's password changed.
    expectStatus(await onSecond('POST', '/api/v1/robots/acme%2Bci/token'), 201, 'regenerate on the second replica');
    expectStatus(await onSecond('PATCH', '/api/v1/users/bob', { body: { password: 'bob-password-2' } }), 200, 'new password on the second replica');

    const started = Date.now();
    await waitFor('the first replica to refuse the old robot token', async () => (await http(tags, { headers: robotBasic })).status === 401, 5_000);
    await waitFor("the first replica to refuse bob's registry token", async () => (await http(tags, { headers: bobBearer })).status === 401, 5_000);
    assert.ok(Date.now() - started < 5_000, `ended within ${Date.now() - started} ms`);
  });
});
