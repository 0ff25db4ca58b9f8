// `oci:PATH[:REF]`, an OCI image layout: `oci-layout`, `index.json` whose entries carry
// `org.opencontainers.image.ref.name`, and `blobs/<algorithm>/<hex>`. Reading picks the
// entry named REF (or the only entry when no REF is given); writing adds or replaces the
// entry for REF and keeps the others. Blobs and index.json are written atomically.
import { createReadStream } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { digestOf, parseDigest } from '../../core/digest.ts';
import { UsageError } from '../../core/errors.ts';
import { readManifestJson } from '../../core/manifest-reader.ts';
import type { BlobInfo, ImageDestination, ImageSource, ManifestData } from '../transport.ts';
import { manifestMediaType } from '../../core/manifest-reader.ts';
import { fileHasSize, PendingWrites, writeFileAtomic, writeStreamAtomic } from './files.ts';

export const REF_NAME = 'org.opencontainers.image.ref.name';

interface IndexEntry {
  mediaType?: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: Record<string, unknown>;
  [key: string]: unknown;
}

interface IndexJson {
  schemaVersion: number;
  mediaType?: string;
  manifests: IndexEntry[];
  [key: string]: unknown;
}

/** `PATH[:REF]` → path and reference (split at the first colon, as containers/image does). */
function parseOciReference(spec: string): { path: string; ref: string | undefined } {
  const colon = spec.indexOf(':');
  const path = colon < 0 ? spec : spec.slice(0, colon);
  const ref = colon < 0 ? undefined : spec.slice(colon + 1);
  if (path === '') throw new UsageError(`oci:${spec}: missing layout path`);
  if (ref !== undefined && (ref === '' || !/^[A-Za-z0-9._:@/+-]+$/.test(ref))) throw new UsageError(`oci:${spec}: invalid reference "${ref}"`);
  return { path, ref: ref === '' ? undefined : ref };
}

function blobFile(layout: string, digest: string): string {
  const { algorithm, hex } = parseDigest(digest);
  return join(layout, 'blobs', algorithm, hex);
}

async function readIndex(layout: string, name: string): Promise<IndexJson> {
  let text: string;
  try {
    text = await readFile(join(layout, 'index.json'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${name}: no index.json (is this an OCI image layout?)`);
    throw error;
  }
  const index = readManifestJson(text) as IndexJson;
  if (!Array.isArray(index.manifests)) throw new Error(`${name}: index.json has no manifests list`);
  return index;
}

export class OciLayoutSource implements ImageSource {
  readonly name: string;
  readonly path: string;
  readonly ref: string | undefined;

  constructor(spec: string) {
    const { path, ref } = parseOciReference(spec);
    this.path = resolve(path);
    this.ref = ref;
    this.name = `oci:${spec}`;
  }

  async listReferences(): Promise<string[]> {
    const index = await readIndex(this.path, this.name);
    return index.manifests.map((entry) => entry.annotations?.[REF_NAME]).filter((ref): ref is string => ref !== undefined);
  }

  async #entry(): Promise<IndexEntry> {
    const index = await readIndex(this.path, this.name);
    if (this.ref === undefined) {
      if (index.manifests.length === 1) return index.manifests[0]!;
      const refs = index.manifests.map((entry) => entry.annotations?.[REF_NAME] ?? entry.digest);
      throw new UsageError(`${this.name}: the layout holds ${index.manifests.length} images; name one (${refs.join(', ') || 'none'}) as oci:PATH:REF`);
    }
    const found = index.manifests.find((entry) => entry.annotations?.[REF_NAME] === this.ref) ?? index.manifests.find((entry) => entry.digest === this.ref);
    if (found === undefined) throw new Error(`${this.name}: no image named "${this.ref}" in the layout`);
    return found;
  }

  async getManifest(instanceDigest?: string): Promise<ManifestData> {
    const entry = instanceDigest === undefined ? await this.#entry() : undefined;
    const digest = instanceDigest ?? entry!.digest;
    let bytes: Buffer;
    try {
      bytes = await readFile(blobFile(this.path, digest));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${this.name}: manifest ${digest} is missing from the layout`);
      throw error;
    }
    const computed = digestOf(bytes, parseDigest(digest).algorithm);
    if (computed !== digest) throw new Error(`${this.name}: manifest ${digest} hashes to ${computed}`);
    return { bytes, mediaType: manifestMediaType(bytes, entry?.mediaType), digest: computed };
  }

  async getBlob(blob: BlobInfo): Promise<Readable> {
    const path = blobFile(this.path, blob.digest);
    await stat(path).catch((error: NodeJS.ErrnoException) => {
      throw new Error(`${this.name}: blob ${blob.digest} is missing${error.code === 'ENOENT' ? '' : ` (${error.message})`}`);
    });
    return createReadStream(path, { highWaterMark: 256 * 1024 });
  }

  async close(): Promise<void> {}
}

