// A bounded fuzz of the registry's edge, against a real `custody serve` on SQLite and on
// PostgreSQL: a few thousand generated requests over repository names, digests, tags,
// Range headers, query parameters (n, last, artifactType, mount, from), credentials,
// management and action-log inputs, and mutations of valid manifests. Whatever the input,
// the answer is never a 5xx, nothing is logged as an error, and the server stays healthy.
// The generator is seeded (CUSTODY_FUZZ_SEED, printed) so a failure replays exactly.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { ADMIN_PASSWORD, startCustody, type CustodyServer } from './support/custody-server.ts';
import { createTestDatabase, type TestDatabase } from './support/postgres.ts';
import { basic } from './support/access-fixtures.ts';
import { sha256, tarWithFile } from './support/images.ts';
import { http } from './support/tools.ts';
import { FuzzInput, headerSafe, mutateManifest, type Fixture } from './support/fuzz-input.ts';

const SEED = Number(process.env.CUSTODY_FUZZ_SEED ?? 0x5eed_2026);
const CASES = Number(process.env.CUSTODY_FUZZ_CASES ?? 2000);
const CONCURRENCY = 6;
const ADMIN = basic('admin', ADMIN_PASSWORD);

interface FuzzRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: Buffer;
}

interface Outcome {
  readonly request: FuzzRequest;
  readonly status: number;
  readonly body: string;
  readonly location?: string | undefined;
}

function send(agent: Agent, port: number, request: FuzzRequest): Promise<Outcome> {
  return new Promise((resolve) => {
    // Only what an HTTP client can send: Node refuses control characters in headers.
    const headers: Record<string, string | number> = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, headerSafe(value)]));
    if (request.body) headers['Content-Length'] = request.body.length;
    const req = httpRequest({ host: '127.0.0.1', port, method: request.method, path: request.path, headers, agent, timeout: 30_000 }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('end', () => resolve({ request, status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8').slice(0, 300), location: res.headers.location }));
      res.on('error', (error) => resolve({ request, status: 0, body: `response error: ${error.message}` }));
    });
    // A dropped connection is a failure too (status 0): the server must answer everything.
    req.on('error', (error) => resolve({ request, status: 0, body: `request error: ${error.message}` }));
    req.on('timeout', () => req.destroy(new Error('no answer within 30 s')));
    req.end(request.body);
  });
}

