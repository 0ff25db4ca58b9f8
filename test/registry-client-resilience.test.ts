// The registry client through a misbehaving proxy in front of Custody: dropped
// connections mid-blob (resumed with Range), corrupted bytes (digest error), 503s and
// 429 with Retry-After (retried), a lost PATCH response (upload status re-read).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { RegistryClient, RegistryClientError } from '../src/client/registry-client/index.ts';
import { digestOf } from '../src/core/digest.ts';
import { startCustody, type CustodyServer } from './support/custody-server.ts';

interface Upstream {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

interface Seen {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
}

/** Decides what the proxy does with one request; `forward` passes it to Custody. */
type Interceptor = (req: Seen, res: ServerResponse, forward: () => Promise<Upstream>) => Promise<boolean>;

async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) parts.push(chunk);
  return Buffer.concat(parts);
}

function send(res: ServerResponse, upstream: Upstream, body = upstream.body): void {
  const headers = { ...upstream.headers };
  delete headers['transfer-encoding'];
  delete headers.connection;
  delete headers['keep-alive'];
  res.writeHead(upstream.status, { ...headers, 'content-length': String(body.length) });
  res.end(body);
}

/** A proxy in front of `target`; `intercept` may answer a request itself (returning true). */
async function startProxy(target: URL, holder: { intercept?: Interceptor }): Promise<{ url: string; requests: Seen[]; server: Server }> {
  const requests: Seen[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readAll(req);
      const seen = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers };
      requests.push(seen);
      const forward = (): Promise<Upstream> =>
        new Promise((resolve, reject) => {
          const headers = { ...req.headers, host: target.host };
          const upstream = request(new URL(seen.path, target), { method: seen.method, headers, agent: false }, (response) => {
            readAll(response).then((content) => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: content }), reject);
          });
          upstream.on('error', reject);
          upstream.end(body);
        });
      if (holder.intercept !== undefined && (await holder.intercept(seen, res, forward))) return;
      send(res, await forward());
    })().catch((error: unknown) => {
      res.destroy(error as Error);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server };
}

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) parts.push(chunk);
  return Buffer.concat(parts);
}