export class OciLayoutDestination implements ImageDestination {
  /** Each blob goes to its own file or request: several can be written at once. */
  readonly parallelBlobs = 4;
  readonly name: string;
  readonly path: string;
  readonly ref: string | undefined;
  #top: ManifestData | undefined;
  /** One preparation, shared by every caller (blobs are written in parallel). */
  #preparing: Promise<void> | undefined;
  /** Blob fsyncs and renames still running; settled before index.json is written. */
  readonly #pending = new PendingWrites();

  constructor(spec: string) {
    const { path, ref } = parseOciReference(spec);
    this.path = resolve(path);
    this.ref = ref;
    this.name = `oci:${spec}`;
  }

  #prepare(): Promise<void> {
    this.#preparing ??= this.#prepareOnce();
    return this.#preparing;
  }

  async #prepareOnce(): Promise<void> {
    await mkdir(join(this.path, 'blobs', 'sha256'), { recursive: true });
    const layoutFile = join(this.path, 'oci-layout');
    let existing: string | undefined;
    try {
      existing = await readFile(layoutFile, 'utf8');
    } catch {
      existing = undefined;
    }
    if (existing === undefined) await writeFileAtomic(layoutFile, JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  }

  async hasBlob(blob: BlobInfo): Promise<boolean> {
    await this.#prepare();
    return fileHasSize(blobFile(this.path, blob.digest), blob.size);
  }

  async tryReuseBlob(): Promise<boolean> {
    return false;
  }

  async putBlob(blob: BlobInfo, stream: Readable): Promise<void> {
    await this.#prepare();
    const file = blobFile(this.path, blob.digest);
    await mkdir(join(file, '..'), { recursive: true });
    await writeStreamAtomic(file, stream, { pending: this.#pending });
  }

  async putManifest(manifest: ManifestData, instanceDigest?: string): Promise<void> {
    await this.#prepare();
    const file = blobFile(this.path, manifest.digest);
    if (!(await fileHasSize(file, manifest.bytes.length))) await writeFileAtomic(file, manifest.bytes);
    if (instanceDigest === undefined) this.#top = manifest;
  }

  /** Adds the top-level manifest to index.json (replacing the entry for the same REF). */
  async commit(): Promise<void> {
    if (this.#top === undefined) throw new Error(`${this.name}: nothing to commit`);
    await this.#prepare();
    // index.json is the commit point: every blob must be durable and in place first.
    await this.#pending.settle();
    let index: IndexJson;
    try {
      index = await readIndex(this.path, this.name);
    } catch (error) {
      if (!/no index\.json/.test((error as Error).message)) throw error;
      index = { schemaVersion: 2, manifests: [] };
    }
    const top = this.#top;
    const entry: IndexEntry = {
      mediaType: top.mediaType,
      digest: top.digest,
      size: top.bytes.length,
      ...(this.ref === undefined ? {} : { annotations: { [REF_NAME]: this.ref } }),
    };
    const kept = index.manifests.filter((candidate) =>
      this.ref === undefined ? !(candidate.digest === top.digest && candidate.annotations?.[REF_NAME] === undefined) : candidate.annotations?.[REF_NAME] !== this.ref,
    );
    const next: IndexJson = { ...index, schemaVersion: index.schemaVersion ?? 2, manifests: [...kept, entry] };
    await writeFileAtomic(join(this.path, 'index.json'), JSON.stringify(next));
  }

  async close(): Promise<void> {
    await this.#pending.settle().catch(() => {});
  }
}
