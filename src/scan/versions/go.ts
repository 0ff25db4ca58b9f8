// Go module versions (golang.org/x/mod/semver): semantic versions with a `v` prefix,
// where `v1` and `v1.2` abbreviate v1.0.0 and v1.2.0, `+incompatible` is build metadata
// (ignored) and pseudo-versions (v0.0.0-20191109021931-daa7c04131f5,
// v1.2.4-0.2019...-hash) are pre-releases that order by their timestamp. OSV writes Go
// versions without the `v`; both forms are accepted.
import type { Comparison } from './compare-versions.ts';
import { compareParsedSemver, type Semver } from './semver.ts';

const GO = /^v?(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?(?:\.(0|[1-9]\d*))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

export function parseGo(version: string): Semver | null {
  const match = GO.exec(version.trim());
  if (!match) return null;
  // x/mod/semver: the short forms take no pre-release or build suffix.
  if ((match[2] === undefined || match[3] === undefined) && (match[4] !== undefined || match[5] !== undefined)) return null;
  return { major: match[1]!, minor: match[2] ?? '0', patch: match[3] ?? '0', prerelease: match[4] ? match[4].split('.') : [], build: match[5] ? match[5].split('.') : [] };
}

export function isValidGo(version: string): boolean {
  const parsed = parseGo(version);
  if (!parsed) return false;
  // Numeric pre-release identifiers may not have leading zeros.
  return parsed.prerelease.every((part) => !/^0\d+$/.test(part));
}

/** Whether a version is a pseudo-version (a commit with no tag). */
export function isPseudoVersion(version: string): boolean {
  return /^v?\d+\.\d+\.\d+-(?:(?:[0-9A-Za-z-]+\.)?0\.)?\d{14}-[0-9a-f]{12}(?:\+incompatible)?$/.test(version.trim());
}

/** Invalid versions sort below valid ones (x/mod/semver's order), then as strings. */
export function compareGo(a: string, b: string): Comparison {
  const x = parseGo(a);
  const y = parseGo(b);
  if (x && y) return compareParsedSemver(x, y);
  if (x) return 1;
  if (y) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}