/** One generated case: a request or a short sequence (an upload's steps). */
function generate(input: FuzzInput, fixture: Fixture): FuzzRequest[] {
  const auth = (): Record<string, string> => (input.chance(0.92) ? { Authorization: ADMIN } : input.authorization());
  const v2 = (name: string, rest: string): string => `/v2/${input.pathSafe(name)}/${rest}`;
  const name = (): string => input.repositoryName();
  switch (input.int(14)) {
    case 0:
    case 1: {
      const reference = input.chance(0.5) ? input.tag() : input.digest(fixture);
      return [{ method: input.pick(['GET', 'HEAD', 'GET']), path: v2(name(), `manifests/${input.pathSafe(reference)}`), headers: { ...auth(), Accept: input.pick(['*/*', 'application/vnd.oci.image.manifest.v1+json', input.mediaType()]) } }];
    }
    case 2:
    case 3:
    case 4: {
      const manifest = mutateManifest(input, fixture);
      const reference = input.chance(0.8) ? input.tag() : input.chance(0.5) ? sha256(manifest.body) : input.digest(fixture);
      const repository = input.chance(0.8) ? 'admin/fuzz' : name();
      return [{ method: 'PUT', path: v2(repository, `manifests/${input.pathSafe(reference)}`), headers: { ...auth(), 'Content-Type': manifest.contentType }, body: manifest.body }];
    }
    case 5: {
      const repository = input.chance(0.7) ? 'admin/app' : name();
      const headers: Record<string, string> = { ...auth() };
      if (input.chance(0.8)) headers.Range = input.range();
      if (input.chance(0.1)) headers['If-None-Match'] = `"${input.digest(fixture)}"`;
      return [{ method: input.pick(['GET', 'HEAD']), path: v2(repository, `blobs/${input.pathSafe(input.digest(fixture))}`), headers }];
    }
    case 6:
      return [{ method: 'GET', path: `${v2(input.chance(0.7) ? 'admin/app' : name(), 'tags/list')}${input.query({ n: input.pageSize(), last: input.text() })}`, headers: auth() }];
    case 7:
      return [{ method: 'GET', path: `/v2/_catalog${input.query({ n: input.pageSize(), last: input.chance(0.5) ? name() : input.text() })}`, headers: auth() }];
    case 8:
      return [{ method: 'GET', path: `${v2(input.chance(0.7) ? 'admin/app' : name(), `referrers/${input.pathSafe(input.digest(fixture))}`)}${input.query({ artifactType: input.chance(0.5) ? input.mediaType() : input.text() })}`, headers: auth() }];
    case 9: {
      // An upload's steps with hostile ranges, lengths and digests.
      const repository = input.chance(0.7) ? 'admin/uploads' : name();
      const body = input.bytes();
      const start = `/v2/${input.pathSafe(repository)}/blobs/uploads/`;
      const steps: FuzzRequest[] = [{ method: 'POST', path: start, headers: auth() }];
      const id = input.chance(0.9) ? '{upload}' : input.pathSafe(input.text());
      steps.push({ method: input.pick(['PATCH', 'PATCH', 'GET', 'DELETE']), path: `${start}${id}`, headers: { ...auth(), 'Content-Range': input.contentRange(body.length), 'Content-Type': 'application/octet-stream' }, body });
      steps.push({ method: 'PUT', path: `${start}${id}${input.query({ digest: input.chance(0.5) ? sha256(body) : input.digest(fixture) })}`, headers: auth() });
      return steps;
    }
    case 10: {
      const body = input.bytes();
      const digest = input.chance(0.5) ? sha256(body) : input.digest(fixture);
      return [{ method: 'POST', path: `${v2(input.chance(0.7) ? 'admin/uploads' : name(), 'blobs/uploads/')}${input.query({ digest, mount: input.chance(0.3) ? input.digest(fixture) : undefined, from: input.chance(0.3) ? name() : undefined })}`, headers: auth(), body }];
    }
    case 11:
      return [{ method: 'POST', path: `${v2(input.chance(0.5) ? 'admin/mounted' : name(), 'blobs/uploads/')}${input.query({ mount: input.digest(fixture), from: input.chance(0.5) ? 'admin/app' : name() })}`, headers: auth() }];
    case 12: {
      // The management API and the action log.
      const json = { ...auth(), 'Content-Type': 'application/json' };
      return [
        input.pick([
          { method: 'GET', path: `/api/v1/users/${input.pathSafe(input.text())}`, headers: auth() },
          { method: 'GET', path: `/api/v1/repositories/${input.pathSafe(name())}`, headers: auth() },
          { method: 'GET', path: `/api/v1/organizations/${input.pathSafe(input.text())}`, headers: auth() },
          { method: 'POST', path: '/api/v1/organizations', headers: json, body: Buffer.from(JSON.stringify({ name: input.text(), description: input.text() })) },
          { method: 'PATCH', path: '/api/v1/repositories/admin/app', headers: json, body: Buffer.from(JSON.stringify({ description: input.text() })) },
          { method: 'POST', path: '/api/v1/repositories', headers: json, body: Buffer.from(input.chance(0.8) ? JSON.stringify({ name: name(), visibility: input.pick(['public', 'private', input.text()]), description: input.text() }) : input.text()) },
          { method: 'GET', path: `/api/v1/logs${input.query({ actor: input.text(), repository: input.text(), kind: input.pick(['push', 'pull', input.text()]), since: input.text(), limit: input.pageSize(), cursor: input.text() })}`, headers: auth() },
        ]),
      ];
    }
    default:
      return [{ method: input.pick(['GET', 'POST']), path: `/auth/token${input.query({ service: input.pick(['custody', input.text()]), scope: input.chance(0.7) ? `repository:${name()}:${input.pick(['pull', 'push,pull', '*', input.text()])}` : input.text(), offline_token: input.pick(['true', undefined]) })}`, headers: auth() }];
  }
}

