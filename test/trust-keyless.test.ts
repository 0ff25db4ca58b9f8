// Keyless sigstore verification, offline, against a sigstore the test makes itself
// (test/support/sigstore-fixtures.ts: a Fulcio-like CA, a Rekor-like Merkle log, a trusted
// root naming them). Every bundle Custody accepts is also accepted by the official
// @sigstore/verify used directly, as an independent peer; what Custody refuses (another
// identity or issuer, a tampered inclusion proof, a certificate outside its validity at the
// logged time, an unsigned log time) it refuses with the reason. Key-based bundles as
// `custody sign --bundle` writes them verify with both too.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { certificateIdentity } from '../src/trust/keyless/identity.ts';
import { parseTrustedRoot, type KeylessTrust } from '../src/trust/keyless/trusted-root.ts';
import { BundleVerificationError, verifyBundle } from '../src/trust/bundle/verify-bundle.ts';
import { createDsseBundle, statementFor } from '../src/trust/bundle/sign-bundle.ts';
import { COSIGN_SIGN_PREDICATE_TYPE } from '../src/trust/bundle/bundle-types.ts';
import { verifyImage } from '../src/trust/bundle/image-verify.ts';
import { serializePayload } from '../src/trust/sigstore/payload.ts';
import { publicKeyId } from '../src/trust/sigstore/keys.ts';
import { createSigstore, keylessDsseBundle, legacyKeylessAnnotations, type Sigstore } from './support/sigstore-fixtures.ts';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const statement = { _type: 'https://in-toto.io/Statement/v1', subject: [{ digest: { sha256: 'ab'.repeat(32) } }], predicateType: COSIGN_SIGN_PREDICATE_TYPE, predicate: {} };
const ALICE = certificateIdentity({ identity: 'alice@example.com', issuer: 'https://accounts.example.com' });

/** The official verifier, used as its documentation shows: bundle, trust material, policy. */
function peerVerify(store: Sigstore, bundle: unknown, policy?: { subjectAlternativeName: string; issuer: string }): void {
  const material = toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(store.trustedRoot)));
  const verifier = new Verifier(material, { ctlogThreshold: 0 });
  verifier.verify(toSignedEntity(bundleFromJSON(bundle)), policy ? { subjectAlternativeName: new RegExp(`^${policy.subjectAlternativeName.replace(/[.]/g, '\\.')}$`), extensions: { issuer: policy.issuer } } : undefined);
}

async function refused(promise: Promise<unknown>, reason: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof BundleVerificationError, String(error));
    assert.match(error.message, reason);
    return true;
  });
}

