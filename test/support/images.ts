// Image material for interoperability tests: the shared Debian OCI layout (read-only),
// and layouts built from it in temporary directories (a multi-arch index, a large
// random-content image). Blobs are always copied, never linked into ../shared.
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { sharedDir } from './paths.ts';
import { encodeHeader } from '../../src/image/archive/tar-writer.ts';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations?: Record<string, string>;
  readonly platform?: { architecture: string; os: string; variant?: string };
}

export interface ImageManifest {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly config: Descriptor;
  readonly layers: Descriptor[];
}

export interface ImageIndex {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly manifests: Descriptor[];
  readonly annotations?: Record<string, string>;
}

export function sha256(content: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`;
}

/** The shared Debian layout (tags bookworm-minbase and bookworm-curl). Never write to it. */
export function debianLayout(): string {
  return sharedDir('images', 'debian-oci');
}

/** A skopeo/podman `oci:` reference. */
export function ociRef(layout: string, tag: string): string {
  return `oci:${layout}:${tag}`;
}

export function blobPath(layout: string, digest: string): string {
  const [algorithm, hex] = digest.split(':') as [string, string];
  return join(layout, 'blobs', algorithm, hex);
}

export async function readLayoutBlob(layout: string, digest: string): Promise<Buffer> {
  return readFile(blobPath(layout, digest));
}

/** The descriptor index.json gives for `tag`. */
export async function layoutEntry(layout: string, tag: string): Promise<Descriptor> {
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as ImageIndex;
  const entry = index.manifests.find((candidate) => candidate.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!entry) throw new Error(`${layout} has no tag ${tag}`);
  return entry;
}

export interface LayoutImage {
  readonly digest: string;
  /** The manifest's exact bytes. */
  readonly content: Buffer;
  readonly manifest: ImageManifest;
}

/** A tagged image manifest of a layout, with its exact bytes. */
export async function layoutImage(layout: string, tag: string): Promise<LayoutImage> {
  const entry = await layoutEntry(layout, tag);
  const content = await readLayoutBlob(layout, entry.digest);
  return { digest: entry.digest, content, manifest: JSON.parse(content.toString('utf8')) as ImageManifest };
}

async function writeBlob(layout: string, content: Uint8Array): Promise<string> {
  const digest = sha256(content);
  await writeFile(blobPath(layout, digest), content);
  return digest;
}

async function newLayout(dir: string): Promise<string> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  return dir;
}

async function writeIndexJson(layout: string, entries: Descriptor[]): Promise<void> {
  await writeFile(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: entries }));
}

/** A copy of the shared Debian layout's blobs and index in `dir` (real copies, no links). */
export async function copyDebianLayout(dir: string): Promise<string> {
  const source = debianLayout();
  const layout = await newLayout(dir);
  for (const name of await readdir(join(source, 'blobs', 'sha256'))) {
    await copyFile(join(source, 'blobs', 'sha256', name), join(layout, 'blobs', 'sha256', name));
  }
  await copyFile(join(source, 'index.json'), join(layout, 'index.json'));
  return layout;
}

export interface MultiArchLayout {
  readonly layout: string;
  readonly tag: string;
  readonly ref: string;
  readonly indexDigest: string;
  /** The index's exact bytes. */
  readonly indexContent: Buffer;
  readonly index: ImageIndex;
  readonly children: readonly { readonly digest: string; readonly architecture: string; readonly tag: string }[];
}

/**
 * A layout in `dir` whose tag `multi` is an OCI image index with two platform entries:
 * linux/amd64 → the bookworm-curl manifest, linux/arm64/v8 → the bookworm-minbase
 * manifest, both annotated, and the index annotated too.
 */
export async function buildMultiArchLayout(dir: string): Promise<MultiArchLayout> {
  const layout = await copyDebianLayout(dir);
  const curl = await layoutEntry(layout, 'bookworm-curl');
  const minbase = await layoutEntry(layout, 'bookworm-minbase');
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [
      {
        mediaType: OCI_MANIFEST,
        digest: curl.digest,
        size: curl.size,
        platform: { architecture: 'amd64', os: 'linux' },
        annotations: { 'org.opencontainers.image.title': 'debian-bookworm-curl', 'io.custody.test.platform': 'linux/amd64' },
      },
      {
        mediaType: OCI_MANIFEST,
        digest: minbase.digest,
        size: minbase.size,
        platform: { architecture: 'arm64', os: 'linux', variant: 'v8' },
        annotations: { 'org.opencontainers.image.title': 'debian-bookworm-minbase', 'io.custody.test.platform': 'linux/arm64/v8' },
      },
    ],
    annotations: { 'org.opencontainers.image.description': 'custody test fixture: two-platform index over the shared Debian images' },
  };
  const indexContent = Buffer.from(JSON.stringify(index));
  const indexDigest = await writeBlob(layout, indexContent);
  const tag = 'multi';
  const existing = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as ImageIndex;
  await writeIndexJson(layout, [
    ...existing.manifests,
    { mediaType: OCI_INDEX, digest: indexDigest, size: indexContent.length, annotations: { 'org.opencontainers.image.ref.name': tag } },
  ]);
  return {
    layout,
    tag,
    ref: ociRef(layout, tag),
    indexDigest,
    indexContent,
    index,
    children: [
      { digest: curl.digest, architecture: 'amd64', tag: 'bookworm-curl' },
      { digest: minbase.digest, architecture: 'arm64', tag: 'bookworm-minbase' },
    ],
  };
}

/** A ustar archive holding one regular file. */
export function tarWithFile(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512);
  const field = (value: string, offset: number, length: number): void => {
    header.write(value, offset, length, 'ascii');
  };
  const octal = (value: number, length: number): string => value.toString(8).padStart(length - 1, '0') + '\0';
  field(name, 0, 100);
  field(octal(0o644, 8), 100, 8);
  field(octal(0, 8), 108, 8);
  field(octal(0, 8), 116, 8);
  field(octal(content.length, 12), 124, 12);
  field(octal(1_700_000_000, 12), 136, 12);
  field('        ', 148, 8); // checksum placeholder: spaces while summing
  field('0', 156, 1);
  field('ustar\0', 257, 6);
  field('00', 263, 2);
  let sum = 0;
  for (const byte of header) sum += byte;
  field(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, padding, Buffer.alloc(1024)]);
}

export interface LargeImageLayout {
  readonly layout: string;
  readonly tag: string;
  readonly ref: string;
  readonly manifestDigest: string;
  readonly configDigest: string;
  readonly layerDigest: string;
  readonly layerSize: number;
}

/**
 * A single-layer image in `dir` whose layer is a real tar+gzip of `mebibytes` MiB of
 * random bytes (stored, not compressed, so it stays that large).
 */
export async function buildLargeImageLayout(dir: string, mebibytes: number, tag = 'large'): Promise<LargeImageLayout> {
  const layout = await newLayout(dir);
  const tar = tarWithFile('random.bin', randomBytes(mebibytes * 1024 * 1024));
  const layer = gzipSync(tar, { level: 0 });
  const layerDigest = await writeBlob(layout, layer);
  const config = Buffer.from(
    JSON.stringify({
      created: '2024-01-01T00:00:00Z',
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/bin/true'] },
      rootfs: { type: 'layers', diff_ids: [sha256(tar)] },
      history: [{ created: '2024-01-01T00:00:00Z', created_by: 'custody test: random content' }],
    }),
  );
  const configDigest = await writeBlob(layout, config);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.length },
    layers: [{ mediaType: OCI_LAYER_GZIP, digest: layerDigest, size: layer.length }],
  };
  const manifestContent = Buffer.from(JSON.stringify(manifest));
  const manifestDigest = await writeBlob(layout, manifestContent);
  await writeIndexJson(layout, [{ mediaType: OCI_MANIFEST, digest: manifestDigest, size: manifestContent.length, annotations: { 'org.opencontainers.image.ref.name': tag } }]);
  return { layout, tag, ref: ociRef(layout, tag), manifestDigest, configDigest, layerDigest, layerSize: layer.length };
}

/** A file of a built layer: its path in the image, content and mode. */
export interface LayerFile {
  readonly name: string;
  readonly content: Buffer;
  readonly mode?: number;
}

/** A one-layer image in `dir` (tar+gzip) holding exactly `files`; returns its `oci:` reference. */
export async function buildFilesImageLayout(dir: string, files: readonly LayerFile[], tag = 'files'): Promise<string> {
  const layout = await newLayout(dir);
  const parts: Buffer[] = [];
  for (const file of files) {
    parts.push(encodeHeader({ name: file.name, size: file.content.length, mode: file.mode ?? 0o644, mtime: 1_700_000_000 }), file.content, Buffer.alloc((512 - (file.content.length % 512)) % 512));
  }
  const tar = Buffer.concat([...parts, Buffer.alloc(1024)]);
  const layer = gzipSync(tar);
  const layerDigest = await writeBlob(layout, layer);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(tar)] } }));
  const configDigest = await writeBlob(layout, config);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.length },
    layers: [{ mediaType: OCI_LAYER_GZIP, digest: layerDigest, size: layer.length }],
  };
  const manifestContent = Buffer.from(JSON.stringify(manifest));
  const manifestDigest = await writeBlob(layout, manifestContent);
  await writeIndexJson(layout, [{ mediaType: OCI_MANIFEST, digest: manifestDigest, size: manifestContent.length, annotations: { 'org.opencontainers.image.ref.name': tag } }]);
  return ociRef(layout, tag);
}

export interface SmallImageLayout {
  readonly layout: string;
  readonly ref: string;
  readonly manifestDigest: string;
  readonly manifest: Buffer;
  readonly config: Buffer;
  readonly layer: Buffer;
  /** Sizes of the distinct blobs (config, layer): what a namespace's usage counts. */
  readonly blobBytes: number;
}

/** A one-layer image of random `layerBytes` (not a real tar: registries do not look) with config `labels`. */
export async function buildSmallImageLayout(dir: string, options: { readonly tag?: string; readonly labels?: Readonly<Record<string, string>>; readonly layerBytes?: number } = {}): Promise<SmallImageLayout> {
  const tag = options.tag ?? 'small';
  const layout = await newLayout(dir);
  const layer = randomBytes(options.layerBytes ?? 4096);
  const layerDigest = await writeBlob(layout, layer);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: options.labels ?? {} }, rootfs: { type: 'layers', diff_ids: [sha256(layer)] } }));
  const configDigest = await writeBlob(layout, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.length },
      layers: [{ mediaType: OCI_LAYER_GZIP, digest: layerDigest, size: layer.length }],
    }),
  );
  const manifestDigest = await writeBlob(layout, manifest);
  await writeIndexJson(layout, [{ mediaType: OCI_MANIFEST, digest: manifestDigest, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': tag } }]);
  return { layout, ref: ociRef(layout, tag), manifestDigest, manifest, config, layer, blobBytes: config.length + layer.length };
}
