// GPG simple-signing signatures for the copy and the policy, through the GPG side's
// signature-io: dir: (`signature-N` files, shared numbering with sigstore files) and, for
// reading, docker:// (the registry extension API where the registry offers it, else the
// registries.d lookaside). registries.d is loaded once per process, when first needed.
import { DockerImageDestination, DockerImageSource } from '../../client/transports/docker.ts';
import { DirImageDestination, DirImageSource, type ImageDestination } from '../../image/transports/index.ts';
import { readGpgSignatures, writeGpgSignature } from '../gpg/signature-io.ts';
import { loadRegistriesD, registriesDirPath, type RegistriesD } from '../lookaside/registries-d.ts';
import type { GpgSignatureReader } from './source-signatures.ts';
import type { GpgSignatureWriter } from './signature-transfer.ts';

export const readGpgFromSource: GpgSignatureReader = async (source, manifestDigest, instanceDigest) => {
  if (source instanceof DirImageSource) return readGpgSignatures({ kind: 'dir', path: source.path, instance: instanceDigest !== undefined }, manifestDigest);
  if (source instanceof DockerImageSource && source.endpoint !== undefined) {
    const endpoint = source.endpoint;
    const reference = { registry: endpoint.reference.registry, repository: endpoint.repository, ...(endpoint.reference.tag ? { tag: endpoint.reference.tag } : {}), digest: manifestDigest };
    return readGpgSignatures({ kind: 'docker', reference, client: endpoint.client, registriesD: await registriesD() }, manifestDigest);
  }
  return [];
};

let loadedRegistriesD: Promise<RegistriesD> | undefined;
function registriesD(): Promise<RegistriesD> {
  loadedRegistriesD ??= registriesDirPath().then((dir) => loadRegistriesD(dir));
  return loadedRegistriesD;
}

/** The writer for a destination that can hold GPG signatures; undefined when it cannot. */
export function gpgWriterFor(destination: ImageDestination): GpgSignatureWriter | undefined {
  if (destination instanceof DockerImageDestination) {
    return async (_destination, manifest, _instanceDigest, signatures) => {
      const endpoint = await destination.endpoint();
      const reference = { registry: endpoint.reference.registry, repository: endpoint.repository, digest: manifest.digest };
      for (const signature of signatures) {
        await writeGpgSignature({ kind: 'docker', reference, client: endpoint.client, registriesD: await registriesD() }, manifest.digest, signature.message);
      }
    };
  }
  if (!(destination instanceof DirImageDestination)) return undefined;
  return async (_destination, manifest, instanceDigest, signatures) => {
    for (const signature of signatures) await writeGpgSignature({ kind: 'dir', path: destination.path, instance: instanceDigest !== undefined }, manifest.digest, signature.message);
  };
}