describe('keyless bundles, offline', () => {
  let store: Sigstore;
  let root: KeylessTrust;

  before(async () => {
    store = await createSigstore();
    root = await parseTrustedRoot(store.trustedRoot);
  });

  it('a keyless DSSE bundle verifies with Custody and with @sigstore/verify', async () => {
    const bundle = await keylessDsseBundle(store, statement);
    const verified = await verifyBundle(bundle, { root, identity: ALICE });
    assert.deepEqual(verified.signer, { kind: 'certificate', subject: 'alice@example.com', issuer: 'https://accounts.example.com' });
    assert.equal(verified.statement?.predicateType, COSIGN_SIGN_PREDICATE_TYPE);
    assert.ok(verified.loggedAt !== undefined && Math.abs(verified.loggedAt - Date.now()) < 120_000);
    peerVerify(store, bundle, { subjectAlternativeName: 'alice@example.com', issuer: 'https://accounts.example.com' });
    // Regular expressions, as cosign's -regexp flags.
    await verifyBundle(bundle, { root, identity: certificateIdentity({ identityRegexp: '@example\\.com$', issuerRegexp: '^https://accounts\\.' }) });
  });

  it('another identity or issuer is refused, naming what the certificate says', async () => {
    const bundle = await keylessDsseBundle(store, statement, { subject: 'mallory@example.net' });
    await refused(verifyBundle(bundle, { root, identity: ALICE }), /certificate identity mismatch: the certificate is for "mallory@example\.net", not "alice@example\.com"/);
    const otherIssuer = await keylessDsseBundle(store, statement, { issuer: 'https://evil.example' });
    await refused(verifyBundle(otherIssuer, { root, identity: ALICE }), /certificate issuer mismatch: the certificate's OIDC issuer is "https:\/\/evil\.example"/);
    // Exact means exact: a regular-expression metacharacter in an exact identity is literal.
    const lookalike = await keylessDsseBundle(store, statement, { subject: 'aliceXexample.com@x.org' });
    await refused(verifyBundle(lookalike, { root, identity: certificateIdentity({ identity: 'alice.example.com@x.org', issuer: 'https://accounts.example.com' }) }), /certificate identity mismatch/);
  });

  it('a tampered inclusion proof is refused, by Custody and by the peer', async () => {
    const bundle = (await keylessDsseBundle(store, statement)) as { verificationMaterial: { tlogEntries: { inclusionProof: { hashes: string[] } }[] } };
    // The log must hold a few entries for the proof to have hashes to tamper with.
    for (let i = 0; i < 3; i++) await keylessDsseBundle(store, statement);
    const fresh = (await keylessDsseBundle(store, statement)) as typeof bundle;
    const proof = fresh.verificationMaterial.tlogEntries[0]!.inclusionProof;
    assert.ok(proof.hashes.length > 0);
    const hash = Buffer.from(proof.hashes[0]!, 'base64');
    hash[0]! ^= 0xff;
    proof.hashes[0] = hash.toString('base64');
    await refused(verifyBundle(fresh, { root, identity: ALICE }), /inclusion proof/);
    assert.throws(() => peerVerify(store, fresh), /inclusion proof/);
  });

  it('a certificate outside its validity at the logged time is refused', async () => {
    const hourAgo = new Date(Date.now() - 3_600_000);
    const certificate = await store.fulcio.issue({ subject: 'alice@example.com', issuer: 'https://accounts.example.com', notBefore: hourAgo, notAfter: new Date(hourAgo.getTime() + 10 * 60_000) });
    const late = await keylessDsseBundle(store, statement, { certificate });
    await refused(verifyBundle(late, { root, identity: ALICE }), /certificate is not valid or expired at the specified date/);
    assert.throws(() => peerVerify(store, late));
    // Logged within the validity (an hour ago): the same certificate verifies.
    const onTime = await keylessDsseBundle(store, statement, { certificate, integratedTime: Math.floor(hourAgo.getTime() / 1000) + 120 });
    await verifyBundle(onTime, { root, identity: ALICE });
  });

  it('a log entry without a signed entry timestamp does not date the certificate', async () => {
    const bundle = (await keylessDsseBundle(store, statement)) as { verificationMaterial: { tlogEntries: Record<string, unknown>[] } };
    delete bundle.verificationMaterial.tlogEntries[0]!.inclusionPromise;
    await refused(verifyBundle(bundle, { root, identity: ALICE }), /no signed entry timestamp/);
  });

  it('another trusted root (another CA and log) refuses the bundle', async () => {
    const other = await createSigstore();
    const otherRoot = await parseTrustedRoot(other.trustedRoot);
    await refused(verifyBundle(await keylessDsseBundle(store, statement), { root: otherRoot, identity: ALICE }), /certificate chain|inclusion|tlog/i);
  });

  it('legacy keyless .sig signatures (certificate, chain and Rekor bundle annotations) verify the same way', async () => {
    const payload = serializePayload('registry.example/acme/app', DIGEST);
    const annotations = await legacyKeylessAnnotations(store, payload);
    const signature = { format: 'sigstore' as const, payload, signature: Buffer.from(annotations['dev.cosignproject.cosign/signature']!, 'base64'), annotations };
    const manifest = { digest: DIGEST, bytes: Buffer.from('{}') };
    const [verified] = await verifyImage(manifest, [signature], [], { keys: [], root, identity: ALICE }, undefined);
    assert.equal(verified!.signer, 'alice@example.com (issuer https://accounts.example.com)');
    assert.equal(verified!.reference, 'registry.example/acme/app');
    await assert.rejects(verifyImage(manifest, [signature], [], { keys: [], root, identity: certificateIdentity({ identity: 'bob@example.com', issuer: 'https://accounts.example.com' }) }, undefined), /certificate identity mismatch/);
    // A forged SET (another log's key) is refused.
    const forged = { ...annotations, 'dev.sigstore.cosign/bundle': annotations['dev.sigstore.cosign/bundle']!.replace(/"SignedEntryTimestamp":"[^"]+"/, `"SignedEntryTimestamp":"${Buffer.alloc(70, 1).toString('base64')}"`) };
    await assert.rejects(verifyImage(manifest, [{ ...signature, annotations: forged }], [], { keys: [], root, identity: ALICE }, undefined), /inclusion promise/);
  });

  it('a key-based bundle as custody sign --bundle writes it verifies with the key, and with the peer', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const bytes = await createDsseBundle(privateKey, statementFor(DIGEST, COSIGN_SIGN_PREDICATE_TYPE, {}));
    const json = JSON.parse(bytes.toString('utf8')) as { mediaType: string; verificationMaterial: { publicKey: { hint: string } } };
    assert.equal(json.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    const verified = await verifyBundle(json, { keys: [publicKey] });
    assert.deepEqual(verified.signer, { kind: 'key', keyId: publicKeyId(publicKey) });
    assert.deepEqual(verified.statement?.subject, [{ digest: { sha256: 'ab'.repeat(32) } }]);
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    await refused(verifyBundle(json, { keys: [other] }), /not signed by a given key/);
    // The peer, with the key found by its hint.
    const material = { ...toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(store.trustedRoot))), publicKey: (hint: string) => {
      assert.equal(hint, json.verificationMaterial.publicKey.hint);
      return { publicKey: createPublicKey(publicKey.export({ type: 'spki', format: 'pem' })), validFor: () => true };
    } };
    new Verifier(material, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(toSignedEntity(bundleFromJSON(json)));
  });
});
