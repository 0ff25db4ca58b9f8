// `custody evaluate` against real servers: a Custody served over TLS with a test CA (with
// the CA in certs.d the chain validates and the image is described, labels next to who
// signed it; without it the report says why: unknown CA), a Custody on plain HTTP (the
// report says so), an unreachable registry (one line, exit 1). And the registry's own
// TLS: replacing the certificate files on disk changes what new connections get; a
// broken pair keeps the old certificate.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign, X509Certificate } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest, createServer as createHttpsServer } from 'node:https';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_PASSWORD, runCustody, startCustody, type CustodyServer } from './support/custody-server.ts';
import { createTestCa, type TestCa } from './support/tls-ca.ts';
import { freePort, requireTool, waitFor } from './support/tools.ts';
import { watchTlsFiles } from '../src/server/tls-reloader.ts';
import { silentLogger } from '../src/observability/logger.ts';

const basic = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;
const digestOf = (content: Uint8Array | string): string => `sha256:${createHash('sha256').update(content).digest('hex')}`;

interface Report {
  registry: {
    transport: string;
    tls: { available: boolean; protocol: string | null; certificate: { subject: string; issuer: string; subjectAltNames: string[]; daysLeft: number } | null; chain: { valid: boolean; trustedBy: string | null; problem: string | null; certsDir: string | null } | null };
    api: { reachable: boolean; apiVersion: string | null; auth: { scheme: string; realm: string | null } | null; hsts: string | null; referrers: boolean | null };
  };
  image: { error: string | null; digest: string | null; ageDays: number | null; claims: { vendor: string | null; source: string | null }; signed: boolean; signedBy: string[]; signatures: { verified: boolean | null; keyId: string | null }[] } | null;
  notes: { level: string; text: string }[];
}

/** Peer certificate fingerprint of a fresh TLS connection. */
function fingerprint(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      const value = socket.getPeerCertificate().fingerprint256;
      socket.destroy();
      resolve(value);
    });
    socket.on('error', reject);
  });
}

