// The registry client against Debian's docker-registry (CNCF Distribution) with
// authentication: htpasswd Basic auth over TLS from a test CA, and the Docker token
// flow with JWTs from a test token server trusted through `rootcertbundle`.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { RegistryClient, RegistryClientError, type Credentials } from '../src/client/registry-client/index.ts';
import { digestOf } from '../src/core/digest.ts';
import { EMPTY_JSON_CONTENT, EMPTY_JSON_DIGEST, MediaType } from '../src/core/media-types.ts';
import { createTestCa, type TestCa } from './support/tls-ca.ts';
import { httpsStatus } from './support/tls-ca.ts';
import { startTokenServer, type TokenServer } from './support/token-server.ts';
import { http, requireTool, runOk } from './support/tools.ts';
import { startDistribution, type DistributionRegistry } from './support/distribution-registry.ts';

type SecureRegistry = DistributionRegistry;

/** docker-registry with extra configuration (auth, TLS); `ready` tells when it serves. */
function startSecureDistribution(extraConfig: (host: string, dir: string) => Promise<string[]>, ready: (host: string) => Promise<boolean>): Promise<SecureRegistry> {
  return startDistribution({ extraConfig, ready });
}

const credentials = (value: Credentials | undefined) => async (): Promise<Credentials | undefined> => value;

async function pushImage(client: RegistryClient, repo: string, tag: string): Promise<{ digest: string; layer: Buffer; layerDigest: string }> {
  const layer = randomBytes(4096);
  const layerDigest = digestOf(layer);
  await client.pushBlob(repo, EMPTY_JSON_DIGEST, 2, () => Readable.from([Buffer.from(EMPTY_JSON_CONTENT)]));
  await client.pushBlob(repo, layerDigest, layer.length, () => Readable.from([layer]));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciEmpty, digest: EMPTY_JSON_DIGEST, size: 2 },
      layers: [{ mediaType: MediaType.OciLayerTar, digest: layerDigest, size: layer.length }],
    }),
  );
  const put = await client.putManifest(repo, tag, manifest, MediaType.OciManifest);
  return { digest: put.digest, layer, layerDigest };
}

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) parts.push(chunk);
  return Buffer.concat(parts);
}

let ca: TestCa;
before(async () => {
  ca = await createTestCa();
});
after(async () => {
  await ca.dispose();
});

describe('htpasswd Basic auth over TLS (docker-registry)', () => {
  let registry: SecureRegistry;
  const clients: RegistryClient[] = [];
  const make = (options: Partial<ConstructorParameters<typeof RegistryClient>[0]>): RegistryClient => {
    const client = new RegistryClient({ registry: registry.host, retry: { attempts: 2, baseDelayMs: 10 }, ...options });
    clients.push(client);
    return client;
  };

  before(async () => {
    const htpasswd = requireTool('htpasswd');
    const server = await ca.issue('registry', { server: true });
    registry = await startSecureDistribution(
      async (host, dir) => {
        const file = join(dir, 'htpasswd');
        await writeFile(file, (await runOk(htpasswd, ['-Bbn', 'alice', 's3cret'])).stdout);
        return ['http:', `  addr: ${host}`, '  tls:', `    certificate: ${server.certPath}`, `    key: ${server.keyPath}`, 'auth:', '  htpasswd:', '    realm: custody-test', `    path: ${file}`];
      },
      async (host) => (await httpsStatus(`https://${host}/v2/`, ca.cert)) === 401,
    );
  });
  after(async () => {
    for (const client of clients) client.close();
    await registry?.dispose();
  });

  test('pushes and pulls with the CA and the right password', async () => {
    const client = make({ tls: { ca: ca.cert }, credentials: credentials({ username: 'alice', password: 's3cret' }) });
    await client.checkVersion();
    const image = await pushImage(client, 'basic/app', 'v1');
    const manifest = await client.getManifest('basic/app', 'v1');
    assert.equal(manifest.digest, image.digest);
    assert.ok((await collect(await client.getBlob('basic/app', image.layerDigest))).equals(image.layer));
    assert.deepEqual(await client.listTags('basic/app'), ['v1']);
    assert.equal(client.tokenRequests, 0);
    // Chunked, through Distribution's absolute upload Locations.
    const big = randomBytes(150 * 1024);
    const pushed = await client.pushBlob('basic/app', digestOf(big), big.length, () => Readable.from([big]), { chunkSize: 40 * 1024 });
    assert.equal(pushed.chunks, 4);
    assert.ok((await collect(await client.getBlob('basic/app', digestOf(big)))).equals(big));
  });

  test('without the CA: a clear certificate error, not retried', async () => {
    const client = make({ credentials: credentials({ username: 'alice', password: 's3cret' }) });
    await assert.rejects(client.checkVersion(), (error: unknown) => {
      assert.ok(error instanceof RegistryClientError);
      assert.equal(error.code, 'TLS_CERTIFICATE');
      assert.match(error.message, /certificate/i);
      assert.match(error.message, new RegExp(registry.host.replace(/\./g, '\\.')));
      return true;
    });
    // With verification off, it works (the --tls-verify=false escape hatch).
    await make({ tls: { rejectUnauthorized: false }, credentials: credentials({ username: 'alice', password: 's3cret' }) }).checkVersion();
  });

  test('a wrong password is a clear unauthorized error', async () => {
    const client = make({ tls: { ca: ca.cert }, credentials: credentials({ username: 'alice', password: 'wrong' }) });
    await assert.rejects(client.getManifest('basic/app', 'v1'), (error: unknown) => {
      assert.ok(error instanceof RegistryClientError);
      assert.equal(error.code, 'UNAUTHORIZED');
      assert.equal(error.status, 401);
      assert.match(error.message, /^unauthorized: /);
      assert.match(error.message, /alice/);
      assert.doesNotMatch(error.message, /wrong/);
      return true;
    });
    const anonymous = make({ tls: { ca: ca.cert } });
    await assert.rejects(anonymous.listTags('basic/app'), (error: unknown) => error instanceof RegistryClientError && error.code === 'UNAUTHORIZED' && /anonymous/.test(error.message));
  });
});

