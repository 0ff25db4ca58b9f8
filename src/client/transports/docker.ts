// `docker://NAME` over RegistryClient. A source reads from the endpoints image-resolver.ts
// resolves (mirrors first, the primary last; short-name candidates in order) and keeps
// the first that has the manifest. A destination pushes to the primary location, skips
// blobs the repository has and mounts blobs from the source's repository when both are
// on the same registry.
import type { Readable } from 'node:stream';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { digestOf } from '../../core/digest.ts';
import { ImageResolver, stripTransport, type ClientOptions, type RegistryEndpoint as Endpoint } from '../image-resolver.ts';
import { parseReference, type ImageReference } from '../reference.ts';
import type { RegistryClient } from '../registry-client/index.ts';
import type { BlobInfo, ImageDestination, ImageSource, ManifestData } from '../../image/transport.ts';

export class DockerImageSource implements ImageSource {
  readonly name: string;
  readonly #resolver: ImageResolver;
  readonly #ownsResolver: boolean;
  readonly #input: string;
  #chosen: Endpoint | undefined;

  constructor(input: string, options: ClientOptions) {
    this.#input = input;
    this.name = input.startsWith('docker://') ? input : `docker://${input}`;
    this.#resolver = options.sharedResolver ?? new ImageResolver(options);
    this.#ownsResolver = options.sharedResolver === undefined;
  }

  /** The endpoint the top-level manifest came from (after getManifest()). */
  get endpoint(): Endpoint | undefined {
    return this.#chosen;
  }

  async getManifest(instanceDigest?: string): Promise<ManifestData> {
    if (instanceDigest !== undefined) {
      const endpoint = await this.#endpoint();
      const result = await endpoint.client.getManifest(endpoint.repository, instanceDigest);
      return { bytes: result.bytes, mediaType: result.mediaType, digest: result.digest };
    }
    let lastError: unknown;
    for (const endpoint of await this.#resolver.sources(this.#input)) {
      try {
        const result = await endpoint.client.getManifest(endpoint.repository, endpoint.tagOrDigest!);
        this.#chosen = endpoint;
        return { bytes: result.bytes, mediaType: result.mediaType, digest: result.digest };
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError ?? new Error(`${this.name}: no source to read the image from`);
  }

  async #endpoint(): Promise<Endpoint> {
    if (this.#chosen === undefined) await this.getManifest();
    return this.#chosen!;
  }

  /** RegistryClient's blob reader fails the stream on a digest mismatch before it ends. */
  readonly verifiesBlobs = true;

  async getBlob(blob: BlobInfo): Promise<Readable> {
    const endpoint = await this.#endpoint();
    return endpoint.client.getBlob(endpoint.repository, blob.digest);
  }

  async close(): Promise<void> {
    if (this.#ownsResolver) this.#resolver.close();
  }
}

export class DockerImageDestination implements ImageDestination {
  /** Each blob goes to its own file or request: several can be written at once. */
  readonly parallelBlobs = 4;
  readonly name: string;
  readonly reference: ImageReference;
  readonly #resolver: ImageResolver;
  readonly #ownsResolver: boolean;
  #target: Endpoint | undefined;
  /** Upload requests made (blobs pushed), for progress and tests. */
  uploads = 0;

  constructor(input: string, options: ClientOptions) {
    this.reference = parseReference(stripTransport(input));
    this.name = `docker://${this.reference.toString()}`;
    this.#resolver = options.sharedResolver ?? new ImageResolver(options);
    this.#ownsResolver = options.sharedResolver === undefined;
  }

  /** Where the image is written (signatures stored beside it need the same client). */
  endpoint(): Promise<Endpoint> {
    return this.#endpoint();
  }

  async #endpoint(): Promise<Endpoint> {
    if (this.#target === undefined) {
      const sources = await this.#resolver.sources(this.reference.toString(), { primaryOnly: true });
      this.#target = sources[sources.length - 1]!;
    }
    return this.#target;
  }

  get #client(): Promise<{ client: RegistryClient; repository: string }> {
    return this.#endpoint().then((endpoint) => ({ client: endpoint.client, repository: endpoint.repository }));
  }

  async hasBlob(blob: BlobInfo): Promise<boolean> {
    const { client, repository } = await this.#client;
    return client.blobExists(repository, blob.digest);
  }

  async tryReuseBlob(blob: BlobInfo, source: ImageSource): Promise<boolean> {
    if (!(source instanceof DockerImageSource) || source.endpoint === undefined) return false;
    const { client, repository } = await this.#client;
    const from = source.endpoint;
    if (from.client.base.origin !== client.base.origin || from.repository === repository) return false;
    try {
      return await client.mountBlob(repository, blob.digest, from.repository);
    } catch {
      return false;
    }
  }

  async putBlob(blob: BlobInfo, stream: Readable): Promise<void> {
    const { client, repository } = await this.#client;
    let used = false;
    // The source stream can be read once: a retry of the upload fails rather than sending other bytes.
    const body = (): Readable => {
      if (used) {
        const failed = new PassThrough();
        failed.destroy(new Error(`push ${repository}@${blob.digest}: the source stream cannot be replayed`));
        return failed;
      }
      used = true;
      const pass = new PassThrough({ highWaterMark: 256 * 1024 });
      pipeline(stream, pass).catch(() => {});
      return pass;
    };
    this.uploads += 1;
    try {
      // One streamed request per blob (POST, then PUT with the body): no per-chunk round
      // trips. RegistryClient's chunked mode stays available for registries behind proxies
      // that cap request bodies.
      await client.pushBlob(repository, blob.digest, blob.size, body, { monolithicLimit: Number.MAX_SAFE_INTEGER });
    } finally {
      stream.destroy();
    }
  }

  async putManifest(manifest: ManifestData, instanceDigest?: string): Promise<void> {
    const { client, repository } = await this.#client;
    const reference = instanceDigest ?? this.reference.tag ?? this.reference.digest ?? digestOf(manifest.bytes);
    if (instanceDigest === undefined && this.reference.digest !== undefined && this.reference.tag === undefined && this.reference.digest !== manifest.digest) {
      throw new Error(`${this.name}: the copied manifest's digest is ${manifest.digest}, not the digest in the destination reference`);
    }
    await client.putManifest(repository, reference, manifest.bytes, manifest.mediaType);
  }

  async commit(): Promise<void> {}

  async close(): Promise<void> {
    if (this.#ownsResolver) this.#resolver.close();
  }
}
