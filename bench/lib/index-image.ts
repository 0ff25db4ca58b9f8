// The index phase's material and measurements: a generated multi-layer gzip image (many
// files of mixed compressibility, a dpkg status database rewritten by a later layer,
// whiteouts), the indexer run in a child process (so its peak RSS is its own), and the
// `gzip -dc` baseline over the same layer blobs.
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import { encodeHeader } from '../../src/image/archive/tar-writer.ts';

export interface IndexBenchImage {
  /** `oci:`-less layout reference: `DIR:TAG`. */
  readonly ref: string;
  readonly layerPaths: readonly string[];
  readonly compressedBytes: number;
  readonly uncompressedBytes: number;
  readonly files: number;
  readonly packages: number;
}

const WORDS = 'the quick brown fox jumps over lazy dog lorem ipsum dolor sit amet package library config usr share doc locale binary elf section symbol'.split(' ');

/** Text-like bytes (compress about 3:1 like documentation and scripts), varied by a seed. */
function textBlock(size: number, seed: number): Buffer {
  const parts: string[] = [];
  let length = 0;
  let state = seed >>> 0 || 1;
  while (length < size) {
    state = (state * 1103515245 + 12345) >>> 0;
    const word = `${WORDS[state % WORDS.length]!}${state % 7 === 0 ? `${state % 1000}\n` : ' '}`;
    parts.push(word);
    length += word.length;
  }
  return Buffer.from(parts.join('').slice(0, size));
}

function dpkgStatus(count: number, revision: number): string {
  const stanzas: string[] = [];
  for (let index = 0; index < count; index++) {
    const version = `1.${index % 50}.${index % 7}-${index % 3 === 0 ? revision : 1}`;
    stanzas.push(
      `Package: bench-package-${index}\nStatus: install ok installed\nPriority: optional\nSection: libs\nInstalled-Size: ${100 + index}\nMaintainer: Bench <bench@example.org>\nArchitecture: amd64\nSource: bench-source-${Math.floor(index / 3)}\nVersion: ${version}\nDepends: libc6 (>= 2.36)\nDescription: generated package ${index}\n a benchmark fixture.\n`,
    );
  }
  return stanzas.join('\n');
}

class LayerWriter {
  readonly #gzip = createGzip({ level: 1 });
  readonly #out;
  readonly #hash = createHash('sha256');
  uncompressed = 0;
  files = 0;
  #compressed = 0;

