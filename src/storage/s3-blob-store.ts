// S3 driver: blobs at blobs/<algorithm>/<2 hex>/<hex> in one bucket, uploads under
// uploads/<id>/ (see s3/s3-uploads.ts). A blob key is only ever written whole — by a
// server-side copy of a sealed upload, or one PutObject — so nothing partial is visible
// under a digest, and the registry verifies the digest before it asks for the commit.
// Everything lives in the bucket, so any number of replicas can share it.
import { randomBytes } from 'node:crypto';
import type { LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseDigest, type Digest } from '../core/digest.ts';
import { NotFound } from '../core/errors.ts';
import type { BlobStat, BlobStore, ByteRange, StorageSpace, StoredBlob } from './blob-store.ts';
import { S3Client, type S3ConnectionSettings } from './s3/s3-client.ts';
import { ObjectStore } from './s3/s3-objects.ts';
import { S3Uploads } from './s3/s3-uploads.ts';

export interface S3BlobStoreSettings extends S3ConnectionSettings {
  /** Answer blob GETs with a redirect to a presigned URL instead of streaming them. */
  readonly redirect: boolean;
}

export interface S3BlobStoreOptions {
  /** Name resolution for the endpoint (tests use it for virtual-host addressing on loopback). */
  readonly lookup?: LookupFunction | undefined;
  /** Size of multipart parts (at least S3's 5 MiB); the default suits most stores. */
  readonly partBytes?: number | undefined;
  /** Largest single CopyObject (S3: 5 GiB); tests lower it to exercise multipart copies. */
  readonly copyObjectLimit?: number | undefined;
}

/** How long a redirect stays valid: long enough to start a pull, short enough not to leak. */
const REDIRECT_SECONDS = 20 * 60;
const DEFAULT_PART_BYTES = 8 * 1024 * 1024;

export class S3BlobStore implements BlobStore {
  readonly bucket: string;
  private readonly client: S3Client;
  private readonly objects: ObjectStore;
  private readonly uploads: S3Uploads;
  private readonly redirect: boolean;

  constructor(settings: S3BlobStoreSettings, options: S3BlobStoreOptions = {}) {
    this.bucket = settings.bucket;
    this.client = new S3Client(settings, { lookup: options.lookup });
    this.objects = new ObjectStore(this.client, options.copyObjectLimit === undefined ? {} : { copyObjectLimit: options.copyObjectLimit });
    this.uploads = new S3Uploads(this.objects, Math.max(options.partBytes ?? DEFAULT_PART_BYTES, 5 * 1024 * 1024));
    this.redirect = settings.redirect;
  }

  private blobKey(digest: Digest): string {
    const { algorithm, hex } = parseDigest(digest);
    return `blobs/${algorithm}/${hex.slice(0, 2)}/${hex}`;
  }

  async stat(digest: Digest): Promise<BlobStat | null> {
    const info = await this.objects.head(this.blobKey(digest));
    return info ? { size: info.size, modifiedAt: info.lastModified } : null;
  }

  async read(digest: Digest, range?: ByteRange): Promise<Readable> {
    const stream = await this.objects.get(this.blobKey(digest), range);
    if (!stream) throw new NotFound('blob', `blob ${digest} is not in storage`);
    return stream;
  }

  async send(digest: Digest, destination: NodeJS.WritableStream, range?: ByteRange): Promise<void> {
    const stream = await this.read(digest, range);
    // Back-pressure from the client's socket reaches the object store's; a client that
    // goes away ends the S3 response too.
    await pipeline(stream, destination);
  }

  async redirectUrl(digest: Digest): Promise<string | null> {
    return this.redirect ? this.client.presignGet(this.blobKey(digest), REDIRECT_SECONDS) : null;
  }

  async delete(digest: Digest): Promise<void> {
    await this.objects.delete(this.blobKey(digest));
  }

  async deleteMany(digests: readonly Digest[]): Promise<void> {
    await this.objects.deleteMany(digests.map((digest) => this.blobKey(digest)));
  }

  async *list(): AsyncIterable<StoredBlob> {
    for await (const object of this.objects.list('blobs/')) {
      const match = /^blobs\/([a-z0-9]+)\/[0-9a-f]{2}\/([0-9a-f]+)$/.exec(object.key);
      if (!match) continue;
      const digest = `${match[1]}:${match[2]}`;
      try {
        parseDigest(digest);
      } catch {
        continue;
      }
      yield { digest: digest as Digest, size: object.size, modifiedAt: object.lastModified };
    }
  }

  createUpload(uploadId: string): Promise<void> {
    return this.uploads.create(uploadId);
  }

  appendUpload(uploadId: string, offset: number, body: Readable, onData?: (chunk: Buffer) => void, maxBytes?: number): Promise<number> {
    return this.uploads.append(uploadId, offset, body, onData, maxBytes);
  }

  readUpload(uploadId: string, length: number): Readable {
    return this.uploads.read(uploadId, length);
  }

  uploadSize(uploadId: string): Promise<number | null> {
    return this.uploads.size(uploadId);
  }

  async commitUpload(uploadId: string, digest: Digest, size: number): Promise<void> {
    const target = this.blobKey(digest);
    const sealed = await this.uploads.seal(uploadId, size);
    await this.objects.copy(sealed.key, sealed.objectSize, target, size);
    await this.uploads.remove(uploadId);
  }

  async putBlob(digest: Digest, content: Uint8Array): Promise<void> {
    await this.objects.put(this.blobKey(digest), Buffer.from(content.buffer, content.byteOffset, content.byteLength));
  }

  deleteUpload(uploadId: string): Promise<void> {
    return this.uploads.remove(uploadId);
  }

  listUploads(): AsyncIterable<{ readonly uploadId: string; readonly modifiedAt: Date }> {
    return this.uploads.list();
  }

  /** Object storage has no free-space figure to report. */
  async space(): Promise<StorageSpace | null> {
    return null;
  }

  async check(): Promise<void> {
    const probe = `health/${randomBytes(6).toString('hex')}`;
    await this.objects.put(probe, Buffer.alloc(0));
    await this.objects.delete(probe);
  }

  /** HEAD on the bucket: the endpoint answers, the bucket exists and the keys are good. */
  async ready(): Promise<void> {
    (await this.client.request('HEAD', null)).resume();
  }

  close(): void {
    this.client.close();
  }
}
