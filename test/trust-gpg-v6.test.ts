// OpenPGP v6 keys (RFC 9580) for GPG simple signing. gpg 2.2 (Debian's) cannot make them,
// so the test makes them with OpenPGP.js, the library Custody verifies with, then checks
// the signatures through every path Custody has: the verifier, `custody verify`, the
// registry's signature extension (which parses a signature before storing it), and a
// containers-policy.json `signedBy` requirement on pull and on `inspect --verify`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { RegistryClient } from '../src/client/registry-client/index.ts';
import { buildSimpleSigningPayload, parseKeyring, readUnverifiedMessage, verifySimpleSigning } from '../src/trust/gpg/openpgp.ts';
import { writeGpgSignature } from '../src/trust/gpg/signature-io.ts';
import { runCustody, startCustody, type CustodyServer } from './support/custody-server.ts';
import { debianLayout, ociRef } from './support/images.ts';
import { gpgHome } from './support/gpg.ts';
import { tempDirs } from './support/temp-files.ts';

const newDir = tempDirs('custody-gpg-v6-');

interface V6Key {
  readonly privateKey: openpgp.PrivateKey;
  /** The transferable public key, binary, as `keyPath` files hold it. */
  readonly publicKey: Buffer;
  readonly fingerprint: string;
}

async function v6Key(name: string, options: { signingSubkey?: boolean } = {}): Promise<V6Key> {
  const { privateKey } = await openpgp.generateKey({
    type: 'curve25519',
    userIDs: [{ name, email: `${name.toLowerCase().replace(/\W+/g, '.')}@example.test` }],
    subkeys: options.signingSubkey ? [{}, { sign: true }] : [{}],
    format: 'object',
    config: { v6Keys: true },
  });
  assert.equal(privateKey.keyPacket.version, 6);
  return { privateKey, publicKey: Buffer.from(privateKey.toPublic().write()), fingerprint: privateKey.getFingerprint().toUpperCase() };
}

/** A simple-signing signature as skopeo stores it: a binary OpenPGP signed message. */
async function sign(key: V6Key, payload: Buffer, signingKeyID?: openpgp.KeyID): Promise<Buffer> {
  const message = await openpgp.createMessage({ binary: payload });
  return Buffer.from(await openpgp.sign({ message, signingKeys: key.privateKey, ...(signingKeyID ? { signingKeyIDs: signingKeyID } : {}), format: 'binary' }));
}

const manifestDigest = async (dir: string): Promise<string> => `sha256:${createHash('sha256').update(await readFile(join(dir, 'manifest.json'))).digest('hex')}`;

