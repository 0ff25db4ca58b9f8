// The one entry point for version comparison: the matcher calls this with the ecosystem
// of the installed package, and each ecosystem's own ordering decides.
import type { Ecosystem } from '../../core/quality.ts';
import { compareDpkg, isValidDpkg } from './dpkg.ts';
import { compareRpmEvr, isValidRpm, rpmSatisfies } from './rpm.ts';
import { compareApk, isValidApk } from './apk.ts';
import { compareSemver, isValidSemver } from './semver.ts';
import { comparePep440, isValidPep440 } from './pep440.ts';
import { compareGo, isValidGo } from './go.ts';
import { compareMaven, isValidMaven } from './maven.ts';

export type Comparison = -1 | 0 | 1;

/** Compares two versions of one ecosystem: -1 when a < b, 0 when equal, 1 when a > b.
 * deb: `[epoch:]upstream[-revision]`; rpm: `[epoch:]version[-release]` (EVR, a missing
 * epoch is 0); apk: apk-tools' order (invalid versions fall back to string order);
 * npm: semver 2.0 (build metadata ignored); pypi: PEP 440 (normalised); golang: module
 * versions (`v` prefix, +incompatible, pseudo-versions); maven: Maven 3.9's ComparableVersion. */
export function compareVersions(ecosystem: Ecosystem, a: string, b: string): Comparison {
  switch (ecosystem) {
    case 'deb': return compareDpkg(a, b);
    case 'rpm': return compareRpmEvr(a, b);
    case 'apk': return compareApk(a, b);
    case 'npm': return compareSemver(a, b);
    case 'pypi': return comparePep440(a, b);
    case 'golang': return compareGo(a, b);
    case 'maven': return compareMaven(a, b);
  }
}

/** The bound operators of an affected range: introduced (>=), fixed (<), last affected (<=). */
export type RangeOperator = '<' | '<=' | '>=';

/**
 * Whether an installed `version` lies on the right side of a range bound. The ecosystem's
 * order decides, except for rpm, whose bounds are read as rpm reads a versioned
 * dependency: a bound without a release (`<= 2.27` in an OSV range) stands for every
 * release of that version, where the plain order would put 2.27-0.4 after it.
 */
export function versionSatisfies(ecosystem: Ecosystem, version: string, operator: RangeOperator, bound: string): boolean {
  if (ecosystem === 'rpm') return rpmSatisfies(version, operator, bound);
  const order = compareVersions(ecosystem, version, bound);
  return operator === '<' ? order < 0 : operator === '<=' ? order <= 0 : order >= 0;
}

/** Whether `version` is well formed in the ecosystem (the comparison still orders
 * invalid versions deterministically, as the ecosystems' own tools do). */
export function isValidVersion(ecosystem: Ecosystem, version: string): boolean {
  switch (ecosystem) {
    case 'deb': return isValidDpkg(version);
    case 'rpm': return isValidRpm(version);
    case 'apk': return isValidApk(version);
    case 'npm': return isValidSemver(version);
    case 'pypi': return isValidPep440(version);
    case 'golang': return isValidGo(version);
    case 'maven': return isValidMaven(version);
  }
}
