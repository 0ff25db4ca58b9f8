// Which distribution release an image is, in the advisory database's spelling
// (`debian:12`, `rhel:9`, `alpine:3.19`, `ubuntu:22.04`). Advisories for operating
// system packages apply only within their release: a fix in bookworm says nothing
// about bullseye, and a RHEL 8 module build says nothing about RHEL 9.
import type { OsRelease } from '../../core/quality.ts';
import { debianDistro } from '../advisories/distros.ts';

/** os-release IDs whose packages Red Hat's advisories describe (the product stream is
 * the major version: UBI images carry RHEL's own builds, and CentOS Linux 7 and 8 were
 * rebuilt from RHEL's sources with RHEL's versions). */
const RED_HAT_IDS = new Set(['rhel', 'centos', 'redhat']);

function major(version: string): string {
  return version.split('.')[0] ?? version;
}

/**
 * CentOS Stream shares os-release's ID `centos` (and CPE cpe:/o:centos:centos:9) with
 * CentOS Linux, but it is RHEL's upstream, built ahead of it: its packages are not RHEL
 * builds and Red Hat's fixed versions say nothing about them. It names itself in NAME;
 * CentOS Linux ended with 8, so anything later is Stream whatever NAME says.
 */
function isCentosStream(os: OsRelease): boolean {
  if (/\bstream\b/i.test(`${os.name ?? ''} ${os.prettyName ?? ''}`)) return true;
  const release = Number.parseInt(os.versionId ?? '', 10);
  return Number.isFinite(release) && release >= 9;
}

/**
 * The release names advisories for this image's operating system packages are filed
 * under, most specific first. Empty when the operating system is unknown: then only
 * language packages can be matched (they apply across all distributions).
 */
export function distroKeys(os: OsRelease | null): string[] {
  if (os === null) return [];
  const id = os.id.toLowerCase();
  const version = os.versionId;
  // No advisory feed covers Stream: its packages stay unmatched (and the image uncovered).
  if (id === 'centos' && isCentosStream(os)) return version ? [`centos-stream:${major(version)}`] : [];
  if (RED_HAT_IDS.has(id)) return version ? [`rhel:${major(version)}`] : [];
  if (id === 'debian') {
    // sid and testing have no VERSION_ID; the tracker names them by codename.
    if (version) return [`debian:${major(version)}`];
    const named = os.versionCodename ? debianDistro(os.versionCodename) : null;
    return named ? [named] : [];
  }
  if (id === 'alpine') {
    // secdb is per branch (v3.19); VERSION_ID is the point release (3.19.1).
    if (!version) return [];
    const [first, second] = version.split('.');
    return second === undefined ? [`alpine:${first}`] : [`alpine:${first}.${second}`];
  }
  // Rocky, AlmaLinux, Fedora and others: OSV files them under the major release, Ubuntu
  // under the full one (22.04).
  if (!version) return [];
  if (id === 'ubuntu') return [`ubuntu:${version}`];
  if (id === 'rocky' || id === 'almalinux' || id === 'ol' || id === 'fedora') return [`${id}:${major(version)}`];
  return [`${id}:${version}`];
}
