// Crash safety: SIGKILL the server in the middle of a chunked upload, a manifest push and
// skopeo copies; after a restart on the same data directory, uploads resume from what
// was durably recorded, pushes can be redone, fsck is clean, and a partial blob is never
// served (nor one whose digest did not verify).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCustody, startCustody, type CustodyServer } from './support/custody-server.ts';
import { containersConfig, explain, http, requireTool, run, runOk, startCommand, waitFor, type ContainersConfig, type HttpResult, type RunResult } from './support/tools.ts';
import {
  buildLargeImageLayout,
  buildMultiArchLayout,
  debianLayout,
  layoutImage,
  OCI_INDEX,
  OCI_MANIFEST,
  ociRef,
  sha256,
  type LargeImageLayout,
  type MultiArchLayout,
} from './support/images.ts';

const MiB = 1024 * 1024;
const ACCEPT = [OCI_MANIFEST, OCI_INDEX, 'application/vnd.docker.distribution.manifest.v2+json'].join(', ');

function errorCode(response: HttpResult): string | undefined {
  return response.json<{ errors?: { code: string }[] }>()?.errors?.[0]?.code;
}

function rangeEnd(response: HttpResult): number {
  const range = response.headers['range'];
  assert.ok(typeof range === 'string', `a Range header (status ${response.status})`);
  const match = /^(?:bytes=)?0-(\d+)$/.exec(range);
  assert.ok(match, `Range "${range}" has the form 0-N`);
  return Number(match[1]);
}

/** Starts a request whose body is written by the caller, so it can stall mid-body. */
function openRequest(url: string, method: string, headers: Record<string, string | number>): { request: ClientRequest; response: Promise<HttpResult | Error> } {
  const request = httpRequest(url, { method, headers, agent: false });
  const response = new Promise<HttpResult | Error>((resolve) => {
    request.on('error', (error) => resolve(error));
    request.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('error', (error) => resolve(error));
      res.on('end', () => {
        const body = Buffer.concat(parts);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => undefined });
      });
    });
  });
  return { request, response };
}

