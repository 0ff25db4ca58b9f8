// Single sign-on against a real OpenID provider run by the test (`oidc-provider`, an
// OpenID Certified implementation) with a static client and an account whose `groups`
// claim the test changes: log in to the catalog in Chromium, the group maps to a team with
// write on a repository, a personal access token made in the catalog logs podman in and
// pushes; the group removed at the provider and a new login, and the push is refused.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Provider from 'oidc-provider';
import { chromium, type Browser, type Page } from 'playwright-core';
import { migrate } from '../src/metadata/migrations.ts';
import type { SqlClient } from '../src/metadata/sql-client.ts';
import { SqlIdentityStore } from '../src/metadata/sql-identity-store.ts';
import { SqliteClient } from '../src/metadata/sqlite-client.ts';
import { hashPassword } from '../src/auth/passwords.ts';
import { startCustody, type CustodyServer } from './support/custody-server.ts';
import { debianLayout, ociRef } from './support/images.ts';
import { isolatedPodman, type IsolatedPodman } from './support/podman.ts';
import { explain, requireTool, run, type RunResult } from './support/tools.ts';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const CLIENT_ID = 'custody-catalog';
const CLIENT_SECRET = 'a-client-secret-for-tests-only-0123456789';

describe('OIDC single sign-on with a real OpenID provider', () => {
  let work: string;
  let idp: Server;
  let issuer: string;
  let server: CustodyServer;
  let browser: Browser;
  let podman: IsolatedPodman;
  let skopeoBin: string;
  let sql: SqlClient;
  let store: SqlIdentityStore;
  /** The provider's user directory: the test changes alice's groups. */
  const groups = new Map<string, string[]>([['alice', ['developers', 'everyone']]]);

  const podmanRun = (args: readonly string[]): Promise<RunResult> => run(podman.bin, [...podman.globals, ...args], { env: podman.env, timeoutMs: 120_000 });
  const push = (target: string): Promise<RunResult> =>
    run(skopeoBin, ['--policy', podman.config.policy, 'copy', '--dest-tls-verify=false', ociRef(debianLayout(), 'bookworm-minbase'), `docker://${server.host}/${target}`], { env: podman.env, timeoutMs: 180_000 });

  before(async () => {
    skopeoBin = requireTool('skopeo');
    work = await mkdtemp(join(tmpdir(), 'custody-oidc-'));
    podman = await isolatedPodman(join(work, 'podman'));
    // The provider's port first (the issuer names it), its configuration once Custody's
    // callback URL is known.
    let handler: Parameters<typeof createServer>[1] = (_request, response) => response.writeHead(503).end();
    idp = createServer((request, response) => handler!(request, response));
    await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
    server = await startCustody({
      auth: true,
      env: { CUSTODY_OIDC_ISSUER: issuer, CUSTODY_OIDC_CLIENT_ID: CLIENT_ID, CUSTODY_OIDC_CLIENT_SECRET: CLIENT_SECRET, CUSTODY_OIDC_DISPLAY_NAME: 'Test IdP' },
    });
    const provider = new Provider(issuer, {
      clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [`http://${server.host}/login/oidc/callback`], grant_types: ['authorization_code'], response_types: ['code'] }],
      claims: { openid: ['sub'], profile: ['preferred_username', 'groups'], email: ['email', 'email_verified'] },
      // Claims of the scopes asked for go into the ID token (Custody reads no userinfo).
      conformIdTokenClaims: false,
      features: { devInteractions: { enabled: true } },
      async findAccount(_context: unknown, sub: string) {
        return { accountId: sub, claims: async () => ({ sub, preferred_username: sub, email: `${sub}@example.test`, email_verified: true, groups: groups.get(sub) ?? [] }) };
      },
    });
    handler = provider.callback() as typeof handler;
    // The administrator's side, in the server's database: a local user named alice (never
    // taken over), an organization whose team mirrors the OIDC group "developers" with
    // write on acme/app.
    sql = new SqliteClient(join(server.dataDir, 'custody.db'));
    await migrate(sql);
    store = new SqlIdentityStore(sql);
    await store.createAccount({ name: 'alice', kind: 'user', passwordHash: await hashPassword('local-alice-password') });
    const acme = await store.createAccount({ name: 'acme', kind: 'organization' });
    const devs = await store.createTeam(acme.id, 'devs', 'member');
    await store.updateTeam(devs.id, { ldapGroup: 'oidc:developers' });
    const repository = await store.ensureRepository('acme/app');
    await store.setPermission(repository.id, { kind: 'team', id: devs.id }, 'write');
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    await sql?.close();
    await server?.dispose();
    idp?.closeAllConnections();
    await new Promise((resolve) => idp?.close(resolve));
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** Through the catalog's "Log in with Test IdP" and the provider's login and consent pages. */
  async function signIn(page: Page, subject: string): Promise<void> {
    await page.goto(`http://${server.host}/login`);
    await page.click('#oidc-login');
    await page.waitForURL((url) => url.href.startsWith(issuer));
    await page.fill('input[name="login"]', subject);
    await page.fill('input[name="password"]', 'anything');
    await page.click('button[type="submit"]');
    // The consent page (first login of the client) asks once more.
    while (page.url().startsWith(issuer)) {
      await page.click('button[type="submit"]');
      await page.waitForLoadState();
    }
    await page.waitForURL((url) => url.href.startsWith(`http://${server.host}/`));
  }

  it('logs in through the provider, maps the group to a team, and the catalog\'s token pushes with podman until the group is removed', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`http://${server.host}/login`);
    assert.equal((await page.textContent('#oidc-login'))?.trim(), 'Log in with Test IdP');
    await signIn(page, 'alice');
    // Provisioned by issuer + subject: the local alice is not taken over.
    const provisioned = await store.findAccount('alice-2');
    assert.ok(provisioned, 'the OIDC user gets an account of its own');
    assert.ok(await page.isVisible('text=alice-2'), 'the catalog shows the OIDC user logged in');
    assert.deepEqual((await store.teamsOf(provisioned.id)).map((team) => `${team.organization}/${team.name}`), ['acme/devs']);
    assert.deepEqual((await store.teamsOf((await store.findAccount('alice'))!.id)), []);

    // A personal access token from the catalog: the CLI secret for podman and skopeo.
    await page.goto(`http://${server.host}/settings/tokens`);
    await page.fill('#token-name', 'podman');
    await page.click('text=Create token');
    const token = (await page.textContent('#new-token'))!.trim();
    assert.match(token, /^cst_pat_/);
    await page.screenshot({ path: join(work, 'tokens.png') });
    const login = await podmanRun(['login', '--tls-verify=false', '--username', 'alice-2', '--password', token, server.host]);
    assert.equal(login.code, 0, explain(login));
    const pushed = await push('acme/app:1');
    assert.equal(pushed.code, 0, explain(pushed));

    // The provider drops alice from "developers"; her next sign-in syncs it, and the same
    // token no longer pushes.
    groups.set('alice', ['everyone']);
    const again = await browser.newContext();
    await signIn(await again.newPage(), 'alice');
    assert.equal((await store.findAccount('alice-2'))!.id, provisioned.id, 'the same identity signs in to the same account');
    assert.deepEqual(await store.teamsOf(provisioned.id), []);
    const refused = await push('acme/app:2');
    assert.notEqual(refused.code, 0, 'pushing after the group was removed must fail');
    assert.match(refused.stderr, /403 \(Forbidden\)|denied/i);
    await context.close();
    await again.close();
  });

  it('a callback that did not start in this browser is a readable error page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const response = await page.goto(`http://${server.host}/login/oidc/callback?code=forged&state=forged`);
    assert.equal(response?.status(), 403);
    assert.match(await page.textContent('body') ?? '', /sign-in expired or did not start here/);
    await context.close();
  });
});
