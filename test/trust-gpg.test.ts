// GPG simple signing (containers-signature(5)) end to end: our OpenPGP verifier against
// signatures made by the real gpg (RSA, Ed25519, ECDSA, signing subkeys), refusals
// (tampered literal, unknown key, expired and revoked keys), the signature store on
// SQLite and PostgreSQL, the registry's extension API with skopeo writing and reading
// through it, registries.d lookaside, and dir: signature files, both ways with skopeo.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { SqliteClient } from '../src/metadata/sqlite-client.ts';
import { PostgresClient } from '../src/metadata/postgres-client.ts';
import { migrate } from '../src/metadata/migrations.ts';
import type { SqlClient } from '../src/metadata/sql-client.ts';
import { SqlMetadataStore } from '../src/metadata/sql-metadata-store.ts';
import { SqlSignatureStore } from '../src/metadata/sql-signature-store.ts';
import { RegistryClient } from '../src/client/registry-client/index.ts';
import {
  buildSimpleSigningPayload,
  parseKeyring,
  parseSimpleSigningPayload,
  signSimpleSigning,
  verifySimpleSigning,
  type PublicKeyring,
} from '../src/trust/gpg/openpgp.ts';
import { readSignedMessage } from '../src/trust/gpg/message.ts';
import { readGpgSignatures, readGpgSignaturesFrom, writeGpgSignature } from '../src/trust/gpg/signature-io.ts';
import { lookasideBase, loadRegistriesD, parseRegistriesD, scopesOf } from '../src/trust/lookaside/registries-d.ts';
import { lookasideSignatureUrl, readLookasideSignatures, writeLookasideSignatures } from '../src/trust/lookaside/lookaside.ts';
import { createTestDatabase, type TestDatabase } from './support/postgres.ts';
import { containersConfig, http, requireTool, run, runOk, type ContainersConfig, type RunResult } from './support/tools.ts';
import { debianLayout, ociRef } from './support/images.ts';
import { gpgHome, type GpgHome } from './support/gpg.ts';
import { startCustody, type CustodyServer } from './support/custody-server.ts';
import { startDistribution, type DistributionRegistry } from './support/distribution-registry.ts';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

/** A new-format packet with a five-octet length. */
function packet(tag: number, body: Buffer): Buffer {
  const head = Buffer.alloc(6);
  head[0] = 0xc0 | tag;
  head[1] = 0xff;
  head.writeUInt32BE(body.length, 2);
  return Buffer.concat([head, body]);
}

/** gpg's message taken apart by Custody's reader and re-encoded without compression, as
 * a signature packet followed by the literal data ('b', no file name, date 0), with the
 * signed bytes passed through `edit`. */
async function reencoded(message: Buffer, edit: (content: Buffer) => Buffer = (content) => content): Promise<Buffer> {
  const { content, signature } = await readSignedMessage(message);
  const literal = Buffer.concat([Buffer.from('b\0', 'latin1'), Buffer.alloc(4), edit(content)]);
  return Buffer.concat([packet(2, Buffer.from(signature.write())), packet(11, literal)]);
}

