// Logging in to the web catalog over plain HTTP (what a browser does, without one): an
// LDAP user of a real slapd logs in through the registry's Authenticator, forms need their
// CSRF token, wrong passwords are refused and the login throttle applies, logout ends the
// session.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCustody, type CustodyServer } from './support/custody-server.ts';
import { LDAP_PEOPLE, startSlapd, type Slapd } from './support/slapd.ts';

interface Browserish {
  cookies: Map<string, string>;
}

function cookieHeader(jar: Browserish): string {
  return [...jar.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
}

function remember(jar: Browserish, response: Response): void {
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const eq = pair!.indexOf('=');
    const value = pair!.slice(eq + 1);
    if (value === '' || /Max-Age=0/.test(line)) jar.cookies.delete(pair!.slice(0, eq));
    else jar.cookies.set(pair!.slice(0, eq), value);
  }
}

describe('web login', () => {
  let slapd: Slapd;
  let server: CustodyServer;

  before(async () => {
    slapd = await startSlapd({ users: [{ uid: 'alice', password: 'alice-secret', mail: 'alice@custody.test' }] });
    server = await startCustody({
      auth: true,
      env: { CUSTODY_LDAP_URL: slapd.url, CUSTODY_LDAP_BIND_DN: slapd.serviceDn, CUSTODY_LDAP_BIND_PASSWORD: slapd.servicePassword, CUSTODY_LDAP_USER_BASE: LDAP_PEOPLE, CUSTODY_AUTH_LOGIN_MAX_FAILURES: '3' },
    });
  });
  after(async () => {
    await server?.dispose();
    await slapd?.dispose();
  });

  async function get(jar: Browserish, path: string): Promise<Response> {
    const response = await fetch(`${server.url}${path}`, { headers: { cookie: cookieHeader(jar) }, redirect: 'manual' });
    remember(jar, response);
    return response;
  }

  async function post(jar: Browserish, path: string, form: Record<string, string>): Promise<Response> {
    const response = await fetch(`${server.url}${path}`, { method: 'POST', body: new URLSearchParams(form), headers: { cookie: cookieHeader(jar), 'content-type': 'application/x-www-form-urlencoded' }, redirect: 'manual' });
    remember(jar, response);
    return response;
  }

  async function csrfOf(response: Response): Promise<string> {
    const found = /name="csrf" value="([^"]+)"/.exec(await response.text());
    assert.ok(found, 'the form carries a CSRF token');
    return found[1]!;
  }

  it('an LDAP user logs in, sees their settings, and logs out', async () => {
    const jar: Browserish = { cookies: new Map() };
    const csrf = await csrfOf(await get(jar, '/login'));
    // Without the token the form is refused.
    assert.equal((await post(jar, '/login', { username: 'alice', password: 'alice-secret' })).status, 403);
    const wrong = await post(jar, '/login', { csrf, username: 'alice', password: 'nope' });
    assert.equal(wrong.status, 401);
    assert.match(await wrong.text(), /Incorrect username or password/);
    const done = await post(jar, '/login', { csrf, username: 'alice', password: 'alice-secret', next: '/settings/tokens' });
    assert.equal(done.status, 303);
    assert.equal(done.headers.get('location'), '/settings/tokens');
    assert.ok(jar.cookies.has('custody_session'));
    const settings = await get(jar, '/settings/tokens');
    assert.equal(settings.status, 200);
    const page = await settings.text();
    assert.match(page, /href="\/settings\/tokens">alice</);
    const logoutToken = /name="csrf" value="([^"]+)"/.exec(page)![1]!;
    assert.notEqual(logoutToken, csrf, 'the session has its own CSRF token');
    assert.equal((await post(jar, '/logout', { csrf: logoutToken })).status, 303);
    assert.equal((await get(jar, '/settings/tokens')).headers.get('location'), '/login?next=/settings/tokens');
  });

  it('a path with no page is the catalog\'s 404 page for a browser, the error envelope for other clients', async () => {
    const page = await fetch(`${server.url}/no/such/page`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    assert.equal(page.status, 404);
    assert.match(page.headers.get('content-type')!, /^text\/html/);
    assert.match(await page.text(), /<h1[^>]*>Not found<\/h1>/);
    const api = await fetch(`${server.url}/no/such/page`);
    assert.equal(api.status, 404);
    assert.equal(((await api.json()) as { errors: { code: string }[] }).errors[0]!.code, 'NOT_FOUND');
  });

  it('repeated failures meet the login throttle; an open redirect is refused', async () => {
    const jar: Browserish = { cookies: new Map() };
    const csrf = await csrfOf(await get(jar, '/login'));
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(jar, '/login', { csrf, username: 'mallory', password: `guess-${i}` })).status);
    assert.deepEqual(statuses, [401, 401, 401, 429]);
    const jar2: Browserish = { cookies: new Map() };
    const csrf2 = await csrfOf(await get(jar2, '/login'));
    const redirected = await post(jar2, '/login', { csrf: csrf2, username: 'alice', password: 'alice-secret', next: '//evil.example/' });
    assert.equal(redirected.headers.get('location'), '/');
  });
});
