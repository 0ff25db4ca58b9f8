// Registry-side signature enforcement, the way users meet it: an organization sets a
// signing policy with `custody signing-policy set`, skopeo pushes an unsigned image and
// cannot pull it back (DENIED, naming the policy); a cosign signature by the trusted key
// (the `sha256-<hex>.sig` tag cosign and skopeo write) makes it pullable; a signature by
// another key, or for another repository, does not. `pull,tag` refuses a tag until the
// image pushed by digest is signed. The status API lists each signature and its key.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_PASSWORD, runCustody, startCustody, type CustodyServer } from './support/custody-server.ts';
import { debianLayout, layoutImage, ociRef } from './support/images.ts';
import { requireTool, run, runOk } from './support/tools.ts';

const basic = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;
// A consumer: may read acme's repositories, not push. Publishers (push rights) may read
// unsigned manifests (they sign them); consumers are what a signing policy protects.
const READER_PASSWORD = 'reader-password-for-tests';
const readerBasic = `Basic ${Buffer.from(`reader:${READER_PASSWORD}`).toString('base64')}`;

function digestOf(content: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`;
}

function keyPair(): { publicPem: string; privateKey: KeyObject; id: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const id = 'sha256:' + createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
  return { publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), privateKey, id };
}

describe('registry signing policy', () => {
  let server: CustodyServer;
  let work: string;
  const trusted = keyPair();
  const stranger = keyPair();

  before(async () => {
    requireTool('skopeo');
    work = await mkdtemp(join(tmpdir(), 'custody-signing-policy-'));
    server = await startCustody({ auth: true });
    const created = await fetch(`${server.url}/api/v1/organizations`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'acme' }) });
    assert.equal(created.status, 201, await created.text());
    const json = { authorization: basic, 'content-type': 'application/json' };
    const user = await fetch(`${server.url}/api/v1/users`, { method: 'POST', headers: json, body: JSON.stringify({ name: 'reader', password: READER_PASSWORD }) });
    assert.equal(user.status, 201, await user.text());
    const grant = await fetch(`${server.url}/api/v1/organizations/acme/default-permissions/user/reader`, { method: 'PUT', headers: json, body: JSON.stringify({ role: 'read' }) });
    assert.equal(grant.status, 200, await grant.text());
  });
  after(async () => {
    await server?.dispose();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const v2 = (path: string, init: RequestInit = {}): Promise<Response> => fetch(`${server.url}/v2/${path}`, { ...init, headers: { authorization: basic, ...(init.headers as Record<string, string> | undefined) } });

  async function pushBlob(repository: string, content: Buffer): Promise<string> {
    const digest = digestOf(content);
    const response = await v2(`${repository}/blobs/uploads/?digest=${digest}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: content });
    assert.equal(response.status, 201, await response.text());
    return digest;
  }

  async function putManifest(repository: string, reference: string, content: Buffer | string, mediaType = 'application/vnd.oci.image.manifest.v1+json'): Promise<Response> {
    return v2(`${repository}/manifests/${reference}`, { method: 'PUT', headers: { 'content-type': mediaType }, body: content });
  }

  /** What cosign (and skopeo --sign-by-sigstore-private-key) push: the `.sig` tag. */
  async function cosignSign(repository: string, digest: string, privateKey: KeyObject, identity = `${server.host}/${repository}`): Promise<string> {
    const payload = Buffer.from(JSON.stringify({ critical: { identity: { 'docker-reference': identity }, image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' }, optional: null }));
    const signature = sign('sha256', payload, privateKey).toString('base64');
    const config = Buffer.from(JSON.stringify({ architecture: '', config: {}, created: '0001-01-01T00:00:00Z', history: [{ created: '0001-01-01T00:00:00Z' }], os: '', rootfs: { type: 'layers', diff_ids: [digestOf(payload)] } }));
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', size: config.length, digest: await pushBlob(repository, config) },
      layers: [{ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', size: payload.length, digest: await pushBlob(repository, payload), annotations: { 'dev.cosignproject.cosign/signature': signature } }],
    });
    const tag = `${digest.replace(':', '-')}.sig`;
    const response = await putManifest(repository, tag, manifest);
    assert.equal(response.status, 201, await response.text());
    return tag;
  }

  async function skopeoInspect(reference: string): Promise<{ code: number | null; stderr: string }> {
    const result = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', '--creds', `reader:${READER_PASSWORD}`, `docker://${server.host}/${reference}`]);
    return { code: result.code, stderr: result.stderr };
  }

  async function pushWithSkopeo(tag: string, destination: string): Promise<void> {
    await runOk('skopeo', ['copy', '-q', '--dest-tls-verify=false', '--dest-creds', `admin:${ADMIN_PASSWORD}`, ociRef(debianLayout(), tag), `docker://${server.host}/${destination}`]);
  }

  it('an organization policy set with the CLI: unsigned pulls are DENIED, a trusted signature lets them through', async () => {
    const keyFile = join(work, 'cosign.pub');
    await writeFile(keyFile, trusted.publicPem);
    const set = await runCustody(['signing-policy', 'set', 'acme', '--key', keyFile, '--registry', server.url, '--username', 'admin', '--password-stdin'], { input: `${ADMIN_PASSWORD}\n` });
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, new RegExp(`trusted key ${trusted.id}`));
    const got = await runCustody(['signing-policy', 'get', 'acme', '--json', '--registry', server.url, '--username', 'admin', '--password-stdin'], { input: `${ADMIN_PASSWORD}\n` });
    assert.equal(got.code, 0, got.stderr);
    assert.deepEqual((JSON.parse(got.stdout) as { keys: { id: string }[] }).keys.map((key) => key.id), [trusted.id]);

    // Pushing is not pulling: the push by tag is accepted in `pull` mode.
    await pushWithSkopeo('bookworm-minbase', 'acme/app:1.0');
    const image = await layoutImage(debianLayout(), 'bookworm-minbase');

    const refused = await skopeoInspect('acme/app:1.0');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /is not signed by a trusted key \(policy of acme\)/);
    const asReader = { headers: { authorization: readerBasic } };
    const byDigest = await v2(`acme/app/manifests/${image.digest}`, asReader);
    assert.equal(byDigest.status, 403);
    const envelope = (await byDigest.json()) as { errors: { code: string; message: string }[] };
    assert.equal(envelope.errors[0]!.code, 'DENIED');
    assert.equal(envelope.errors[0]!.message, `acme/app@${image.digest} is not signed by a trusted key (policy of acme)`);
    assert.equal((await v2(`acme/app/manifests/1.0`, { method: 'HEAD', ...asReader })).status, 403);
    // The publisher (push rights) still reads it: cosign fetches the manifest to sign it.
    assert.equal((await v2(`acme/app/manifests/${image.digest}`)).status, 200);

    // Outside the organization nothing changes.
    await pushWithSkopeo('bookworm-minbase', 'admin/free:1');
    const free = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', '--creds', `admin:${ADMIN_PASSWORD}`, `docker://${server.host}/admin/free:1`]);
    assert.equal(free.code, 0, free.stderr);

    const sigTag = await cosignSign('acme/app', image.digest, trusted.privateKey);
    // Signatures stay readable (or nobody could fetch what makes an image pullable).
    assert.equal((await v2(`acme/app/manifests/${sigTag}`)).status, 200);
    const allowed = await skopeoInspect('acme/app:1.0');
    assert.equal(allowed.code, 0, allowed.stderr);
    await runOk('skopeo', ['copy', '-q', '--src-tls-verify=false', '--src-creds', `admin:${ADMIN_PASSWORD}`, `docker://${server.host}/acme/app:1.0`, `oci:${join(work, 'pulled')}:app`]);

    const status = await fetch(`${server.url}/api/v1/repositories/acme/app/-/manifests/${image.digest}/signatures`, { headers: { authorization: basic } });
    assert.equal(status.status, 200);
    const view = (await status.json()) as { satisfied: boolean; signatures: { source: string; verified: boolean; keyId: string; trustedBy: string[]; identity: string }[] };
    assert.equal(view.satisfied, true);
    assert.equal(view.signatures.length, 1);
    assert.deepEqual(
      { source: view.signatures[0]!.source, verified: view.signatures[0]!.verified, keyId: view.signatures[0]!.keyId, trustedBy: view.signatures[0]!.trustedBy },
      { source: 'tag', verified: true, keyId: trusted.id, trustedBy: ['namespace acme'] },
    );
    const cli = await runCustody(['signing-policy', 'signatures', `acme/app@${image.digest}`, '--registry', server.url, '--username', 'admin', '--password-stdin'], { input: `${ADMIN_PASSWORD}\n` });
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /policy is satisfied/);
    assert.match(cli.stdout, new RegExp(`verified by key ${trusted.id}`));
  });

  it('a signature by another key, or by the trusted key for another repository, is refused', async () => {
    await pushWithSkopeo('bookworm-curl', 'acme/other:1');
    const image = await layoutImage(debianLayout(), 'bookworm-curl');
    await cosignSign('acme/other', image.digest, stranger.privateKey);
    const byStranger = await skopeoInspect('acme/other:1');
    assert.notEqual(byStranger.code, 0);
    assert.match(byStranger.stderr, /is not signed by a trusted key \(policy of acme\)/);

    // The trusted key, but the payload names acme/app: a signature copied between repositories.
    await cosignSign('acme/other', image.digest, trusted.privateKey, `${server.host}/acme/app`);
    assert.notEqual((await skopeoInspect('acme/other:1')).code, 0);
    const view = (await (await fetch(`${server.url}/api/v1/repositories/acme/other/-/manifests/${image.digest}/signatures`, { headers: { authorization: basic } })).json()) as { satisfied: boolean; signatures: { verified: boolean; keyId: string | null; reason: string }[] };
    assert.equal(view.satisfied, false);
    assert.equal(view.signatures[0]!.verified, false);
    assert.equal(view.signatures[0]!.keyId, trusted.id);
    assert.match(view.signatures[0]!.reason, /signs another repository/);

    // Signed properly at last.
    await cosignSign('acme/other', image.digest, trusted.privateKey);
    assert.equal((await skopeoInspect('acme/other:1')).code, 0);
  });

  it('pull,tag: a tag may only point at a signed image; push by digest, sign, then tag', async () => {
    const put = await fetch(`${server.url}/api/v1/repositories/acme/tagged/-/signing-policy`, { method: 'PUT', headers: { authorization: basic, 'content-type': 'application/json' }, body: JSON.stringify({ mode: 'pull,tag', keys: [trusted.publicPem] }) });
    assert.equal(put.status, 200, await put.text());
    // skopeo uploads the blobs, then its manifest PUT by tag is refused.
    const pushed = await run('skopeo', ['copy', '-q', '--dest-tls-verify=false', '--dest-creds', `admin:${ADMIN_PASSWORD}`, ociRef(debianLayout(), 'bookworm-minbase'), `docker://${server.host}/acme/tagged:1`]);
    assert.notEqual(pushed.code, 0);
    assert.match(pushed.stderr, /cannot tag acme\/tagged:1: .* is not signed by a trusted key \(policy of acme\/tagged\)/);

    const image = await layoutImage(debianLayout(), 'bookworm-minbase');
    assert.equal((await putManifest('acme/tagged', image.digest, image.content)).status, 201);
    await cosignSign('acme/tagged', image.digest, trusted.privateKey);
    const tagged = await putManifest('acme/tagged', '1', image.content);
    assert.equal(tagged.status, 201, await tagged.text());
    assert.equal((await skopeoInspect('acme/tagged:1')).code, 0);

    // Invalid input is refused before anything is stored.
    const bad = await fetch(`${server.url}/api/v1/repositories/acme/tagged/-/signing-policy`, { method: 'PUT', headers: { authorization: basic, 'content-type': 'application/json' }, body: JSON.stringify({ mode: 'pull', keys: ['not a key'] }) });
    assert.equal(bad.status, 400);
    const anonymous = await fetch(`${server.url}/api/v1/organizations/acme/signing-policy`, { method: 'DELETE', headers: { 'content-type': 'application/json' } });
    assert.equal(anonymous.status, 401);
    const removed = await runCustody(['signing-policy', 'remove', 'acme/tagged', '--registry', server.url, '--username', 'admin', '--password-stdin'], { input: `${ADMIN_PASSWORD}\n` });
    assert.equal(removed.code, 0, removed.stderr);
    const gone = await runCustody(['signing-policy', 'get', 'acme/tagged', '--registry', server.url, '--username', 'admin', '--password-stdin'], { input: `${ADMIN_PASSWORD}\n` });
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /^custody signing-policy: NOT_FOUND: acme\/tagged has no signing policy\n$/);
  });
});
