// Distribution release ids (`debian:12`, `rhel:9`, `alpine:3.19`...): the one spelling
// the importers write and the matcher derives from an image's os-release.

/** Debian codenames to release numbers; `sid` is the rolling `unstable`. */
export const DEBIAN_CODENAMES: Readonly<Record<string, string>> = {
  buzz: '1.1', rex: '1.2', bo: '1.3', hamm: '2.0', slink: '2.1', potato: '2.2', woody: '3.0', sarge: '3.1',
  etch: '4', lenny: '5', squeeze: '6', wheezy: '7', jessie: '8', stretch: '9', buster: '10',
  bullseye: '11', bookworm: '12', trixie: '13', forky: '14', duke: '15', sid: 'unstable',
};

export function debianDistro(codename: string): string | null {
  const release = DEBIAN_CODENAMES[codename.toLowerCase()];
  return release ? `debian:${release}` : null;
}

/** Red Hat product stream CPE → `rhel:MAJOR` (EUS, ELS, E4S... streams keep their CPE
 * in the entry so the matcher can tell them apart). */
export function rhelDistro(cpe: string): string | null {
  const match = /^cpe:\/[aho]:redhat:(?:enterprise_linux|rhel(?:_[a-z0-9]+)*):(\d+)/.exec(cpe);
  return match ? `rhel:${match[1]}` : null;
}

/** Alpine secdb `distroversion` (v3.19) → `alpine:3.19`. */
export function alpineDistro(distroversion: string): string | null {
  const match = /^v?(\d+\.\d+)/.exec(distroversion.trim());
  return match ? `alpine:${match[1]}` : distroversion.trim() === 'edge' ? 'alpine:edge' : null;
}