describe('OpenPGP verification of gpg-made simple signing signatures', () => {
  let work: string;
  let keys: GpgHome;
  let rsa: string;
  let ed: string;
  let ecdsa: string;
  let expiring: string;
  let other: string;
  let ring: PublicKeyring;
  const payload = buildSimpleSigningPayload('registry.example/app:1', DIGEST, { timestamp: 1700000000, creator: 'test' });

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'custody-gpg-'));
    keys = await gpgHome(join(work, 'gnupg'));
    rsa = await keys.generate('RSA Signer <rsa@example.test>', 'rsa2048', 'sign', 'never');
    ed = await keys.generate('Ed Signer <ed@example.test>', 'ed25519', 'sign', 'never');
    ecdsa = await keys.generate('EC Signer <ec@example.test>', 'nistp256', 'sign', 'never');
    expiring = await keys.generate('Expiring <exp@example.test>', 'ed25519', 'sign', '1d');
    other = await keys.generate('Other <other@example.test>', 'ed25519', 'sign', 'never');
    ring = await parseKeyring(await keys.exportKeys([rsa, ed, ecdsa, expiring]));
  });

  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('the payload is byte-for-byte what containers/image writes, and parses strictly', () => {
    assert.equal(
      payload.toString(),
      '{"critical":{"identity":{"docker-reference":"registry.example/app:1"},"image":{"docker-manifest-digest":"' + DIGEST +
        '"},"type":"atomic container signature"},"optional":{"creator":"test","timestamp":1700000000}}',
    );
    assert.equal(parseSimpleSigningPayload(payload).critical.identity['docker-reference'], 'registry.example/app:1');
    const extra = JSON.parse(payload.toString());
    extra.critical.extra = 1;
    assert.throws(() => parseSimpleSigningPayload(Buffer.from(JSON.stringify(extra))), /unexpected field "extra"/);
    const wrongType = JSON.parse(payload.toString());
    wrongType.critical.type = 'cosign container image signature';
    assert.throws(() => parseSimpleSigningPayload(Buffer.from(JSON.stringify(wrongType))), /unrecognized signature type/);
  });

  test('accepts RSA, Ed25519 and ECDSA signatures made by gpg, binary or armored keyring', async () => {
    const armored = await parseKeyring(await keys.exportKeys([rsa, ed, ecdsa], true));
    for (const fingerprint of [rsa, ed, ecdsa]) {
      const message = await signSimpleSigning(payload, fingerprint, { gpgHome: keys.home });
      for (const keyring of [ring, armored]) {
        const verified = await verifySimpleSigning(message, keyring);
        assert.equal(verified.keyId, fingerprint);
        assert.equal(verified.format, 'simple-signing');
        assert.deepEqual(verified.payload, parseSimpleSigningPayload(payload));
        assert.ok(verified.signedAt! > Date.now() - 600_000);
      }
    }
  });

  test('accepts a signing subkey and reports the primary key', async () => {
    await keys.gpg(['--passphrase', '', '--pinentry-mode', 'loopback', '--quick-add-key', other, 'ed25519', 'sign', 'never']);
    const listing = await keys.gpg(['--with-colons', '--list-keys', other]);
    const subkey = [...listing.stdout.matchAll(/^fpr:+([0-9A-F]{40}):/gm)].map((m) => m[1]!).find((f) => f !== other)!;
    const message = await signSimpleSigning(payload, `${subkey}!`, { gpgHome: keys.home });
    const withOther = await parseKeyring(await keys.exportKeys([other]));
    assert.equal((await verifySimpleSigning(message, withOther)).keyId, other);
    await assert.rejects(verifySimpleSigning(message, ring), /not in the keyring/);
  });

  test('rejects a tampered literal, a keyring without the signer, and an expired key', async () => {
    const message = await signSimpleSigning(payload, ed, { gpgHome: keys.home });
    const tampered = await reencoded(message, (content) => Buffer.from(content.toString('latin1').replace('registry.example/app:1', 'registry.example/app:2'), 'latin1'));
    assert.equal((await verifySimpleSigning(await reencoded(message), ring)).keyId, ed, 'the re-encoded original verifies');
    await assert.rejects(verifySimpleSigning(tampered, ring), /does not verify/);
    const otherRing = await parseKeyring(await keys.exportKeys([other]));
    await assert.rejects(verifySimpleSigning(message, otherRing), /not in the keyring/);

    const byExpiring = await signSimpleSigning(payload, expiring, { gpgHome: keys.home });
    assert.equal((await verifySimpleSigning(byExpiring, ring)).keyId, expiring, 'valid before it expires');
    await assert.rejects(verifySimpleSigning(byExpiring, ring, { now: Date.now() + 2 * 86_400_000 }), /expired/);
  });

  test('rejects a revoked key', async () => {
    const victim = await keys.generate('Revoked <rev@example.test>', 'ed25519', 'sign', 'never');
    const message = await signSimpleSigning(payload, victim, { gpgHome: keys.home });
    assert.equal((await verifySimpleSigning(message, await parseKeyring(await keys.exportKeys([victim])))).keyId, victim);
    const certificate = await readFile(join(keys.home, 'openpgp-revocs.d', `${victim}.rev`), 'utf8');
    await writeFile(join(work, 'revoke.asc'), certificate.replace(/^:-----BEGIN/m, '-----BEGIN'));
    await keys.gpg(['--import', join(work, 'revoke.asc')]);
    const revokedRing = await parseKeyring(await keys.exportKeys([victim]));
    await assert.rejects(verifySimpleSigning(message, revokedRing), /revoked/);
  });

  test('refuses hostile messages: a compression bomb, nested compression, two signatures', async () => {
    const literal = (content: Buffer): Buffer => packet(11, Buffer.concat([Buffer.from('b\0', 'latin1'), Buffer.alloc(4), content]));
    const compressed = (inner: Buffer): Buffer => packet(8, Buffer.concat([Buffer.from([2]), deflateSync(inner)]));
    // 200 MiB of zeros in 200 KiB: by default the library would inflate all of it.
    await assert.rejects(verifySimpleSigning(compressed(literal(Buffer.alloc(200 << 20))), ring), /Maximum decompressed message size exceeded/);
    await assert.rejects(verifySimpleSigning(compressed(compressed(literal(payload))), ring), /Packet not allowed in this context: compressedData/);
    const { signature } = await readSignedMessage(await signSimpleSigning(payload, ed, { gpgHome: keys.home }));
    const twice = Buffer.concat([packet(2, Buffer.from(signature.write())), packet(2, Buffer.from(signature.write())), literal(payload)]);
    await assert.rejects(verifySimpleSigning(twice, ring), /unexpected GPG signature count 2/);
  });
});

