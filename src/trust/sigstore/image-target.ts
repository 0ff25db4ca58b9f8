// The image a `custody sign` or `custody verify` names, resolved to what signing needs:
// its manifest (bytes, digest, media type) and where its signatures live. `docker://`
// (or a bare name) goes through the client's ImageResolver: short names, registries.conf
// rewrites and mirrors, credentials and TLS exactly as `custody copy` has them; signing
// writes to the primary location, verifying reads from the first endpoint that has the
// image. `dir:PATH` is containers/image's directory layout.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { digestOf, parseDigest } from '../../core/digest.ts';
import type { Descriptor } from '../../core/manifest.ts';
import { indexEntries, readManifestJson, type DescriptorJson } from '../../core/manifest-reader.ts';
import { UsageError } from '../../core/errors.ts';
import { ImageResolver, type ClientOptions } from '../../client/image-resolver.ts';
import type { ImageReference } from '../../client/reference.ts';
import type { AttachmentTarget } from './attachments.ts';

export interface ManifestInfo {
  readonly bytes: Buffer;
  readonly digest: string;
  readonly mediaType: string;
}

export interface RegistryImage {
  readonly kind: 'docker';
  /** The fully-qualified name the user's input resolved to (the default identity). */
  readonly reference: ImageReference;
  readonly target: AttachmentTarget;
  readonly manifest: ManifestInfo;
  /** An index's child manifest by digest, from the same place. */
  child(digest: string): Promise<ManifestInfo>;
  close(): void;
}

export interface DirImage {
  readonly kind: 'dir';
  readonly path: string;
  readonly manifest: ManifestInfo;
  child(digest: string): Promise<ManifestInfo>;
  close(): void;
}

export type SignableImage = RegistryImage | DirImage;

export function descriptorOf(manifest: ManifestInfo): Descriptor {
  return { mediaType: manifest.mediaType, digest: manifest.digest as Descriptor['digest'], size: manifest.bytes.length };
}

function mediaTypeOf(bytes: Buffer): string {
  try {
    const parsed = readManifestJson(bytes);
    if (parsed.mediaType !== undefined) return parsed.mediaType;
    return parsed.manifests !== undefined ? 'application/vnd.oci.image.index.v1+json' : 'application/vnd.oci.image.manifest.v1+json';
  } catch {
    return 'application/octet-stream';
  }
}

export async function openSignableImage(input: string, options: ClientOptions, purpose: 'sign' | 'verify'): Promise<SignableImage> {
  if (input.startsWith('dir:')) {
    const path = resolve(input.slice('dir:'.length));
    const read = async (file: string): Promise<ManifestInfo> => {
      const bytes = await readFile(join(path, file));
      return { bytes, digest: digestOf(bytes), mediaType: mediaTypeOf(bytes) };
    };
    const manifest = await read('manifest.json');
    return { kind: 'dir', path, manifest, child: (digest) => read(`${parseDigest(digest).hex}.manifest.json`), close() {} };
  }
  const scheme = /^([a-z][a-z0-9-]*):(?!\d)/i.exec(input);
  if (scheme !== null && scheme[1] !== 'docker') throw new UsageError(`unsupported transport "${scheme[1]}:" for signatures: use docker://NAME or dir:PATH`);
  const resolver = new ImageResolver(options);
  try {
    const endpoints = await resolver.sources(input, { primaryOnly: purpose === 'sign' });
    if (purpose === 'sign' && endpoints.length !== 1) {
      throw new UsageError(`"${input}" resolves to several images (${endpoints.map((endpoint) => endpoint.requested.toString()).join(', ')}); give a fully-qualified name to sign`);
    }
    let lastError: unknown;
    for (const endpoint of endpoints) {
      try {
        // A signer writes where it reads: it asks for push from its first request.
        if (purpose === 'sign') endpoint.client.intendToWrite(endpoint.repository);
        const result = await endpoint.client.getManifest(endpoint.repository, endpoint.tagOrDigest!);
        const target = { client: endpoint.client, repository: endpoint.repository };
        return {
          kind: 'docker',
          reference: endpoint.requested,
          target,
          manifest: { bytes: result.bytes, digest: result.digest, mediaType: result.mediaType },
          async child(digest) {
            const child = await endpoint.client.getManifest(endpoint.repository, digest);
            return { bytes: child.bytes, digest: child.digest, mediaType: child.mediaType };
          },
          close: () => resolver.close(),
        };
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError ?? new Error(`${input}: no registry to read the image from`);
  } catch (error) {
    resolver.close();
    throw error;
  }
}

/** An index's child manifest descriptors (empty for an image manifest). */
export function indexChildren(manifest: ManifestInfo): readonly DescriptorJson[] {
  return indexEntries(readManifestJson(manifest.bytes));
}
