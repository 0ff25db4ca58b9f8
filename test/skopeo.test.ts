// skopeo against a real Custody server: copies in and out (oci:, dir:, docker://) with
// digests unchanged, inspect, list-tags, delete, multi-arch indexes, and Docker schema 2
// ↔ OCI conversions; the store passes fsck afterwards.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCustody, startCustody, type CustodyServer } from './support/custody-server.ts';
import { containersConfig, explain, http, requireTool, run, runOk, type ContainersConfig, type RunResult } from './support/tools.ts';
import {
  buildMultiArchLayout,
  debianLayout,
  DOCKER_MANIFEST,
  layoutEntry,
  layoutImage,
  OCI_INDEX,
  OCI_MANIFEST,
  ociRef,
  readLayoutBlob,
  sha256,
  type ImageIndex,
  type ImageManifest,
  type LayoutImage,
  type MultiArchLayout,
} from './support/images.ts';

const ACCEPT_ALL = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, 'application/vnd.docker.distribution.manifest.list.v2+json'].join(', ');

describe('skopeo ↔ Custody', () => {
  let skopeoBin: string;
  let server: CustodyServer;
  let work: string;
  let config: ContainersConfig;
  let source: LayoutImage;
  let multi: MultiArchLayout;

  const skopeo = (args: readonly string[], global: readonly string[] = []): Promise<RunResult> =>
    runOk(skopeoBin, ['--policy', config.policy, ...global, ...args], { env: config.env, timeoutMs: 180_000 });
  const skopeoMayFail = (args: readonly string[]): Promise<RunResult> =>
    run(skopeoBin, ['--policy', config.policy, ...args], { env: config.env, timeoutMs: 180_000 });
  const registry = (path: string): string => `docker://${server.host}/${path}`;
  const fetchManifest = (repository: string, reference: string, method = 'GET') =>
    http(`${server.url}/v2/${repository}/manifests/${reference}`, { method, headers: { Accept: ACCEPT_ALL } });

  before(async () => {
    skopeoBin = requireTool('skopeo');
    work = await mkdtemp(join(tmpdir(), 'custody-skopeo-'));
    config = await containersConfig(join(work, 'config'));
    source = await layoutImage(debianLayout(), 'bookworm-curl');
    multi = await buildMultiArchLayout(join(work, 'multi-layout'));
    server = await startCustody();
  });

  after(async () => {
    await server?.dispose();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('copies an OCI layout image in and back out to dir: and oci: with identical digests', async () => {
    await skopeo(['copy', '--dest-tls-verify=false', ociRef(debianLayout(), 'bookworm-curl'), registry('skopeo/debian:curl')]);

    const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', registry('skopeo/debian:curl')]);
    assert.equal(sha256(raw.stdout), source.digest, 'the registry serves the pushed manifest bytes unchanged');
    const served = await fetchManifest('skopeo/debian', 'curl');
    assert.equal(served.status, 200);
    assert.equal(served.headers['docker-content-digest'], source.digest);
    assert.equal(served.headers['content-type'], OCI_MANIFEST);
    assert.deepEqual(served.body, source.content);

    // Out to dir: the manifest and every blob, byte for byte.
    const dirOut = join(work, 'out-dir');
    await skopeo(['copy', '--src-tls-verify=false', registry('skopeo/debian:curl'), `dir:${dirOut}`]);
    const dirManifest = await readFile(join(dirOut, 'manifest.json'));
    assert.equal(sha256(dirManifest), source.digest, 'dir: manifest.json is the source manifest');
    for (const blob of [source.manifest.config, ...source.manifest.layers]) {
      const content = await readFile(join(dirOut, blob.digest.split(':')[1]!));
      assert.equal(content.length, blob.size, `${blob.digest} size`);
      assert.equal(sha256(content), blob.digest, `${blob.digest} content in dir:`);
    }

    // Out to oci:, the same.
    const ociOut = join(work, 'out-oci');
    await skopeo(['copy', '--src-tls-verify=false', registry('skopeo/debian:curl'), ociRef(ociOut, 'curl')]);
    const entry = await layoutEntry(ociOut, 'curl');
    assert.equal(entry.digest, source.digest, 'oci: index.json points at the source manifest digest');
    assert.equal(entry.mediaType, OCI_MANIFEST);
    const pulled = await layoutImage(ociOut, 'curl');
    assert.deepEqual(pulled.content, source.content);
    for (const blob of [source.manifest.config, ...source.manifest.layers]) {
      assert.equal(sha256(await readLayoutBlob(ociOut, blob.digest)), blob.digest, `${blob.digest} content in oci:`);
    }
  });

  test('skopeo inspect reports the digest, tags and layers', async () => {
    await skopeo(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', registry('skopeo/debian:curl'), registry('skopeo/debian:stable')]);
    const inspected = JSON.parse((await skopeo(['inspect', '--tls-verify=false', registry('skopeo/debian:curl')])).stdout) as {
      Name: string;
      Digest: string;
      RepoTags: string[];
      Layers: string[];
      Architecture: string;
      Os: string;
      Labels: Record<string, string>;
    };
    assert.equal(inspected.Name, `${server.host}/skopeo/debian`);
    assert.equal(inspected.Digest, source.digest);
    assert.deepEqual([...inspected.RepoTags].sort(), ['curl', 'stable']);
    assert.deepEqual(
      inspected.Layers,
      source.manifest.layers.map((layer) => layer.digest),
    );
    assert.equal(inspected.Architecture, 'amd64');
    assert.equal(inspected.Os, 'linux');
    assert.equal(inspected.Labels['org.opencontainers.image.title'], 'debian-bookworm-curl');
  });

  test('skopeo list-tags lists every tag of the repository', async () => {
    await skopeo(['copy', '--dest-tls-verify=false', ociRef(debianLayout(), 'bookworm-minbase'), registry('skopeo/tags:minbase')]);
    await skopeo(['copy', '--dest-tls-verify=false', ociRef(debianLayout(), 'bookworm-curl'), registry('skopeo/tags:curl')]);
    await skopeo(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', registry('skopeo/tags:curl'), registry('skopeo/tags:v1.0')]);
    const listed = JSON.parse((await skopeo(['list-tags', '--tls-verify=false', registry('skopeo/tags')])).stdout) as { Repository: string; Tags: string[] };
    assert.equal(listed.Repository, `${server.host}/skopeo/tags`);
    assert.deepEqual([...listed.Tags].sort(), ['curl', 'minbase', 'v1.0']);
  });

  test('skopeo delete removes the manifest: it is 404 afterwards', async () => {
    await skopeo(['copy', '--dest-tls-verify=false', ociRef(debianLayout(), 'bookworm-minbase'), registry('skopeo/doomed:v1')]);
    const minbase = await layoutEntry(debianLayout(), 'bookworm-minbase');
    assert.equal((await fetchManifest('skopeo/doomed', minbase.digest, 'HEAD')).status, 200);

    await skopeo(['delete', '--tls-verify=false', registry('skopeo/doomed:v1')]);

    for (const reference of ['v1', minbase.digest]) {
      const response = await fetchManifest('skopeo/doomed', reference);
      assert.equal(response.status, 404, `GET manifest ${reference} after delete`);
      assert.equal(response.json<{ errors: { code: string }[] }>()?.errors[0]?.code, 'MANIFEST_UNKNOWN');
      assert.equal((await fetchManifest('skopeo/doomed', reference, 'HEAD')).status, 404, `HEAD manifest ${reference} after delete`);
    }
    const inspect = await skopeoMayFail(['inspect', '--raw', '--tls-verify=false', registry('skopeo/doomed:v1')]);
    assert.notEqual(inspect.code, 0, `inspect after delete should fail:\n${explain(inspect)}`);
    // Other repositories holding the same content are untouched.
    assert.equal((await fetchManifest('skopeo/tags', 'minbase', 'HEAD')).status, 200);
  });

  test('a multi-arch index round-trips with --all: same index digest, every child pullable', async () => {
    await skopeo(['copy', '--all', '--dest-tls-verify=false', multi.ref, registry('skopeo/multi:v1')]);

    const served = await fetchManifest('skopeo/multi', 'v1');
    assert.equal(served.status, 200);
    assert.equal(served.headers['content-type'], OCI_INDEX);
    assert.equal(served.headers['docker-content-digest'], multi.indexDigest);
    assert.deepEqual(served.body, multi.indexContent, 'the index is served byte for byte');
    const index = served.json<ImageIndex>()!;
    assert.deepEqual(
      index.manifests.map((entry) => entry.platform?.architecture),
      ['amd64', 'arm64'],
    );
    assert.equal(index.manifests[1]!.annotations?.['io.custody.test.platform'], 'linux/arm64/v8');

    for (const child of multi.children) {
      const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', registry(`skopeo/multi@${child.digest}`)]);
      assert.equal(sha256(raw.stdout), child.digest, `child ${child.architecture} manifest`);
      const out = join(work, `multi-child-${child.architecture}`);
      await skopeo(['copy', '--src-tls-verify=false', registry(`skopeo/multi@${child.digest}`), `dir:${out}`]);
      const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as ImageManifest;
      for (const blob of [manifest.config, ...manifest.layers]) {
        assert.equal(sha256(await readFile(join(out, blob.digest.split(':')[1]!))), blob.digest, `child ${child.architecture} blob ${blob.digest}`);
      }
    }

    // And back out with --all: the same index digest in the new layout.
    const back = join(work, 'multi-back');
    await skopeo(['copy', '--all', '--src-tls-verify=false', registry('skopeo/multi:v1'), ociRef(back, 'multi')]);
    const entry = await layoutEntry(back, 'multi');
    assert.equal(entry.digest, multi.indexDigest);
    assert.deepEqual(await readLayoutBlob(back, multi.indexDigest), multi.indexContent);
    for (const child of multi.children) {
      assert.equal(sha256(await readLayoutBlob(back, child.digest)), child.digest, `child ${child.architecture} in the pulled layout`);
    }
  });

  test('a copy without --all picks one platform (--override-arch)', async () => {
    const arm64 = multi.children.find((child) => child.architecture === 'arm64')!;
    const amd64 = multi.children.find((child) => child.architecture === 'amd64')!;
    // Layout index → registry: only the arm64 instance is pushed.
    await skopeo(['copy', '--dest-tls-verify=false', multi.ref, registry('skopeo/single:arm64')], ['--override-arch', 'arm64']);
    const pushed = await fetchManifest('skopeo/single', 'arm64');
    assert.equal(pushed.status, 200);
    assert.equal(pushed.headers['docker-content-digest'], arm64.digest);
    assert.equal(pushed.headers['content-type'], OCI_MANIFEST);
    assert.equal((await fetchManifest('skopeo/single', amd64.digest, 'HEAD')).status, 404, 'the other platform was not pushed');

    // Registry index (pushed with --all in the previous test) → layout: the amd64 instance.
    const out = join(work, 'single-amd64');
    await skopeo(['copy', '--src-tls-verify=false', registry('skopeo/multi:v1'), ociRef(out, 'amd64')], ['--override-arch', 'amd64']);
    assert.equal((await layoutEntry(out, 'amd64')).digest, amd64.digest);
  });

  test('Docker schema 2 push is served as Docker schema 2 and converts back to OCI', async () => {
    await skopeo(['copy', '--format', 'v2s2', '--dest-tls-verify=false', ociRef(debianLayout(), 'bookworm-curl'), registry('skopeo/docker:curl')]);

    for (const method of ['GET', 'HEAD']) {
      const served = await fetchManifest('skopeo/docker', 'curl', method);
      assert.equal(served.status, 200, `${method} manifest`);
      assert.equal(served.headers['content-type'], DOCKER_MANIFEST, `${method} Content-Type is the Docker schema 2 type`);
    }
    const served = await fetchManifest('skopeo/docker', 'curl');
    const manifest = served.json<ImageManifest>()!;
    assert.equal(manifest.mediaType, DOCKER_MANIFEST);
    assert.equal(manifest.config.mediaType, 'application/vnd.docker.container.image.v1+json');
    assert.equal(served.headers['docker-content-digest'], sha256(served.body));
    assert.deepEqual(
      manifest.layers.map((layer) => [layer.mediaType, layer.digest]),
      source.manifest.layers.map((layer) => ['application/vnd.docker.image.rootfs.diff.tar.gzip', layer.digest]),
    );
    const inspected = JSON.parse((await skopeo(['inspect', '--tls-verify=false', registry('skopeo/docker:curl')])).stdout) as { Digest: string };
    assert.equal(inspected.Digest, served.headers['docker-content-digest']);

    // Docker schema 2 → OCI on the way out: same config and layers, OCI media types.
    const out = join(work, 'docker-to-oci');
    await skopeo(['copy', '--format', 'oci', '--src-tls-verify=false', registry('skopeo/docker:curl'), ociRef(out, 'curl')]);
    const converted = await layoutImage(out, 'curl');
    assert.equal((await layoutEntry(out, 'curl')).mediaType, OCI_MANIFEST);
    assert.equal(converted.manifest.config.mediaType, 'application/vnd.oci.image.config.v1+json');
    // The client rewrites the config while converting; the image it describes is the same.
    type Config = { architecture: string; os: string; rootfs: { diff_ids: string[] } };
    const convertedConfig = JSON.parse((await readLayoutBlob(out, converted.manifest.config.digest)).toString('utf8')) as Config;
    const sourceConfig = JSON.parse((await readLayoutBlob(debianLayout(), source.manifest.config.digest)).toString('utf8')) as Config;
    assert.deepEqual(convertedConfig.rootfs.diff_ids, sourceConfig.rootfs.diff_ids);
    assert.equal(convertedConfig.architecture, sourceConfig.architecture);
    assert.deepEqual(
      converted.manifest.layers.map((layer) => [layer.mediaType, layer.digest, layer.size]),
      source.manifest.layers.map((layer) => [layer.mediaType, layer.digest, layer.size]),
    );
    for (const blob of [converted.manifest.config, ...converted.manifest.layers]) {
      assert.equal(sha256(await readLayoutBlob(out, blob.digest)), blob.digest);
    }

    // And OCI in the registry → Docker schema 2 on the way out.
    const dirOut = join(work, 'oci-to-docker');
    await skopeo(['copy', '--format', 'v2s2', '--src-tls-verify=false', registry('skopeo/debian:curl'), `dir:${dirOut}`]);
    const docker = JSON.parse(await readFile(join(dirOut, 'manifest.json'), 'utf8')) as ImageManifest;
    assert.equal(docker.mediaType, DOCKER_MANIFEST);
    assert.deepEqual(
      docker.layers.map((layer) => layer.digest),
      source.manifest.layers.map((layer) => layer.digest),
    );
  });

  test('custody fsck finds the data directory clean afterwards', async () => {
    const code = await server.stop();
    assert.equal(code, 0, 'the server shuts down cleanly');
    const result = await runCustody(['fsck', '--data-dir', server.dataDir]);
    assert.equal(result.code, 0, `fsck:\n${result.stdout}${result.stderr}`);
    assert.match(result.stdout, /^ok: /m);
    assert.doesNotMatch(result.stdout, /: 0 manifests/, 'fsck checked the pushed manifests');
  });
});
