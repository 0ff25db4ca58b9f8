// Package URLs for operating-system packages (deb, rpm, apk), spelled the way the
// language analyzers spell theirs (src/scan/analyzers/purl.ts: ':' kept, everything
// else not unreserved percent-encoded, so `1:2.38.1-5+deb12u3` → `1:2.38.1-5%2Bdeb12u3`),
// with the qualifiers in the spec's canonical (sorted) order. The namespace is the
// os-release ID (debian, ubuntu, alpine, rhel...) and `distro` is `ID-VERSION_ID`
// (`debian-12`, `alpine-3.19.1`), as Syft and Trivy write them.
import type { OsRelease } from '../../core/quality.ts';
import { encodeSegment, withVersion } from '../analyzers/purl.ts';

export function distroQualifier(os: OsRelease | null): string | undefined {
  if (os === null) return undefined;
  return os.versionId === null ? os.id : `${os.id}-${os.versionId}`;
}

/**
 * `pkg:TYPE/NAMESPACE/NAME@VERSION?QUALIFIERS`; a null namespace is left out, and so are
 * qualifiers with an undefined or empty value, the rest sorted by key.
 */
export function distroPurl(type: 'deb' | 'rpm' | 'apk', namespace: string | null, name: string, version: string, qualifiers: Readonly<Record<string, string | undefined>>): string {
  const query = Object.entries(qualifiers)
    .filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${encodeSegment(value)}`)
    .join('&');
  const path = namespace === null ? encodeSegment(name) : `${encodeSegment(namespace.toLowerCase())}/${encodeSegment(name)}`;
  const base = withVersion(`pkg:${type}/${path}`, version);
  return query === '' ? base : `${base}?${query}`;
}
