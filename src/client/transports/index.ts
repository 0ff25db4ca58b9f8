// Transport names → sources and destinations: `docker://`, `dir:`, `oci:`, `oci-archive:`,
// `docker-archive:`.
import { UsageError } from '../../core/errors.ts';
import type { ClientOptions } from '../image-source.ts';
import { DirImageDestination, DirImageSource } from './dir.ts';
import { DockerImageDestination, DockerImageSource } from './docker.ts';
import { DockerArchiveDestination, DockerArchiveSource } from './docker-archive.ts';
import { OciArchiveDestination, OciArchiveSource } from './oci-archive.ts';
import { OciLayoutDestination, OciLayoutSource } from './oci-layout.ts';
import type { ImageDestination, ImageSource } from './types.ts';

export * from './types.ts';
export { DirImageDestination, DirImageSource } from './dir.ts';
export { DockerImageDestination, DockerImageSource } from './docker.ts';
export { OciLayoutDestination, OciLayoutSource } from './oci-layout.ts';
export { OciArchiveDestination, OciArchiveSource } from './oci-archive.ts';
export { DockerArchiveDestination, DockerArchiveSource } from './docker-archive.ts';

export const TRANSPORTS = ['docker://', 'dir:', 'oci:', 'oci-archive:', 'docker-archive:'] as const;

function split(input: string): { transport: string; rest: string } {
  if (input.startsWith('docker://')) return { transport: 'docker', rest: input.slice('docker://'.length) };
  const match = /^([a-z][a-z0-9-]*):(.*)$/s.exec(input);
  if (match === null) throw new UsageError(`"${input}": give a transport (${TRANSPORTS.join(', ')}), e.g. docker://${input}`);
  const [, transport, rest] = match as unknown as [string, string, string];
  if (rest === '') throw new UsageError(`"${input}": missing a path or name after "${transport}:"`);
  return { transport, rest };
}

function unsupported(input: string, transport: string): never {
  throw new UsageError(`unsupported transport "${transport}:" in "${input}" (supported: ${TRANSPORTS.join(', ')})`);
}

export function openSource(input: string, options: ClientOptions): ImageSource {
  const { transport, rest } = split(input);
  if (transport === 'docker') return new DockerImageSource(rest, options);
  if (transport === 'dir') return new DirImageSource(rest);
  if (transport === 'oci') return new OciLayoutSource(rest);
  if (transport === 'oci-archive') return new OciArchiveSource(rest);
  if (transport === 'docker-archive') return new DockerArchiveSource(rest);
  return unsupported(input, transport);
}

export function openDestination(input: string, options: ClientOptions): ImageDestination {
  const { transport, rest } = split(input);
  if (transport === 'docker') return new DockerImageDestination(rest, options);
  if (transport === 'dir') return new DirImageDestination(rest);
  if (transport === 'oci') return new OciLayoutDestination(rest);
  if (transport === 'oci-archive') return new OciArchiveDestination(rest);
  if (transport === 'docker-archive') return new DockerArchiveDestination(rest);
  return unsupported(input, transport);
}