  constructor(path: string) {
    this.#out = createWriteStream(path);
    this.#gzip.on('data', (chunk: Buffer) => {
      this.#hash.update(chunk);
      this.#compressed += chunk.length;
    });
    this.#gzip.pipe(this.#out);
  }

  async #write(chunk: Buffer): Promise<void> {
    this.uncompressed += chunk.length;
    if (!this.#gzip.write(chunk)) await once(this.#gzip, 'drain');
  }

  async add(name: string, content: Buffer | null, type: 'file' | 'dir' | 'symlink' = 'file', linkname?: string): Promise<void> {
    const size = content?.length ?? 0;
    await this.#write(encodeHeader({ name, type, size, mtime: 1_700_000_000, ...(linkname === undefined ? {} : { linkname }) }));
    if (content !== null && size > 0) {
      await this.#write(content);
      const pad = (512 - (size % 512)) % 512;
      if (pad > 0) await this.#write(Buffer.alloc(pad));
    }
    if (type === 'file') this.files++;
  }

  async finish(): Promise<{ digest: string; size: number }> {
    await this.#write(Buffer.alloc(1024));
    this.#gzip.end();
    await once(this.#out, 'close');
    return { digest: `sha256:${this.#hash.digest('hex')}`, size: this.#compressed };
  }
}

/**
 * A gzip image of about `totalBytes` of tar content in `layerCount` layers, in an OCI
 * layout under `dir`. Files are 1 KiB–1 MiB, a third of them random (incompressible, like
 * already-compressed data), the rest text-like; the first layer holds a dpkg status of
 * `packages` packages that the third layer rewrites, and the last layer whites out files.
 */
export async function buildIndexBenchImage(dir: string, totalBytes: number, layerCount = 4, packages = 1000): Promise<IndexBenchImage> {
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const random = randomBytes(4 * 1024 * 1024);
  const texts = [0, 1, 2, 3].map((seed) => textBlock(1024 * 1024, seed + 1));
  const layers: Array<{ digest: string; size: number; path: string }> = [];
  let uncompressed = 0;
  let files = 0;
  let state = 42;
  const next = (): number => (state = (state * 1103515245 + 12345) >>> 0);
  for (let layer = 0; layer < layerCount; layer++) {
    const temporary = join(dir, `layer-${layer}.tmp`);
    const writer = new LayerWriter(temporary);
    if (layer === 0) {
      await writer.add('etc/', null, 'dir');
      await writer.add('etc/os-release', Buffer.from('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n'));
      await writer.add('var/lib/dpkg/status', Buffer.from(dpkgStatus(packages, 1)));
    }
    if (layer === 2) await writer.add('var/lib/dpkg/status', Buffer.from(dpkgStatus(packages + 20, 2)));
    if (layer === layerCount - 1) for (let index = 0; index < 50; index++) await writer.add(`opt/layer0/dir${index}/.wh.file0`, null);
    let fileIndex = 0;
    while (writer.uncompressed < totalBytes / layerCount) {
      const directory = `opt/layer${layer}/dir${Math.floor(fileIndex / 200)}`;
      if (fileIndex % 200 === 0) await writer.add(`${directory}/`, null, 'dir');
      // Sizes skewed small, as in real images: most files a few KiB, some up to 1 MiB.
      const roll = next() % 100;
      const size = roll < 60 ? 1024 + (next() % 8192) : roll < 95 ? 16384 + (next() % 131072) : 262144 + (next() % 786432);
      const incompressible = next() % 3 === 0;
      const source = incompressible ? random : texts[next() % texts.length]!;
      const offset = next() % (source.length - size);
      await writer.add(`${directory}/file${fileIndex}`, source.subarray(offset, offset + size));
      fileIndex++;
    }
    const { digest, size } = await writer.finish();
    const path = join(blobs, digest.slice(7));
    renameSync(temporary, path);
    layers.push({ digest, size, path });
    uncompressed += writer.uncompressed;
    files += writer.files;
  }
  const writeBlob = (content: Buffer): { digest: string; size: number } => {
    const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
    writeFileSync(join(blobs, digest.slice(7)), content);
    return { digest, size: content.length };
  };
  const config = writeBlob(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } })));
  const manifest = writeBlob(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: layers.map(({ digest, size }) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest, size })),
      }),
    ),
  );
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'bench' } }] }));
  return { ref: `${dir}:bench`, layerPaths: layers.map((layer) => layer.path), compressedBytes: layers.reduce((sum, layer) => sum + layer.size, 0), uncompressedBytes: uncompressed, files, packages: packages + 20 };
}

/** The layer blob paths and compressed size of a tagged image in a layout. */
export function layoutLayers(layout: string, tag: string): { paths: string[]; bytes: number } {
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string; annotations?: Record<string, string> }> };
  const entry = index.manifests.find((candidate) => candidate.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (entry === undefined) throw new Error(`${layout} has no tag ${tag}`);
  const blob = (digest: string): string => join(layout, 'blobs', ...digest.split(':'));
  const manifest = JSON.parse(readFileSync(blob(entry.digest), 'utf8')) as { layers: Array<{ digest: string; size: number }> };
  return { paths: manifest.layers.map((layer) => blob(layer.digest)), bytes: manifest.layers.reduce((sum, layer) => sum + layer.size, 0) };
}

/** Seconds `gzip -dc` takes over the layers, one after another, output discarded; null without gzip. */
export function gzipBaselineSeconds(paths: readonly string[]): number | null {
  const started = performance.now();
  for (const path of paths) {
    const run = spawnSync('sh', ['-c', 'gzip -dc "$1" > /dev/null', 'sh', path], { stdio: ['ignore', 'ignore', 'pipe'] });
    if (run.status !== 0) return null;
  }
  return (performance.now() - started) / 1000;
}

export interface IndexRun {
  readonly seconds: number;
  readonly peakRssBytes: number;
  readonly packages: number;
  readonly os: string | null;
}

/** Indexes `ref` in a fresh Node process (bench/lib/index-worker.ts) and returns its figures. */
export function runIndexer(ref: string, options: { verifyDigests?: boolean; databasesOnly?: boolean } = {}): IndexRun {
  const worker = join(import.meta.dirname, 'index-worker.ts');
  const flags = [...(options.verifyDigests === false ? ['--no-verify'] : []), ...(options.databasesOnly === true ? ['--databases-only'] : [])];
  const run = spawnSync(process.execPath, [worker, ref, ...flags], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`the indexer worker failed (${run.status}): ${run.stderr.slice(-2000)}`);
  return JSON.parse(run.stdout) as IndexRun;
}
