// The local store as the two ends of a copy: a destination that `custody pull` fills (the
// image is named when it is committed, so the name can come from the source's resolved
// reference) and a source that reads an image back by name.
import type { Readable } from 'node:stream';
import { createReadStream } from 'node:fs';
import { UsageError } from '../../core/errors.ts';
import { parseReference } from '../reference.ts';
import { PendingWrites } from '../../image/transports/files.ts';
import type { BlobInfo, ImageDestination, ImageSource, ManifestData } from '../../image/transport.ts';
import { manifestMediaType } from '../../core/manifest-reader.ts';
import { digestOf, parseDigest } from '../../core/digest.ts';
import { LocalStore, REF_NAME, type StoreIndexEntry } from './store.ts';

export class LocalStoreDestination implements ImageDestination {
  /** Each blob goes to its own file or request: several can be written at once. */
  readonly parallelBlobs = 4;
  readonly name: string;
  readonly store: LocalStore;
  readonly #refName: () => string;
  #top: ManifestData | undefined;
  readonly #blobs = new Set<string>();
  /** Blob fsyncs and renames still running; settled before index.json names the image. */
  readonly #pending = new PendingWrites();

  /** `refName` is asked for at commit time. */
  constructor(store: LocalStore, refName: () => string) {
    this.store = store;
    this.#refName = refName;
    this.name = `local store ${store.root}`;
  }

  async hasBlob(blob: BlobInfo): Promise<boolean> {
    await this.store.prepare();
    const has = await this.store.hasBlob(blob.digest, blob.size);
    if (has) this.#blobs.add(blob.digest);
    return has;
  }

  async tryReuseBlob(): Promise<boolean> {
    return false;
  }

  async putBlob(blob: BlobInfo, stream: Readable): Promise<void> {
    await this.store.prepare();
    await this.store.writeStreamAtomic(this.store.blobPath(blob.digest), stream, this.#pending);
    this.#blobs.add(blob.digest);
  }

  async putManifest(manifest: ManifestData, instanceDigest?: string): Promise<void> {
    await this.store.prepare();
    if (!(await this.store.hasBlob(manifest.digest, manifest.bytes.length))) await this.store.writeFileAtomic(this.store.blobPath(manifest.digest), manifest.bytes);
    this.#blobs.add(manifest.digest);
    if (instanceDigest === undefined) this.#top = manifest;
  }

  async commit(): Promise<void> {
    const top = this.#top;
    if (top === undefined) throw new Error(`${this.name}: nothing to commit`);
    const ref = this.#refName();
    await this.#pending.settle();
    await this.store.updateIndex(async (index) => {
      // A concurrent `rmi` may have collected a blob this pull found present: check under the lock.
      for (const digest of this.#blobs) {
        if (!(await this.store.hasBlob(digest))) throw new Error(`${this.name}: blob ${digest} was removed while pulling (a concurrent rmi?); pull again`);
      }
      const entry: StoreIndexEntry = { mediaType: top.mediaType, digest: top.digest, size: top.bytes.length, annotations: { [REF_NAME]: ref } };
      index.manifests = [...index.manifests.filter((candidate) => candidate.annotations?.[REF_NAME] !== ref), entry];
    });
  }

  async close(): Promise<void> {
    await this.#pending.settle().catch(() => {});
  }
}

/** What a user typed (`alpine`, `host:5000/app:1`, `sha256:…` or a digest prefix) → the store's entry. */
export async function findImage(store: LocalStore, input: string): Promise<{ ref: string; entry: StoreIndexEntry }> {
  const images = await store.list();
  const name = input.startsWith('docker://') ? input.slice('docker://'.length) : input;
  const exact = images.find((image) => image.ref === name);
  if (exact !== undefined) return exact;
  let normalised: string | undefined;
  try {
    normalised = parseReference(name).toString();
  } catch {
    normalised = undefined;
  }
  const byName = normalised === undefined ? undefined : images.find((image) => image.ref === normalised);
  if (byName !== undefined) return byName;
  const hex = /^(?:sha256:)?([a-f0-9]{6,64})$/.exec(name)?.[1];
  if (hex !== undefined) {
    const matches = images.filter((image) => image.entry.digest.startsWith(`sha256:${hex}`));
    const digests = new Set(matches.map((image) => image.entry.digest));
    if (digests.size === 1) {
      if (matches.length > 1) throw new UsageError(`"${input}" names an image stored under several names (${matches.map((image) => image.ref).join(', ')}); give one of them`);
      return matches[0]!;
    }
    if (digests.size > 1) throw new UsageError(`"${input}" is ambiguous: it matches ${digests.size} images`);
  }
  throw new Error(`no image "${normalised ?? input}" in the local store ${store.root}`);
}

export class LocalStoreSource implements ImageSource {
  readonly name: string;
  readonly store: LocalStore;
  readonly #input: string;
  #entry: StoreIndexEntry | undefined;

  constructor(store: LocalStore, input: string) {
    this.store = store;
    this.#input = input;
    this.name = `local store image ${input}`;
  }

  async getManifest(instanceDigest?: string): Promise<ManifestData> {
    if (this.#entry === undefined) this.#entry = (await findImage(this.store, this.#input)).entry;
    const digest = instanceDigest ?? this.#entry.digest;
    const bytes = await this.store.readBlob(digest);
    const computed = digestOf(bytes, parseDigest(digest).algorithm);
    if (computed !== digest) throw new Error(`${this.name}: manifest ${digest} hashes to ${computed}`);
    return { bytes, mediaType: manifestMediaType(bytes, instanceDigest === undefined ? this.#entry.mediaType : undefined), digest: computed };
  }

  async getBlob(blob: BlobInfo): Promise<Readable> {
    if (!(await this.store.hasBlob(blob.digest))) throw new Error(`${this.name}: blob ${blob.digest} is missing from the store`);
    return createReadStream(this.store.blobPath(blob.digest), { highWaterMark: 256 * 1024 });
  }

  async close(): Promise<void> {}
}
