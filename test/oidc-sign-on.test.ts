// OidcSignOn's checks, against a small provider of the test's own whose ID tokens the test
// shapes (signed with jose): what a certified provider never sends (a token for another
// client, from another issuer, expired, with another nonce, signed by an unknown key) is
// refused, as are a state that did not start here, a discovery document naming another
// issuer, and a disabled account; the good token provisions by issuer + subject and
// mirrors the groups claim.
import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { OidcSignOn, type PendingOidcLogin } from '../src/auth/oidc-sign-on.ts';
import { migrate } from '../src/metadata/migrations.ts';
import { SqliteClient } from '../src/metadata/sqlite-client.ts';
import { SqlIdentityStore } from '../src/metadata/sql-identity-store.ts';
import { SqlOidcIdentityStore } from '../src/metadata/identity/sql-oidc-identity-store.ts';
import { createLogger } from '../src/observability/logger.ts';

type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

const CLIENT = 'custody';
const REDIRECT = 'http://127.0.0.1:1/login/oidc/callback';

describe('OidcSignOn: the checks of the authorization code flow', () => {
  let work: string;
  let idp: Server;
  let issuer: string;
  let sql: SqliteClient;
  let store: SqlIdentityStore;
  let signOn: OidcSignOn;
  let key: SigningKey;
  let stranger: SigningKey;
  /** What the token endpoint answers next: the claims of the ID token and the key signing it. */
  let next: { claims: JWTPayload; key: SigningKey; advertisedIssuer?: string };
  let received: URLSearchParams | null = null;
  const recorded: { kind: string; result: string; actor?: { name?: string; via?: string } }[] = [];

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'custody-oidc-unit-'));
    const pair = await generateKeyPair('ES256', { extractable: true });
    key = pair.privateKey;
    stranger = (await generateKeyPair('ES256')).privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    idp = createServer((request, response) => {
      const url = new URL(request.url ?? '/', issuer);
      const json = (body: unknown): void => void response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (url.pathname === '/.well-known/openid-configuration') return json({ issuer: next.advertisedIssuer ?? issuer, authorization_endpoint: `${issuer}/auth`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks` });
      if (url.pathname === '/jwks') return json({ keys: [jwk] });
      if (url.pathname === '/token') {
        let body = '';
        request.on('data', (chunk: Buffer) => (body += chunk.toString()));
        request.on('end', () => {
          received = new URLSearchParams(body);
          void new SignJWT(next.claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(next.key).then((idToken) => json({ access_token: 'x', token_type: 'Bearer', id_token: idToken }));
        });
        return;
      }
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
    sql = new SqliteClient(join(work, 'custody.db'));
    await migrate(sql);
    store = new SqlIdentityStore(sql);
    const acme = await store.createAccount({ name: 'acme', kind: 'organization' });
    const devs = await store.createTeam(acme.id, 'devs', 'member');
    await store.updateTeam(devs.id, { ldapGroup: 'oidc:developers' });
  });

  const newSignOn = (): OidcSignOn =>
    new OidcSignOn({ issuer, clientId: CLIENT, clientSecret: 's3cret', groupsClaim: 'groups', scopes: 'openid profile', displayName: 'Test' }, store, new SqlOidcIdentityStore(sql), createLogger('error', { write: () => true }), { record: (action) => void recorded.push(action) });

  beforeEach(() => {
    next = { claims: {}, key };
    signOn = newSignOn();
  });

  after(async () => {
    await sql?.close();
    idp?.closeAllConnections();
    await new Promise((resolve) => idp?.close(resolve));
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** begin(), then the provider's answer with a token of these claims (defaults: a good one). */
  async function signIn(claims: JWTPayload, options: { state?: string; signer?: SigningKey } = {}): Promise<string> {
    const { url, pending } = await signOn.begin(REDIRECT);
    const now = Math.floor(Date.now() / 1000);
    next = { claims: { iss: issuer, aud: CLIENT, sub: 'subject-1', iat: now, exp: now + 300, nonce: pending.nonce, preferred_username: 'Dana', ...claims }, key: options.signer ?? key };
    const query = new URLSearchParams({ code: 'the-code', state: options.state ?? pending.state });
    const account = await signOn.complete(REDIRECT, query, pending as PendingOidcLogin);
    assert.equal(new URL(url).searchParams.get('code_challenge_method'), 'S256');
    return account.name;
  }

  it('provisions by issuer and subject with PKCE, and mirrors the groups claim', async () => {
    assert.equal(await signIn({ groups: ['developers'] }), 'dana');
    assert.equal(received?.get('code_verifier')?.length, 43, 'the verifier goes to the token endpoint');
    const dana = (await store.findAccount('dana'))!;
    assert.deepEqual((await store.teamsOf(dana.id)).map((team) => team.name), ['devs']);
    // Another name at the provider, same subject: the same account. Out of the group: out of the team.
    assert.equal(await signIn({ preferred_username: 'renamed', groups: [] }), 'dana');
    assert.deepEqual(await store.teamsOf(dana.id), []);
    assert.deepEqual(recorded.slice(-1).map((action) => [action.kind, action.result, action.actor?.name, action.actor?.via]), [['login', 'success', 'dana', 'oidc']], 'the action log has the login');
  });

  it('refuses tokens for another client, from another issuer, expired, with another nonce or an unknown key', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const [what, claims, signer] of [
      ['audience', { aud: 'someone-else' }, key],
      ['issuer', { iss: 'https://evil.example.test' }, key],
      ['expiry', { exp: now - 600, iat: now - 900 }, key],
      ['nonce', { nonce: 'not-the-one' }, key],
      ['key', {}, stranger],
    ] as const) {
      await assert.rejects(signIn({ sub: `refused-${what}`, ...claims }, { signer }), /ID token/, what);
    }
    await assert.rejects(signIn({ sub: 'refused-state' }, { state: 'x'.repeat(43) }), /did not start here/);
    assert.equal(recorded.at(-1)?.result, 'failure');
  });

  it('refuses a disabled account and a discovery document naming another issuer', async () => {
    await signIn({ sub: 'to-disable', preferred_username: 'erin' });
    await store.updateAccount((await store.findAccount('erin'))!.id, { disabled: true });
    await assert.rejects(signIn({ sub: 'to-disable' }), /disabled/);
    next = { claims: {}, key, advertisedIssuer: 'https://elsewhere.example.test' };
    await assert.rejects(newSignOn().begin(REDIRECT), /misconfigured/);
  });
});
