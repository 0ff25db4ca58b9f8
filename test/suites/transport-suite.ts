// The contract of the image transport seam (src/image/transport.ts), run against every
// transport by test/image-transports.test.ts: an image written through a destination
// (blobs, instance manifests, the top-level manifest, commit) is read back through the
// transport's source byte for byte: the same manifest bytes under the same digests and
// media types, instances by digest, and every blob. A transport runs the image kinds it
// can hold: docker-archive holds one Docker image in the form `docker save` gives it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type { Digest } from '../../src/core/digest.ts';
import { MediaType } from '../../src/core/media-types.ts';
import type { ImageDestination, ImageSource, ManifestData } from '../../src/image/transport.ts';
import { tarWithFile } from '../support/images.ts';

/**
 * - oci-image, docker-image: one image manifest (gzip layers), written with unusual
 *   whitespace so a transport that re-serialises it is caught;
 * - oci-index, docker-list: two platforms sharing a layer;
 * - docker-archive-image: a Docker image as a docker-archive stores it (uncompressed
 *   layers, the manifest exactly as containers/image makes it up).
 */
export type ImageKind = 'oci-image' | 'docker-image' | 'oci-index' | 'docker-list' | 'docker-archive-image';

export const EVERY_KIND_BUT_ARCHIVE: readonly ImageKind[] = ['oci-image', 'docker-image', 'oci-index', 'docker-list'];

export interface TransportUnderTest {
  readonly name: string;
  readonly kinds: readonly ImageKind[];
  /** A fresh location: the destination to write one image there, then the source to read it. */
  place(): Promise<{ destination(): ImageDestination; source(): ImageSource }>;
}

interface Blob {
  readonly mediaType: string;
  readonly bytes: Buffer;
  readonly digest: string;
}

interface TestImage {
  /** The top-level manifest (an image manifest or an index). */
  readonly top: ManifestData;
  /** An index's instances, in order. */
  readonly instances: readonly ManifestData[];
  /** Every blob once (configs and layers). */
  readonly blobs: readonly Blob[];
}

function digestOf(bytes: Buffer): Digest {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest;
}

function blob(mediaType: string, bytes: Buffer): Blob {
  return { mediaType, bytes, digest: digestOf(bytes) };
}

function manifestData(mediaType: string, text: string): ManifestData {
  const bytes = Buffer.from(text);
  return { bytes, mediaType, digest: digestOf(bytes) };
}

/** A layer of random content (a real tar), and the image config naming its diff ID. */
function layerTar(label: string): Buffer {
  return tarWithFile(`${label}.bin`, randomBytes(3000));
}

function configFor(platform: { os: string; architecture: string; variant?: string }, tars: readonly Buffer[], mediaType: string): Blob {
  const config = { ...platform, created: '2024-05-01T10:00:00Z', config: { Env: ['PATH=/usr/bin'], Labels: { suite: 'transport' } }, rootfs: { type: 'layers', diff_ids: tars.map(digestOf) } };
  return blob(mediaType, Buffer.from(JSON.stringify(config)));
}

function descriptorOf(entry: Blob | ManifestData, docker: boolean): Record<string, unknown> {
  const size = entry.bytes.length;
  return docker ? { mediaType: entry.mediaType, size, digest: entry.digest } : { mediaType: entry.mediaType, digest: entry.digest, size };
}

function imageManifest(docker: boolean, config: Blob, layers: readonly Blob[]): ManifestData {
  const mediaType = docker ? MediaType.DockerManifest : MediaType.OciManifest;
  const body = {
    schemaVersion: 2,
    mediaType,
    config: descriptorOf(config, docker),
    layers: layers.map((layer) => descriptorOf(layer, docker)),
    ...(docker ? {} : { annotations: { 'org.opencontainers.image.title': 'round trip' } }),
  };
  return manifestData(mediaType, JSON.stringify(body, null, 3));
}

