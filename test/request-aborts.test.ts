// Clients that hang up mid-request, against a real `custody serve`: the access log says
// "aborted" with the status actually sent (none when no headers left), never an error,
// and an upload cut mid-body keeps the bytes that arrived.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { startCustody, type CustodyServer } from './support/custody-server.ts';
import { http, waitFor } from './support/tools.ts';
import { sha256 } from './support/images.ts';

type LogLine = Record<string, unknown>;

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

async function accessLine(server: CustodyServer, requestId: string): Promise<LogLine> {
  return waitFor(`the access log line of ${requestId}`, () => {
    const line = server.logs.find((entry) => entry.includes(`"requestId":"${requestId}"`) && entry.includes('"msg":"request"'));
    return line === undefined ? undefined : (JSON.parse(line) as LogLine);
  }, 10_000);
}

test('a download the client abandons is logged as aborted with the status sent, not as an error', async (t) => {
  const server = await startCustody();
  t.after(() => server.dispose());
  const blob = randomBytes(16 * 1024 * 1024);
  const digest = sha256(blob);
  assert.equal((await http(`${server.url}/v2/abort/app/blobs/uploads/?digest=${digest}`, { method: 'POST', body: blob })).status, 201);

  const socket = await open(server.port);
  socket.on('error', () => {});
  socket.write(`GET /v2/abort/app/blobs/${digest} HTTP/1.1\r\nHost: ${server.host}\r\nX-Request-Id: abandoned-download\r\n\r\n`);
  // The headers and the first bytes arrive; then the client hangs up.
  await new Promise((resolve) => socket.once('data', resolve));
  socket.destroy();

  const line = await accessLine(server, 'abandoned-download');
  assert.equal(line.aborted, true);
  assert.equal(line.status, 200, 'the status the client was sent');
  assert.equal(line.level, 'info');
  assert.ok(!server.logs.some((entry) => entry.includes('"level":"error"')), `no error logged:\n${server.logs.join('\n')}`);
  assert.equal((await http(`${server.url}/v2/`)).status, 200);
});

test('an upload the client abandons mid-body is logged as aborted without a status, and keeps what arrived', async (t) => {
  const server = await startCustody();
  t.after(() => server.dispose());
  const started = await http(`${server.url}/v2/abort/app/blobs/uploads/`, { method: 'POST' });
  const location = String(started.headers.location);
  const blob = randomBytes(128 * 1024);
  const sent = blob.subarray(0, 64 * 1024);

  const socket = await open(server.port);
  socket.on('error', () => {});
  socket.write(`PATCH ${location} HTTP/1.1\r\nHost: ${server.host}\r\nX-Request-Id: abandoned-upload\r\nContent-Type: application/octet-stream\r\nContent-Length: ${1024 * 1024}\r\n\r\n`);
  socket.write(sent);
  // Once the server has written what was sent to the upload's file, the client resets.
  const file = join(server.dataDir, 'uploads', location.split('/').pop()!);
  await waitFor('the server to write the first bytes', async () => ((await stat(file)).size === sent.length ? true : undefined), 10_000);
  socket.resetAndDestroy();

  const line = await accessLine(server, 'abandoned-upload');
  assert.equal(line.aborted, true);
  assert.equal(line.status, undefined, 'no status: nothing was sent');
  assert.equal(line.level, 'info');
  assert.ok(!server.logs.some((entry) => entry.includes('"level":"error"')), `no error logged:\n${server.logs.join('\n')}`);

  // The bytes that arrived stay, and the upload resumes from them.
  const range = await waitFor('the upload to report what arrived', async () => {
    const upload = await http(`${server.url}${location}`);
    return upload.headers.range !== '0-0' ? String(upload.headers.range) : undefined;
  }, 5_000);
  const held = Number(range.split('-')[1]) + 1;
  assert.equal(held, sent.length);
  const resumed = await http(`${server.url}${location}`, { method: 'PATCH', body: blob.subarray(held), headers: { 'Content-Range': `${held}-${blob.length - 1}`, 'Content-Type': 'application/octet-stream' } });
  assert.equal(resumed.status, 202, resumed.body.toString());
  const digest = sha256(blob);
  assert.equal((await http(`${server.url}${location}?digest=${digest}`, { method: 'PUT' })).status, 201);
  assert.deepEqual((await http(`${server.url}/v2/abort/app/blobs/${digest}`)).body, blob);
});
