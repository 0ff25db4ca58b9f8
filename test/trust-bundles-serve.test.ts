// Sigstore bundles, keyless signatures, attestations and notation signatures through the
// `custody` CLI against a real `custody serve` (and CNCF Distribution, which has no
// referrers API), laid out in the registry as cosign v3 and notation lay them out:
// - `custody sign --bundle` writes a v0.3 bundle referrer where the registry has the
//   referrers API, the legacy `.sig` tag elsewhere; `custody verify --key` reads both;
// - a keyless bundle and a legacy keyless `.sig` (made by the test's own Fulcio and Rekor)
//   verify offline with --trusted-root and the certificate identity; the wrong identity is
//   refused in one line;
// - `custody attest` then `custody verify-attestation` (in-toto statements);
// - a notation JWS signature by a test CA verifies against notation's trust policy and
//   trust store; another trust store refuses it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCustody, startCustody, type CustodyServer } from './support/custody-server.ts';
import { startDistribution, type DistributionRegistry } from './support/distribution-registry.ts';
import { debianLayout, layoutImage, ociRef } from './support/images.ts';
import { createNotationCa, createSigstore, keylessDsseBundle, legacyKeylessAnnotations, notationEnvelope, type Sigstore } from './support/sigstore-fixtures.ts';
import { tempDirs } from './support/temp-files.ts';
import { containersConfig, requireTool, runOk, type ContainersConfig } from './support/tools.ts';
import { serializePayload } from '../src/trust/sigstore/payload.ts';

const sha256 = (bytes: Buffer | string): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const EMPTY = Buffer.from('{}');