describe('custody evaluate', () => {
  let ca: TestCa;
  let tlsServer: CustodyServer;
  let plainServer: CustodyServer;
  let work: string;
  let certFile: string;
  let keyFile: string;
  let home: string;
  const signer = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let keyFilePath: string;
  let imageDigest: string;

  /** A request to the TLS server, trusting the test CA. */
  function tlsCall(method: string, path: string, body?: Buffer | string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const request = httpsRequest(`${tlsServer.url}${path}`, { method, ca: ca.cert, headers: { authorization: basic, ...headers } }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      });
      request.on('error', reject);
      request.end(body);
    });
  }

  async function pushBlob(repository: string, content: Buffer): Promise<string> {
    const digest = digestOf(content);
    const result = await tlsCall('POST', `/v2/${repository}/blobs/uploads/?digest=${digest}`, content, { 'content-type': 'application/octet-stream' });
    assert.equal(result.status, 201, result.text);
    return digest;
  }

  async function evaluate(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; report: Report | null; stdout: string; stderr: string }> {
    const result = await runCustody(['evaluate', ...args], { env: { HOME: home, XDG_DATA_HOME: join(home, 'data'), REGISTRY_AUTH_FILE: join(home, 'auth.json'), ...env } });
    let report: Report | null = null;
    try {
      report = JSON.parse(result.stdout) as Report;
    } catch {
      // text output
    }
    return { ...result, report };
  }

  before(async () => {
    requireTool('openssl');
    work = await mkdtemp(join(tmpdir(), 'custody-evaluate-'));
    home = join(work, 'home');
    await mkdir(home, { recursive: true });
    ca = await createTestCa();
    const leaf = await ca.issue('registry', { server: true });
    certFile = join(work, 'tls.crt');
    keyFile = join(work, 'tls.key');
    await copyFile(leaf.certPath, certFile);
    await copyFile(leaf.keyPath, keyFile);
    tlsServer = await startCustody({ auth: true, args: ['--tls-cert-file', certFile, '--tls-key-file', keyFile] });
    plainServer = await startCustody({ auth: true });
    await writeFile(join(home, 'auth.json'), JSON.stringify({ auths: { [tlsServer.host]: { auth: Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64') } } }), { mode: 0o600 });

    // An image with labels claiming a vendor and a source, and a cosign signature by `signer`.
    const repository = 'admin/labelled';
    const layer = Buffer.from('not really a tar, the registry does not care');
    const config = Buffer.from(JSON.stringify({
      architecture: 'amd64', os: 'linux', created: new Date(Date.now() - 3 * 86_400_000 - 3_600_000).toISOString(),
      config: { Labels: { 'org.opencontainers.image.vendor': 'Acme Corp', 'org.opencontainers.image.source': 'https://git.example/acme/app', 'io.buildah.version': '1.28.2' } },
      rootfs: { type: 'layers', diff_ids: [digestOf(layer)] },
    }));
    const manifest = JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: await pushBlob(repository, config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: await pushBlob(repository, layer), size: layer.length }],
    });
    imageDigest = digestOf(manifest);
    assert.equal((await tlsCall('PUT', `/v2/${repository}/manifests/1.0`, manifest, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' })).status, 201);
    const payload = Buffer.from(JSON.stringify({ critical: { identity: { 'docker-reference': `${tlsServer.host}/${repository}` }, image: { 'docker-manifest-digest': imageDigest }, type: 'cosign container image signature' }, optional: null }));
    const sigConfig = Buffer.from('{}');
    const sigManifest = JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: await pushBlob(repository, sigConfig), size: sigConfig.length },
      layers: [{ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', digest: await pushBlob(repository, payload), size: payload.length, annotations: { 'dev.cosignproject.cosign/signature': sign('sha256', payload, signer.privateKey).toString('base64') } }],
    });
    assert.equal((await tlsCall('PUT', `/v2/${repository}/manifests/${imageDigest.replace(':', '-')}.sig`, sigManifest, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' })).status, 201);
    keyFilePath = join(work, 'cosign.pub');
    await writeFile(keyFilePath, signer.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  });
  after(async () => {
    await tlsServer?.dispose();
    await plainServer?.dispose();
    await ca?.dispose();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('without the CA the chain is invalid and the report says why; the image is not read', async () => {
    const { code, report, stderr } = await evaluate([`docker://${tlsServer.host}/admin/labelled:1.0`, '--format', 'json']);
    assert.equal(code, 0, stderr);
    assert.equal(report!.registry.transport, 'https');
    assert.ok(['TLSv1.2', 'TLSv1.3'].includes(report!.registry.tls.protocol!));
    assert.deepEqual({ valid: report!.registry.tls.chain!.valid, problem: report!.registry.tls.chain!.problem }, { valid: false, problem: 'unknown CA' });
    assert.match(report!.registry.tls.certificate!.issuer, /Custody Test CA/);
    assert.ok(report!.registry.tls.certificate!.subjectAltNames.includes('IP Address:127.0.0.1'));
    assert.match(report!.registry.api.hsts!, /max-age=/);
    assert.match(report!.image!.error!, /not trusted \(unknown CA\)/);
    assert.ok(report!.notes.some((note) => note.level === 'bad' && /certificate NOT trusted: unknown CA/.test(note.text)));
  });

  it('with the CA in certs.d the chain validates; labels are shown next to who signed the image', async () => {
    const dir = join(home, '.config', 'containers', 'certs.d', tlsServer.host);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'ca.crt'), ca.cert);
    try {
      const { code, report, stderr } = await evaluate([`docker://${tlsServer.host}/admin/labelled:1.0`, '--format', 'json', '--key', keyFilePath]);
      assert.equal(code, 0, stderr);
      assert.deepEqual({ valid: report!.registry.tls.chain!.valid, trustedBy: report!.registry.tls.chain!.trustedBy, certsDir: report!.registry.tls.chain!.certsDir }, { valid: true, trustedBy: 'certs.d', certsDir: dir });
      assert.equal(report!.registry.api.reachable, true);
      assert.equal(report!.registry.api.apiVersion, 'registry/2.0');
      assert.equal(report!.registry.api.auth!.scheme, 'bearer');
      assert.equal(report!.registry.api.referrers, true);
      const image = report!.image!;
      assert.equal(image.error, null);
      assert.equal(image.digest, imageDigest);
      assert.equal(image.ageDays, 3);
      assert.deepEqual(image.claims.vendor, 'Acme Corp');
      assert.deepEqual(image.claims.source, 'https://git.example/acme/app');
      assert.equal(image.signed, true);
      const keyId = `sha256:${createHash('sha256').update(signer.publicKey.export({ type: 'spki', format: 'der' })).digest('hex')}`;
      assert.deepEqual(image.signedBy, [`${keyId} (${keyFilePath})`]);
      assert.ok(report!.notes.some((note) => note.level === 'good' && note.text.includes('vendor "Acme Corp"') && note.text.includes(keyId)));

      // The text report a newcomer reads.
      const text = await evaluate([`docker://${tlsServer.host}/admin/labelled:1.0`]);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /claims vendor\s+Acme Corp/);
      assert.match(text.stdout, /signed by\s+nobody verifiable/);
      assert.match(text.stdout, /! signed, but no signature verifies with the keys given; the image claims vendor "Acme Corp"/);
      assert.match(text.stdout, /chain\s+valid \(trusted by /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('plain HTTP is flagged; an unreachable registry is one line and exit 1', async () => {
    const { code, report, stderr } = await evaluate([`docker://${plainServer.host}`, '--format', 'json']);
    assert.equal(code, 0, stderr);
    assert.equal(report!.registry.transport, 'http');
    assert.equal(report!.registry.tls.available, false);
    assert.equal(report!.registry.api.reachable, true);
    assert.equal(report!.image, null);
    assert.ok(report!.notes.some((note) => note.level === 'bad' && /^plain HTTP/.test(note.text)));

    const port = await freePort();
    const unreachable = await evaluate([`docker://127.0.0.1:${port}/x/y:1`]);
    assert.equal(unreachable.code, 1);
    assert.equal(unreachable.stdout, '');
    assert.match(unreachable.stderr, /^custody evaluate: cannot reach 127\.0\.0\.1:\d+: connection refused[^\n]*\n$/);
  });

  it('custody serve reloads its certificate when the files change; a broken pair keeps the old one', async () => {
    const before = await fingerprint(tlsServer.port, ca.cert);
    assert.equal(before, new X509Certificate(await readFile(certFile)).fingerprint256);
    const renewed = await ca.issue('renewed', { server: true });
    // A half-finished renewal: the new certificate with the old key is refused.
    const mark = tlsServer.logs.length;
    await writeFile(certFile, renewed.cert);
    await waitFor('the refusal logged', () => tlsServer.logs.slice(mark).some((line) => line.includes('TLS reload refused')), 10_000);
    assert.equal(await fingerprint(tlsServer.port, ca.cert), before);
    await writeFile(keyFile, renewed.key);
    const after = await waitFor('the new certificate served', async () => {
      const now = await fingerprint(tlsServer.port, ca.cert);
      return now !== before ? now : undefined;
    }, 10_000, 100);
    assert.equal(after, new X509Certificate(renewed.cert).fingerprint256);
  });

  it('the reloader on a plain node:https server: renamed-over files are seen', async () => {
    const dir = await mkdtemp(join(work, 'reload-'));
    const first = await ca.issue('first', { server: true });
    const second = await ca.issue('second', { server: true });
    const cert = join(dir, 'tls.crt');
    const key = join(dir, 'tls.key');
    await writeFile(cert, first.cert);
    await writeFile(key, first.key);
    const server = createHttpsServer({ cert: first.cert, key: first.key, minVersion: 'TLSv1.2' }, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const reloader = watchTlsFiles({ certFile: cert, keyFile: key, server, logger: silentLogger, debounceMs: 50, pollIntervalMs: 200 });
    try {
      assert.equal(await fingerprint(port, ca.cert), new X509Certificate(first.cert).fingerprint256);
      // Garbage is refused and the old pair kept.
      await writeFile(join(dir, 'tmp.crt'), 'garbage');
      await copyFile(join(dir, 'tmp.crt'), cert);
      assert.equal(await reloader.reload(), false);
      assert.equal(await fingerprint(port, ca.cert), new X509Certificate(first.cert).fingerprint256);
      // The way renewals are written: new files renamed over the old ones.
      await writeFile(join(dir, 'new.key'), second.key);
      await writeFile(join(dir, 'new.crt'), second.cert);
      const { rename } = await import('node:fs/promises');
      await rename(join(dir, 'new.key'), key);
      await rename(join(dir, 'new.crt'), cert);
      await waitFor('the second certificate', async () => (await fingerprint(port, ca.cert)) === new X509Certificate(second.cert).fingerprint256 || undefined, 10_000, 50);
    } finally {
      reloader.close();
      server.close();
    }
  });
});