async function pushFixture(server: CustodyServer): Promise<Fixture> {
  const post = async (repository: string, content: Buffer): Promise<string> => {
    const digest = sha256(content);
    const response = await http(`${server.url}/v2/${repository}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: content, headers: { Authorization: ADMIN } });
    assert.equal(response.status, 201, response.body.toString());
    return digest;
  };
  const put = async (repository: string, reference: string, manifest: object, mediaType: string): Promise<string> => {
    const body = Buffer.from(JSON.stringify(manifest));
    const response = await http(`${server.url}/v2/${repository}/manifests/${reference}`, { method: 'PUT', body, headers: { Authorization: ADMIN, 'Content-Type': mediaType } });
    assert.equal(response.status, 201, response.body.toString());
    return sha256(body);
  };
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const layer = gzipSync(tarWithFile('hello.txt', Buffer.from('hello from the fuzz fixture\n')));
  const image = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: '', size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: '', size: layer.length }],
    annotations: { 'org.opencontainers.image.title': 'fuzz' },
  };
  const fixture: Partial<Fixture> & { blobs: string[] } = { blobs: [] };
  for (const repository of ['admin/app', 'admin/fuzz', 'admin/keep']) {
    image.config.digest = await post(repository, config);
    image.layers[0]!.digest = await post(repository, layer);
  }
  fixture.blobs.push(image.config.digest, image.layers[0]!.digest);
  const imageDigest = await put('admin/app', 'v1', image, image.mediaType);
  await put('admin/fuzz', 'v1', image, image.mediaType);
  await put('admin/keep', 'v1', image, image.mediaType);
  const index = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: image.mediaType, digest: imageDigest, size: JSON.stringify(image).length, platform: { architecture: 'amd64', os: 'linux' } }] };
  const artifact = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: 'application/vnd.custody.fuzz',
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2 },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: image.layers[0]!.digest, size: layer.length }],
    subject: { mediaType: image.mediaType, digest: imageDigest, size: JSON.stringify(image).length },
  };
  const indexDigest = await put('admin/fuzz', 'index', index, index.mediaType);
  await put('admin/fuzz', 'sbom', artifact, artifact.mediaType);
  return { blobs: fixture.blobs, manifests: [imageDigest, indexDigest], image, index, artifact };
}

function suite(engine: 'SQLite' | 'PostgreSQL'): void {
  describe(`edge fuzz on ${engine} (seed ${SEED}, ${CASES} cases)`, () => {
    let server: CustodyServer;
    let database: TestDatabase | undefined;
    let fixture: Fixture;
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

    before(async () => {
      database = engine === 'PostgreSQL' ? await createTestDatabase() : undefined;
      server = await startCustody({
        auth: true,
        // Failed logins are part of the input: no lockout may hide the rest of it. The
        // free-space threshold is not under test here.
        args: ['--auth-login-max-failures', '1000000', ...(database ? ['--database-url', database.url] : [])],
        env: { CUSTODY_STORAGE_MIN_FREE_BYTES: '0' },
      });
      fixture = await pushFixture(server);
    });
    after(async () => {
      agent.destroy();
      await server?.dispose();
      await database?.drop();
    });

    it('never answers 5xx nor drops a connection, and logs no error', async (t) => {
      t.diagnostic(`seed ${SEED} (set CUSTODY_FUZZ_SEED to replay), ${CASES} cases`);
      const input = new FuzzInput(SEED);
      const cases = Array.from({ length: CASES }, () => generate(input, fixture));
      const failures: Outcome[] = [];
      const statuses = new Map<number, number>();
      let sent = 0;
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < cases.length) {
          let upload = '';
          for (const step of cases[next++]!) {
            const request = { ...step, path: step.path.replace('{upload}', upload) };
            const outcome = await send(agent, server.port, request);
            sent++;
            statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
            if (outcome.status >= 500 || outcome.status === 0) failures.push(outcome);
            // The upload's steps go to the session the POST opened.
            const session = /\/blobs\/uploads\/([0-9a-f-]{36})$/.exec(outcome.location ?? '')?.[1];
            if (step.method === 'POST' && session) upload = session;
          }
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, () => worker()));
      t.diagnostic(`${sent} requests; statuses ${[...statuses].sort(([a], [b]) => a - b).map(([status, count]) => `${status}:${count}`).join(' ')}`);
      const shown = failures.slice(0, 10).map((failure) => `${failure.status} ${failure.request.method} ${failure.request.path} ${JSON.stringify(failure.request.headers)} body=${failure.request.body?.toString('utf8').slice(0, 200)} -> ${failure.body}`);
      assert.deepEqual(shown, [], `${failures.length} of ${sent} requests failed (seed ${SEED})`);
      const errors = server.logs.filter((line) => line.includes('"level":"error"'));
      assert.deepEqual(errors.slice(0, 5), [], `errors logged (seed ${SEED})`);
    });

    it('is still healthy and serves what it held', async () => {
      assert.equal((await http(`${server.url}/healthz`)).status, 200);
      const manifest = await http(`${server.url}/v2/admin/keep/manifests/v1`, { headers: { Authorization: ADMIN, Accept: 'application/vnd.oci.image.manifest.v1+json' } });
      assert.equal(manifest.status, 200);
      assert.equal(manifest.headers['docker-content-digest'], fixture.manifests[0]);
      assert.equal(server.process.exitCode, null);
    });
  });
}

suite('SQLite');
suite('PostgreSQL');
