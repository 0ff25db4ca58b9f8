// The documented signing flow under a registry signing policy, as a new user meets it
// (issue 17): `custody signing-policy set acme/app --key cosign.pub`, an image pushed
// there, then the owner signs it with `custody sign … --creds owner:…` against a real
// `custody serve`. Both sides are proved apart: the signer asks for pull,push from its
// first request, and the registry lets an account with push rights read what the policy
// hides from consumers even through a pull-only token. Then the blobs: a consumer cannot
// fetch an unsigned image's layer by digest (nor mount it elsewhere), signature artifacts
// stay readable, and the layer is served once the image is signed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ADMIN_PASSWORD, runCustody, startCustody, type CustodyServer } from './support/custody-server.ts';
import { debianLayout, layoutImage, ociRef } from './support/images.ts';
import { tempDirs } from './support/temp-files.ts';
import { createNotationCa, notationEnvelope } from './support/sigstore-fixtures.ts';
import { containersConfig, requireTool, run, runOk, type ContainersConfig } from './support/tools.ts';

const OWNER_PASSWORD = 'owner-password-for-tests';
const READER_PASSWORD = 'reader-password-for-tests';
const basicOf = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const admin = basicOf('admin', ADMIN_PASSWORD);

describe('signing under a registry signing policy', () => {
  const temp = tempDirs('custody-signing-flow-');
  let server: CustodyServer;
  let work: string;
  let config: ContainersConfig;

  const api = async (path: string, method: string, body: unknown): Promise<void> => {
    const response = await fetch(`${server.url}/api/v1/${path}`, { method, headers: { authorization: admin, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.ok(response.status < 300, `${method} ${path}: ${response.status} ${await response.text()}`);
  };
  const custody = (args: readonly string[], env: Record<string, string> = {}) => runCustody(args, { cwd: work, env: { ...config.env, ...env } });
  /** A registry token for exactly `scope`, the way clients get one. */
  const token = async (user: string, password: string, scope: string): Promise<string> => {
    const response = await fetch(`${server.url}/auth/token?service=custody&scope=${encodeURIComponent(scope)}`, { headers: { authorization: basicOf(user, password) } });
    assert.equal(response.status, 200);
    return ((await response.json()) as { token: string }).token;
  };
  const push = (tag: string, destination: string) =>
    runOk('skopeo', ['copy', '-q', '--dest-tls-verify=false', '--dest-creds', `owner:${OWNER_PASSWORD}`, ociRef(debianLayout(), tag), `docker://${server.host}/${destination}`], { env: config.env });

  before(async () => {
    requireTool('skopeo');
    work = temp();
    config = await containersConfig(join(work, 'containers'));
    server = await startCustody({ auth: true });
    await api('organizations', 'POST', { name: 'acme' });
    await api('users', 'POST', { name: 'owner', password: OWNER_PASSWORD });
    await api('users', 'POST', { name: 'reader', password: READER_PASSWORD });
    await api('organizations/acme/default-permissions/user/owner', 'PUT', { role: 'write' });
    await api('organizations/acme/default-permissions/user/reader', 'PUT', { role: 'read' });
    await api('repositories', 'POST', { name: 'acme/app' });
    const generated = await custody(['key', 'generate'], { COSIGN_PASSWORD: 'flow password' });
    assert.equal(generated.code, 0, generated.stderr);
    const set = await runCustody(['signing-policy', 'set', 'acme/app', '--key', join(work, 'cosign.pub'), '--registry', server.url, '--username', 'admin', '--password-stdin'], { input: `${ADMIN_PASSWORD}\n` });
    assert.equal(set.code, 0, set.stderr);
  });
  after(async () => {
    await server?.dispose();
  });

  it('the owner signs the image already pushed under the policy with custody sign --creds', async () => {
    await push('bookworm-minbase', 'acme/app:1');
    const reader = ['inspect', '--raw', '--tls-verify=false', '--creds', `reader:${READER_PASSWORD}`, `docker://${server.host}/acme/app:1`];
    const before = await run('skopeo', reader, { env: config.env });
    assert.notEqual(before.code, 0);
    assert.match(before.stderr, /is not signed by a trusted key/);

    const signed = await custody(['sign', `docker://${server.host}/acme/app:1`, '--key', 'cosign.key', '--creds', `owner:${OWNER_PASSWORD}`, '--tls-verify=false'], { COSIGN_PASSWORD: 'flow password' });
    assert.equal(signed.code, 0, signed.stderr);
    assert.match(signed.stderr, /^Signed sha256:[0-9a-f]{64} as /);
    const after = await run('skopeo', reader, { env: config.env });
    assert.equal(after.code, 0, after.stderr);
    const verified = await custody(['verify', `docker://${server.host}/acme/app:1`, '--key', 'cosign.pub', '--creds', `reader:${READER_PASSWORD}`, '--tls-verify=false']);
    assert.equal(verified.code, 0, verified.stderr);
  });

  it('the registry decides by the account\'s rights: a publisher reads through a pull-only token, a consumer does not', async () => {
    await push('bookworm-curl', 'acme/app:2');
    const image = await layoutImage(debianLayout(), 'bookworm-curl');
    const read = (bearer: string) => fetch(`${server.url}/v2/acme/app/manifests/${image.digest}`, { headers: { authorization: `Bearer ${bearer}`, accept: image.manifest.mediaType } });
    const ownerPullOnly = await token('owner', OWNER_PASSWORD, 'repository:acme/app:pull');
    assert.equal((await read(ownerPullOnly)).status, 200);
    const readerToken = await token('reader', READER_PASSWORD, 'repository:acme/app:pull');
    const refused = await read(readerToken);
    assert.equal(refused.status, 403);
    assert.match(((await refused.json()) as { errors: { message: string }[] }).errors[0]!.message, /is not signed by a trusted key \(policy of acme\/app\)/);
  });

  it('the signer asks for push from its first request (no pull-only token is fetched)', async () => {
    const since = Date.now();
    const signed = await custody(['sign', `docker://${server.host}/acme/app:2`, '--key', 'cosign.key', '--creds', `owner:${OWNER_PASSWORD}`, '--tls-verify=false'], { COSIGN_PASSWORD: 'flow password' });
    assert.equal(signed.code, 0, signed.stderr);
    // The action log records what each token granted; it is written in batches, in order,
    // so once the signer's last push is there, so are its tokens.
    type Entry = { kind: string; detail?: { access?: string[] } };
    let entries: Entry[] = [];
    for (let attempt = 0; attempt < 200 && !entries.some((entry) => entry.kind === 'push'); attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      const response = await fetch(`${server.url}/api/v1/logs?actor=owner&kind=token,push&since=${since}&limit=1000`, { headers: { authorization: admin } });
      entries = ((await response.json()) as { entries: Entry[] }).entries;
    }
    const granted = entries.filter((entry) => entry.kind === 'token').map((entry) => entry.detail?.access?.join(' '));
    assert.ok(granted.length > 0, 'the signer fetched a token');
    for (const access of granted) assert.equal(access, 'repository:acme/app:pull,push');
  });

  it('blobs: an unsigned image\'s layer is refused to a consumer (GET, HEAD, mount), served once the image is signed', async () => {
    await push('bookworm-minbase', 'acme/app:3');
    // A new image of its own (the other tags' layers are shared and already signed above).
    const layout = debianLayout();
    const image = await layoutImage(layout, 'bookworm-minbase');
    const layer = image.manifest.layers.at(-1)!.digest;
    const readerBasic = basicOf('reader', READER_PASSWORD);
    // Fresh unsigned content: the owner pushes a config and layer nobody else references.
    const unique = Buffer.from(`unsigned layer ${Date.now()}`);
    const uniqueDigest = await pushBlob('acme/app', unique);
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [uniqueDigest] } }));
    const configDigest = await pushBlob('acme/app', config);
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: uniqueDigest, size: unique.length }],
    }));
    const put = await fetch(`${server.url}/v2/acme/app/manifests/unsigned`, { method: 'PUT', headers: { authorization: basicOf('owner', OWNER_PASSWORD), 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: manifest });
    assert.equal(put.status, 201, await put.text());

    const blob = (digest: string, authorization: string, method = 'GET') => fetch(`${server.url}/v2/acme/app/blobs/${digest}`, { method, headers: { authorization } });
    const refused = await blob(uniqueDigest, readerBasic);
    assert.equal(refused.status, 403);
    const envelope = (await refused.json()) as { errors: { code: string; message: string }[] };
    assert.equal(envelope.errors[0]!.code, 'DENIED');
    assert.match(envelope.errors[0]!.message, new RegExp(`acme/app@${uniqueDigest} belongs to no image signed by a trusted key \\(policy of acme/app\\)`));
    assert.equal((await blob(uniqueDigest, readerBasic, 'HEAD')).status, 403);
    assert.equal((await blob(configDigest, readerBasic)).status, 403);
    // Through a pull-only token as well.
    const readerToken = await token('reader', READER_PASSWORD, 'repository:acme/app:pull');
    assert.equal((await blob(uniqueDigest, `Bearer ${readerToken}`)).status, 403);
    // The publisher reads it, with its own pull-only token too.
    assert.equal((await blob(uniqueDigest, basicOf('owner', OWNER_PASSWORD))).status, 200);
    assert.equal((await blob(uniqueDigest, `Bearer ${await token('owner', OWNER_PASSWORD, 'repository:acme/app:pull')}`)).status, 200);
    // A layer of a signed image is served; so are the signature artifact's blobs.
    assert.equal((await blob(layer, readerBasic)).status, 200);
    const sigManifest = await fetch(`${server.url}/v2/acme/app/manifests/${image.digest.replace(':', '-')}.sig`, { headers: { authorization: readerBasic, accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(sigManifest.status, 200);
    const payload = ((await sigManifest.json()) as { layers: { digest: string }[] }).layers[0]!.digest;
    assert.equal((await blob(payload, readerBasic)).status, 200);

    // A consumer cannot carry the layer out by mounting it into a repository of its own.
    const mount = await fetch(`${server.url}/v2/reader/copy/blobs/uploads/?mount=${uniqueDigest}&from=acme/app`, { method: 'POST', headers: { authorization: readerBasic, 'content-length': '0' } });
    assert.equal(mount.status, 202, 'the mount became a plain upload');

    // Signed: the layer is served to the consumer.
    const signed = await custody(['sign', `docker://${server.host}/acme/app:unsigned`, '--key', 'cosign.key', '--creds', `owner:${OWNER_PASSWORD}`, '--tls-verify=false'], { COSIGN_PASSWORD: 'flow password' });
    assert.equal(signed.code, 0, signed.stderr);
    const served = await blob(uniqueDigest, readerBasic);
    assert.equal(served.status, 200);
    assert.deepEqual(Buffer.from(await served.arrayBuffer()), unique);
  });

  it('a sigstore bundle (custody sign --bundle) or a notation signature under a trusted certificate satisfies the policy', async () => {
    const ca = await createNotationCa('acme release root');
    const policy = await fetch(`${server.url}/api/v1/repositories/acme/app/-/signing-policy`, {
      method: 'PUT',
      headers: { authorization: admin, 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'pull', keys: [await readFile(join(work, 'cosign.pub'), 'utf8'), ca.rootPem] }),
    });
    const policyText = await policy.text();
    assert.equal(policy.status, 200, policyText);
    const formats = (JSON.parse(policyText) as { keys: { format: string }[] }).keys.map((key) => key.format).sort();
    assert.deepEqual(formats, ['notation', 'sigstore']);
    const reader = (tag: string) => run('skopeo', ['inspect', '--raw', '--tls-verify=false', '--creds', `reader:${READER_PASSWORD}`, `docker://${server.host}/acme/app:${tag}`], { env: config.env });

    // cosign v3's format, written by custody sign --bundle.
    await push('bookworm-minbase', 'acme/app:bundled');
    const bundled = await custody(['sign', `docker://${server.host}/acme/app:bundled`, '--key', 'cosign.key', '--bundle', '--creds', `owner:${OWNER_PASSWORD}`, '--tls-verify=false'], { COSIGN_PASSWORD: 'flow password' });
    assert.equal(bundled.code, 0, bundled.stderr);
    assert.match(bundled.stderr, /\(sigstore bundle\)/);
    assert.equal((await reader('bundled')).code, 0);

    // notation: a signature manifest whose JWS chain leads to the trusted root.
    const image = await pushUnique('notation');
    assert.notEqual((await reader('notation')).code, 0);
    const stranger = await createNotationCa('stranger root');
    await pushNotation(image, await notationEnvelope(image, await stranger.issueSigner('CN=mallory, O=elsewhere, ST=XX, C=US')));
    assert.notEqual((await reader('notation')).code, 0);
    await pushNotation(image, await notationEnvelope(image, await ca.issueSigner('CN=release, O=acme, ST=WA, C=US')));
    const allowed = await reader('notation');
    assert.equal(allowed.code, 0, allowed.stderr);
    const view = (await (await fetch(`${server.url}/api/v1/repositories/acme/app/-/manifests/${image.digest}/signatures`, { headers: { authorization: admin } })).json()) as { satisfied: boolean; signatures: { format: string; verified: boolean; identity: string | null; reason: string | null }[] };
    assert.equal(view.satisfied, true);
    const notation = view.signatures.filter((signature) => signature.format === 'notation');
    assert.equal(notation.length, 2);
    assert.ok(notation.some((signature) => signature.verified && signature.identity === 'CN=release, O=acme, ST=WA, C=US'));
    assert.ok(notation.some((signature) => !signature.verified && /not signed under a trusted notation certificate/.test(signature.reason ?? '')));
  });

  /** An image of its own (a unique layer), pushed by the owner under `tag`. */
  async function pushUnique(tag: string): Promise<{ mediaType: string; digest: string; size: number }> {
    const layer = Buffer.from(`layer of ${tag} ${Date.now()}`);
    const layerDigest = await pushBlob('acme/app', layer);
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layerDigest] } }));
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: await pushBlob('acme/app', config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
    }));
    const put = await fetch(`${server.url}/v2/acme/app/manifests/${tag}`, { method: 'PUT', headers: { authorization: basicOf('owner', OWNER_PASSWORD), 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: manifest });
    assert.equal(put.status, 201, await put.text());
    return { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${createHash('sha256').update(manifest).digest('hex')}`, size: manifest.length };
  }

  /** A notation signature manifest, as notation pushes it. */
  async function pushNotation(subject: { mediaType: string; digest: string; size: number }, envelope: Buffer): Promise<void> {
    const empty = Buffer.from('{}');
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.cncf.notary.signature',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: await pushBlob('acme/app', empty), size: 2 },
      layers: [{ mediaType: 'application/jose+json', digest: await pushBlob('acme/app', envelope), size: envelope.length }],
      subject,
    }));
    const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
    const put = await fetch(`${server.url}/v2/acme/app/manifests/${digest}`, { method: 'PUT', headers: { authorization: basicOf('owner', OWNER_PASSWORD), 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: manifest });
    assert.equal(put.status, 201, await put.text());
  }

  async function pushBlob(repository: string, content: Buffer): Promise<string> {
    const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
    const response = await fetch(`${server.url}/v2/${repository}/blobs/uploads/?digest=${digest}`, { method: 'POST', headers: { authorization: basicOf('owner', OWNER_PASSWORD), 'content-type': 'application/octet-stream' }, body: content });
    assert.equal(response.status, 201, await response.text());
    return digest;
  }
});