describe('v6 (RFC 9580) keys for GPG simple signing', () => {
  let signer: V6Key;
  let withSubkey: V6Key;
  let stranger: V6Key;
  const digest = `sha256:${'d6'.repeat(32)}`;
  const payload = buildSimpleSigningPayload('registry.example/v6/app:1', digest, { timestamp: 1700000000, creator: 'test' });

  before(async () => {
    signer = await v6Key('V6 Signer');
    withSubkey = await v6Key('V6 Subkey Signer', { signingSubkey: true });
    stranger = await v6Key('V6 Stranger');
  });

  test('a v6 signature verifies against a binary or armored v6 keyring, mixed with gpg\'s v4 keys', async () => {
    const gpg = await gpgHome(join(newDir(), 'gnupg'));
    const v4 = await gpg.generate('V4 Signer <v4@example.test>', 'ed25519', 'sign', 'never');
    const v4Key = await gpg.exportKeys([v4]);
    const message = await sign(signer, payload);
    const armored = Buffer.from(signer.privateKey.toPublic().armor());
    for (const keyring of [Buffer.concat([v4Key, signer.publicKey]), Buffer.concat([Buffer.from(`${await gpg.exportKeys([v4], true)}\n`), armored])]) {
      const verified = await verifySimpleSigning(message, await parseKeyring(keyring));
      assert.equal(verified.keyId, signer.fingerprint);
      assert.equal(verified.keyId.length, 64, 'v6 fingerprints are SHA-256');
      assert.equal(verified.payload.critical.image['docker-manifest-digest'], digest);
    }
    const unverified = await readUnverifiedMessage(message);
    assert.equal(unverified.issuerFingerprint, signer.fingerprint);
    assert.equal(unverified.content.toString(), payload.toString());
  });

  test('a v6 signing subkey signs for its primary key; another key, or changed bytes, are refused', async () => {
    const subkey = withSubkey.privateKey.subkeys.find((candidate) => candidate.getAlgorithmInfo().algorithm === 'ed25519')!;
    const bySubkey = await sign(withSubkey, payload, subkey.getKeyID());
    const verified = await verifySimpleSigning(bySubkey, await parseKeyring(withSubkey.publicKey));
    assert.equal(verified.keyId, withSubkey.fingerprint, 'reported as the primary key');
    await assert.rejects(verifySimpleSigning(bySubkey, await parseKeyring(stranger.publicKey)), /not in the keyring/);
    const message = await sign(signer, payload);
    const changed = Buffer.from(message.toString('latin1').replace('registry.example/v6/app:1', 'registry.example/v6/app:2'), 'latin1');
    await assert.rejects(verifySimpleSigning(changed, await parseKeyring(signer.publicKey)), /does not verify/);
  });

  describe('through custody serve, custody verify and signedBy policies', () => {
    let server: CustodyServer;
    let work: string;
    let trusted: string;
    let other: string;

    before(async () => {
      work = newDir();
      trusted = join(work, 'v6-signer.pgp');
      other = join(work, 'v6-stranger.pgp');
      await writeFile(trusted, signer.publicKey);
      await writeFile(other, stranger.publicKey);
      server = await startCustody();
    });
    after(async () => {
      await server?.dispose();
    });

    const policy = async (name: string, keyPath: string, identity?: string): Promise<string> => {
      const requirement: Record<string, unknown> = { type: 'signedBy', keyType: 'GPGKeys', keyPath };
      if (identity !== undefined) requirement['signedIdentity'] = { type: 'exactReference', dockerReference: identity };
      const file = join(work, `${name}.json`);
      await writeFile(file, JSON.stringify({ default: [requirement] }));
      return file;
    };

    test('the registry stores a v6 signature; custody verify and a signedBy pull accept it, another key is refused', async () => {
      const image = `${server.host}/v6/app:1`;
      const pushed = await runCustody(['copy', '--quiet', '--insecure-policy', '--dest-tls-verify=false', ociRef(debianLayout(), 'bookworm-minbase'), `docker://${image}`]);
      assert.equal(pushed.code, 0, pushed.stderr);
      const local = join(work, 'pushed');
      assert.equal((await runCustody(['copy', '--quiet', '--insecure-policy', '--src-tls-verify=false', `docker://${image}`, `dir:${local}`])).code, 0);
      const digest = await manifestDigest(local);
      const message = await sign(signer, buildSimpleSigningPayload(image, digest));
      // Through the signature extension: the registry reads the signature before it stores it.
      const location = { kind: 'docker' as const, reference: { registry: server.host, repository: 'v6/app', tag: '1' }, client: new RegistryClient({ registry: server.url }) };
      assert.equal((await writeGpgSignature(location, digest, message)).storage, 'extension');

      const verified = await runCustody(['verify', '--tls-verify=false', `docker://${image}`, '--key', trusted]);
      assert.equal(verified.code, 0, verified.stderr);
      assert.match(verified.stderr, new RegExp(`by key ${signer.fingerprint}`));
      const wrongKey = await runCustody(['verify', '--tls-verify=false', `docker://${image}`, '--key', other]);
      assert.equal(wrongKey.code, 1);
      assert.match(wrongKey.stderr, /signed by another key/);

      const pulled = await runCustody(['copy', '--quiet', '--policy', await policy('trusted', trusted), '--src-tls-verify=false', `docker://${image}`, `dir:${join(work, 'pulled')}`]);
      assert.equal(pulled.code, 0, pulled.stderr);
      const refused = await runCustody(['copy', '--quiet', '--policy', await policy('stranger', other), '--src-tls-verify=false', `docker://${image}`, `dir:${join(work, 'refused')}`]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /none of the simple signing signatures is signed by a key in/);
    });

    test('a dir: image signed with a v6 key passes inspect --verify under signedBy with its identity', async () => {
      const dir = join(work, 'signed-dir');
      assert.equal((await runCustody(['copy', '--quiet', '--insecure-policy', ociRef(debianLayout(), 'bookworm-minbase'), `dir:${dir}`])).code, 0);
      await writeFile(join(dir, 'signature-1'), await sign(signer, buildSimpleSigningPayload('example.com/v6:1', await manifestDigest(dir))));
      const good = await runCustody(['inspect', '--verify', '--policy', await policy('dir-good', trusted, 'example.com/v6:1'), `dir:${dir}`]);
      assert.equal(good.code, 0, good.stderr + good.stdout);
      assert.match(good.stdout, new RegExp(`signed by ${signer.fingerprint} for example\\.com/v6:1`));
      const wrongIdentity = await runCustody(['inspect', '--verify', '--policy', await policy('dir-identity', trusted, 'example.com/v6:2'), `dir:${dir}`]);
      assert.equal(wrongIdentity.code, 1);
      assert.match(wrongIdentity.stderr, /Signature for identity "example\.com\/v6:1" is not accepted/);
    });
  });
});
