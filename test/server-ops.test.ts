// Operating the server: TLS with HTTP/1.1 and HTTP/2, health, metrics, request ids,
// graceful shutdown with a request in flight, configuration mistakes at start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as http2Connect } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCustody, startCustody } from './support/custody-server.ts';

async function makeCertificate(dir: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, 'tls.crt');
  const key = join(dir, 'tls.key');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', key, '-out', cert,
  ], { stdio: 'ignore' });
  return { cert, key };
}

test('serves HTTPS over HTTP/1.1 and HTTP/2 with TLS 1.2+ and HSTS', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'custody-tls-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const { cert, key } = await makeCertificate(dir);
  const server = await startCustody({ args: ['--tls-cert-file', cert, '--tls-key-file', key] });
  t.after(() => server.dispose());
  assert.match(server.url, /^https:/);
  const ca = await readFile(cert);

  const h1 = await new Promise<{ status: number; headers: Record<string, unknown>; protocol: string }>((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port: server.port, path: '/v2/', ca, servername: 'localhost' }, (res) => {
      const protocol = (res.socket as { getProtocol?: () => string | null }).getProtocol?.() ?? '';
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, protocol }));
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(h1.status, 200);
  assert.equal(h1.headers['docker-distribution-api-version'], 'registry/2.0');
  assert.match(String(h1.headers['strict-transport-security']), /max-age=\d+/);
  assert.match(h1.protocol, /^TLSv1\.[23]$/);

  const session = http2Connect(`https://localhost:${server.port}`, { ca });
  t.after(() => session.close());
  const h2 = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const stream = session.request({ ':path': '/v2/', ':method': 'GET' });
    let status = 0;
    let body = '';
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.on('data', (chunk: Buffer) => (body += chunk.toString()));
    stream.on('end', () => resolve({ status, body }));
    stream.on('error', reject);
    stream.end();
  });
  assert.equal(h2.status, 200);
  assert.equal(h2.body, '{}');
  assert.equal(session.alpnProtocol, 'h2');

  // TLS 1.1 and older are refused.
  await assert.rejects(
    new Promise((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port: server.port, path: '/v2/', ca, servername: 'localhost', maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }, resolve);
      req.on('error', reject);
      req.end();
    }),
  );
});

test('health, metrics and request ids', async (t) => {
  const server = await startCustody();
  t.after(() => server.dispose());
  const health = await fetch(`${server.url}/healthz`);
  assert.equal(health.status, 200);
  const traced = await fetch(`${server.url}/v2/nothing/here/manifests/latest`, { headers: { 'X-Request-Id': 'trace-42' } });
  assert.equal(traced.status, 404);
  assert.equal(traced.headers.get('x-request-id'), 'trace-42');
  const generated = await fetch(`${server.url}/v2/`);
  assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f]{16}$/);
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /custody_http_requests_total\{method="GET",route="manifest",status="404"\} 1/);
  assert.match(metrics, /custody_http_request_duration_seconds_bucket\{method="GET",route="base",le="\+Inf"\} \d+/);
  assert.match(metrics, /process_resident_memory_bytes \d+/);
  // One access-log line per request, JSON, with the request id and no headers wholesale.
  const line = server.logs.find((entry) => entry.includes('"trace-42"'));
  assert.ok(line, 'access log line for the traced request');
  const parsed = JSON.parse(line) as Record<string, unknown>;
  assert.equal(parsed.status, 404);
  assert.equal(parsed.errorCode, 'MANIFEST_UNKNOWN');
  assert.equal(parsed.route, 'manifest');
});

test('health reports 503 when storage is not writable', async (t) => {
  const server = await startCustody();
  t.after(() => server.dispose());
  await rm(join(server.dataDir, 'uploads'), { recursive: true, force: true });
  const health = await fetch(`${server.url}/healthz`);
  assert.equal(health.status, 503);
});

