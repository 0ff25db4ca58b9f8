// Registry to registry: CNCF Distribution (Debian's docker-registry) ⇄ Custody with
// skopeo, digests unchanged in both directions.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCustody, startCustody, type CustodyServer } from './support/custody-server.ts';
import { startDistribution, type DistributionRegistry } from './support/distribution-registry.ts';
import { containersConfig, http, requireTool, runOk, type ContainersConfig, type RunResult } from './support/tools.ts';
import { buildMultiArchLayout, debianLayout, layoutImage, OCI_INDEX, OCI_MANIFEST, ociRef, sha256, type LayoutImage, type MultiArchLayout } from './support/images.ts';

const ACCEPT = [OCI_MANIFEST, OCI_INDEX, 'application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.docker.distribution.manifest.list.v2+json'].join(', ');

describe('CNCF Distribution ⇄ Custody', () => {
  let skopeoBin: string;
  let custody: CustodyServer;
  let distribution: DistributionRegistry;
  let work: string;
  let config: ContainersConfig;
  let source: LayoutImage;
  let multi: MultiArchLayout;

  const skopeo = (args: readonly string[]): Promise<RunResult> =>
    runOk(skopeoBin, ['--policy', config.policy, ...args], { env: config.env, timeoutMs: 180_000 });
  const copy = (from: string, to: string, extra: readonly string[] = []): Promise<RunResult> =>
    skopeo(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', ...extra, from, to]);
  const manifestOf = async (base: string, repository: string, reference: string) => {
    const response = await http(`${base}/v2/${repository}/manifests/${reference}`, { headers: { Accept: ACCEPT } });
    assert.equal(response.status, 200, `GET ${base}/v2/${repository}/manifests/${reference}: ${response.body.toString().slice(0, 300)}`);
    return { digest: response.headers['docker-content-digest'], contentType: response.headers['content-type'], body: response.body };
  };
  const blobDigest = async (base: string, repository: string, digest: string): Promise<string> => {
    const response = await http(`${base}/v2/${repository}/blobs/${digest}`);
    assert.equal(response.status, 200, `GET blob ${digest} from ${base}`);
    return sha256(response.body);
  };

  before(async () => {
    skopeoBin = requireTool('skopeo');
    requireTool('docker-registry');
    work = await mkdtemp(join(tmpdir(), 'custody-distribution-interop-'));
    config = await containersConfig(join(work, 'config'));
    source = await layoutImage(debianLayout(), 'bookworm-curl');
    multi = await buildMultiArchLayout(join(work, 'multi'));
    [custody, distribution] = await Promise.all([startCustody(), startDistribution()]);
  });

  after(async () => {
    await Promise.all([custody?.dispose(), distribution?.dispose()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('Distribution → Custody: the image arrives with identical digests', async () => {
    await copy(ociRef(debianLayout(), 'bookworm-curl'), `docker://${distribution.host}/library/debian:curl`);
    const inDistribution = await manifestOf(distribution.url, 'library/debian', 'curl');
    assert.equal(inDistribution.digest, source.digest, 'Distribution holds the source manifest');

    await copy(`docker://${distribution.host}/library/debian:curl`, `docker://${custody.host}/mirror/debian:curl`);
    const inCustody = await manifestOf(custody.url, 'mirror/debian', 'curl');
    assert.equal(inCustody.digest, source.digest);
    assert.equal(inCustody.contentType, OCI_MANIFEST);
    assert.deepEqual(inCustody.body, inDistribution.body, 'the same manifest bytes');
    for (const blob of [source.manifest.config, ...source.manifest.layers]) {
      assert.equal(await blobDigest(custody.url, 'mirror/debian', blob.digest), blob.digest, `blob ${blob.digest} in Custody`);
    }
  });

  test('Custody → Distribution: the image goes back with identical digests', async () => {
    await copy(ociRef(debianLayout(), 'bookworm-minbase'), `docker://${custody.host}/origin/debian:minbase`);
    const minbase = await layoutImage(debianLayout(), 'bookworm-minbase');
    const inCustody = await manifestOf(custody.url, 'origin/debian', 'minbase');
    assert.equal(inCustody.digest, minbase.digest);

    await copy(`docker://${custody.host}/origin/debian:minbase`, `docker://${distribution.host}/from-custody/debian:minbase`);
    const inDistribution = await manifestOf(distribution.url, 'from-custody/debian', 'minbase');
    assert.equal(inDistribution.digest, minbase.digest);
    assert.deepEqual(inDistribution.body, minbase.content);
    for (const blob of [minbase.manifest.config, ...minbase.manifest.layers]) {
      assert.equal(await blobDigest(distribution.url, 'from-custody/debian', blob.digest), blob.digest, `blob ${blob.digest} in Distribution`);
    }
    const inspected = JSON.parse((await skopeo(['inspect', '--tls-verify=false', `docker://${distribution.host}/from-custody/debian:minbase`])).stdout) as { Digest: string; Layers: string[] };
    assert.equal(inspected.Digest, minbase.digest);
  });

  test('a multi-arch index crosses both ways with --all, index digest unchanged', async () => {
    await copy(multi.ref, `docker://${distribution.host}/multi/debian:v1`, ['--all']);
    await copy(`docker://${distribution.host}/multi/debian:v1`, `docker://${custody.host}/multi/debian:v1`, ['--all']);
    const inCustody = await manifestOf(custody.url, 'multi/debian', 'v1');
    assert.equal(inCustody.digest, multi.indexDigest);
    assert.equal(inCustody.contentType, OCI_INDEX);
    for (const child of multi.children) assert.equal((await manifestOf(custody.url, 'multi/debian', child.digest)).digest, child.digest);

    await copy(`docker://${custody.host}/multi/debian:v1`, `docker://${distribution.host}/multi-back/debian:v1`, ['--all']);
    const back = await manifestOf(distribution.url, 'multi-back/debian', 'v1');
    assert.equal(back.digest, multi.indexDigest);
    assert.deepEqual(back.body, multi.indexContent);
    for (const child of multi.children) assert.equal((await manifestOf(distribution.url, 'multi-back/debian', child.digest)).digest, child.digest);
  });

  test('custody fsck finds the data directory clean afterwards', async () => {
    assert.equal(await custody.stop(), 0);
    const result = await runCustody(['fsck', '--data-dir', custody.dataDir]);
    assert.equal(result.code, 0, `fsck:\n${result.stdout}${result.stderr}`);
    assert.match(result.stdout, /^ok: [1-9]\d* manifests/m);
  });
});