// ---- the signature store on both engines ----

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`signature store (${engine})`, () => {
    let sql: SqlClient;
    let database: TestDatabase | undefined;
    let dir: string;

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'custody-sigstore-'));
      if (engine === 'postgres') {
        database = await createTestDatabase();
        sql = new PostgresClient({ url: database.url });
      } else {
        sql = new SqliteClient(join(dir, 'meta.db'));
      }
      await migrate(sql);
    });

    after(async () => {
      await sql?.close();
      await database?.drop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    test('adds, lists, de-duplicates, refuses unknown manifests, and forgets signatures with the manifest', async () => {
      const now = Date.now();
      await sql.run('INSERT INTO repositories (name, created_at) VALUES (?, ?)', ['team/app', now]);
      await sql.run('INSERT INTO repositories (name, created_at) VALUES (?, ?)', ['team/other', now]);
      await sql.run('INSERT INTO manifests (digest, media_type, size, content, created_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?)', [DIGEST, 'application/vnd.oci.image.manifest.v1+json', 2, Buffer.from('{}'), now, now]);
      await sql.run('INSERT INTO repository_manifests (repository_id, digest, created_at) SELECT id, ?, ? FROM repositories WHERE name = ?', [DIGEST, now, 'team/app']);
      const store = new SqlSignatureStore(sql);
      assert.deepEqual(await store.list('team/app', DIGEST), []);
      const content = Buffer.from([0xa3, 0x01, 0x02, 0x00, 0xff]);
      assert.deepEqual(await store.add('team/app', DIGEST, { name: `${DIGEST}@one`, kind: 'simple-signing', content }), { created: true, name: `${DIGEST}@one` });
      assert.deepEqual(await store.add('team/app', DIGEST, { name: `${DIGEST}@two`, kind: 'simple-signing', content }), { created: false, name: `${DIGEST}@one` });
      await assert.rejects(store.add('team/app', DIGEST, { name: `${DIGEST}@one`, kind: 'simple-signing', content: Buffer.from('x') }), /different signature/);
      await store.add('team/app', DIGEST, { name: `${DIGEST}@three`, kind: 'simple-signing', content: Buffer.from('second') });
      const listed = await store.list('team/app', DIGEST);
      assert.deepEqual(listed.map((s) => [s.name, s.content.toString('hex')]), [[`${DIGEST}@one`, content.toString('hex')], [`${DIGEST}@three`, Buffer.from('second').toString('hex')]]);
      assert.deepEqual([...(await store.counts('team/app', [DIGEST]))], [[DIGEST, 2]]);
      // The manifest is not in team/other: no reading or writing its signatures there.
      await assert.rejects(store.list('team/other', DIGEST), /not in repository team\/other/);
      await assert.rejects(store.add('team/other', DIGEST, { name: `${DIGEST}@x`, kind: 'simple-signing', content }), /not in repository/);
      assert.equal(await store.remove('team/app', DIGEST, `${DIGEST}@three`), true);
      // Deleting the manifest from the repository deletes its signatures (foreign key cascade).
      assert.equal(await new SqlMetadataStore(sql).deleteManifest('team/app', DIGEST as never, now), true);
      const left = await sql.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM signatures');
      assert.equal(Number(left[0]!.n), 0);
    });
  });
}

