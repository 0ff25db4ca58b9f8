// An ImageSource (the image module's transport seam, which the indexer reads) over the local
// Registry: manifests and blobs come straight from the metadata and blob stores, with no
// HTTP and no copy to disk. Reads go through one repository that holds the image, so a
// blob is only read where the registry says it is linked.
import type { Readable } from 'node:stream';
import type { Digest } from '../core/digest.ts';
import type { Registry } from '../registry/registry.ts';
import type { BlobInfo, ImageSource, ManifestData } from '../image/transport.ts';

export class RegistryImageSource implements ImageSource {
  readonly name: string;
  private readonly registry: Registry;
  private readonly repository: string;
  private readonly digest: string;

  constructor(registry: Registry, repository: string, digest: string) {
    this.registry = registry;
    this.repository = repository;
    this.digest = digest;
    this.name = `custody:${repository}@${digest}`;
  }

  async getManifest(instanceDigest?: string): Promise<ManifestData> {
    // Manifests are stored under their digest (verified on push): no need to re-hash.
    const record = await this.registry.getManifest(this.repository, instanceDigest ?? this.digest);
    return { bytes: Buffer.from(record.content.buffer, record.content.byteOffset, record.content.byteLength), mediaType: record.mediaType, digest: record.digest as Digest };
  }

  async getBlob(blob: BlobInfo): Promise<Readable> {
    const read = await this.registry.readBlob(this.repository, blob.digest);
    return read.body;
  }

  async close(): Promise<void> {}
}
