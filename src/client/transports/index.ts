// Transport names → sources and destinations, with the client's options: `docker://`
// (this folder, over RegistryClient and registries.conf) plus the file transports of the
// image module (`dir:`, `oci:`, `oci-archive:`, `docker-archive:`). The client depends on
// src/image, never the reverse.
import type { ClientOptions } from '../image-resolver.ts';
import { FILE_TRANSPORTS, openDestinationIn, openSourceIn, type ImageDestination, type ImageSource, type TransportTable } from '../../image/transports/index.ts';
import { DockerImageDestination, DockerImageSource } from './docker.ts';

export { DockerImageDestination, DockerImageSource } from './docker.ts';

/** Every transport by name, `docker://` configured with `options`. */
function clientTransports(options: ClientOptions): TransportTable {
  return {
    docker: { source: (rest) => new DockerImageSource(rest, options), destination: (rest) => new DockerImageDestination(rest, options) },
    ...FILE_TRANSPORTS,
  };
}

export function openSource(input: string, options: ClientOptions): ImageSource {
  return openSourceIn(clientTransports(options), input);
}

export function openDestination(input: string, options: ClientOptions): ImageDestination {
  return openDestinationIn(clientTransports(options), input);
}
