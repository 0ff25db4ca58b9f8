// Hostile connections against a real `custody serve`: request bodies that stall (answered
// 408 and closed after limits.bodyIdleTimeout, the upload kept resumable), bodies that are
// slow but alive (never cut), and more connections from one address than
// limits.maxConnectionsPerAddress allows (closed on arrival, counted, logged).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { startCustody, type CustodyServer } from './support/custody-server.ts';
import { http, waitFor } from './support/tools.ts';
import { sha256 } from './support/images.ts';

interface RawExchange {
  /** Everything the server sent before it closed the connection. */
  readonly text: string;
  readonly closedAfterMs: number;
}

/** Opens a connection and resolves once it is connected. */
function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Sends `head` and `partialBody`, then nothing: what the server answers and when it closes. */
async function stall(server: CustodyServer, head: string, partialBody: string, limitMs: number): Promise<RawExchange> {
  const socket = await open(server.port);
  const started = Date.now();
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  socket.on('error', () => {});
  socket.write(`${head}\r\n\r\n${partialBody}`);
  const closed = await Promise.race([
    new Promise<boolean>((resolve) => socket.once('close', () => resolve(true))),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), limitMs)),
  ]);
  socket.destroy();
  assert.ok(closed, `the server still held the stalled request open after ${limitMs} ms`);
  return { text, closedAfterMs: Date.now() - started };
}

function statusOf(text: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
}

function errorCodeOf(text: string): string | undefined {
  const body = text.slice(text.indexOf('\r\n\r\n') + 4);
  return (JSON.parse(body) as { errors: { code: string }[] }).errors[0]?.code;
}

test('a stalled upload body is answered 408 and closed; the bytes that arrived are kept and the upload resumes', async (t) => {
  const server = await startCustody({ env: { CUSTODY_LIMITS_BODY_IDLE_TIMEOUT: '1s' } });
  t.after(() => server.dispose());
  const started = await http(`${server.url}/v2/stall/app/blobs/uploads/`, { method: 'POST' });
  assert.equal(started.status, 202);
  const location = String(started.headers.location);

  // Declares a megabyte, sends three bytes, then nothing.
  const head = `PATCH ${location} HTTP/1.1\r\nHost: ${server.host}\r\nContent-Type: application/octet-stream\r\nContent-Length: 1048576`;
  const exchange = await stall(server, head, 'abc', 15_000);
  assert.equal(statusOf(exchange.text), 408, exchange.text);
  assert.equal(errorCodeOf(exchange.text), 'REQUEST_TIMEOUT');
  assert.match(exchange.text, /\r\nConnection: close\r\n/i);
  assert.ok(exchange.closedAfterMs >= 900, `cut after ${exchange.closedAfterMs} ms, before the timeout`);

  // The three bytes are the upload's durable content once the cut request is wound up.
  const range = await waitFor('the upload to report the bytes that arrived', async () => {
    const status = await http(`${server.url}${location}`);
    return status.status === 204 && status.headers.range === '0-2' ? status.headers.range : undefined;
  }, 5_000);
  assert.equal(range, '0-2');
  const resumed = await http(`${server.url}${location}`, { method: 'PATCH', body: 'defgh', headers: { 'Content-Range': '3-7', 'Content-Type': 'application/octet-stream' } });
  assert.equal(resumed.status, 202, resumed.body.toString());
  assert.equal(resumed.headers.range, '0-7');
  const digest = sha256('abcdefgh');
  const completed = await http(`${server.url}${location}?digest=${digest}`, { method: 'PUT' });
  assert.equal(completed.status, 201, completed.body.toString());
  assert.equal((await http(`${server.url}/v2/stall/app/blobs/${digest}`)).body.toString(), 'abcdefgh');

  const line = server.logs.map((entry) => JSON.parse(entry) as Record<string, unknown>).find((entry) => entry.method === 'PATCH' && entry.status === 408);
  assert.ok(line, 'the access log has the 408');
  assert.equal(line.errorCode, 'REQUEST_TIMEOUT');
  assert.equal(line.level, 'info');
  assert.ok(!server.logs.some((entry) => entry.includes('"level":"error"')), 'a stalled client is no server error');
});

