// The one outbound delivery module and what sends through it besides webhooks: attempts
// bounded in time and in number, backoff with jitter that honours Retry-After, targets
// named without their secrets; the action log's HTTP forwarder in its three formats
// (JSON Lines, Elasticsearch/OpenSearch bulk, Splunk HEC) with configured token and headers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { backoffDelay, HttpDelivery, parseRetryAfter, redactedTarget, splitCredentials } from '../src/delivery/http-delivery.ts';
import { createForwarders, HttpForwarder } from '../src/audit/forwarders.ts';
import { sanitizeEntry } from '../src/audit/sanitize.ts';
import type { StoredAction } from '../src/audit/action-log-store.ts';
import { createLogger, silentLogger } from '../src/observability/logger.ts';
import { loadConfig, parseHeaderList } from '../src/config/config.ts';

const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);

function stored(id: number): StoredAction {
  return {
    id,
    ...sanitizeEntry({ kind: 'push', result: 'success', actor: { kind: 'user', name: 'alice', via: 'password' }, repository: 'acme/app', tag: 'v1', digest: `sha256:${'a'.repeat(64)}`, occurredAt: T0 + id }, 0),
  };
}

interface Seen {
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

async function serve(answer: (request: Seen, response: ServerResponse) => void): Promise<{ server: Server; url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const item = { url: request.url ?? '/', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(item);
      answer(item, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('outbound delivery', () => {
  it('bounds the requests in flight', async () => {
    let active = 0;
    let most = 0;
    const { server, url } = await serve((_request, response) => {
      active++;
      most = Math.max(most, active);
      setTimeout(() => {
        active--;
        response.writeHead(204).end();
      }, 30);
    });
    const delivery = new HttpDelivery({ concurrency: 3 });
    const results = await Promise.all(Array.from({ length: 12 }, (_, index) => delivery.post({ url, body: String(index) })));
    server.close();
    assert.ok(results.every((result) => result.ok && result.status === 204 && result.latencyMs >= 0));
    assert.equal(most, 3);
    assert.equal(delivery.inFlight, 0);
  });

  it('reports a timeout, a refusal and an error status as results, with Retry-After, never throwing', async () => {
    const { server, url } = await serve((request, response) => {
      if (request.url === '/slow') setTimeout(() => response.writeHead(204).end(), 1000);
      else response.writeHead(429, { 'retry-after': '7' }).end();
    });
    const delivery = new HttpDelivery({ timeoutMs: 100 });
    const slow = await delivery.post({ url: `${url}/slow`, body: 'x' });
    assert.deepEqual([slow.ok, slow.status, slow.error], [false, undefined, 'timed out']);
    const limited = await delivery.post({ url: `${url}/busy`, body: 'x' });
    assert.deepEqual([limited.ok, limited.status, limited.retryAfterMs, limited.error], [false, 429, 7000, 'HTTP 429']);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    const closed = await serve(() => {});
    await new Promise((resolve) => closed.server.close(resolve));
    const refused = await delivery.post({ url: closed.url, body: 'x' });
    assert.equal(refused.ok, false);
    assert.match(refused.error!, /ECONNREFUSED/);
  });

  it('backs off exponentially with jitter, up to a ceiling, honouring a longer Retry-After', () => {
    const policy = { baseMs: 1000, maxMs: 60_000 };
    assert.equal(backoffDelay(1, policy, undefined, () => 1), 1000);
    assert.equal(backoffDelay(4, policy, undefined, () => 1), 8000);
    assert.equal(backoffDelay(4, policy, undefined, () => 0), 800, 'at least a tenth of the ceiling');
    assert.equal(backoffDelay(30, policy, undefined, () => 1), 60_000);
    const spread = new Set(Array.from({ length: 20 }, () => backoffDelay(5, policy)));
    assert.ok(spread.size > 10, 'jittered');
    assert.equal(backoffDelay(1, policy, 30_000, () => 0), 30_000);
    assert.equal(backoffDelay(1, policy, 3_600_000, () => 0), 60_000, 'Retry-After is capped');
    assert.equal(parseRetryAfter('120', 0), 120_000);
    assert.equal(parseRetryAfter(new Date(T0 + 5000).toUTCString(), T0), 5000);
    assert.equal(parseRetryAfter('soon', 0), undefined);
    assert.equal(parseRetryAfter(null, 0), undefined);
  });

  it('names a target without its credentials or query', () => {
    assert.equal(redactedTarget('https://user:pa55@hooks.example:8443/services/T0/B0/secret?token=abc#x'), 'https://hooks.example:8443/services/T0/B0/secret');
    assert.equal(redactedTarget('not a url'), 'an invalid URL');
    assert.deepEqual(splitCredentials('https://u%40x:p%3Aw@c.example/in'), { url: 'https://c.example/in', authorization: `Basic ${Buffer.from('u@x:p:w').toString('base64')}` });
  });
});

describe('action log forwarding over HTTP', () => {
  it('sends Elasticsearch/OpenSearch bulk requests with an ApiKey and configured headers', async () => {
    const { server, url, seen } = await serve((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end('{"errors":false,"items":[]}'));
    const [forwarder] = createForwarders(
      { forwardUrl: `${url}/_bulk`, forwardFormat: 'elasticsearch', forwardIndex: 'audit-custody', forwardToken: 'es-key', forwardHeaders: parseHeaderList('X-Opaque-Id: custody; X-Tenant: acme') },
      silentLogger,
    );
    forwarder!.forward([stored(1), stored(2)]);
    await forwarder!.close();
    server.close();
    assert.equal(seen.length, 1);
    const request = seen[0]!;
    assert.equal(request.headers['content-type'], 'application/x-ndjson');
    assert.equal(request.headers.authorization, 'ApiKey es-key');
    assert.equal(request.headers['x-opaque-id'], 'custody');
    assert.equal(request.headers['x-tenant'], 'acme');
    assert.ok(request.body.endsWith('\n'), 'a bulk body ends with a newline');
    const lines = request.body.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, any>);
    assert.equal(lines.length, 4);
    assert.deepEqual(lines[0], { create: { _index: 'audit-custody', _id: '1' } }, 'the entry id makes a re-sent batch idempotent');
    assert.equal(lines[1]!['@timestamp'], new Date(T0 + 1).toISOString());
    assert.equal(lines[1]!.kind, 'push');
    assert.equal(lines[1]!.repository, 'acme/app');
    assert.deepEqual(lines[2], { create: { _index: 'audit-custody', _id: '2' } });
  });

  it('sends Splunk HEC events with the Splunk token, retrying after Retry-After', async () => {
    let first = true;
    const times: number[] = [];
    const { server, url, seen } = await serve((_request, response) => {
      times.push(Date.now());
      if (first) {
        first = false;
        response.writeHead(503, { 'retry-after': '1' }).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"text":"Success","code":0}');
    });
    const forwarder = new HttpForwarder({ url: `${url}/services/collector/event`, logger: silentLogger, format: 'splunk', token: 'hec-token', index: 'main', intervalMs: 10, maxBackoffMs: 5000 });
    forwarder.forward([stored(3)]);
    await until(() => forwarder.stats.sent === 1, 'the retried batch');
    await forwarder.close();
    server.close();
    assert.equal(seen.length, 2);
    assert.ok(times[1]! - times[0]! >= 900, `waited ${times[1]! - times[0]!} ms as Retry-After asked`);
    assert.equal(seen[1]!.headers.authorization, 'Splunk hec-token');
    assert.equal(seen[1]!.headers['content-type'], 'application/json');
    const event = JSON.parse(seen[1]!.body) as { time: number; host: string; source: string; sourcetype: string; index: string; event: { id: number; kind: string } };
    assert.equal(event.time, (T0 + 3) / 1000);
    assert.equal(event.sourcetype, 'custody:action');
    assert.equal(event.index, 'main');
    assert.deepEqual([event.event.id, event.event.kind], [3, 'push']);
  });

  it('never writes the token, the headers or the URL credentials in its log lines', async () => {
    const lines: string[] = [];
    const logger = createLogger('debug', { write: (line: string) => void lines.push(line) });
    const forwarder = new HttpForwarder({ url: 'http://user:url-password@127.0.0.1:9/in?sig=query-secret', logger, token: 'token-secret', headers: { 'x-api-key': 'header-secret' }, intervalMs: 1, timeoutMs: 200 });
    forwarder.forward([stored(1)]);
    await until(() => forwarder.stats.failures > 0, 'a failed attempt');
    await forwarder.close();
    const text = lines.join('');
    assert.match(text, /action log forwarding failed; retrying/);
    for (const secret of ['url-password', 'query-secret', 'token-secret', 'header-secret']) assert.ok(!text.includes(secret), `${secret} is not logged`);
  });

  it('reads the format, token and headers from the configuration and refuses bad ones', () => {
    const config = loadConfig({ env: { CUSTODY_AUDIT_FORWARD_URL: 'https://es.example/_bulk', CUSTODY_AUDIT_FORWARD_FORMAT: 'elasticsearch', CUSTODY_AUDIT_FORWARD_HEADERS: 'X-A: 1\nX-B: two words' } });
    assert.equal(config.audit.forwardFormat, 'elasticsearch');
    assert.deepEqual(parseHeaderList(config.audit.forwardHeaders!), { 'x-a': '1', 'x-b': 'two words' });
    assert.throws(() => loadConfig({ env: { CUSTODY_AUDIT_FORWARD_FORMAT: 'xml' } }), /audit.forwardFormat: expected ndjson, elasticsearch or splunk/);
    assert.throws(
      () => loadConfig({ env: { CUSTODY_AUDIT_FORWARD_HEADERS: 'Authorization Bearer sekrit' } }),
      (error: Error) => /audit.forwardHeaders: entry 1 is not "Name: value"/.test(error.message) && !error.message.includes('sekrit'),
    );
  });
});
