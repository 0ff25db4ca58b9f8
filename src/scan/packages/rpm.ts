// rpm databases in their three formats, and what the indexer makes of their packages.
//
// parseRpmDatabase lists every header in the database, exactly as `rpm -qa` does
// (gpg-pubkey entries included: rpm stores imported signing keys as pseudo-packages).
// The indexer's view (toInstalledPackage, rpmPackagesOf) leaves gpg-pubkey out, as
// Clair, Trivy and Syft do: a key has no files, no source and no advisories, and its
// "version" is a key id, so listing it would only add noise to SBOMs and matching.
import type { InstalledPackage, OsRelease } from '../../core/quality.ts';
import { parseRpmHeader, RpmDatabaseError, type RpmPackage } from './rpm-header.ts';
import { readBdbPackages, type RpmHeaderBlob } from './rpm-bdb.ts';
import { isNdbDatabase, readNdbPackages } from './rpm-ndb.ts';
import { isSqliteDatabase, readSqlitePackages } from './rpm-sqlite.ts';
import { distroPurl, distroQualifier } from '../indexer/distro-purl.ts';

export { RpmDatabaseError, type RpmPackage };

/** A package as listed from a database file: where it was found is part of it. */
export interface RpmDatabasePackage extends RpmPackage {
  /** The database's path as given to parseRpmDatabase, without a leading slash. */
  readonly path: string;
}

export type RpmDatabaseFormat = 'sqlite' | 'bdb' | 'ndb';

/** The directories rpm keeps its database in: the classic one, and the one Fedora ≥ 36
 * and openSUSE use (where /var/lib/rpm is often a symlink to it). */
export const RPM_DATABASE_DIRECTORIES = ['var/lib/rpm', 'usr/lib/sysimage/rpm'] as const;
const FILE_FORMATS: Readonly<Record<string, RpmDatabaseFormat>> = { 'rpmdb.sqlite': 'sqlite', 'Packages.db': 'ndb', Packages: 'bdb' };

/** Every path an rpm database can have, normalised (no leading slash). */
export const RPM_DATABASE_PATHS: readonly string[] = RPM_DATABASE_DIRECTORIES.flatMap((dir) => Object.keys(FILE_FORMATS).map((file) => `${dir}/${file}`));
const PATH_SET = new Set(RPM_DATABASE_PATHS);

/** Whether a normalised path is an rpm database (cheap: the walker asks for every file). */
export function isRpmDatabasePath(path: string): boolean {
  return PATH_SET.has(path);
}

/** The format a database's file name stands for, or null if it is not one. */
export function rpmDatabaseFormatOfPath(path: string): RpmDatabaseFormat | null {
  const name = path.slice(path.lastIndexOf('/') + 1);
  return Object.hasOwn(FILE_FORMATS, name) ? FILE_FORMATS[name]! : null;
}

const BDB_HASH_MAGIC = 0x061561;

/** The format of a database, from its bytes. */
export function detectRpmDatabaseFormat(content: Uint8Array): RpmDatabaseFormat | null {
  if (isSqliteDatabase(content)) return 'sqlite';
  if (isNdbDatabase(content)) return 'ndb';
  if (content.length >= 16) {
    const view = Buffer.from(content.buffer, content.byteOffset, 16);
    if (view.readUInt32LE(12) === BDB_HASH_MAGIC || view.readUInt32BE(12) === BDB_HASH_MAGIC) return 'bdb';
  }
  return null;
}

/**
 * Lists the packages of an rpm database, in the database's record order. The format is
 * taken from the content (the magic is definitive: a `Packages` file converted in place
 * by `rpmdb --rebuilddb` keeps its name in some images); the file name only explains an
 * error. An empty file is an empty database (rpm creates them so). Throws
 * RpmDatabaseError, naming the file and the package, for anything corrupt.
 */
export async function parseRpmDatabase(path: string, content: Buffer): Promise<RpmDatabasePackage[]> {
  const where = path.replace(/^\/+/, '');
  if (content.length === 0) return [];
  const format = detectRpmDatabaseFormat(content);
  try {
    let blobs: RpmHeaderBlob[];
    switch (format) {
      case 'sqlite': blobs = readSqlitePackages(content); break;
      case 'ndb': blobs = readNdbPackages(content); break;
      case 'bdb': blobs = readBdbPackages(content); break;
      default: {
        const expected = rpmDatabaseFormatOfPath(path);
        throw new RpmDatabaseError(`not an rpm database${expected === null ? '' : ` (expected ${FORMAT_NAMES[expected]} for its name)`}: unknown magic`);
      }
    }
    return blobs.map((entry) => ({ ...parseRpmHeader(entry.blob, entry.index), path: where }));
  } catch (error) {
    if (error instanceof RpmDatabaseError) throw new RpmDatabaseError(`${path}: ${error.message}`, { cause: error });
    throw error;
  }
}