function buildImage(kind: ImageKind): TestImage {
  const docker = kind === 'docker-image' || kind === 'docker-list' || kind === 'docker-archive-image';
  const layerType = docker ? MediaType.DockerLayer : MediaType.OciLayerTarGzip;
  const configType = docker ? MediaType.DockerConfig : MediaType.OciConfig;
  if (kind === 'docker-archive-image') {
    const tars = [layerTar('base'), layerTar('app')];
    const config = configFor({ os: 'linux', architecture: 'amd64' }, tars, configType);
    const layers = tars.map((tar) => blob(layerType, tar));
    // Go's compact JSON, keys in containers/image's struct order, layers labelled gzip.
    const body = { schemaVersion: 2, mediaType: MediaType.DockerManifest, config: descriptorOf(config, true), layers: layers.map((layer) => descriptorOf(layer, true)) };
    return { top: manifestData(MediaType.DockerManifest, JSON.stringify(body)), instances: [], blobs: [config, ...layers] };
  }
  if (kind === 'oci-image' || kind === 'docker-image') {
    const tars = [layerTar('base'), layerTar('app')];
    const config = configFor({ os: 'linux', architecture: 'amd64' }, tars, configType);
    const layers = tars.map((tar) => blob(layerType, gzipSync(tar)));
    return { top: imageManifest(docker, config, layers), instances: [], blobs: [config, ...layers] };
  }
  const sharedTar = layerTar('shared');
  const shared = blob(layerType, gzipSync(sharedTar));
  const platforms = [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'arm64', variant: 'v8' }];
  const blobs: Blob[] = [shared];
  const instances: ManifestData[] = [];
  for (const platform of platforms) {
    const ownTar = layerTar(platform.architecture);
    const own = blob(layerType, gzipSync(ownTar));
    const config = configFor(platform, [sharedTar, ownTar], configType);
    blobs.push(config, own);
    instances.push(imageManifest(docker, config, [shared, own]));
  }
  const indexType = docker ? MediaType.DockerManifestList : MediaType.OciIndex;
  const body = {
    schemaVersion: 2,
    mediaType: indexType,
    manifests: instances.map((instance, i) => ({ ...descriptorOf(instance, docker), platform: platforms[i] })),
  };
  return { top: manifestData(indexType, JSON.stringify(body, null, 1)), instances, blobs };
}

/** Writes the image as a copy does: blobs, then each instance by digest, then the top level, then commit. */
async function write(destination: ImageDestination, image: TestImage): Promise<void> {
  try {
    for (const entry of image.blobs) {
      await destination.putBlob({ digest: entry.digest, size: entry.bytes.length, mediaType: entry.mediaType }, Readable.from([entry.bytes]));
    }
    for (const instance of image.instances) await destination.putManifest(instance, instance.digest);
    await destination.putManifest(image.top);
    await destination.commit();
  } finally {
    await destination.close();
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function assertSameManifest(read: ManifestData, written: ManifestData, what: string): void {
  assert.equal(read.digest, written.digest, `${what}: digest`);
  assert.equal(read.mediaType, written.mediaType, `${what}: media type`);
  assert.ok(read.bytes.equals(written.bytes), `${what}: the bytes differ:\n${read.bytes.toString('utf8')}\n---\n${written.bytes.toString('utf8')}`);
}

const TITLES: Readonly<Record<ImageKind, string>> = {
  'oci-image': 'an OCI image',
  'docker-image': 'a Docker schema2 image',
  'oci-index': 'a multi-platform OCI index',
  'docker-list': 'a multi-platform Docker manifest list',
  'docker-archive-image': 'a Docker image as docker save stores it',
};

export function transportSuite(transport: TransportUnderTest): void {
  describe(`image transport ${transport.name}: round trip`, () => {
    for (const kind of transport.kinds) {
      it(`${TITLES[kind]}: the source gives back the manifests and blobs the destination took, byte for byte`, async () => {
        const image = buildImage(kind);
        const place = await transport.place();
        await write(place.destination(), image);
        const source = place.source();
        try {
          assertSameManifest(await source.getManifest(), image.top, 'top-level manifest');
          for (const instance of image.instances) assertSameManifest(await source.getManifest(instance.digest), instance, `instance ${instance.digest}`);
          for (const entry of image.blobs) {
            const bytes = await readAll(await source.getBlob({ digest: entry.digest, size: entry.bytes.length, mediaType: entry.mediaType }));
            assert.equal(digestOf(bytes), entry.digest, `blob ${entry.digest}`);
            assert.equal(bytes.length, entry.bytes.length, `blob ${entry.digest}: size`);
          }
        } finally {
          await source.close();
        }
      });
    }
  });
}
