// The content the server phases share: a small base image pushed to both registries and
// mounted into new repositories, and generated incompressible blobs of any size.
import { randomBytes } from 'node:crypto';
import { OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, sha256Digest, type OciClient } from './oci-client.ts';
import { KiB } from './stats.ts';

export interface BaseImage {
  readonly config: Buffer;
  readonly configDigest: string;
  readonly layer: Buffer;
  readonly layerDigest: string;
  readonly manifest: Buffer;
  readonly manifestDigest: string;
}

export const BASE_REPO = 'bench/base';

export function makeBaseImage(): BaseImage {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha256Digest(Buffer.from('bench'))] } }));
  const layer = randomBytes(32 * KiB);
  const configDigest = sha256Digest(config);
  const layerDigest = sha256Digest(layer);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.length },
      layers: [{ mediaType: OCI_LAYER, digest: layerDigest, size: layer.length }],
      annotations: { 'org.opencontainers.image.title': 'custody bench' },
    }),
  );
  return { config, configDigest, layer, layerDigest, manifest, manifestDigest: sha256Digest(manifest) };
}

export async function pushBaseImage(client: OciClient, image: BaseImage): Promise<void> {
  await client.pushBlob(BASE_REPO, image.config, image.configDigest);
  await client.pushBlob(BASE_REPO, image.layer, image.layerDigest);
  const digest = await client.putManifest(BASE_REPO, 'latest', image.manifest);
  if (digest !== '' && digest !== image.manifestDigest) throw new Error(`manifest stored as ${digest}, expected ${image.manifestDigest}`);
}

/** Gives `repository` the base image's blobs by cross-repository mount (pushing them if a mount is refused). */
export async function mountBase(client: OciClient, repository: string, image: BaseImage): Promise<void> {
  for (const [digest, content] of [
    [image.configDigest, image.config],
    [image.layerDigest, image.layer],
  ] as const) {
    if (!(await client.mountBlob(repository, digest, BASE_REPO))) await client.pushBlob(repository, content, digest);
  }
}

/** Deterministic incompressible-enough stream: a random 1 MiB block, each copy stamped with its index and a salt. */
export function* generatedChunks(size: number, block: Buffer, salt: number, reuse: boolean): Generator<Buffer> {
  // Reusing one buffer is only safe when the consumer is done with a chunk before the
  // next is made (hashing); a socket write keeps a reference, so sending gets fresh ones.
  const scratch = reuse ? Buffer.allocUnsafe(block.length) : null;
  for (let offset = 0, index = 0; offset < size; offset += block.length, index++) {
    const length = Math.min(block.length, size - offset);
    const chunk = scratch ?? Buffer.allocUnsafe(block.length);
    block.copy(chunk);
    chunk.writeUInt32LE(index, 0);
    chunk.writeUInt32LE(salt, 4);
    yield length === chunk.length ? chunk : chunk.subarray(0, length);
  }
}
