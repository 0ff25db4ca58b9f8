// The image transports that live in files, and transport names → sources and
// destinations. `docker://` is named here (it is part of the syntax users type) but
// opened by the client (src/client/transports), which owns registries.conf, credentials
// and the registry client: the client passes its opener in with the table, so this
// module never imports the client.
import { UsageError } from '../../core/errors.ts';
import type { ImageDestination, ImageSource } from '../transport.ts';
import { DirImageDestination, DirImageSource } from './dir.ts';
import { DockerArchiveDestination, DockerArchiveSource } from './docker-archive.ts';
import { OciArchiveDestination, OciArchiveSource } from './oci-archive.ts';
import { OciLayoutDestination, OciLayoutSource } from './oci-layout.ts';

export * from '../transport.ts';
export { DirImageDestination, DirImageSource } from './dir.ts';
export { OciLayoutDestination, OciLayoutSource } from './oci-layout.ts';
export { OciArchiveDestination, OciArchiveSource } from './oci-archive.ts';
export { DockerArchiveDestination, DockerArchiveSource } from './docker-archive.ts';

const TRANSPORTS = ['docker://', 'dir:', 'oci:', 'oci-archive:', 'docker-archive:'] as const;

/** How one transport opens what follows its prefix (`dir:PATH` → `PATH`). */
export interface TransportOpener {
  source(rest: string): ImageSource;
  destination(rest: string): ImageDestination;
}

/** Transport name (`docker`, `dir`, `oci`, ...) → its opener. */
export type TransportTable = Readonly<Record<string, TransportOpener>>;

/** The transports that read and write local files: every one but `docker://`. */
export const FILE_TRANSPORTS: TransportTable = {
  dir: { source: (rest) => new DirImageSource(rest), destination: (rest) => new DirImageDestination(rest) },
  oci: { source: (rest) => new OciLayoutSource(rest), destination: (rest) => new OciLayoutDestination(rest) },
  'oci-archive': { source: (rest) => new OciArchiveSource(rest), destination: (rest) => new OciArchiveDestination(rest) },
  'docker-archive': { source: (rest) => new DockerArchiveSource(rest), destination: (rest) => new DockerArchiveDestination(rest) },
};

function split(input: string): { transport: string; rest: string } {
  if (input.startsWith('docker://')) return { transport: 'docker', rest: input.slice('docker://'.length) };
  const match = /^([a-z][a-z0-9-]*):(.*)$/s.exec(input);
  if (match === null) throw new UsageError(`"${input}": give a transport (${TRANSPORTS.join(', ')}), e.g. docker://${input}`);
  const [, transport, rest] = match as unknown as [string, string, string];
  if (rest === '') throw new UsageError(`"${input}": missing a path or name after "${transport}:"`);
  return { transport, rest };
}

function opener(input: string, table: TransportTable): { open: TransportOpener; rest: string } {
  const { transport, rest } = split(input);
  const open = Object.hasOwn(table, transport) ? table[transport] : undefined;
  if (open === undefined) throw new UsageError(`unsupported transport "${transport}:" in "${input}" (supported: ${TRANSPORTS.join(', ')})`);
  return { open, rest };
}

/** `TRANSPORT:NAME` → a source, from the transports in `table`. */
export function openSourceIn(table: TransportTable, input: string): ImageSource {
  const { open, rest } = opener(input, table);
  return open.source(rest);
}

/** `TRANSPORT:NAME` → a destination, from the transports in `table`. */
export function openDestinationIn(table: TransportTable, input: string): ImageDestination {
  const { open, rest } = opener(input, table);
  return open.destination(rest);
}