describe('bundles, keyless, attestations and notation with custody serve', () => {
  const temp = tempDirs('custody-bundles-');
  let server: CustodyServer;
  let distribution: DistributionRegistry;
  let work: string;
  let config: ContainersConfig;
  let store: Sigstore;
  let digest: string;
  let manifestSize: number;

  const custody = (args: readonly string[]) => runCustody(args, { cwd: work, env: { ...config.env, COSIGN_PASSWORD: 'bundle password' } });
  const ok = async (args: readonly string[]): Promise<{ stdout: string; stderr: string }> => {
    const result = await custody(args);
    assert.equal(result.code, 0, `custody ${args.join(' ')}: ${result.stderr}`);
    return result;
  };
  const fails = async (args: readonly string[], pattern: RegExp): Promise<void> => {
    const result = await custody(args);
    assert.equal(result.code, 1, `should fail: custody ${args.join(' ')}: ${result.stderr}`);
    assert.equal(result.stderr.trim().split('\n').length, 1, `one line: ${result.stderr}`);
    assert.match(result.stderr, pattern);
  };
  const tls = '--tls-verify=false';

  async function pushBlob(base: string, repository: string, bytes: Buffer): Promise<string> {
    const digestOfBytes = sha256(bytes);
    const response = await fetch(`${base}/v2/${repository}/blobs/uploads/?digest=${digestOfBytes}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
    assert.equal(response.status, 201, await response.text());
    return digestOfBytes;
  }

  /** A referrer as cosign and notation push one: blob, empty config, manifest with subject. */
  async function pushReferrer(repository: string, artifactType: string, layerType: string, content: Buffer, annotations: Record<string, string> = {}): Promise<string> {
    const layer = await pushBlob(server.url, repository, content);
    await pushBlob(server.url, repository, EMPTY);
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType,
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256(EMPTY), size: 2 },
      layers: [{ mediaType: layerType, digest: layer, size: content.length }],
      subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: manifestSize },
      annotations,
    }));
    const response = await fetch(`${server.url}/v2/${repository}/manifests/${sha256(manifest)}`, { method: 'PUT', headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: manifest });
    assert.equal(response.status, 201, await response.text());
    return sha256(manifest);
  }

  before(async () => {
    requireTool('skopeo');
    work = temp();
    config = await containersConfig(join(work, 'containers'));
    [server, distribution, store] = await Promise.all([startCustody(), startDistribution(), createSigstore()]);
    await writeFile(join(work, 'root.json'), store.trustedRoot);
    await ok(['key', 'generate']);
    const image = await layoutImage(debianLayout(), 'bookworm-minbase');
    digest = image.digest;
    manifestSize = image.content.length;
    for (const [host, repository] of [[server.host, 'test/app:1'], [server.host, 'test/keyless:1'], [server.host, 'test/legacy:1'], [server.host, 'test/notation:1'], [distribution.host, 'test/app:1']] as const) {
      await runOk('skopeo', ['copy', '-q', '--dest-tls-verify=false', ociRef(debianLayout(), 'bookworm-minbase'), `docker://${host}/${repository}`], { env: config.env });
    }
  });
  after(async () => {
    await Promise.all([server?.dispose(), distribution?.dispose()]);
  });

  it('custody sign --bundle: a v0.3 bundle referrer as cosign v3 lays it out; custody verify --key reads it', async () => {
    const signed = await ok(['sign', `${server.host}/test/app:1`, '--key', 'cosign.key', '--bundle', tls]);
    assert.match(signed.stderr, new RegExp(`^Signed ${digest} \\(sigstore bundle\\)\\n$`));
    const referrers = (await (await fetch(`${server.url}/v2/test/app/referrers/${digest}`)).json()) as { manifests: { artifactType: string; digest: string; annotations: Record<string, string> }[] };
    assert.equal(referrers.manifests.length, 1);
    const entry = referrers.manifests[0]!;
    assert.equal(entry.artifactType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    assert.equal(entry.annotations['dev.sigstore.bundle.content'], 'dsse-envelope');
    assert.equal(entry.annotations['dev.sigstore.bundle.predicateType'], 'https://sigstore.dev/cosign/sign/v1');
    const manifest = (await (await fetch(`${server.url}/v2/test/app/manifests/${entry.digest}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).json()) as { config: { mediaType: string }; layers: { mediaType: string }[]; subject: { digest: string } };
    assert.equal(manifest.config.mediaType, 'application/vnd.oci.empty.v1+json');
    assert.deepEqual(manifest.layers.map((layer) => layer.mediaType), ['application/vnd.dev.sigstore.bundle.v0.3+json']);
    assert.equal(manifest.subject.digest, digest);
    // No legacy tag was written.
    assert.equal((await fetch(`${server.url}/v2/test/app/manifests/${digest.replace(':', '-')}.sig`)).status, 404);
    const verified = await ok(['verify', `${server.host}/test/app:1`, '--key', 'cosign.pub', tls]);
    assert.match(verified.stderr, /^Verified sha256:[0-9a-f]{64}: bundle \(dsse-envelope\) by key sha256:[0-9a-f]{64}\n$/);
    await ok(['key', 'generate', '--output-key-prefix', 'other']);
    await fails(['verify', `${server.host}/test/app:1`, '--key', 'other.pub', tls], /not signed by a given key/);
  });

  it('custody sign --bundle on a registry without the referrers API writes the legacy .sig signature', async () => {
    const signed = await ok(['sign', `${distribution.host}/test/app:1`, '--key', 'cosign.key', '--bundle', tls]);
    assert.match(signed.stderr, /has no referrers API: writing the legacy \.sig signature/);
    assert.equal((await fetch(`${distribution.url}/v2/test/app/manifests/${digest.replace(':', '-')}.sig`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).status, 200);
    await ok(['verify', `${distribution.host}/test/app:1`, '--key', 'cosign.pub', tls]);
  });

  it('keyless: a cosign v3 bundle and a legacy .sig verify offline against the trusted root and the identity', async () => {
    const statement = { _type: 'https://in-toto.io/Statement/v1', subject: [{ digest: { sha256: digest.slice(7) } }], predicateType: 'https://sigstore.dev/cosign/sign/v1', predicate: {} };
    const bundle = Buffer.from(JSON.stringify(await keylessDsseBundle(store, statement)));
    await pushReferrer('test/keyless', 'application/vnd.dev.sigstore.bundle.v0.3+json', 'application/vnd.dev.sigstore.bundle.v0.3+json', bundle, { 'dev.sigstore.bundle.content': 'dsse-envelope' });
    const keyless = ['--trusted-root', 'root.json', '--certificate-oidc-issuer', 'https://accounts.example.com', tls];
    const verified = await ok(['verify', `${server.host}/test/keyless:1`, '--certificate-identity', 'alice@example.com', ...keyless]);
    assert.match(verified.stderr, /bundle \(dsse-envelope, logged \d{4}-.*\) by alice@example\.com \(issuer https:\/\/accounts\.example\.com\)/);
    await ok(['verify', `${server.host}/test/keyless:1`, '--certificate-identity-regexp', '^alice@', ...keyless]);
    await fails(['verify', `${server.host}/test/keyless:1`, '--certificate-identity', 'bob@example.com', ...keyless], /certificate identity mismatch: the certificate is for "alice@example\.com", not "bob@example\.com"/);
    // The trusted root from the environment when no flag names it.
    const fromEnv = await runCustody(['verify', `${server.host}/test/keyless:1`, '--certificate-identity', 'alice@example.com', '--certificate-oidc-issuer', 'https://accounts.example.com', tls], { cwd: work, env: { ...config.env, CUSTODY_TRUSTED_ROOT: join(work, 'root.json') } });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);

    // Legacy: the .sig tag whose layer annotations carry certificate, chain and Rekor bundle.
    const payload = serializePayload(`${server.host}/test/legacy`, digest);
    const annotations = await legacyKeylessAnnotations(store, payload);
    const payloadDigest = await pushBlob(server.url, 'test/legacy', payload);
    const configBytes = Buffer.from(JSON.stringify({ architecture: '', os: '', config: {}, rootfs: { type: 'layers', diff_ids: [payloadDigest] } }));
    const configDigest = await pushBlob(server.url, 'test/legacy', configBytes);
    const sig = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: configBytes.length }, layers: [{ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', digest: payloadDigest, size: payload.length, annotations }] });
    const put = await fetch(`${server.url}/v2/test/legacy/manifests/${digest.replace(':', '-')}.sig`, { method: 'PUT', headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: sig });
    assert.equal(put.status, 201);
    const legacy = await ok(['verify', `${server.host}/test/legacy:1`, '--certificate-identity', 'alice@example.com', ...keyless]);
    assert.match(legacy.stderr, new RegExp(`signed for ${server.host}/test/legacy by alice@example\\.com`));
    // Another trusted root (another CA and log) refuses it.
    await writeFile(join(work, 'other-root.json'), (await createSigstore()).trustedRoot);
    await fails(['verify', `${server.host}/test/legacy:1`, '--certificate-identity', 'alice@example.com', '--certificate-oidc-issuer', 'https://accounts.example.com', '--trusted-root', 'other-root.json', tls], /certificate chain|inclusion promise/);
  });

  it('custody attest, then custody verify-attestation: the signed in-toto statement', async () => {
    const provenance = { buildDefinition: { buildType: 'https://example.com/build/v1', externalParameters: { ref: 'main' } }, runDetails: { builder: { id: 'https://ci.example.com' } } };
    await writeFile(join(work, 'provenance.json'), JSON.stringify(provenance));
    const attested = await ok(['attest', `${server.host}/test/app:1`, '--predicate', 'provenance.json', '--type', 'slsaprovenance1', '--key', 'cosign.key', tls]);
    assert.match(attested.stderr, /^Attested sha256:[0-9a-f]{64}: https:\/\/slsa\.dev\/provenance\/v1 \(bundle sha256:[0-9a-f]{64}\)\n$/);
    const verified = await ok(['verify-attestation', `${server.host}/test/app:1`, '--type', 'slsaprovenance1', '--key', 'cosign.pub', tls]);
    const statement = JSON.parse(verified.stdout.trim()) as { _type: string; predicateType: string; subject: { digest: { sha256: string } }[]; predicate: unknown };
    assert.equal(statement._type, 'https://in-toto.io/Statement/v1');
    assert.equal(statement.predicateType, 'https://slsa.dev/provenance/v1');
    assert.equal(statement.subject[0]!.digest.sha256, digest.slice(7));
    assert.deepEqual(statement.predicate, provenance);
    await fails(['verify-attestation', `${server.host}/test/app:1`, '--type', 'cyclonedx', '--key', 'cosign.pub', tls], /no attestations: no https:\/\/cyclonedx\.org\/bom attestation found/);
    await fails(['verify-attestation', `${server.host}/test/app:1`, '--type', 'slsaprovenance1', '--key', 'other.pub', tls], /no https:\/\/slsa\.dev\/provenance\/v1 attestation verified: .*not signed by a given key/);
    // An attestation is not a signature: verify still counts only the signature bundle.
    const signatures = await ok(['verify', `${server.host}/test/app:1`, '--key', 'cosign.pub', '--format', 'json', tls]);
    assert.equal((JSON.parse(signatures.stdout) as unknown[]).length, 1);
  });

  it('notation: a JWS signature by a test CA verifies with notation\'s trust policy; another trust store refuses it', async () => {
    const ca = await createNotationCa('acme notation root');
    const signer = await ca.issueSigner('CN=release signer, O=acme, ST=WA, C=US');
    const envelope = await notationEnvelope({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: manifestSize }, signer);
    await pushReferrer('test/notation', 'application/vnd.cncf.notary.signature', 'application/jose+json', envelope);
    const trustStore = join(work, 'truststore');
    await mkdir(join(trustStore, 'x509', 'ca', 'acme'), { recursive: true });
    await writeFile(join(trustStore, 'x509', 'ca', 'acme', 'root.crt'), ca.rootPem);
    const policy = (identities: string[]) => JSON.stringify({ version: '1.0', trustPolicies: [{ name: 'acme-images', registryScopes: [`${server.host}/test/notation`], signatureVerification: { level: 'strict' }, trustStores: ['ca:acme'], trustedIdentities: identities }] });
    await writeFile(join(work, 'trustpolicy.json'), policy(['x509.subject: C=US, ST=WA, O=acme']));
    const verified = await ok(['verify', `${server.host}/test/notation:1`, '--notation-trust-policy', 'trustpolicy.json', '--trust-store', trustStore, tls]);
    assert.match(verified.stderr, /^Verified sha256:[0-9a-f]{64}: notation signature by "CN=release signer, O=acme, ST=WA, C=US" \(trust policy acme-images\)\n$/);

    // Another CA's trust store: refused.
    const other = await createNotationCa('another root');
    const otherStore = join(work, 'other-truststore');
    await mkdir(join(otherStore, 'x509', 'ca', 'acme'), { recursive: true });
    await writeFile(join(otherStore, 'x509', 'ca', 'acme', 'root.crt'), other.rootPem);
    await fails(['verify', `${server.host}/test/notation:1`, '--notation-trust-policy', 'trustpolicy.json', '--trust-store', otherStore, tls], /does not lead to a certificate of the trust store/);
    // On pull: notation's trust policy as a client requirement, beside policy.json.
    const storage = join(work, 'storage');
    const pulled = await ok(['pull', `${server.host}/test/notation:1`, '--storage', storage, '--notation-trust-policy', 'trustpolicy.json', '--trust-store', trustStore, tls]);
    assert.match(pulled.stdout, new RegExp(`^${digest}\n$`));
    await fails(['pull', `${server.host}/test/notation:1`, '--storage', storage, '--notation-trust-policy', 'trustpolicy.json', '--trust-store', otherStore, tls], /^custody pull: Source image rejected: notation: .*does not lead to a certificate of the trust store/);
    // A repository the policy scopes with "*" at level strict: an unsigned image is refused by copy too.
    await writeFile(join(work, 'everywhere.json'), JSON.stringify({ version: '1.0', trustPolicies: [{ name: 'everything', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:acme'], trustedIdentities: ['*'] }] }));
    await fails(['copy', `docker://${server.host}/test/keyless:1`, `dir:${join(work, 'copied')}`, '--notation-trust-policy', 'everywhere.json', '--trust-store', trustStore, '--src-tls-verify=false'], /Source image rejected: notation: no notation signature found/);
    // custody evaluate shows it, judged by the same policy; and the bundles beside it.
    type Report = { image: { signatures: { format: string; identity: string | null; verified: boolean | null; reason: string | null }[] } };
    const evaluated = await ok(['evaluate', `docker://${server.host}/test/notation:1`, '--notation-trust-policy', 'trustpolicy.json', '--trust-store', trustStore, '--format', 'json', tls]);
    const notation = (JSON.parse(evaluated.stdout) as Report).image.signatures.filter((entry) => entry.format === 'notation');
    assert.deepEqual(notation.map((entry) => [entry.identity, entry.verified]), [['CN=release signer, O=acme, ST=WA, C=US', true]]);
    const unjudged = await ok(['evaluate', `docker://${server.host}/test/notation:1`, '--format', 'json', tls]);
    assert.match((JSON.parse(unjudged.stdout) as Report).image.signatures.find((entry) => entry.format === 'notation')!.reason!, /no notation trust policy/);
    const text = await ok(['evaluate', `docker://${server.host}/test/app:1`, '--key', 'cosign.pub', tls]);
    assert.match(text.stdout, /sigstore-bundle\s+key sha256:[0-9a-f]{64} — verified: key sha256:[0-9a-f]{64} \(cosign\.pub\)/);
    assert.match(text.stdout, /attestation\s+https:\/\/slsa\.dev\/provenance\/v1 — verified/);
    // The right CA, but an identity the policy does not trust.
    await writeFile(join(work, 'strict-identity.json'), policy(['x509.subject: C=US, ST=WA, O=someone else']));
    await fails(['verify', `${server.host}/test/notation:1`, '--notation-trust-policy', 'strict-identity.json', '--trust-store', trustStore, tls], /is not a trusted identity of the policy/);
  });
});
