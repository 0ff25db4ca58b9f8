// What policy evaluation needs to know about an image being copied: its transport's
// policy.json name and scopes, and the Docker reference it is used as (signedIdentity
// compares signatures against it). For docker:// that is the name the user's reference
// resolved to, not a mirror's or a rewritten location's: a signature names the original.
import type { ManifestData } from '../../image/transport.ts';
import { DockerImageSource } from '../../client/transports/docker.ts';
import { DirImageSource, DockerArchiveSource, OciArchiveSource, OciLayoutSource, type ImageSource } from '../../image/transports/index.ts';
import { parseReference, type ImageReference } from '../../client/reference.ts';
import type { PolicyImage, SignatureProvider } from './evaluate.ts';
import { dockerScopes, pathScopes } from './scopes.ts';

interface Identity {
  readonly transport: string;
  readonly name: string;
  readonly scopes: readonly string[];
  readonly dockerReference: ImageReference | undefined;
}

/** The transport, scopes and Docker reference of a source (a docker:// one after its manifest was read). */
export function sourceIdentity(source: ImageSource): Identity {
  if (source instanceof DockerImageSource) {
    const requested = source.endpoint?.requested;
    if (requested === undefined) throw new Error(`${source.name}: the image was not resolved before the policy check`);
    return { transport: 'docker', name: `docker://${requested.toString()}`, scopes: dockerScopes(requested), dockerReference: requested };
  }
  if (source instanceof DirImageSource) return { transport: 'dir', name: source.name, scopes: pathScopes(source.path), dockerReference: undefined };
  if (source instanceof OciLayoutSource) return { transport: 'oci', name: source.name, scopes: pathScopes(source.path), dockerReference: undefined };
  if (source instanceof OciArchiveSource) return { transport: 'oci-archive', name: source.name, scopes: pathScopes(source.path), dockerReference: undefined };
  if (source instanceof DockerArchiveSource) {
    // A docker-archive named name:tag is that Docker reference (containers/image's DockerReference); `@N` is not.
    const ref = source.ref === undefined || source.ref.startsWith('@') ? undefined : parseReference(source.ref);
    return { transport: 'docker-archive', name: source.name, scopes: [], dockerReference: ref };
  }
  return { transport: source.name.split(':')[0] ?? '', name: source.name, scopes: [], dockerReference: undefined };
}

export function policyImage(identity: Identity, manifest: ManifestData, signatures: SignatureProvider): PolicyImage {
  return { ...identity, manifest: manifest.bytes, signatures };
}
