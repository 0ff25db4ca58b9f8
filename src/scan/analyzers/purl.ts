// Package URLs (https://github.com/package-url/purl-spec) for the language ecosystems.
// One place builds them so every analyzer, the SBOM export and the OSV matcher agree on
// the exact spelling: the matcher compares purls as strings.

/** Percent-encodes one purl segment. The spec keeps ':' unencoded in names and
 * versions (packageurl-js and packageurl-go do the same), and encodes everything else
 * that is not unreserved, including '@' and '/'. */
export function encodeSegment(value: string): string {
  return encodeURIComponent(value).replace(/%3A/gi, ':');
}

export function withVersion(base: string, version: string): string {
  return version === '' ? base : `${base}@${encodeSegment(version)}`;
}

/** npm: the name is lowercased by the spec (npm names are case-insensitive on the
 * registry); a scope becomes the namespace with its '@' encoded: `pkg:npm/%40scope/name@1.0.0`. */
export function npmPurl(name: string, version: string): string {
  const lower = name.toLowerCase();
  const slash = lower.indexOf('/');
  const path = lower.startsWith('@') && slash > 0
    ? `${encodeSegment(lower.slice(0, slash))}/${encodeSegment(lower.slice(slash + 1))}`
    : encodeSegment(lower);
  return withVersion(`pkg:npm/${path}`, version);
}

/** PEP 503 normalisation: runs of '-', '_' and '.' become one '-', lowercased. PyPI
 * treats these spellings as one project, so advisories and purls must too. */
export function normalizePypiName(name: string): string {
  return name.trim().replace(/[-_.]+/g, '-').toLowerCase();
}

/** pypi: the name is the PEP 503 normalised form. */
export function pypiPurl(name: string, version: string): string {
  return withVersion(`pkg:pypi/${encodeSegment(normalizePypiName(name))}`, version);
}

/** golang: the module path's segments become namespace and name; case is kept because
 * module paths are case-sensitive and OSV's Go advisories spell them exactly. */
export function golangPurl(modulePath: string, version: string): string {
  const path = modulePath.split('/').filter((s) => s !== '').map(encodeSegment).join('/');
  return withVersion(`pkg:golang/${path}`, version);
}

/** maven: `pkg:maven/group/artifact@version` (the group id is the namespace). */
export function mavenPurl(groupId: string, artifactId: string, version: string): string {
  const base = groupId === ''
    ? `pkg:maven/${encodeSegment(artifactId)}`
    : `pkg:maven/${encodeSegment(groupId)}/${encodeSegment(artifactId)}`;
  return withVersion(base, version);
}
