// Cross-repository mounts under token authentication, against a real `custody serve`:
// the 401 challenge for `POST /v2/<name>/blobs/uploads/?mount=&from=` names the source's
// pull scope as well (Distribution's behaviour), so a client that follows the challenge
// gets a token that covers both and a 201 mount. A caller who may not read the source
// still gets a plain upload (202), the same as for a source that does not exist.
// Driven by curl following the challenge, Custody's RegistryClient and skopeo.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_PASSWORD, startCustody, type CustodyServer } from './support/custody-server.ts';
import { basic } from './support/access-fixtures.ts';
import { buildLargeImageLayout, type LargeImageLayout } from './support/images.ts';
import { containersConfig, http, requireTool, runOk, waitFor, type HttpResult } from './support/tools.ts';
import { RegistryClient } from '../src/client/registry-client/index.ts';

const ADMIN = { username: 'admin', secret: ADMIN_PASSWORD };
const BOB = { username: 'bob', secret: 'bob-password-1234' };

interface Challenge {
  readonly realm: string;
  readonly service: string;
  readonly scope: string;
  readonly error?: string;
}

function parseChallenge(response: HttpResult): Challenge {
  const value = String(response.headers['www-authenticate'] ?? '');
  assert.match(value, /^Bearer /, `a Bearer challenge, got "${value}"`);
  const params = Object.fromEntries([...value.matchAll(/(\w+)="([^"]*)"/g)].map((match) => [match[1]!, match[2]!]));
  return params as unknown as Challenge;
}

/** What a client that follows the challenge does: a token for exactly the scopes it names. */
async function tokenFor(challenge: Challenge, credentials: { username: string; secret: string }): Promise<string> {
  const url = new URL(challenge.realm);
  url.searchParams.set('service', challenge.service);
  for (const scope of challenge.scope.split(' ')) url.searchParams.append('scope', scope);
  const response = await http(url.toString(), { headers: { Authorization: basic(credentials.username, credentials.secret) } });
  assert.equal(response.status, 200, response.body.toString());
  return response.json<{ token: string }>()!.token;
}

function mountUrl(server: CustodyServer, target: string, digest: string, from: string): string {
  return `${server.url}/v2/${target}/blobs/uploads/?mount=${digest}&from=${from}`;
}

/** curl -i: the status and headers of the (last) response. */
async function curl(args: readonly string[]): Promise<HttpResult> {
  const result = await runOk(requireTool('curl'), ['-s', '-i', '--max-time', '30', ...args]);
  const head = result.stdout.slice(0, result.stdout.indexOf('\r\n\r\n'));
  const [statusLine, ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const body = Buffer.from(result.stdout.slice(head.length + 4));
  return { status: Number(statusLine!.split(' ')[1]), headers, body, json: <T>() => JSON.parse(body.toString()) as T };
}

/** POST the mount with curl as a challenge-following client: unauthenticated, then with the token the challenge asked for. */
async function mountFollowingChallenge(server: CustodyServer, target: string, digest: string, from: string, credentials: { username: string; secret: string }): Promise<{ challenge: Challenge; response: HttpResult }> {
  const first = await curl(['-X', 'POST', mountUrl(server, target, digest, from)]);
  assert.equal(first.status, 401);
  const challenge = parseChallenge(first);
  const token = await tokenFor(challenge, credentials);
  const response = await curl(['-X', 'POST', '-H', `Authorization: Bearer ${token}`, mountUrl(server, target, digest, from)]);
  return { challenge, response };
}

describe('cross-repository mounts under token auth', () => {
  let server: CustodyServer;
  let image: LargeImageLayout;
  let work: string;
  let skopeoBin: string;

  before(async () => {
    skopeoBin = requireTool('skopeo');
    work = await mkdtemp(join(tmpdir(), 'custody-mount-'));
    server = await startCustody({ auth: true });
    const created = await http(`${server.url}/api/v1/users`, {
      method: 'POST',
      headers: { Authorization: basic(ADMIN.username, ADMIN.secret), 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: BOB.username, password: BOB.secret }),
    });
    assert.equal(created.status, 201, created.body.toString());
    image = await buildLargeImageLayout(join(work, 'layout'), 1, 'v1');
    const config = await containersConfig(join(work, 'containers'));
    await runOk(skopeoBin, ['--policy', config.policy, 'copy', '--dest-tls-verify=false', '--dest-creds', `${ADMIN.username}:${ADMIN.secret}`, image.ref, `docker://${server.host}/admin/src:v1`], { env: config.env });
  });
  after(async () => {
    await server?.dispose();
    await rm(work, { recursive: true, force: true });
  });

  it('the challenge names the source\'s pull scope; its token mounts (201), and the action log records the mount', async () => {
    const since = Date.now();
    const { challenge, response } = await mountFollowingChallenge(server, 'admin/dst', image.layerDigest, 'admin/src', ADMIN);
    assert.deepEqual(challenge.scope.split(' ').sort(), ['repository:admin/dst:pull,push', 'repository:admin/src:pull']);
    assert.equal(response.status, 201, response.body.toString());
    assert.equal(response.headers['docker-content-digest'], image.layerDigest);
    assert.equal((await http(`${server.url}/v2/admin/dst/blobs/${image.layerDigest}`, { method: 'HEAD', headers: { Authorization: basic(ADMIN.username, ADMIN.secret) } })).status, 200);
    const logged = await waitFor('the mount in the action log', async () => {
      const logs = await http(`${server.url}/api/v1/logs?kind=mount&repository=admin/dst`, { headers: { Authorization: basic(ADMIN.username, ADMIN.secret) } });
      const entries = logs.json<{ entries: { time: string; detail?: { from?: string } }[] }>()?.entries ?? [];
      return entries.find((entry) => Date.parse(entry.time) >= since - 1000 && entry.detail?.from === 'admin/src');
    }, 10_000);
    assert.ok(logged);
  });

  it('a token that never asked for the source is challenged again for it (insufficient_scope), then mounts', async () => {
    const target = await tokenFor({ realm: `${server.url}/auth/token`, service: 'custody', scope: 'repository:admin/dst2:pull,push' }, ADMIN);
    const refused = await http(mountUrl(server, 'admin/dst2', image.layerDigest, 'admin/src'), { method: 'POST', headers: { Authorization: `Bearer ${target}` } });
    assert.equal(refused.status, 401);
    const challenge = parseChallenge(refused);
    assert.equal(challenge.error, 'insufficient_scope');
    assert.ok(challenge.scope.split(' ').includes('repository:admin/src:pull'), challenge.scope);
    const both = await tokenFor(challenge, ADMIN);
    const mounted = await http(mountUrl(server, 'admin/dst2', image.layerDigest, 'admin/src'), { method: 'POST', headers: { Authorization: `Bearer ${both}` } });
    assert.equal(mounted.status, 201);
  });

  it('a caller who may not read the source gets a plain upload (202), exactly as for a source that does not exist', async () => {
    const hidden = await mountFollowingChallenge(server, 'bob/dst', image.layerDigest, 'admin/src', BOB);
    const missing = await mountFollowingChallenge(server, 'bob/dst', image.layerDigest, 'admin/nothing-here', BOB);
    for (const { response } of [hidden, missing]) {
      assert.equal(response.status, 202, response.body.toString());
      assert.match(String(response.headers.location), /^\/v2\/bob\/dst\/blobs\/uploads\/[0-9a-f-]+$/);
      assert.equal(response.headers.range, '0-0');
      assert.equal(response.headers['docker-content-digest'], undefined);
    }
    assert.deepEqual(Object.keys(hidden.response.headers).sort(), Object.keys(missing.response.headers).sort());
    assert.equal((await http(`${server.url}/v2/bob/dst/blobs/${image.layerDigest}`, { method: 'HEAD', headers: { Authorization: basic(BOB.username, BOB.secret) } })).status, 404);
  });

  it('Custody\'s RegistryClient mounts across repositories with token auth', async () => {
    const client = new RegistryClient({ registry: server.host, insecure: true, credentials: async () => ({ username: ADMIN.username, password: ADMIN.secret }), retry: { attempts: 2, baseDelayMs: 10 } });
    try {
      assert.equal(await client.mountBlob('admin/dst3', image.configDigest, 'admin/src'), true);
    } finally {
      client.close();
    }
  });

  it('skopeo copies between two repositories by mounting the layer: its bytes never cross the wire again', async () => {
    const config = await containersConfig(join(work, 'containers-copy'));
    const metrics = async (): Promise<string> => (await http(`${server.url}/metrics`)).body.toString();
    const uploadedBytes = (text: string): number => Number(/^custody_http_request_bytes_total\{route="blob_upload"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    const before = uploadedBytes(await metrics());
    const since = Date.now();
    // The first copy (into admin/src) told skopeo's blob-info cache where the layer is.
    // skopeo writes the small config blob without trying to reuse it, by design.
    await runOk(skopeoBin, ['--policy', config.policy, 'copy', '--src-tls-verify=false', '--dest-tls-verify=false', '--src-creds', `${ADMIN.username}:${ADMIN.secret}`, '--dest-creds', `${ADMIN.username}:${ADMIN.secret}`, `docker://${server.host}/admin/src:v1`, `docker://${server.host}/admin/copy:v1`], { env: config.env });
    const sent = uploadedBytes(await metrics()) - before;
    assert.ok(sent < image.layerSize, `${sent} bytes uploaded: the ${image.layerSize}-byte layer was sent again`);
    await waitFor('the layer mounted in the action log', async () => {
      const logs = await http(`${server.url}/api/v1/logs?kind=mount&repository=admin/copy`, { headers: { Authorization: basic(ADMIN.username, ADMIN.secret) } });
      const entries = logs.json<{ entries: { time: string; digest?: string; detail?: { from?: string } }[] }>()?.entries ?? [];
      return entries.some((entry) => Date.parse(entry.time) >= since - 1000 && entry.digest === image.layerDigest && entry.detail?.from === 'admin/src') || undefined;
    }, 10_000);
    const copied = await http(`${server.url}/v2/admin/copy/manifests/v1`, { method: 'HEAD', headers: { Authorization: basic(ADMIN.username, ADMIN.secret), Accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(copied.status, 200);
  });
});
