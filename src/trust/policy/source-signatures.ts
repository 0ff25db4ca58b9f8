// The signatures an image source holds, per manifest digest, fetched once and shared by
// the policy check and the signature copy: sigstore signatures from a registry (the
// `sha256-<hex>.sig` tag and the referrers) or a dir: image's `signature-N` files; GPG
// simple-signing signatures through the injected GpgSignatureReader (lookaside storage,
// the registry extension API, dir: files), which the GPG side provides.
import type { GpgSignature, SigstoreSignature } from '../../core/signatures.ts';
import { DockerImageSource } from '../../client/transports/docker.ts';
import { DirImageSource, type ImageSource } from '../../image/transports/index.ts';
import { readSigstoreSignatures } from '../sigstore/attachments.ts';
import { readDirSignatures } from '../sigstore/dir-attachments.ts';
import type { SignatureProvider } from './evaluate.ts';

/** Reads GPG simple-signing signatures of a source's manifest (instanceDigest: an index's instance). */
export type GpgSignatureReader = (source: ImageSource, manifestDigest: string, instanceDigest: string | undefined) => Promise<GpgSignature[]>;

export class SourceSignatures {
  readonly #source: ImageSource;
  readonly #readGpg: GpgSignatureReader;
  readonly #cache = new Map<string, { sigstore?: Promise<SigstoreSignature[]>; gpg?: Promise<GpgSignature[]> }>();

  constructor(source: ImageSource, readGpg: GpgSignatureReader) {
    this.#source = source;
    this.#readGpg = readGpg;
  }

  /** The signatures of the manifest `digest` (`instance`: held as an index's instance in the source). */
  for(digest: string, instance: boolean): SignatureProvider {
    let entry = this.#cache.get(digest);
    if (entry === undefined) {
      entry = {};
      this.#cache.set(digest, entry);
    }
    const cached = entry;
    return {
      sigstore: () => (cached.sigstore ??= this.#sigstore(digest, instance)),
      simpleSigning: () => (cached.gpg ??= this.#readGpg(this.#source, digest, instance ? digest : undefined)),
    };
  }

  async #sigstore(digest: string, instance: boolean): Promise<SigstoreSignature[]> {
    const source = this.#source;
    if (source instanceof DockerImageSource) {
      const endpoint = source.endpoint;
      if (endpoint === undefined) throw new Error(`${source.name}: signatures asked for before the image was resolved`);
      try {
        return await readSigstoreSignatures({ client: endpoint.client, repository: endpoint.repository }, digest);
      } catch (error) {
        throw new Error(`reading the sigstore signatures of ${source.name}@${digest}: ${(error as Error).message}`, { cause: error });
      }
    }
    if (source instanceof DirImageSource) return readDirSignatures(source.path, instance ? digest : undefined);
    // oci:, oci-archive:, docker-archive: hold no signatures (as in containers/image).
    return [];
  }
}
