// `custody copy` with the oci-archive: and docker-archive: transports, against skopeo and
// podman: oci: → oci-archive: keeps the digest (skopeo reads it), oci-archive: → oci:
// keeps it too, docker-archive: written from oci: loads into podman with the config as
// image ID, a skopeo-written docker-archive copies into an oci: layout with the same config
// and diff IDs, a failed copy leaves no archive, and --all to docker-archive: is refused.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, open, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCustody, startCustody } from './support/custody-server.ts';
import { containersConfig, requireTool, runOk, type ContainersConfig } from './support/tools.ts';
import { blobPath, debianLayout, layoutEntry, layoutImage, ociRef, readLayoutBlob } from './support/images.ts';
import { tempDirs } from './support/temp-files.ts';
import { isolatedPodman } from './support/podman.ts';

const skopeoBin = requireTool('skopeo');
const podmanBin = requireTool('podman');
const newDir = tempDirs('custody-copy-archive-');
const CURL = ociRef(debianLayout(), 'bookworm-curl');
let config: ContainersConfig;
let curlDigest: string;
let configDigest: string;
let diffIds: string[];

before(async () => {
  config = await containersConfig(join(newDir(), 'config'));
  curlDigest = (await layoutEntry(debianLayout(), 'bookworm-curl')).digest;
  const image = await layoutImage(debianLayout(), 'bookworm-curl');
  configDigest = image.manifest.config.digest;
  diffIds = (JSON.parse((await readLayoutBlob(debianLayout(), configDigest)).toString('utf8')) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
});

async function copy(...args: string[]): Promise<void> {
  const result = await runCustody(['copy', ...args]);
  assert.equal(result.code, 0, `custody copy ${args.join(' ')} failed: ${result.stderr}`);
}

async function skopeo(args: string[]): Promise<string> {
  return (await runOk(skopeoBin, ['--insecure-policy', ...args], { env: config.env, timeoutMs: 60_000 })).stdout;
}

interface Inspected {
  Digest: string;
  Layers: string[];
  LayersData: { MIMEType: string; Digest: string }[];
}

describe('custody copy with archive transports', () => {
  it('oci: → oci-archive: → oci: keeps the manifest digest; skopeo reads the archive', async () => {
    const dir = newDir();
    const archive = join(dir, 'curl.tar');
    await copy(CURL, `oci-archive:${archive}:tag`);
    const inspected = JSON.parse(await skopeo(['inspect', `oci-archive:${archive}:tag`])) as Inspected;
    assert.equal(inspected.Digest, curlDigest);
    assert.deepEqual(await readdir(dir), ['curl.tar'], 'no temporary files beside the archive');
    const layout = join(dir, 'layout');
    await copy(`oci-archive:${archive}:tag`, `oci:${layout}:back`);
    assert.equal((await layoutEntry(layout, 'back')).digest, curlDigest);
    // Without REF the only image is read.
    await copy(`oci-archive:${archive}`, `oci:${layout}:again`);
    assert.equal((await layoutEntry(layout, 'again')).digest, curlDigest);
  });

  it('oci: → docker-archive: loads into podman with the config digest as image ID', async () => {
    const base = newDir();
    const archive = join(base, 'curl-docker.tar');
    await copy(CURL, `docker-archive:${archive}:debian:curl`);
    const { env, globals } = await isolatedPodman(base);
    await runOk(podmanBin, [...globals, 'load', '-i', archive], { env, timeoutMs: 120_000 });
    const [loaded] = JSON.parse((await runOk(podmanBin, [...globals, 'image', 'inspect', 'localhost/debian:curl'], { env })).stdout) as { Id: string; RootFS: { Layers: string[] } }[];
    assert.ok(loaded);
    assert.equal(`sha256:${loaded.Id}`, configDigest);
    assert.deepEqual(loaded.RootFS.Layers, diffIds);
  });

  it('reads a skopeo-written docker-archive into oci: with the same config and diff IDs', async () => {
    const dir = newDir();
    const archive = join(dir, 'skopeo-docker.tar');
    await skopeo(['copy', '-q', CURL, `docker-archive:${archive}:x:y`]);
    const layout = join(dir, 'layout');
    await copy(`docker-archive:${archive}`, `oci:${layout}:t`);
    const inspected = JSON.parse(await skopeo(['inspect', '--config', `oci:${layout}:t`])) as { rootfs: { diff_ids: string[] } };
    assert.deepEqual(inspected.rootfs.diff_ids, diffIds);
    const written = await layoutImage(layout, 't');
    assert.equal(written.manifest.config.digest, configDigest);
    // An oci: layout holds OCI manifests (as with skopeo); the layers are the uncompressed
    // tars, so their digests are the diff IDs.
    assert.equal(written.manifest.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.deepEqual(written.manifest.layers.map((layer) => [layer.mediaType, layer.digest]), diffIds.map((id) => ['application/vnd.oci.image.layer.v1.tar', id]));
    const raw = JSON.parse(await skopeo(['inspect', `oci:${layout}:t`])) as Inspected;
    assert.deepEqual(raw.Layers, diffIds);
    // By tag, as Docker schema2 by default (here into a dir:), or with --format.
    const dirOut = join(dir, 'dir');
    await copy(`docker-archive:${archive}:x:y`, `dir:${dirOut}`);
    const schema2 = JSON.parse(await readFile(join(dirOut, 'manifest.json'), 'utf8')) as { mediaType: string; config: { digest: string }; layers: { mediaType: string; digest: string }[] };
    assert.equal(schema2.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    assert.equal(schema2.config.digest, configDigest);
    // containers/image's made-up manifest, as skopeo writes it into a dir: (every layer labelled .tar.gzip).
    assert.deepEqual(schema2.layers.map((layer) => [layer.mediaType, layer.digest]), diffIds.map((id) => ['application/vnd.docker.image.rootfs.diff.tar.gzip', id]));
    const skopeoDir = join(dir, 'skopeo-dir');
    await skopeo(['copy', '-q', `docker-archive:${archive}:x:y`, `dir:${skopeoDir}`]);
    assert.equal(await readFile(join(dirOut, 'manifest.json'), 'utf8'), await readFile(join(skopeoDir, 'manifest.json'), 'utf8'));
    const dirInspected = JSON.parse(await skopeo(['inspect', `dir:${dirOut}`])) as Inspected;
    assert.deepEqual(dirInspected.Layers, diffIds);
    await copy('--format', 'oci', `docker-archive:${archive}:@0`, `dir:${join(dir, 'dir-oci')}`);
    const oci = JSON.parse(await readFile(join(dir, 'dir-oci', 'manifest.json'), 'utf8')) as { mediaType: string };
    assert.equal(oci.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  });

  it('docker-archive: → docker:// tells the registry the layers are uncompressed; docker-archive: → docker-archive: keeps the image', async () => {
    const server = await startCustody();
    try {
      const dir = newDir();
      const archive = join(dir, 'skopeo-docker.tar');
      await skopeo(['copy', '-q', CURL, `docker-archive:${archive}:x:y`]);
      await copy('--dest-tls-verify=false', `docker-archive:${archive}`, `docker://${server.host}/team/from-archive:1`);
      const pushed = JSON.parse(await skopeo(['inspect', '--tls-verify=false', '--raw', `docker://${server.host}/team/from-archive:1`])) as { config: { digest: string }; layers: { mediaType: string; digest: string }[] };
      assert.equal(pushed.config.digest, configDigest);
      assert.deepEqual(pushed.layers.map((layer) => [layer.mediaType, layer.digest]), diffIds.map((id) => ['application/vnd.docker.image.rootfs.diff.tar', id]));
      const back = join(dir, 'back');
      await skopeo(['copy', '-q', '--src-tls-verify=false', `docker://${server.host}/team/from-archive:1`, `oci:${back}:t`]);
      assert.deepEqual((JSON.parse(await skopeo(['inspect', '--config', `oci:${back}:t`])) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids, diffIds);
      // Layers labelled .tar.gzip but stored plain are recognised by their bytes.
      const again = join(dir, 'again.tar');
      await copy(`docker-archive:${archive}`, `docker-archive:${again}:x:y`);
      assert.equal(await skopeo(['inspect', '--raw', `docker-archive:${again}`]), await skopeo(['inspect', '--raw', `docker-archive:${archive}`]));
    } finally {
      await server.dispose();
    }
  });

  it('a failed copy (corrupt source blob) leaves no archive behind', async () => {
    const source = join(newDir(), 'corrupt');
    await copy(CURL, `oci:${source}:c`);
    const image = await layoutImage(source, 'c');
    const victim = image.manifest.layers.reduce((a, b) => (a.size > b.size ? a : b));
    const handle = await open(blobPath(source, victim.digest), 'r+');
    await handle.write(Buffer.from('corrupted!'), 0, 10, Math.floor(victim.size / 2));
    await handle.close();
    for (const transport of ['oci-archive', 'docker-archive']) {
      const dir = newDir();
      const result = await runCustody(['copy', `oci:${source}:c`, `${transport}:${join(dir, 'out.tar')}:a:b`]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`^custody copy: .*digest mismatch for blob ${victim.digest}`));
      assert.deepEqual(await readdir(dir), [], `${transport}: nothing left behind`);
      // An existing archive is left as it was.
      const existing = join(dir, 'existing.tar');
      await writeFile(existing, 'old');
      const again = await runCustody(['copy', `oci:${source}:c`, `${transport}:${existing}`]);
      assert.equal(again.code, 1, again.stderr);
      assert.equal(await readFile(existing, 'utf8'), 'old');
      assert.deepEqual(await readdir(dir), ['existing.tar']);
    }
  });

  it('refuses --all to a docker-archive: with a one-line error', async () => {
    const dir = newDir();
    const result = await runCustody(['copy', '--all', CURL, `docker-archive:${join(dir, 'all.tar')}:a:b`]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /^custody copy: .*docker-archive holds a single image; copy without --all\n$/);
    assert.deepEqual(await readdir(dir), []);
  });
});