const FORMAT_NAMES: Readonly<Record<RpmDatabaseFormat, string>> = { sqlite: 'SQLite', bdb: 'Berkeley DB', ndb: 'ndb' };

/** Imported signing keys, which rpm keeps as pseudo-packages named gpg-pubkey. */
export function isGpgPubkey(pkg: RpmPackage): boolean {
  return pkg.name === 'gpg-pubkey';
}

/** `[epoch:]version-release`, rpm's EVR as advisories and `rpm -q --qf '%{EVR}'` write it. */
export function rpmEvr(pkg: Pick<RpmPackage, 'epoch' | 'version' | 'release'>): string {
  return `${pkg.epoch === null ? '' : `${pkg.epoch}:`}${pkg.version}-${pkg.release}`;
}

/** Splits `name-version-release.src.rpm` (or `.nosrc.rpm`): the name may hold dashes,
 * version and release never do. Null when it does not have that shape. */
export function parseSourceRpm(sourceRpm: string): { name: string; version: string; release: string } | null {
  const match = /^(.+)-([^-]+)-([^-]+)\.(?:no)?src\.rpm$/.exec(sourceRpm);
  if (match === null) return null;
  return { name: match[1]!, version: match[2]!, release: match[3]! };
}

/** The purl namespace (vendor) for an os-release ID: Red Hat's is `redhat` (as Syft and
 * Red Hat's own SBOMs write it), the others are their os-release ID. */
function purlNamespace(os: OsRelease | null): string | null {
  if (os === null || os.id === '') return null;
  const id = os.id.toLowerCase();
  return id === 'rhel' ? 'redhat' : id;
}

/**
 * `pkg:rpm/<vendor>/NAME@VERSION-RELEASE?arch=ARCH&distro=ID-VERSION_ID&epoch=E`: the
 * epoch is a qualifier, not part of the version (the purl spec's rpm type). Spelled by
 * the indexer's distroPurl, like the deb and apk purls, so purls compare as strings.
 * Without an operating system there is no vendor, and the namespace is left out.
 */
export function rpmPurl(pkg: RpmPackage, os: OsRelease | null): string {
  const qualifiers = {
    arch: pkg.arch ?? undefined,
    distro: os === null || os.id === '' ? undefined : distroQualifier(os),
    epoch: pkg.epoch === null ? undefined : String(pkg.epoch),
  };
  return distroPurl('rpm', purlNamespace(os), pkg.name, `${pkg.version}-${pkg.release}`, qualifiers);
}

export interface RpmPackageContext {
  /** Digest of the layer that introduced this version of the package. */
  readonly layer: string;
  readonly os: OsRelease | null;
  /** The database's path (no leading slash), when it differs from the package's own
   * (a symlinked directory: the walker reports the path it resolved). */
  readonly path?: string;
}

/**
 * The indexer's record of an rpm package. sourceVersion is the source rpm's
 * version-release with the package's epoch: the file name carries no epoch, and rpm
 * gives every package built from one spec the spec's epoch.
 */
export function toInstalledPackage(pkg: RpmDatabasePackage, context: RpmPackageContext): InstalledPackage {
  const source = pkg.sourceRpm === null ? null : parseSourceRpm(pkg.sourceRpm);
  const epochPrefix = pkg.epoch === null ? '' : `${pkg.epoch}:`;
  return {
    ecosystem: 'rpm',
    name: pkg.name,
    version: rpmEvr(pkg),
    epoch: pkg.epoch ?? undefined,
    arch: pkg.arch ?? undefined,
    sourceName: source?.name,
    sourceVersion: source === null ? undefined : `${epochPrefix}${source.version}-${source.release}`,
    module: pkg.modularityLabel ?? undefined,
    licenses: pkg.license === null || pkg.license === '' ? undefined : [pkg.license],
    path: context.path ?? pkg.path,
    layer: context.layer,
    purl: rpmPurl(pkg, context.os),
  };
}

/** A package's identity within one database: a changed header (update, reinstall)
 * gives a different key, so it is attributed to the layer that changed it. */
export function rpmPackageKey(pkg: RpmPackage): string {
  return `${pkg.name}\0${rpmEvr(pkg)}\0${pkg.arch ?? ''}`;
}
