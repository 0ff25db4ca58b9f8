// Semantic Versioning 2.0.0 as npm's semver orders it: major.minor.patch numerically, a
// pre-release sorts before its release, pre-release identifiers compare numerically when
// numeric (and below alphanumeric ones), and build metadata is ignored.
import type { Comparison } from './compare-versions.ts';

export interface Semver {
  readonly major: string;
  readonly minor: string;
  readonly patch: string;
  readonly prerelease: readonly string[];
  readonly build: readonly string[];
}

const STRICT = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;
// npm's loose form: `v`/`=` prefixes, missing minor or patch (advisory ranges write `1.2`).
const LOOSE = /^[v=\s]*(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-.]?([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-.]+))?$/;

export function parseSemver(version: string): Semver | null {
  const text = version.trim();
  const strict = STRICT.exec(text);
  const match = strict ?? LOOSE.exec(text);
  if (!match) return null;
  return {
    major: match[1]!,
    minor: match[2] ?? '0',
    patch: match[3] ?? '0',
    prerelease: match[4] ? match[4].split('.') : [],
    build: match[5] ? match[5].split('.') : [],
  };
}

export function isValidSemver(version: string): boolean {
  return STRICT.test(version.trim().replace(/^[v=]/, ''));
}

export function compareNumeric(a: string, b: string): Comparison {
  const x = a.replace(/^0+(?=\d)/, '');
  const y = b.replace(/^0+(?=\d)/, '');
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

function compareIdentifiers(a: string, b: string): Comparison {
  const numericA = /^\d+$/.test(a);
  const numericB = /^\d+$/.test(b);
  if (numericA && numericB) return compareNumeric(a, b);
  if (numericA) return -1;
  if (numericB) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareParsedSemver(x: Semver, y: Semver): Comparison {
  const core = compareNumeric(x.major, y.major) || compareNumeric(x.minor, y.minor) || compareNumeric(x.patch, y.patch);
  if (core !== 0) return core;
  if (x.prerelease.length === 0 || y.prerelease.length === 0) {
    if (x.prerelease.length === y.prerelease.length) return 0;
    return x.prerelease.length === 0 ? 1 : -1;
  }
  for (let i = 0; i < Math.max(x.prerelease.length, y.prerelease.length); i++) {
    const a = x.prerelease[i];
    const b = y.prerelease[i];
    if (a === undefined) return -1;
    if (b === undefined) return 1;
    const result = compareIdentifiers(a, b);
    if (result !== 0) return result;
  }
  return 0;
}

/** Unparseable versions sort below every valid one and among themselves as strings, so
 * a malformed version never looks fixed. */
export function compareSemver(a: string, b: string): Comparison {
  const x = parseSemver(a);
  const y = parseSemver(b);
  if (x && y) return compareParsedSemver(x, y);
  if (x) return 1;
  if (y) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}
