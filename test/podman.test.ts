// podman against a real Custody server: pull an image from an OCI layout, push it to
// Custody, remove it locally, pull it back, and get the same image. podman runs with its
// own storage (vfs) and configuration in a temporary directory.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isolatedPodman } from './support/podman.ts';
import { runCustody, startCustody, type CustodyServer } from './support/custody-server.ts';
import { containersConfig, explain, http, requireTool, run, runOk, type ContainersConfig, type RunResult } from './support/tools.ts';
import { debianLayout, layoutImage, OCI_MANIFEST, ociRef, readLayoutBlob, sha256, type LayoutImage } from './support/images.ts';

interface PodmanImage {
  Id: string;
  Digest: string;
  RepoTags: string[];
  RepoDigests: string[];
  Architecture: string;
  Os: string;
  RootFS: { Layers: string[] };
}

describe('podman ↔ Custody', () => {
  let podmanBin: string;
  let server: CustodyServer;
  let work: string;
  let config: ContainersConfig;
  let env: Record<string, string>;
  let globals: string[];
  let source: LayoutImage;

  const podman = (args: readonly string[]): Promise<RunResult> => runOk(podmanBin, [...globals, ...args], { env, timeoutMs: 180_000 });
  const podmanMayFail = (args: readonly string[]): Promise<RunResult> => run(podmanBin, [...globals, ...args], { env, timeoutMs: 180_000 });
  const inspect = async (reference: string): Promise<PodmanImage> => {
    const parsed = JSON.parse((await podman(['image', 'inspect', reference])).stdout) as PodmanImage[];
    assert.equal(parsed.length, 1);
    return parsed[0]!;
  };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'custody-podman-'));
    const isolated = await isolatedPodman(work);
    ({ bin: podmanBin, config, env, globals } = isolated);
    source = await layoutImage(debianLayout(), 'bookworm-curl');
    server = await startCustody();
  });

  after(async () => {
    await server?.dispose();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('pull from oci:, push to Custody, remove, pull back: same image id and digest', async () => {
    // 1. Pull from the OCI layout into podman's (temporary) storage.
    await podman(['pull', '--signature-policy', config.policy, ociRef(debianLayout(), 'bookworm-curl')]);
    const local = await inspect(source.manifest.config.digest.slice('sha256:'.length));
    const imageId = local.Id;
    assert.equal(`sha256:${imageId}`, source.manifest.config.digest, 'the image id is the config digest');

    // 2. Push to Custody.
    const reference = `${server.host}/podman/debian:curl`;
    await podman(['tag', imageId, reference]);
    const digestFile = join(work, 'pushed.digest');
    await podman(['push', '--signature-policy', config.policy, '--tls-verify=false', '--digestfile', digestFile, reference]);
    const pushedDigest = (await readFile(digestFile, 'utf8')).trim();
    assert.match(pushedDigest, /^sha256:[0-9a-f]{64}$/);

    const served = await http(`${server.url}/v2/podman/debian/manifests/curl`, { headers: { Accept: `${OCI_MANIFEST}, application/vnd.docker.distribution.manifest.v2+json` } });
    assert.equal(served.status, 200);
    assert.equal(served.headers['docker-content-digest'], pushedDigest, 'Custody serves the manifest podman pushed');
    assert.equal(sha256(served.body), pushedDigest);
    const manifest = served.json<{ config: { digest: string; size: number }; layers: { digest: string; size: number }[] }>()!;
    assert.equal(manifest.config.digest, source.manifest.config.digest);
    // podman may recompress layers (its blob cache decides), so their digests can differ
    // from the layout's; every blob the manifest names must be in Custody as described.
    assert.equal(manifest.layers.length, source.manifest.layers.length);
    for (const blob of [manifest.config, ...manifest.layers]) {
      const head = await http(`${server.url}/v2/podman/debian/blobs/${blob.digest}`, { method: 'HEAD' });
      assert.equal(head.status, 200, `blob ${blob.digest}`);
      assert.equal(Number(head.headers['content-length']), blob.size, `blob ${blob.digest} size`);
    }

    // 3. Remove it locally: nothing left.
    await podman(['rmi', '--force', imageId]);
    const gone = await podmanMayFail(['image', 'exists', imageId]);
    assert.equal(gone.code, 1, `the image should be gone locally:\n${explain(gone)}`);

    // 4. Pull it back from Custody: the same image.
    await podman(['pull', '--signature-policy', config.policy, '--tls-verify=false', reference]);
    const pulled = await inspect(reference);
    assert.equal(pulled.Id, imageId, 'the image id survives the round trip');
    assert.equal(pulled.Digest, pushedDigest, 'the manifest digest survives the round trip');
    assert.ok(pulled.RepoDigests.includes(`${server.host}/podman/debian@${pushedDigest}`), `RepoDigests: ${pulled.RepoDigests.join(', ')}`);
    assert.deepEqual(pulled.RepoTags, [reference]);
    assert.equal(pulled.Architecture, 'amd64');
    const sourceConfig = JSON.parse((await readLayoutBlob(debianLayout(), source.manifest.config.digest)).toString('utf8')) as { rootfs: { diff_ids: string[] } };
    assert.deepEqual(pulled.RootFS.Layers, sourceConfig.rootfs.diff_ids, 'the same filesystem layers');

    // 5. Pulling by digest works too.
    await podman(['pull', '--signature-policy', config.policy, '--tls-verify=false', `${server.host}/podman/debian@${pushedDigest}`]);
    assert.equal((await inspect(`${server.host}/podman/debian@${pushedDigest}`)).Id, imageId);
  });

  test('custody fsck finds the data directory clean afterwards', async () => {
    assert.equal(await server.stop(), 0);
    const result = await runCustody(['fsck', '--data-dir', server.dataDir]);
    assert.equal(result.code, 0, `fsck:\n${result.stdout}${result.stderr}`);
    assert.match(result.stdout, /^ok: [1-9]\d* manifests/m);
  });
});
