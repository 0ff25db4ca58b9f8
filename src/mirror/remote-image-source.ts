// An ImageSource over one repository of a remote registry, read with the client's
// RegistryClient directly: a mirror is configured with a host, a repository and
// credentials of its own, not with a user's registries.conf or auth.json (which
// DockerImageSource and ImageResolver read).
import type { Readable } from 'node:stream';
import type { RegistryClient } from '../client/registry-client/index.ts';
import type { BlobInfo, ImageSource, ManifestData } from '../image/transport.ts';

export class RemoteImageSource implements ImageSource {
  readonly name: string;
  /** RegistryClient's blob reader fails the stream on a digest mismatch before it ends. */
  readonly verifiesBlobs = true;
  private readonly client: RegistryClient;
  private readonly repository: string;
  private readonly reference: string;

  constructor(client: RegistryClient, repository: string, reference: string) {
    this.client = client;
    this.repository = repository;
    this.reference = reference;
    this.name = `docker://${client.host}/${repository}${reference.includes(':') ? '@' : ':'}${reference}`;
  }

  async getManifest(instanceDigest?: string): Promise<ManifestData> {
    // getManifest verifies the bytes against a digest reference or the digest header.
    const result = await this.client.getManifest(this.repository, instanceDigest ?? this.reference);
    return { bytes: result.bytes, mediaType: result.mediaType, digest: result.digest };
  }

  async getBlob(blob: BlobInfo): Promise<Readable> {
    return this.client.getBlob(this.repository, blob.digest);
  }

  async close(): Promise<void> {}
}