describe('crash safety (SIGKILL)', () => {
  let skopeoBin: string;
  let work: string;
  let config: ContainersConfig;
  const servers: CustodyServer[] = [];
  const dataDirs: string[] = [];

  const skopeoArgs = (args: readonly string[]): string[] => ['--policy', config.policy, ...args];
  const skopeo = (args: readonly string[]): Promise<RunResult> => runOk(skopeoBin, skopeoArgs(args), { env: config.env, timeoutMs: 180_000 });

  async function newDataDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'custody-crash-'));
    dataDirs.push(dir);
    return dir;
  }

  async function start(dataDir: string, port?: number): Promise<CustodyServer> {
    let lastError: unknown;
    // The killed server's port is normally free at once; retry briefly if it is not.
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const server = await startCustody({ dataDir, ...(port === undefined ? {} : { port }) });
        servers.push(server);
        return server;
      } catch (error) {
        lastError = error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    throw lastError;
  }

  async function assertFsckClean(dataDir: string, when: string): Promise<void> {
    const result = await runCustody(['fsck', '--data-dir', dataDir]);
    assert.equal(result.code, 0, `fsck ${when} should be clean:\n${result.stdout}${result.stderr}`);
    assert.match(result.stdout, /^ok: /m);
  }

  /** SIGKILLs the server, checks the crashed store with fsck, and restarts it on the same port and data directory. */
  async function crashAndRestart(server: CustodyServer, when: string): Promise<CustodyServer> {
    await server.kill();
    assert.equal(server.process.signalCode, 'SIGKILL');
    await assertFsckClean(server.dataDir, `right after a crash ${when}`);
    return start(server.dataDir, server.port);
  }

  async function assertBlobAbsent(server: CustodyServer, repository: string, digest: string, when: string): Promise<void> {
    const get = await http(`${server.url}/v2/${repository}/blobs/${digest}`);
    assert.equal(get.status, 404, `GET blob ${when}: a partial or unverified blob must not be served`);
    assert.equal(errorCode(get), 'BLOB_UNKNOWN', `GET blob ${when}`);
    const head = await http(`${server.url}/v2/${repository}/blobs/${digest}`, { method: 'HEAD' });
    assert.equal(head.status, 404, `HEAD blob ${when}`);
  }

  /** Bytes the server has received for uploads in progress (its upload files), to time a kill. */
  async function largestUploadFile(dataDir: string): Promise<number> {
    let largest = 0;
    for (const name of await readdir(join(dataDir, 'uploads')).catch(() => [] as string[])) {
      const info = await stat(join(dataDir, 'uploads', name)).catch(() => null);
      if (info && info.size > largest) largest = info.size;
    }
    return largest;
  }

  before(async () => {
    skopeoBin = requireTool('skopeo');
    work = await mkdtemp(join(tmpdir(), 'custody-crash-work-'));
    config = await containersConfig(join(work, 'config'));
  });

  after(async () => {
    for (const server of servers) await server.kill().catch(() => {});
    for (const dir of [...dataDirs, work]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('a chunked upload killed mid-PATCH resumes from the durably recorded offset after a restart', async () => {
    const dataDir = await newDataDir();
    let server = await start(dataDir);
    const repository = 'crash/chunked';
    const blob = randomBytes(12 * MiB);
    const digest = sha256(blob);
    const chunk = 4 * MiB;

    const started = await http(`${server.url}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
    assert.equal(started.status, 202);
    const location = started.headers['location'];
    assert.ok(location, 'POST gives the upload Location');
    const uploadUrl = (s: CustodyServer): string => new URL(location, s.url).href;

    // Two chunks acknowledged.
    for (let offset = 0; offset < 2 * chunk; offset += chunk) {
      const patched = await http(uploadUrl(server), {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${offset + chunk - 1}` },
        body: blob.subarray(offset, offset + chunk),
      });
      assert.equal(patched.status, 202, `PATCH at ${offset}: ${patched.body.toString()}`);
      assert.equal(rangeEnd(patched), offset + chunk - 1);
      await assertBlobAbsent(server, repository, digest, `after ${offset + chunk} of ${blob.length} bytes`);
    }
    const acknowledged = 2 * chunk;

    // The third chunk stalls one MiB in, and the server dies while its body is streaming.
    const sentOfThird = 1 * MiB;
    const third = openRequest(uploadUrl(server), 'PATCH', {
      'Content-Type': 'application/octet-stream',
      'Content-Range': `${acknowledged}-${acknowledged + chunk - 1}`,
      'Content-Length': chunk,
    });
    third.request.write(blob.subarray(acknowledged, acknowledged + sentOfThird));
    // The server is writing the chunk once its upload data grows past what was acknowledged.
    await waitFor('the server to receive part of the third chunk', async () => (await largestUploadFile(dataDir)) > acknowledged, 10_000);
    await assertBlobAbsent(server, repository, digest, 'while a chunk is streaming');
    const during = await http(uploadUrl(server));
    assert.equal(during.status, 204);
    const duringEnd = rangeEnd(during) + 1;
    assert.ok(duringEnd >= acknowledged && duringEnd <= acknowledged + sentOfThird, `upload status while streaming: ${duringEnd} bytes`);

    await server.kill();
    const outcome = await third.response;
    assert.ok(outcome instanceof Error, 'the interrupted PATCH fails on the client');
    await assertFsckClean(dataDir, 'after a crash mid-PATCH');
    server = await start(dataDir, server.port);

    await assertBlobAbsent(server, repository, digest, 'after the crash');
    const status = await http(uploadUrl(server));
    assert.equal(status.status, 204, `upload status after restart: ${status.body.toString()}`);
    const offset = rangeEnd(status) + 1;
    assert.ok(offset >= acknowledged, `every acknowledged byte survives the crash (server has ${offset}, ${acknowledged} were acknowledged)`);
    assert.ok(offset <= acknowledged + sentOfThird, `the server cannot hold more than was sent (${offset})`);

    // Resume from the server's offset, in two PATCHes, then finish with the digest.
    const middle = offset + Math.floor((blob.length - offset) / 2);
    for (const [from, to] of [[offset, middle], [middle, blob.length]] as const) {
      const patched = await http(uploadUrl(server), {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${from}-${to - 1}` },
        body: blob.subarray(from, to),
      });
      assert.equal(patched.status, 202, `resumed PATCH ${from}-${to - 1}: ${patched.body.toString()}`);
      assert.equal(rangeEnd(patched), to - 1);
    }
    await assertBlobAbsent(server, repository, digest, 'before the closing PUT');
    const put = await http(`${uploadUrl(server)}${location.includes('?') ? '&' : '?'}digest=${digest}`, { method: 'PUT' });
    assert.equal(put.status, 201, `closing PUT: ${put.body.toString()}`);
    assert.equal(put.headers['docker-content-digest'], digest);

    const read = await http(`${server.url}/v2/${repository}/blobs/${digest}`);
    assert.equal(read.status, 200);
    assert.equal(read.body.length, blob.length);
    assert.ok(read.body.equals(blob), 'the blob reads back byte-identical');

    assert.equal(await server.stop(), 0);
    await assertFsckClean(dataDir, 'after the resumed upload');
  });

  test('a PUT with the wrong digest is 400 DIGEST_INVALID and stores nothing', async () => {
    const dataDir = await newDataDir();
    const server = await start(dataDir);
    const repository = 'crash/digests';
    const blob = randomBytes(3 * MiB + 17);
    const digest = sha256(blob);
    const wrong = sha256(Buffer.concat([blob, Buffer.from('x')]));

    // Chunked, closed with a wrong digest.
    const started = await http(`${server.url}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
    assert.equal(started.status, 202);
    const uploadUrl = new URL(started.headers['location']!, server.url).href;
    const patched = await http(uploadUrl, { method: 'PATCH', headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `0-${blob.length - 1}` }, body: blob });
    assert.equal(patched.status, 202);
    const put = await http(`${uploadUrl}?digest=${wrong}`, { method: 'PUT' });
    assert.equal(put.status, 400, `PUT with a wrong digest: ${put.body.toString()}`);
    assert.equal(errorCode(put), 'DIGEST_INVALID');

    // Chunked, with the last chunk in the PUT.
    const second = await http(`${server.url}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
    const secondUrl = new URL(second.headers['location']!, server.url).href;
    const withBody = await http(`${secondUrl}?digest=${wrong}`, { method: 'PUT', headers: { 'Content-Type': 'application/octet-stream' }, body: blob });
    assert.equal(withBody.status, 400);
    assert.equal(errorCode(withBody), 'DIGEST_INVALID');

    // Monolithic POST ?digest=.
    const monolithic = await http(`${server.url}/v2/${repository}/blobs/uploads/?digest=${wrong}`, { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: blob });
    assert.equal(monolithic.status, 400);
    assert.equal(errorCode(monolithic), 'DIGEST_INVALID');

    for (const candidate of [digest, wrong]) await assertBlobAbsent(server, repository, candidate, `${candidate === digest ? 'actual' : 'claimed'} digest after wrong-digest PUTs`);
    const anywhere = await http(`${server.url}/v2/other/blobs/uploads/?mount=${digest}`, { method: 'POST' });
    assert.equal(anywhere.status, 202, 'the content cannot be mounted from anywhere either: it was never stored');

    assert.equal(await server.stop(), 0);
    await assertFsckClean(dataDir, 'after wrong-digest uploads');
  });

  test('a manifest push killed mid-body, or right as it lands, is absent or whole; skopeo redoes it', async () => {
    const dataDir = await newDataDir();
    let server = await start(dataDir);
    const repository = 'crash/manifest';
    const image = await layoutImage(debianLayout(), 'bookworm-curl');
    // The blobs go up first (as the v0 tag), so the manifests below are complete pushes.
    await skopeo(['copy', '--dest-tls-verify=false', ociRef(debianLayout(), 'bookworm-curl'), `docker://${server.host}/${repository}:v0`]);

    // Killed while the manifest body is half sent.
    const half = openRequest(`${server.url}/v2/${repository}/manifests/v1`, 'PUT', { 'Content-Type': OCI_MANIFEST, 'Content-Length': image.content.length });
    half.request.write(image.content.subarray(0, Math.floor(image.content.length / 2)));
    await new Promise((resolve) => setTimeout(resolve, 150));
    server = await crashAndRestart(server, 'mid manifest body');
    assert.ok((await half.response) instanceof Error, 'the half-sent manifest PUT fails');
    const absent = await http(`${server.url}/v2/${repository}/manifests/v1`, { headers: { Accept: ACCEPT } });
    assert.equal(absent.status, 404, 'a half-received manifest is not stored');
    assert.equal(errorCode(absent), 'MANIFEST_UNKNOWN');

    // Killed the moment the whole manifest has been sent: it is either there, whole, or absent.
    const whole = openRequest(`${server.url}/v2/${repository}/manifests/v2`, 'PUT', { 'Content-Type': OCI_MANIFEST, 'Content-Length': image.content.length });
    const victim = server;
    whole.request.end(image.content, () => void victim.kill());
    await whole.response;
    server = await crashAndRestart(victim, 'as a manifest PUT lands');
    const landed = await http(`${server.url}/v2/${repository}/manifests/v2`, { headers: { Accept: ACCEPT } });
    if (landed.status === 200) {
      assert.ok(landed.body.equals(image.content), 'a manifest that survived the crash is whole');
      assert.equal(landed.headers['docker-content-digest'], image.digest);
    } else {
      assert.equal(landed.status, 404, `after the crash the manifest is whole or absent, not ${landed.status}`);
    }

    // The push is simply redone.
    for (const tag of ['v1', 'v2']) {
      await skopeo(['copy', '--dest-tls-verify=false', ociRef(debianLayout(), 'bookworm-curl'), `docker://${server.host}/${repository}:${tag}`]);
      const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${server.host}/${repository}:${tag}`]);
      assert.equal(sha256(raw.stdout), image.digest, `${tag} after the redone push`);
    }
    assert.equal(await server.stop(), 0);
    await assertFsckClean(dataDir, 'after redone manifest pushes');
  });

  describe('skopeo copies killed part-way', () => {
    let large: LargeImageLayout;
    let multi: MultiArchLayout;

    before(async () => {
      large = await buildLargeImageLayout(join(work, 'large'), 64);
      multi = await buildMultiArchLayout(join(work, 'multi'));
    });

    test('a 64 MiB layer killed mid-transfer: never served partial, and the copy redone succeeds', async () => {
      const dataDir = await newDataDir();
      let server = await start(dataDir);
      const repository = 'crash/large';
      const target = `docker://${server.host}/${repository}:v1`;

      const copy = startCommand(skopeoBin, skopeoArgs(['copy', '--dest-tls-verify=false', large.ref, target]), { env: config.env, timeoutMs: 180_000 });
      let copyDone = false;
      void copy.done.then(() => (copyDone = true), () => (copyDone = true));
      // Kill once the big layer is well under way but not finished.
      // (Timed by the server's upload data growing: <dataDir>/uploads/<id>.)
      const moment = await waitFor(
        'the large layer to be part-way up',
        async () => {
          if (copyDone) return 'finished' as const;
          const received = await largestUploadFile(dataDir);
          return received >= 4 * MiB && received < large.layerSize - 8 * MiB ? ('mid-transfer' as const) : undefined;
        },
        60_000,
        2,
      );
      if (moment === 'finished') assert.fail(`skopeo finished before it could be interrupted:\n${explain(await copy.done)}`);
      await assertBlobAbsent(server, repository, large.layerDigest, 'while the layer is uploading');
      server = await crashAndRestart(server, 'mid layer upload');
      const interrupted = await copy.done;
      assert.notEqual(interrupted.code, 0, `skopeo must fail when the registry dies under it:\n${explain(interrupted)}`);

      await assertBlobAbsent(server, repository, large.layerDigest, 'after the crash');
      const manifest = await http(`${server.url}/v2/${repository}/manifests/v1`, { method: 'HEAD' });
      assert.equal(manifest.status, 404, 'no manifest was stored for the interrupted copy');

      const redo = await run(skopeoBin, skopeoArgs(['copy', '--dest-tls-verify=false', large.ref, `docker://${server.host}/${repository}:v1`]), { env: config.env, timeoutMs: 180_000 });
      assert.equal(redo.code, 0, `the redone copy succeeds:\n${explain(redo)}`);
      const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${server.host}/${repository}:v1`]);
      assert.equal(sha256(raw.stdout), large.manifestDigest);
      const layer = await http(`${server.url}/v2/${repository}/blobs/${large.layerDigest}`);
      assert.equal(layer.status, 200);
      assert.equal(layer.body.length, large.layerSize);
      assert.equal(sha256(layer.body), large.layerDigest, 'the layer reads back whole');

      assert.equal(await server.stop(), 0);
      await assertFsckClean(dataDir, 'after the redone large copy');
    });

    test('a multi-arch copy --all killed at several points: fsck stays clean and the copy redone succeeds', async () => {
      const dataDir = await newDataDir();
      let server = await start(dataDir);
      const repository = 'crash/multi';
      // Kill points: once a blob has been committed (others still in flight), once a child
      // manifest has been stored (the index not yet), and at a random moment.
      type Logged = { msg?: string; method?: string; route?: string; status?: number };
      const parseLog = (line: string): Logged => {
        try {
          return JSON.parse(line) as Logged;
        } catch {
          return {};
        }
      };
      const stages: { readonly name: string; readonly killAfter: (entry: Logged) => boolean; readonly randomKill?: boolean }[] = [
        { name: 'after the first blob is committed', killAfter: (entry) => entry.route === 'blob_upload' && entry.method === 'PUT' && entry.status === 201 },
        { name: 'after the first manifest is stored', killAfter: (entry) => entry.route === 'manifest' && entry.method === 'PUT' && entry.status === 201 },
        { name: 'at a random moment', killAfter: () => false, randomKill: true },
      ];
      for (const stage of stages) {
        const seen = server.logs.length;
        const watched = server;
        const copy = startCommand(skopeoBin, skopeoArgs(['copy', '--all', '--dest-tls-verify=false', multi.ref, `docker://${server.host}/${repository}:v1`]), {
          env: config.env,
          timeoutMs: 180_000,
        });
        let copyDone = false;
        void copy.done.then(() => (copyDone = true), () => (copyDone = true));
        const deadline = stage.randomKill ? Date.now() + 20 + Math.floor(Math.random() * 150) : Infinity;
        await waitFor(
          `a kill point (${stage.name})`,
          () => copyDone || Date.now() >= deadline || watched.logs.slice(seen).some((line) => stage.killAfter(parseLog(line))),
          60_000,
          1,
        );
        server = await crashAndRestart(server, `during skopeo copy --all, ${stage.name}`);
        const result = await copy.done;
        const index = await http(`${server.url}/v2/${repository}/manifests/v1`, { headers: { Accept: ACCEPT } });
        if (result.code === 0) assert.equal(index.status, 200, 'a copy that succeeded survives the crash');
        if (index.status === 200) {
          // (The crash may come after the index is stored but before skopeo hears so.)
          assert.ok(index.body.equals(multi.indexContent), 'a stored index is whole');
        } else {
          assert.equal(index.status, 404, `the index is whole or absent, not ${index.status}`);
        }
      }

      await skopeo(['copy', '--all', '--dest-tls-verify=false', multi.ref, `docker://${server.host}/${repository}:v1`]);
      const index = await http(`${server.url}/v2/${repository}/manifests/v1`, { headers: { Accept: ACCEPT } });
      assert.equal(index.status, 200);
      assert.equal(index.headers['docker-content-digest'], multi.indexDigest);
      for (const child of multi.children) {
        const out = join(work, `crash-multi-${child.architecture}`);
        await skopeo(['copy', '--src-tls-verify=false', `docker://${server.host}/${repository}@${child.digest}`, ociRef(out, 'x')]);
        const pulled = await layoutImage(out, 'x');
        assert.equal(pulled.digest, child.digest);
      }
      assert.equal(await server.stop(), 0);
      await assertFsckClean(dataDir, 'after the redone multi-arch copy');
    });
  });
});