test('graceful shutdown finishes a request in flight, then exits 0', async (t) => {
  const server = await startCustody();
  t.after(() => server.dispose());
  const started = await fetch(`${server.url}/v2/shutdown/test/blobs/uploads/`, { method: 'POST' });
  assert.equal(started.status, 202);
  const location = started.headers.get('location')!;
  const chunk = Buffer.alloc(256 * 1024, 7);
  const response = new Promise<number>((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: server.port, path: location, method: 'PATCH', headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': chunk.length * 2 } },
      (res) => {
        res.resume();
        resolve(res.statusCode!);
      },
    );
    req.on('error', reject);
    req.write(chunk);
    // The server is told to stop while half the body is still to come.
    setTimeout(() => {
      server.process.kill('SIGTERM');
      setTimeout(() => req.end(chunk), 300);
    }, 200);
  });
  assert.equal(await response, 202);
  assert.equal(await server.stop(), 0);
  assert.ok(server.logs.some((line) => line.includes('"stopped"')));
});

test('configuration mistakes are reported one line each and the server does not start', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'custody-config-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'custody.yaml');
  await writeFile(file, 'listen: 127.0.0.1:0\nlog:\n  level: chatty\nlimits:\n  maxManifestBytes: lots\nunknownThing: 1\n');
  const result = await runCustody(['serve', '--config', file, '--gc-interval', 'soon']);
  assert.equal(result.code, 2);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 4, result.stderr);
  assert.ok(lines.some((line) => line.includes('unknown setting "unknownThing"')));
  assert.ok(lines.some((line) => line.includes('log.level') && line.includes('chatty')));
  assert.ok(lines.some((line) => line.includes('maxManifestBytes') && line.includes('lots')));
  assert.ok(lines.some((line) => line.includes('--gc-interval') && line.includes('soon')));
  for (const line of lines) assert.match(line, /^custody serve: /);
});

test('the command line answers --help, version and unknown commands', async () => {
  const help = await runCustody(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /serve/);
  assert.match(help.stdout, /fsck/);
  const serveHelp = await runCustody(['serve', '--help']);
  assert.equal(serveHelp.code, 0);
  assert.match(serveHelp.stdout, /CUSTODY_DATABASE_URL/);
  const version = await runCustody(['version']);
  assert.match(version.stdout, /^custody \d+\.\d+\.\d+/);
  const unknown = await runCustody(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stderr.trim().split('\n').length, 1);
  const badFlag = await runCustody(['gc', '--no-such-flag']);
  assert.equal(badFlag.code, 2);
  assert.equal(badFlag.stderr.trim().split('\n').length, 1);
});

test('online garbage collection reclaims an unreferenced blob while serving and keeps referenced ones', async (t) => {
  // Two seconds of grace: the image's blobs are referenced long before they could go.
  const server = await startCustody({ args: ['--gc-online', 'true', '--gc-interval', '300ms', '--gc-grace-period', '2s'] });
  t.after(() => server.dispose());
  const { createHash } = await import('node:crypto');
  const push = async (repository: string, content: Buffer): Promise<string> => {
    const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
    const response = await fetch(`${server.url}/v2/${repository}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: content, headers: { 'Content-Type': 'application/octet-stream' } });
    assert.equal(response.status, 201);
    return digest;
  };
  const stray = await push('gc/online', Buffer.from('nobody references me'));
  const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
  const configDigest = await push('gc/online', config);
  const layer = await push('gc/online', Buffer.from('layer bytes'));
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer, size: 11 }],
  });
  const put = await fetch(`${server.url}/v2/gc/online/manifests/v1`, { method: 'PUT', body: manifest, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(put.status, 201);
  const deadline = Date.now() + 15_000;
  let strayStatus = 200;
  while (Date.now() < deadline) {
    strayStatus = (await fetch(`${server.url}/v2/gc/online/blobs/${stray}`, { method: 'HEAD' })).status;
    if (strayStatus === 404) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.equal(strayStatus, 404, 'the unreferenced blob was collected');
  assert.equal((await fetch(`${server.url}/v2/gc/online/blobs/${layer}`, { method: 'HEAD' })).status, 200);
  assert.equal((await fetch(`${server.url}/v2/gc/online/manifests/v1`)).status, 200);
  assert.ok(server.logs.some((line) => line.includes('"garbage collection"') && /"blobsDeleted":[1-9]/.test(line)));
});
