// The image's operating system, from os-release (etc/os-release, else usr/lib/os-release,
// as systemd reads them) and, for images without one, the older release files:
// redhat-release ("Red Hat Enterprise Linux release 9.4 (Plow)"), alpine-release
// ("3.19.1") and debian_version ("12.5", or "bookworm/sid" on testing).
import type { OsRelease } from '../../core/quality.ts';
import type { FinalFiles } from './analyzer.ts';

/** Every file detection may read: an analyzer's `wants` list for the walker. */
export const OS_RELEASE_PATHS: ReadonlySet<string> = new Set([
  'etc/os-release',
  'usr/lib/os-release',
  'etc/redhat-release',
  'etc/centos-release',
  'etc/alpine-release',
  'etc/debian_version',
]);

/** Parses os-release's shell-like `KEY=value` lines (quotes and backslash escapes as the spec says). */
export function parseOsReleaseFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([A-Za-z0-9_]+)=(.*)$/.exec(line);
    if (match === null) continue;
    let value = match[2]!.trim();
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.length >= 2 && value.endsWith(quote)) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\([$"'`\\])/g, '$1');
    }
    fields.set(match[1]!, value);
  }
  return fields;
}

export function osReleaseFromFields(fields: ReadonlyMap<string, string>, source: string): OsRelease {
  const get = (key: string): string | null => {
    const value = fields.get(key);
    return value === undefined || value === '' ? null : value;
  };
  return {
    // The spec's default when ID is absent.
    id: (get('ID') ?? 'linux').toLowerCase(),
    idLike: (get('ID_LIKE') ?? '').split(/\s+/).filter((item) => item !== ''),
    versionId: get('VERSION_ID'),
    versionCodename: get('VERSION_CODENAME'),
    name: get('NAME'),
    prettyName: get('PRETTY_NAME'),
    cpe: get('CPE_NAME'),
    source,
  };
}

function text(files: FinalFiles, path: string): string | undefined {
  const file = files.file(path);
  return file?.content === null || file === undefined ? undefined : file.content.toString('utf8');
}

/** `Red Hat Enterprise Linux release 9.4 (Plow)`, `CentOS Linux release 7.9.2009 (Core)`. */
function fromRedhatRelease(content: string, source: string): OsRelease | null {
  const match = /^(.*?) release ([0-9][0-9.]*)\s*(?:\((.*)\))?/.exec(content.trim());
  if (match === null) return null;
  const name = match[1]!.trim();
  const id = /centos/i.test(name) ? 'centos' : /fedora/i.test(name) ? 'fedora' : /rocky/i.test(name) ? 'rocky' : /alma/i.test(name) ? 'almalinux' : 'rhel';
  return { id, idLike: id === 'rhel' || id === 'fedora' ? [] : ['rhel', 'fedora'], versionId: match[2]!, versionCodename: null, name, prettyName: content.trim(), cpe: null, source };
}

const DEBIAN_CODENAMES: Readonly<Record<string, string>> = {
  '8': 'jessie',
  '9': 'stretch',
  '10': 'buster',
  '11': 'bullseye',
  '12': 'bookworm',
  '13': 'trixie',
};

/** `12.5` → version 12 (the release, which advisories are keyed by); `trixie/sid` → the codename. */
function fromDebianVersion(content: string, source: string): OsRelease {
  const value = content.trim();
  const major = /^([0-9]+)(?:\.|$)/.exec(value)?.[1] ?? null;
  const codename = major === null ? (value.split('/')[0] ?? null) : (DEBIAN_CODENAMES[major] ?? null);
  return { id: 'debian', idLike: [], versionId: major, versionCodename: codename, name: 'Debian GNU/Linux', prettyName: null, cpe: null, source };
}

export function detectOsRelease(files: FinalFiles): OsRelease | null {
  for (const path of ['etc/os-release', 'usr/lib/os-release']) {
    const content = text(files, path);
    if (content === undefined) continue;
    const fields = parseOsReleaseFields(content);
    if (fields.size > 0) return osReleaseFromFields(fields, path);
  }
  for (const path of ['etc/redhat-release', 'etc/centos-release']) {
    const content = text(files, path);
    const found = content === undefined ? null : fromRedhatRelease(content, path);
    if (found !== null) return found;
  }
  const alpine = text(files, 'etc/alpine-release')?.trim();
  if (alpine !== undefined && alpine !== '') {
    return { id: 'alpine', idLike: [], versionId: alpine, versionCodename: null, name: 'Alpine Linux', prettyName: `Alpine Linux v${alpine.split('.').slice(0, 2).join('.')}`, cpe: null, source: 'etc/alpine-release' };
  }
  const debian = text(files, 'etc/debian_version');
  if (debian !== undefined && debian.trim() !== '') return fromDebianVersion(debian, 'etc/debian_version');
  return null;
}