describe('token auth (docker-registry + test token server)', () => {
  let registry: SecureRegistry;
  let tokens: TokenServer;
  const clients: RegistryClient[] = [];
  const make = (value: Credentials | undefined): RegistryClient => {
    const client = new RegistryClient({ registry: registry.host, insecure: true, credentials: credentials(value), retry: { attempts: 2, baseDelayMs: 10 } });
    clients.push(client);
    return client;
  };
  const alice = { username: 'alice', password: 'tok3n' };

  before(async () => {
    const signer = await ca.issue('token-signer');
    tokens = await startTokenServer({
      service: 'custody-registry',
      issuer: 'custody-test-issuer',
      key: signer.key,
      chain: [signer.cert, ca.cert],
      users: { alice: alice.password },
      refreshTokens: { 'refresh-123': 'alice' },
      expiresIn: 2,
    });
    registry = await startSecureDistribution(
      async (host) => [
        'http:',
        `  addr: ${host}`,
        'auth:',
        '  token:',
        `    realm: ${tokens.realm}`,
        '    service: custody-registry',
        '    issuer: custody-test-issuer',
        `    rootcertbundle: ${ca.certPath}`,
      ],
      async (host) => (await http(`http://${host}/v2/`, { timeoutMs: 2_000 })).status === 401,
    );
  });
  after(async () => {
    for (const client of clients) client.close();
    await registry?.dispose();
    await tokens?.close();
  });

  test('pushes with a token for pull,push and mounts with the source repository scope', async () => {
    const client = make(alice);
    tokens.requests.length = 0;
    const image = await pushImage(client, 'token/app', 'v1');
    const pushScopes = tokens.requests.map((record) => record.scopes.join(' '));
    assert.ok(pushScopes.includes('repository:token/app:pull,push'), pushScopes.join(' | '));
    assert.ok(tokens.requests.every((record) => record.authenticated && record.service === 'custody-registry'));
    tokens.requests.length = 0;
    assert.equal(await client.mountBlob('token/copy', image.layerDigest, 'token/app'), true);
    assert.deepEqual(tokens.requests.map((record) => [...record.scopes].sort()), [['repository:token/app:pull', 'repository:token/copy:pull,push']]);
    assert.equal(await client.blobExists('token/copy', image.layerDigest), true);
  });

  test('anonymous tokens pull; anonymous push is refused after one re-request', async () => {
    const client = make(undefined);
    tokens.requests.length = 0;
    const manifest = await client.getManifest('token/app', 'v1');
    assert.equal(manifest.mediaType, MediaType.OciManifest);
    assert.deepEqual(tokens.requests.map((record) => ({ authenticated: record.authenticated, scopes: record.scopes })), [{ authenticated: false, scopes: ['repository:token/app:pull'] }]);
    await assert.rejects(client.putManifest('token/app', 'v2', manifest.bytes, manifest.mediaType), (error: unknown) => {
      assert.ok(error instanceof RegistryClientError);
      assert.equal(error.code, 'UNAUTHORIZED');
      assert.match(error.message, /anonymous/);
      return true;
    });
    // The push token comes back with pull only; the registry's insufficient_scope makes the
    // client ask once more, then give up.
    assert.deepEqual(tokens.requests.slice(1).map((record) => record.scopes.join(' ')), ['repository:token/app:pull,push', 'repository:token/app:pull,push']);
  });

  test('tokens are cached per scope and refreshed before they expire', async () => {
    const client = make(alice);
    tokens.requests.length = 0;
    await client.getManifest('token/app', 'v1');
    await client.headManifest('token/app', 'v1');
    await client.listTags('token/app');
    assert.equal(tokens.requests.length, 1, 'one token for the pull scope');
    await client.blobExists('token/copy', EMPTY_JSON_DIGEST);
    assert.equal(tokens.requests.length, 2, 'another scope, another token');
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    await client.getManifest('token/app', 'v1');
    assert.equal(tokens.requests.length, 3, 'refreshed ahead of expiry');
  });

  test('a wrong password is a clear unauthorized error from the token server, without a retry loop', async () => {
    const client = make({ username: 'alice', password: 'nope' });
    tokens.requests.length = 0;
    await assert.rejects(client.getManifest('token/app', 'v1'), (error: unknown) => {
      assert.ok(error instanceof RegistryClientError);
      assert.equal(error.code, 'UNAUTHORIZED');
      assert.match(error.message, /^unauthorized: /);
      assert.match(error.message, /invalid username or password/);
      assert.doesNotMatch(error.message, /nope/);
      return true;
    });
    assert.equal(tokens.requests.length, 1);
  });

  test('an identity token uses the OAuth2 refresh-token grant and access_token', async () => {
    const client = make({ identityToken: 'refresh-123' });
    tokens.requests.length = 0;
    const manifest = await client.getManifest('token/app', 'v1');
    assert.ok(manifest.bytes.length > 0);
    assert.deepEqual(tokens.requests.map((record) => [record.method, record.account]), [['POST', 'alice']]);
  });
});