test('a stalled manifest body is answered 408 and closed', async (t) => {
  const server = await startCustody({ env: { CUSTODY_LIMITS_BODY_IDLE_TIMEOUT: '1s' } });
  t.after(() => server.dispose());
  const head = `PUT /v2/stall/app/manifests/v1 HTTP/1.1\r\nHost: ${server.host}\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: 500`;
  const exchange = await stall(server, head, '{"schemaVersion":', 15_000);
  assert.equal(statusOf(exchange.text), 408, exchange.text);
  assert.equal(errorCodeOf(exchange.text), 'REQUEST_TIMEOUT');
  // Still serving.
  assert.equal((await http(`${server.url}/v2/`)).status, 200);
});

test('a body left to drain behind an early answer (401) that stalls has its connection closed too', async (t) => {
  const server = await startCustody({ auth: true, env: { CUSTODY_LIMITS_BODY_IDLE_TIMEOUT: '1s' } });
  t.after(() => server.dispose());
  const head = `PATCH /v2/stall/app/blobs/uploads/00000000-0000-0000-0000-000000000000 HTTP/1.1\r\nHost: ${server.host}\r\nContent-Type: application/octet-stream\r\nContent-Length: 1048576`;
  const exchange = await stall(server, head, 'abc', 15_000);
  assert.equal(statusOf(exchange.text), 401, exchange.text);
  assert.ok(exchange.closedAfterMs >= 900, `cut after ${exchange.closedAfterMs} ms, before the timeout`);
});

test('a slow body that keeps arriving is never cut: the timeout counts silence, not duration', async (t) => {
  const server = await startCustody({ env: { CUSTODY_LIMITS_BODY_IDLE_TIMEOUT: '1s' } });
  t.after(() => server.dispose());
  const started = await http(`${server.url}/v2/slow/app/blobs/uploads/`, { method: 'POST' });
  const location = String(started.headers.location);
  const content = 'slow but steady';
  const socket = await open(server.port);
  t.after(() => socket.destroy());
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  socket.write(`PATCH ${location} HTTP/1.1\r\nHost: ${server.host}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${content.length}\r\n\r\n`);
  // 15 bytes, one every 250 ms: almost four times the timeout in all.
  for (const character of content) {
    socket.write(character);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await waitFor('the answer to the slow PATCH', () => (text.includes('\r\n\r\n') ? text : undefined), 10_000);
  assert.equal(statusOf(text), 202, text);
  assert.match(text, new RegExp(`\\r\\nRange: 0-${content.length - 1}\\r\\n`, 'i'));
});

test('one address may hold limits.maxConnectionsPerAddress connections; more are closed on arrival, counted and logged', async (t) => {
  const server = await startCustody({ env: { CUSTODY_LIMITS_MAX_CONNECTIONS_PER_ADDRESS: '4' } });
  t.after(() => server.dispose());
  const held: Socket[] = [];
  t.after(() => held.forEach((socket) => socket.destroy()));
  for (let i = 0; i < 4; i++) held.push(await open(server.port));

  // The fifth is closed before it is read: no answer at all.
  const fifth = await open(server.port).catch(() => undefined);
  if (fifth) {
    let answered = '';
    fifth.on('data', (chunk: Buffer) => (answered += chunk.toString()));
    fifth.on('error', () => {});
    fifth.write(`GET /v2/ HTTP/1.1\r\nHost: ${server.host}\r\n\r\n`);
    await waitFor('the fifth connection to be closed', () => fifth.destroyed || fifth.readableEnded || undefined, 5_000);
    assert.equal(answered, '', 'a refused connection gets no HTTP answer');
  }

  // The four held ones still work.
  const first = held[0]!;
  let reply = '';
  first.on('data', (chunk: Buffer) => (reply += chunk.toString()));
  first.write(`GET /v2/ HTTP/1.1\r\nHost: ${server.host}\r\n\r\n`);
  await waitFor('an answer on a held connection', () => (reply.includes('\r\n\r\n') ? reply : undefined), 5_000);
  assert.equal(statusOf(reply), 200);

  // Once one closes, a new connection is served again.
  held.pop()!.destroy();
  const metrics = await waitFor('a new connection to be served once one closed', async () => {
    const response = await http(`${server.url}/metrics`).catch(() => undefined);
    return response?.status === 200 ? response.body.toString() : undefined;
  }, 5_000);
  assert.match(metrics, /^custody_connections_refused_total [1-9]\d*$/m);
  assert.ok(server.logs.some((line) => line.includes('"level":"warn"') && line.includes('too many from one address') && line.includes('"limit":4')));
});