describe('registry client resilience', () => {
  let server: CustodyServer;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  const holder: { intercept?: Interceptor } = {};
  let client: RegistryClient;
  const data = randomBytes(512 * 1024);
  const digest = digestOf(data);
  const repo = 'resilience/repo';
  const blobPath = `/v2/${repo}/blobs/${digest}`;

  before(async () => {
    server = await startCustody();
    proxy = await startProxy(new URL(server.url), holder);
    client = new RegistryClient({ registry: proxy.url, retry: { attempts: 4, baseDelayMs: 20, maxDelayMs: 2_000 } });
    await client.pushBlob(repo, digest, data.length, () => Readable.from([data]));
  });
  after(async () => {
    client.close();
    proxy.server.closeAllConnections();
    await new Promise((resolve) => proxy.server.close(resolve));
    await server.dispose();
  });

  const reset = (intercept?: Interceptor): void => {
    if (intercept === undefined) delete holder.intercept;
    else holder.intercept = intercept;
    proxy.requests.length = 0;
  };

  test('a connection cut mid-blob is resumed with a Range request', async () => {
    let cut = false;
    reset(async (req, res, forward) => {
      if (req.method !== 'GET' || req.path !== blobPath || cut) return false;
      cut = true;
      const upstream = await forward();
      const headers = { ...upstream.headers };
      delete headers['transfer-encoding'];
      res.writeHead(200, { ...headers, 'content-length': String(upstream.body.length) });
      res.write(upstream.body.subarray(0, 200_000), () => setTimeout(() => res.socket?.destroy(), 20));
      return true;
    });
    const reader = await client.getBlob(repo, digest);
    const read = await collect(reader);
    assert.ok(read.equals(data), 'resumed bytes verify');
    assert.equal(reader.resumes, 1);
    const blobGets = proxy.requests.filter((seen) => seen.path === blobPath);
    assert.equal(blobGets.length, 2);
    assert.equal(blobGets[0]!.headers.range, undefined);
    assert.match(String(blobGets[1]!.headers.range), /^bytes=\d+-$/);
    const offset = Number(/bytes=(\d+)-/.exec(String(blobGets[1]!.headers.range))![1]);
    assert.ok(offset > 0 && offset <= 200_000, `resumed at ${offset}`);
  });

  test('a corrupted byte fails the download with a digest error', async () => {
    reset(async (req, res, forward) => {
      if (req.method !== 'GET' || req.path !== blobPath) return false;
      const upstream = await forward();
      const body = Buffer.from(upstream.body);
      body[1234] = body[1234]! ^ 0xff;
      send(res, upstream, body);
      return true;
    });
    const reader = await client.getBlob(repo, digest);
    await assert.rejects(collect(reader), (error: unknown) => {
      assert.ok(error instanceof RegistryClientError);
      assert.equal(error.code, 'DIGEST_MISMATCH');
      assert.match(error.message, /digest mismatch/);
      assert.match(error.message, new RegExp(digest));
      return true;
    });
  });

  test('503 twice, then the request passes', async () => {
    let failures = 0;
    reset(async (req, res) => {
      if (req.path !== blobPath || failures >= 2) return false;
      failures++;
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'try later' }] }));
      return true;
    });
    assert.equal(await client.blobExists(repo, digest), true);
    assert.equal(proxy.requests.filter((seen) => seen.path === blobPath).length, 3);
  });

  test('429 with Retry-After is honoured', async () => {
    let limited = false;
    reset(async (req, res) => {
      if (req.path !== blobPath || limited) return false;
      limited = true;
      res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down' }] }));
      return true;
    });
    const started = Date.now();
    assert.equal(await client.blobExists(repo, digest), true);
    assert.ok(Date.now() - started >= 950, `waited ${Date.now() - started} ms`);
  });

  test('retries are bounded: persistent 503 surfaces the registry error', async () => {
    reset(async (req, res) => {
      if (!req.path.startsWith('/v2/resilience/repo/manifests/')) return false;
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'down for maintenance' }] }));
      return true;
    });
    await assert.rejects(client.getManifest(repo, 'latest'), (error: unknown) => {
      assert.ok(error instanceof RegistryClientError);
      assert.equal(error.code, 'UNAVAILABLE');
      assert.equal(error.status, 503);
      assert.match(error.message, /down for maintenance/);
      return true;
    });
    assert.equal(proxy.requests.length, 4);
  });

  test('a dropped connection on an idempotent request is retried', async () => {
    let dropped = false;
    reset(async (req, res) => {
      if (req.path !== blobPath || dropped) return false;
      dropped = true;
      res.socket?.destroy();
      return true;
    });
    assert.equal(await client.blobExists(repo, digest), true);
    assert.equal(dropped, true);
  });

  test('a lost PATCH response or a 416 makes the upload re-read its status and continue', async () => {
    const big = randomBytes(200 * 1024);
    const bigDigest = digestOf(big);
    let patches = 0;
    reset(async (req, res, forward) => {
      if (req.method !== 'PATCH') return false;
      patches++;
      if (patches === 2) {
        // The registry takes the chunk, but the client never hears back.
        await forward();
        res.socket?.destroy();
        return true;
      }
      if (patches === 4) {
        // The registry takes the chunk, and the client is told 416.
        await forward();
        res.writeHead(416, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 'RANGE_INVALID', message: 'range mismatch' }] }));
        return true;
      }
      return false;
    });
    const result = await client.pushBlob('resilience/upload', bigDigest, big.length, () => Readable.from([big]), { chunkSize: 50 * 1024 });
    assert.equal(result.digest, bigDigest);
    assert.equal(proxy.requests.filter((seen) => seen.method === 'GET' && seen.path.includes('/blobs/uploads/')).length, 2, 'two status checks');
    reset();
    assert.ok((await collect(await client.getBlob('resilience/upload', bigDigest))).equals(big));
  });
});