// ---- registries.d and lookaside ----

describe('registries.d and lookaside storage', () => {
  test('most specific scope wins; staging for writes; old names; duplicates refused', () => {
    const config = parseRegistriesD([
      { path: 'a.yaml', text: 'default-docker:\n  lookaside: https://default.example/sigs\ndocker:\n  registry.example:\n    lookaside: https://host.example/sigs\n    lookaside-staging: file:///staging\n' },
      { path: 'b.yaml', text: 'docker:\n  registry.example/team:\n    sigstore: https://team.example/sigs\n  "*.example.org":\n    lookaside: https://wild.example/sigs\n    use-sigstore-attachments: true\n' },
    ]);
    const ref = (registry: string, repository: string) => ({ registry, repository, tag: 'v1' });
    assert.deepEqual(scopesOf(ref('registry.example', 'team/app')), ['registry.example/team/app:v1', 'registry.example/team/app', 'registry.example/team', 'registry.example', '*.example']);
    assert.equal(lookasideBase(config, ref('registry.example', 'team/app'), false)!.url.href, 'https://team.example/sigs/team/app');
    assert.equal(lookasideBase(config, ref('registry.example', 'solo/app'), false)!.url.href, 'https://host.example/sigs/solo/app');
    assert.equal(lookasideBase(config, ref('registry.example', 'solo/app'), true)!.url.href, 'file:///staging/solo/app');
    assert.equal(lookasideBase(config, ref('mirror.example.org', 'x'), false)!.url.href, 'https://wild.example/sigs/x');
    assert.equal(lookasideBase(config, ref('elsewhere.test', 'x'), false)!.url.href, 'https://default.example/sigs/x');
    assert.throws(() => parseRegistriesD([{ path: 'a.yaml', text: 'default-docker: {lookaside: x}' }, { path: 'b.yaml', text: 'default-docker: {lookaside: y}' }]), /defined both/);
    assert.equal(lookasideSignatureUrl(new URL('file:///base/team/app'), DIGEST, 3).pathname, `/base/team/app@sha256=${'ab'.repeat(32)}/signature-3`);
  });

  test('file:// lookaside: write, read back in order, stop at the first missing index', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'custody-lookaside-'));
    try {
      await writeFile(join(dir, 'r.yaml'), `docker:\n  registry.example:\n    lookaside: file://${dir}/sigs\n`);
      const config = await loadRegistriesD(dir);
      const base = lookasideBase(config, { registry: 'registry.example', repository: 'team/app' }, true)!.url;
      await writeLookasideSignatures(base, DIGEST, [Buffer.from('one'), Buffer.from('two'), Buffer.from('three')]);
      await writeLookasideSignatures(base, DIGEST, [Buffer.from('one'), Buffer.from('two')]);
      const files = await readdir(join(dir, 'sigs', 'team', `app@sha256=${'ab'.repeat(32)}`));
      assert.deepEqual(files.sort(), ['signature-1', 'signature-2']);
      assert.deepEqual((await readLookasideSignatures(base, DIGEST)).map(String), ['one', 'two']);
      const location = { kind: 'lookaside' as const, base };
      assert.equal((await writeGpgSignature(location, DIGEST, Buffer.from('three'))).added, true);
      assert.equal((await writeGpgSignature(location, DIGEST, Buffer.from('three'))).added, false);
      assert.deepEqual((await readGpgSignatures(location, DIGEST)).map((s) => String(s.message)), ['one', 'two', 'three']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// ---- the registry extension API, skopeo, dir: ----
//
// A real `custody serve` (which mounts the extension API and advertises it on /v2/), and
// for lookaside a real CNCF Distribution registry (which does not advertise it).

describe('GPG signatures with skopeo: registry extension API, lookaside, dir:', () => {
  let work: string;
  let keys: GpgHome;
  let skopeoSigner: string;
  let custodySigner: string;
  let stranger: string;
  let registry: CustodyServer;
  let plain: DistributionRegistry;
  let config: ContainersConfig;
  let emptyRegistriesD: string;
  let skopeoBin: string;
  const source = ociRef(debianLayout(), 'bookworm-curl');

  const skopeo = (args: readonly string[], policy = config.policy): Promise<RunResult> =>
    runOk(skopeoBin, ['--policy', policy, ...args], { env: { ...config.env, GNUPGHOME: keys.home }, timeoutMs: 180_000 });
  const skopeoMayFail = (args: readonly string[], policy: string): Promise<RunResult> =>
    run(skopeoBin, ['--policy', policy, ...args], { env: { ...config.env, GNUPGHOME: keys.home }, timeoutMs: 180_000 });
  const signedByPolicy = async (name: string, fingerprint: string, identity?: string): Promise<string> => {
    const keyPath = join(work, `${name}.gpg`);
    await writeFile(keyPath, await keys.exportKeys([fingerprint]));
    const requirement: Record<string, unknown> = { type: 'signedBy', keyType: 'GPGKeys', keyPath };
    if (identity !== undefined) requirement['signedIdentity'] = { type: 'exactReference', dockerReference: identity };
    const path = join(work, `${name}-policy.json`);
    await writeFile(path, JSON.stringify({ default: [requirement] }));
    return path;
  };
  const client = (url = registry.url): RegistryClient => new RegistryClient({ registry: url });
  const digestOf = async (repository: string, tag: string, url = registry.url): Promise<string> => {
    const response = await http(`${url}/v2/${repository}/manifests/${tag}`, { method: 'HEAD', headers: { Accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' } });
    return String(response.headers['docker-content-digest']);
  };

  before(async () => {
    skopeoBin = requireTool('skopeo');
    work = await mkdtemp(join(tmpdir(), 'custody-gpg-skopeo-'));
    keys = await gpgHome(join(work, 'gnupg'));
    skopeoSigner = await keys.generate('Skopeo Signer <skopeo@example.test>', 'ed25519', 'sign', 'never');
    custodySigner = await keys.generate('Custody Signer <custody@example.test>', 'rsa2048', 'sign', 'never');
    stranger = await keys.generate('Stranger <stranger@example.test>', 'ed25519', 'sign', 'never');
    config = await containersConfig(join(work, 'config'));
    emptyRegistriesD = join(work, 'registries.d-empty');
    await mkdir(emptyRegistriesD);
    registry = await startCustody();
    plain = await startDistribution();
  });

  after(async () => {
    await registry?.dispose();
    await plain?.dispose();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('/v2/ advertises the extension; skopeo copy --sign-by stores the signature through it, and it verifies', async () => {
    const base = await http(`${registry.url}/v2/`);
    assert.equal(base.headers['x-registry-supports-signatures'], '1');
    await skopeo(['--registries.d', emptyRegistriesD, 'copy', '--dest-tls-verify=false', '--sign-by', skopeoSigner, source, `docker://${registry.host}/gpg/app:1`]);
    const digest = await digestOf('gpg/app', '1');
    const listed = await http(`${registry.url}/extensions/v2/gpg/app/signatures/${digest}`);
    assert.equal(listed.status, 200);
    const body = JSON.parse(listed.body.toString()) as { signatures: { schemaVersion: number; type: string; name: string; content: string }[] };
    assert.equal(body.signatures.length, 1);
    assert.equal(body.signatures[0]!.schemaVersion, 2);
    assert.equal(body.signatures[0]!.type, 'atomic');
    assert.match(body.signatures[0]!.name, new RegExp(`^${digest}@[0-9a-f]{32}$`));
    const keyring = await parseKeyring(await keys.exportKeys([skopeoSigner]));
    const verified = await verifySimpleSigning(Buffer.from(body.signatures[0]!.content, 'base64'), keyring);
    assert.equal(verified.keyId, skopeoSigner);
    assert.equal(verified.payload.critical.identity['docker-reference'], `${registry.host}/gpg/app:1`);
    assert.equal(verified.payload.critical.image['docker-manifest-digest'], digest);

    // Our client reads the same through the extension.
    const location = { kind: 'docker' as const, reference: { registry: registry.host, repository: 'gpg/app', tag: '1' }, client: client() };
    const read = await readGpgSignaturesFrom(location, digest);
    assert.equal(read.storage, 'extension');
    assert.equal((await verifySimpleSigning(read.signatures[0]!.message, keyring)).keyId, skopeoSigner);
    // A signature for another manifest, or garbage, is refused; unknown manifests are 404.
    const put = (content: string) => http(`${registry.url}/extensions/v2/gpg/app/signatures/${digest}`, { method: 'PUT', body: JSON.stringify({ schemaVersion: 2, type: 'atomic', name: `${digest}@x1`, content }) });
    assert.equal((await put(Buffer.from('not a signature').toString('base64'))).status, 400);
    const forOther = await signSimpleSigning(buildSimpleSigningPayload(`${registry.host}/gpg/app:1`, DIGEST), custodySigner, { gpgHome: keys.home });
    assert.equal((await put(forOther.toString('base64'))).status, 400);
    assert.equal((await http(`${registry.url}/extensions/v2/gpg/app/signatures/${DIGEST}`)).status, 404);
  });

  test('a signature written by Custody is accepted by skopeo (signedBy policy), and another key is refused', async () => {
    const digest = await digestOf('gpg/app', '1');
    const message = await signSimpleSigning(buildSimpleSigningPayload(`${registry.host}/gpg/app:1`, digest), custodySigner, { gpgHome: keys.home });
    const location = { kind: 'docker' as const, reference: { registry: registry.host, repository: 'gpg/app', tag: '1' }, client: client() };
    assert.deepEqual(await writeGpgSignature(location, digest, message), { storage: 'extension', to: `${registry.url}/extensions/v2/gpg/app/signatures/${digest}`, added: true });
    assert.equal((await writeGpgSignature(location, digest, message)).added, false);
    assert.equal((await readGpgSignatures(location, digest)).length, 2);

    const accept = await signedByPolicy('custody', custodySigner);
    await skopeo(['--registries.d', emptyRegistriesD, 'copy', '--src-tls-verify=false', `docker://${registry.host}/gpg/app:1`, `dir:${join(work, 'pulled')}`], accept);
    const refuse = await signedByPolicy('stranger', stranger);
    const refused = await skopeoMayFail(['--registries.d', emptyRegistriesD, 'copy', '--src-tls-verify=false', `docker://${registry.host}/gpg/app:1`, `dir:${join(work, 'refused')}`], refuse);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /signature|rejected|not allowed/i);
  });

  test('registries.d lookaside when the registry does not advertise the extension, both ways', async () => {
    const registriesD = join(work, 'registries.d');
    const sigs = join(work, 'lookaside');
    await mkdir(registriesD);
    await writeFile(join(registriesD, 'custody.yaml'), `docker:\n  ${plain.host}:\n    lookaside: file://${sigs}\n`);
    assert.equal((await http(`${plain.url}/v2/`)).headers['x-registry-supports-signatures'], undefined, 'Distribution has no signature extension');
    await skopeo(['--registries.d', registriesD, 'copy', '--dest-tls-verify=false', '--sign-by', skopeoSigner, source, `docker://${plain.host}/gpg/lookaside:1`]);
    const digest = await digestOf('gpg/lookaside', '1', plain.url);
    const file = join(sigs, 'gpg', `lookaside@sha256=${digest.slice(7)}`, 'signature-1');
    const keyring = await parseKeyring(await keys.exportKeys([skopeoSigner, custodySigner]));
    assert.equal((await verifySimpleSigning(await readFile(file), keyring)).keyId, skopeoSigner);
    const location = { kind: 'docker' as const, reference: { registry: plain.host, repository: 'gpg/lookaside', tag: '1' }, client: client(plain.url), registriesD: await loadRegistriesD(registriesD) };
    const read = await readGpgSignaturesFrom(location, digest);
    assert.equal(read.storage, 'lookaside');
    assert.equal(read.signatures.length, 1);
    const message = await signSimpleSigning(buildSimpleSigningPayload(`${plain.host}/gpg/lookaside:1`, digest), custodySigner, { gpgHome: keys.home });
    assert.equal((await writeGpgSignature(location, digest, message)).storage, 'lookaside');
    assert.equal((await verifySimpleSigning(await readFile(join(sigs, 'gpg', `lookaside@sha256=${digest.slice(7)}`, 'signature-2')), keyring)).keyId, custodySigner);
    await skopeo(['--registries.d', registriesD, 'copy', '--src-tls-verify=false', `docker://${plain.host}/gpg/lookaside:1`, `dir:${join(work, 'lookaside-pulled')}`], await signedByPolicy('custody-lookaside', custodySigner));
  });

  test('dir: signature files are read and written compatibly with skopeo', async () => {
    const signedDir = join(work, 'signed-dir');
    const identity = 'registry.example/gpg/dir:1';
    await skopeo(['copy', '--sign-by', skopeoSigner, '--sign-identity', identity, source, `dir:${signedDir}`]);
    const manifest = await readFile(join(signedDir, 'manifest.json'));
    const { createHash } = await import('node:crypto');
    const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
    const fromSkopeo = await readGpgSignatures({ kind: 'dir', path: signedDir }, digest);
    assert.equal(fromSkopeo.length, 1);
    const keyring = await parseKeyring(await keys.exportKeys([skopeoSigner, custodySigner]));
    const verified = await verifySimpleSigning(fromSkopeo[0]!.message, keyring);
    assert.equal(verified.payload.critical.identity['docker-reference'], identity);

    const plainDir = join(work, 'plain-dir');
    await skopeo(['copy', source, `dir:${plainDir}`]);
    const plainDigest = `sha256:${createHash('sha256').update(await readFile(join(plainDir, 'manifest.json'))).digest('hex')}`;
    const message = await signSimpleSigning(buildSimpleSigningPayload(identity, plainDigest), custodySigner, { gpgHome: keys.home });
    assert.equal((await writeGpgSignature({ kind: 'dir', path: plainDir }, plainDigest, message)).to, plainDir);
    assert.deepEqual(await readFile(join(plainDir, 'signature-1')), message);
    await skopeo(['copy', `dir:${plainDir}`, `dir:${join(work, 'verified-dir')}`], await signedByPolicy('custody-dir', custodySigner, identity));
    const refused = await skopeoMayFail(['copy', `dir:${plainDir}`, `dir:${join(work, 'refused-dir')}`], await signedByPolicy('stranger-dir', stranger, identity));
    assert.notEqual(refused.code, 0);
  });
});
