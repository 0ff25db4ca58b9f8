// oci-archive and docker-archive, written from the shared Debian OCI layout and read back,
// proven against skopeo and podman: skopeo inspects and copies what we write, podman
// loads our docker-archive with the right diff IDs, and we read what skopeo writes.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { zstdCompressSync } from 'node:zlib';
import { OciArchiveReader, OciArchiveWriter } from '../src/image/archive/oci-archive.ts';
import { DockerArchiveReader, DockerArchiveWriter, DOCKER_LAYER_TAR, type LayerSource } from '../src/image/archive/docker-archive.ts';
import { digestStream } from '../src/image/archive/archive-contents.ts';
import { readTar } from '../src/image/archive/tar-reader.ts';
import { containersConfig, requireTool, runOk, type ContainersConfig, type RunResult } from './support/tools.ts';
import { blobPath, debianLayout, layoutImage, ociRef, readLayoutBlob, sha256, type LayoutImage } from './support/images.ts';
import { tempDirs } from './support/temp-files.ts';
import { isolatedPodman } from './support/podman.ts';

const newDir = tempDirs('custody-archive-formats-');

interface SourceImage extends LayoutImage {
  readonly tag: string;
  readonly config: Buffer;
  readonly diffIds: string[];
}

async function source(tag: string): Promise<SourceImage> {
  const image = await layoutImage(debianLayout(), tag);
  const config = await readLayoutBlob(debianLayout(), image.manifest.config.digest);
  const diffIds = (JSON.parse(config.toString('utf8')) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
  return { ...image, tag, config, diffIds };
}

function layerSources(image: SourceImage): LayerSource[] {
  return image.manifest.layers.map((layer) => ({
    descriptor: { mediaType: layer.mediaType, digest: layer.digest as never, size: layer.size },
    open: () => createReadStream(blobPath(debianLayout(), layer.digest)),
  }));
}

async function writeOciArchive(file: string, images: readonly SourceImage[]): Promise<void> {
  const writer = OciArchiveWriter.toFile(file);
  for (const image of images) {
    for (const blob of [image.manifest.config, ...image.manifest.layers]) {
      await writer.addBlob(blob.digest, blob.size, () => createReadStream(blobPath(debianLayout(), blob.digest)));
    }
    await writer.addManifest(image.content, image.manifest.mediaType ?? 'application/vnd.oci.image.manifest.v1+json', { ref: image.tag });
  }
  await writer.finish();
}

async function ociLayoutManifestDigest(dir: string, tag: string): Promise<string> {
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  assert.ok(entry, `tag ${tag} in ${dir}`);
  return entry.digest;
}

describe('oci-archive and docker-archive', () => {
  let skopeo: string;
  let config: ContainersConfig;
  let curl: SourceImage;
  let minbase: SourceImage;
  let work: string;
  let ociArchive: string;
  let dockerArchive: string;
  const skopeoOk = (args: readonly string[]): Promise<RunResult> => runOk(skopeo, args, { env: config.env, timeoutMs: 120_000 });

  before(async () => {
    skopeo = requireTool('skopeo');
    work = newDir();
    config = await containersConfig(join(work, 'config'));
    curl = await source('bookworm-curl');
    minbase = await source('bookworm-minbase');
    ociArchive = join(work, 'debian-oci.tar');
    dockerArchive = join(work, 'debian-docker.tar');
    // Both archives are written once, concurrently, and used by the tests below.
    await Promise.all([
      writeOciArchive(ociArchive, [minbase, curl]),
      (async () => {
        const writer = DockerArchiveWriter.toFile(dockerArchive);
        await writer.addImage({ config: curl.config, layers: layerSources(curl), repoTags: ['debian:curl'] });
        await writer.addImage({ config: minbase.config, layers: layerSources(minbase), repoTags: ['docker.io/library/debian:minbase'] });
        await writer.finish();
      })(),
    ]);
  });

  test('oci-archive: skopeo inspects it and copies it to oci: with the same manifest digest', async () => {
    const inspected = JSON.parse((await skopeoOk(['inspect', '--raw', `oci-archive:${ociArchive}:bookworm-curl`])).stdout) as unknown;
    assert.deepEqual(inspected, curl.manifest);
    const info = JSON.parse((await skopeoOk(['inspect', `oci-archive:${ociArchive}:bookworm-curl`])).stdout) as { Digest: string; Layers: string[] };
    assert.equal(info.Digest, curl.digest);
    const out = join(work, 'oci-copy');
    await skopeoOk(['copy', '--policy', config.policy, `oci-archive:${ociArchive}:bookworm-curl`, `oci:${out}:t`]);
    assert.equal(await ociLayoutManifestDigest(out, 't'), curl.digest);
  });

  test('oci-archive: our reader reads it back (file: in place; stream: spooled to a 0700 directory)', async () => {
    const reader = await OciArchiveReader.open(ociArchive);
    try {
      assert.deepEqual(reader.refs(), ['bookworm-minbase', 'bookworm-curl']);
      const { descriptor, bytes } = await reader.getManifest('bookworm-curl');
      assert.equal(descriptor.digest, curl.digest);
      assert.ok(bytes.equals(curl.content));
      assert.equal(reader.resolve('@0').digest, minbase.digest);
      assert.throws(() => reader.resolve(), /holds 2 images/);
      assert.throws(() => reader.resolve('nope'), /no image "nope"/);
      const layer = curl.manifest.layers[1]!;
      assert.deepEqual(await digestStream(reader.openBlob(layer.digest, layer.size)), { digest: layer.digest, size: layer.size });
      assert.ok((await reader.readBlob(curl.manifest.config.digest)).equals(curl.config));
    } finally {
      await reader.close();
    }
    // The entries' order: oci-layout first, index.json last, each blob once.
    const names: string[] = [];
    for await (const entry of readTar(createReadStream(ociArchive))) names.push(entry.name);
    assert.equal(names[0], 'oci-layout');
    assert.equal(names.at(-1), 'index.json');
    assert.equal(names.filter((n) => n.endsWith(curl.manifest.layers[0]!.digest.slice(7))).length, 1, 'the shared layer is stored once');

    const streamed = await OciArchiveReader.fromStream(createReadStream(ociArchive));
    const spool = streamed.contents.spoolDirectory!;
    try {
      assert.equal((await stat(spool)).mode & 0o777, 0o700);
      assert.ok((await streamed.getManifest('bookworm-curl')).bytes.equals(curl.content));
      const layer = curl.manifest.layers[0]!;
      assert.deepEqual(await digestStream(streamed.openBlob(layer.digest)), { digest: layer.digest, size: layer.size });
    } finally {
      await streamed.close();
    }
    await assert.rejects(stat(spool), { code: 'ENOENT' }, 'close() removes the spool directory');
  });

  test('oci-archive: reads an archive skopeo wrote', async () => {
    const file = join(work, 'skopeo-oci.tar');
    await skopeoOk(['copy', '--policy', config.policy, ociRef(debianLayout(), 'bookworm-minbase'), `oci-archive:${file}:mb`]);
    const reader = await OciArchiveReader.open(file);
    try {
      const { descriptor } = await reader.getManifest('mb');
      assert.equal(descriptor.digest, minbase.digest);
      const layer = minbase.manifest.layers[0]!;
      assert.deepEqual(await digestStream(reader.openBlob(layer.digest, layer.size)), { digest: layer.digest, size: layer.size });
    } finally {
      await reader.close();
    }
  });

  test('oci-archive: a blob whose content does not match its digest is refused', async () => {
    const writer = OciArchiveWriter.toFile(join(work, 'bad.tar'));
    await assert.rejects(writer.addBlob(curl.manifest.config.digest, 3, Buffer.from('abc')), /has digest/);
    await writer.abort();
  });

  test('docker-archive: our reader maps it back to images, by tag and @N, layers uncompressed', async () => {
    const reader = await DockerArchiveReader.open(dockerArchive);
    try {
      assert.equal(reader.manifest.length, 2);
      assert.throws(() => reader.select(), /holds 2 images/);
      assert.equal(reader.select('debian:minbase'), 1);
      assert.equal(reader.select('docker.io/library/debian:curl'), 0);
      const image = await reader.getImage('@0');
      assert.deepEqual(image.repoTags, ['debian:curl']);
      assert.equal(image.configDescriptor.digest, curl.manifest.config.digest);
      assert.deepEqual(image.layers.map((l) => l.diffId), curl.diffIds);
      assert.deepEqual(image.layers.map((l) => l.descriptor.digest), curl.diffIds, 'uncompressed: blob digest = diff ID');
      assert.ok(image.layers.every((l) => l.descriptor.mediaType === DOCKER_LAYER_TAR));
      const manifest = reader.manifestFor(image, 'oci');
      assert.equal(sha256(manifest.bytes), manifest.digest);
      const parsed = JSON.parse(manifest.bytes.toString('utf8')) as { layers: { mediaType: string }[] };
      assert.ok(parsed.layers.every((l) => l.mediaType === 'application/vnd.oci.image.layer.v1.tar'));
      const first = image.layers[0]!;
      assert.equal((await digestStream(reader.openLayer(image, first.descriptor.digest))).digest, first.diffId);
      const second = await reader.getImage('debian:minbase');
      assert.equal(second.configDescriptor.digest, minbase.manifest.config.digest);
      assert.deepEqual(second.layers.map((l) => l.path), [image.layers[0]!.path], 'shared layer stored once');
    } finally {
      await reader.close();
    }
    // The archive's own files are what docker save writes.
    const names: string[] = [];
    for await (const entry of readTar(createReadStream(dockerArchive))) names.push(entry.name);
    assert.ok(names.includes('manifest.json') && names.includes('repositories'));
    assert.ok(names.includes(`${curl.manifest.config.digest.slice(7)}.json`));
    for (const id of curl.diffIds) assert.ok(names.includes(`${id.slice(7)}/layer.tar`));
  });

  test('docker-archive: a layer that does not match the diff IDs is refused before writing it', async () => {
    const writer = DockerArchiveWriter.toFile(join(work, 'bad-docker.tar'));
    const layers = layerSources(curl).reverse();
    await assert.rejects(writer.addImage({ config: curl.config, layers, repoTags: ['x:y'] }), /uncompresses to .* but the config's rootfs\.diff_ids\[0\]/);
    await writer.abort();
  });

  test('docker-archive: zstd and uncompressed layers are written as plain tars; a stream can be read back', async () => {
    const layerTar = Buffer.concat([Buffer.from('synthetic layer '), Buffer.alloc(5000, 1)]);
    const zstd = zstdCompressSync(layerTar);
    const diffId = sha256(layerTar);
    const imageConfig = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [diffId, diffId] } }));
    const file = join(work, 'synthetic-docker.tar');
    const writer = DockerArchiveWriter.toFile(file);
    await writer.addImage({
      config: imageConfig,
      layers: [
        { descriptor: { mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', digest: sha256(zstd) as never, size: zstd.length }, open: () => Readable.from([zstd]) },
        { descriptor: { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: diffId as never, size: layerTar.length }, open: () => Readable.from([layerTar]) },
      ],
    });
    await writer.finish();
    const reader = await DockerArchiveReader.fromStream(createReadStream(file));
    try {
      const image = await reader.getImage();
      assert.deepEqual(image.repoTags, []);
      assert.deepEqual(image.layers.map((l) => l.descriptor), [1, 2].map(() => ({ mediaType: DOCKER_LAYER_TAR, digest: diffId, size: layerTar.length })));
      assert.ok(image.config.equals(imageConfig));
    } finally {
      await reader.close();
    }
  });

  test('docker-archive: skopeo copies ours to oci:, and we read what skopeo writes', async () => {
    const out = join(work, 'from-docker-archive');
    await skopeoOk(['copy', '--policy', config.policy, `docker-archive:${dockerArchive}:debian:curl`, `oci:${out}:t`]);
    const copiedDigest = await ociLayoutManifestDigest(out, 't');
    const copied = JSON.parse(await readFile(blobPath(out, copiedDigest), 'utf8')) as { config: { digest: string } };
    // skopeo re-serialises the config when it converts a docker-archive to OCI (it drops
    // the source's trailing newline), so compare the config's content, not its digest.
    const copiedConfig = JSON.parse(await readFile(blobPath(out, copied.config.digest), 'utf8')) as unknown;
    assert.deepEqual(copiedConfig, JSON.parse(curl.config.toString('utf8')), 'same config through skopeo');

    const file = join(work, 'skopeo-docker.tar');
    await skopeoOk(['copy', '--policy', config.policy, ociRef(debianLayout(), 'bookworm-curl'), `docker-archive:${file}:debian:curl`]);
    const reader = await DockerArchiveReader.open(file);
    try {
      const image = await reader.getImage('debian:curl');
      assert.equal(image.configDescriptor.digest, curl.manifest.config.digest);
      assert.deepEqual(image.layers.map((l) => l.diffId), curl.diffIds);
      assert.deepEqual((await reader.getImage()).configDescriptor, image.configDescriptor);
    } finally {
      await reader.close();
    }
  });

  describe('podman', () => {
    let podmanBin: string;
    let env: Record<string, string>;
    let globals: string[];

    before(async () => {
      ({ bin: podmanBin, env, globals } = await isolatedPodman(join(work, 'podman')));
    });

    test('podman load reads our docker-archive; layers and diff IDs match the config', async () => {
      await runOk(podmanBin, [...globals, 'load', '-i', dockerArchive], { env, timeoutMs: 180_000 });
      const inspected = JSON.parse((await runOk(podmanBin, [...globals, 'image', 'inspect', 'localhost/debian:curl', 'localhost/debian:minbase'], { env })).stdout) as {
        Id: string;
        RootFS: { Layers: string[] };
        RepoTags: string[];
      }[];
      assert.equal(inspected.length, 2);
      const [loadedCurl, loadedMinbase] = inspected as [(typeof inspected)[0], (typeof inspected)[0]];
      assert.equal(`sha256:${loadedCurl.Id}`, curl.manifest.config.digest);
      assert.deepEqual(loadedCurl.RootFS.Layers, curl.diffIds);
      assert.equal(`sha256:${loadedMinbase.Id}`, minbase.manifest.config.digest);
      assert.deepEqual(loadedMinbase.RootFS.Layers, minbase.diffIds);
    });
  });
});
