// Images built to cost whoever reads them: gzip bombs (a valid gzip-compressed tar layer
// holding one file of zeros, inflating a thousand times over) and manifests listing the
// same layers over and over. A bomb is a series of gzip members (RFC 1952 lets members
// follow one another, and every gunzip reads them all): the tar header, then one member
// of 64 MiB of zeros compressed once and repeated, then the end-of-archive blocks. So
// 4 GiB of zeros take about 4 MiB and are made in a fraction of a second.
import { gzipSync } from 'node:zlib';
import { encodeHeader } from '../../src/image/archive/tar-writer.ts';
import { OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST, sha256 } from './images.ts';

export const MiB = 1024 ** 2;
export const GiB = 1024 ** 3;

const CHUNK = 64 * MiB;
let zeroMember: Buffer | undefined;

/** A gzip layer whose tar holds `name`: `inflatedBytes` of zeros (a multiple of 64 MiB). */
export function gzipBomb(inflatedBytes: number, name = 'zeros'): Buffer {
  if (inflatedBytes <= 0 || inflatedBytes % CHUNK !== 0) throw new RangeError('the bomb inflates to a multiple of 64 MiB');
  zeroMember ??= gzipSync(Buffer.alloc(CHUNK), { level: 9 });
  const members: Buffer[] = [gzipSync(encodeHeader({ name, size: inflatedBytes }))];
  for (let done = 0; done < inflatedBytes; done += CHUNK) members.push(zeroMember);
  members.push(gzipSync(Buffer.alloc(1024)));
  return Buffer.concat(members);
}

/** A tar of regular files (name → text). */
export function tarOf(files: Readonly<Record<string, string>>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, text] of Object.entries(files)) {
    const content = Buffer.from(text);
    parts.push(encodeHeader({ name, size: content.length }), content, Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

const OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n';
const DPKG_STATUS = 'Package: hello\nStatus: install ok installed\nVersion: 2.10-3\nArchitecture: amd64\n\n';
/** A: a Debian-like base with one package, `hello`. */
export const LAYER_A = gzipSync(tarOf({ 'etc/os-release': OS_RELEASE, 'var/lib/dpkg/status': DPKG_STATUS }));
/** B: deletes A's os-release and package database. */
export const LAYER_B = gzipSync(tarOf({ 'etc/.wh.os-release': '', 'var/lib/dpkg/.wh.status': '' }));

export interface TestImage {
  readonly manifest: Buffer;
  readonly config: Buffer;
  /** The distinct layer blobs by digest. */
  readonly blobs: ReadonlyMap<string, Buffer>;
}

/** An OCI image listing `layers` (gzip) in this order: the same buffer twice is the same layer twice. */
export function imageOf(layers: readonly Buffer[]): TestImage {
  const blobs = new Map<string, Buffer>();
  for (const layer of layers) blobs.set(sha256(layer), layer);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: sha256(config), size: config.length },
    layers: layers.map((layer) => ({ mediaType: OCI_LAYER_GZIP, digest: sha256(layer), size: layer.length })),
  }));
  return { manifest, config, blobs };
}
