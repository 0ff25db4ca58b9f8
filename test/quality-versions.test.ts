// Version ordering per ecosystem: every vector of ../shared/vectors/versions (taken from
// dpkg's, rpm's and apk-tools' own test suites), plus semver, PEP 440 and Go cases from
// their specifications, and the antisymmetry every sort relies on.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sharedDir } from './support/paths.ts';
import { compareVersions, isValidVersion, versionSatisfies } from '../src/scan/versions/compare-versions.ts';
import { rpmvercmp, compareRpmEvr, rpmSatisfies, type RpmOperator } from '../src/scan/versions/rpm.ts';
import { normalizePep440 } from '../src/scan/versions/pep440.ts';
import { isPseudoVersion } from '../src/scan/versions/go.ts';
import { canonicalMaven } from '../src/scan/versions/maven.ts';
import type { Ecosystem } from '../src/core/quality.ts';

function vectors(file: string): [string, string, number][] {
  return readFileSync(join(sharedDir('vectors', 'versions'), file), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [a, b, expected] = line.split('\t');
      return [a!, b!, Number(expected)];
    });
}

describe('shared version vectors', () => {
  const files = readdirSync(sharedDir('vectors', 'versions')).filter((file) => file.endsWith('.tsv'));
  it('has the four vector files', () => assert.deepEqual(files.sort(), ['apk-version.data.tsv', 'dpkg-Dpkg_Version.t.tsv', 'dpkg-t-version.c.tsv', 'rpm-rpmvercmp.at.tsv']));
  const cases: [string, (a: string, b: string) => number, number][] = [
    ['dpkg-Dpkg_Version.t.tsv', (a, b) => compareVersions('deb', a, b), 43],
    ['dpkg-t-version.c.tsv', (a, b) => compareVersions('deb', a, b), 19],
    // The rpm file is rpmvercmp itself on version strings (no epoch/release split).
    ['rpm-rpmvercmp.at.tsv', rpmvercmp, 91],
    ['apk-version.data.tsv', (a, b) => compareVersions('apk', a, b), 738],
  ];
  for (const [file, compare, count] of cases) {
    it(`${file}: all ${count} vectors`, () => {
      const list = vectors(file);
      assert.equal(list.length, count);
      const failures = list.filter(([a, b, expected]) => compare(a, b) !== expected).map(([a, b, expected]) => `${a} vs ${b}: expected ${expected}, got ${compare(a, b)}`);
      assert.deepEqual(failures, []);
      // Swapping the arguments flips the answer.
      const asymmetric = list.filter(([a, b]) => compare(a, b) !== -compare(b, a) && !(compare(a, b) === 0 && compare(b, a) === 0));
      assert.deepEqual(asymmetric, []);
    });
  }
});

/** Vector files of this repository (test/vectors): `#` lines are provenance comments. */
function localVectors(file: string): string[][] {
  return readFileSync(join(import.meta.dirname, 'vectors', file), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => line.split('\t'));
}

function assertOrdered(ecosystem: Ecosystem, ordered: readonly string[]): void {
  for (let i = 0; i < ordered.length; i++) {
    for (let j = 0; j < ordered.length; j++) {
      const expected = i < j ? -1 : i > j ? 1 : 0;
      assert.equal(compareVersions(ecosystem, ordered[i]!, ordered[j]!), expected, `${ecosystem}: ${ordered[i]} vs ${ordered[j]}`);
    }
  }
}

describe('rpm EVR', () => {
  it('compares epoch, then version, then release', () => {
    assert.equal(compareVersions('rpm', '1:1.0-1', '2.0-1'), 1);
    assert.equal(compareVersions('rpm', '0:1.0-1', '1.0-1'), 0);
    assert.equal(compareVersions('rpm', '32:9.8.2-0.68.rc1.el6_10.17', '32:9.8.2-0.68.rc1.el6_10.9'), 1);
    assert.equal(compareVersions('rpm', '1.13.1-3.el9_3.3', '0:1.13.1-3.el9_3.3'), 0);
    assert.equal(compareVersions('rpm', '1.0~rc1-1', '1.0-1'), -1);
    assert.equal(compareVersions('rpm', '1.0^git1-1', '1.0-1'), 1);
    assert.equal(compareVersions('rpm', '2.7.8-139.module+el8.8.0+18745+f1bef313', '2.7.6-138.module+el8.7.0+1'), 1);
  });
  it('a missing release is older than any release, as rpm 4.18 orders EVRs', () => {
    assert.equal(compareRpmEvr('2.27', '2.27-0.4'), -1);
    assert.equal(compareRpmEvr('2.27-0.4', '2.27'), 1);
    assert.equal(compareRpmEvr('1.2', '1.2-5.el9'), -1);
    assert.equal(compareRpmEvr('1.3', '1.2-5.el9'), 1);
    // An empty release is a release (`1.0-`), newer than none and older than any other.
    assert.equal(compareRpmEvr('1.0-', '1.0'), 1);
    assert.equal(compareRpmEvr('1.0-', '1.0-1'), -1);
    // Only leading digits before `:` are an epoch.
    assert.equal(compareRpmEvr('a:1.0', '1.0'), -1);
    assert.equal(compareRpmEvr(':1.0', '0:1.0'), 0);
  });
  it('every pair of rpm 4.18\'s own rpm.vercmp (test/vectors/rpm-4.18-vercmp-evr.tsv)', () => {
    const list = localVectors('rpm-4.18-vercmp-evr.tsv');
    assert.ok(list.length > 2000);
    const failures = list.filter(([a, b, expected]) => compareRpmEvr(a!, b!) !== Number(expected)).map(([a, b, expected]) => `${a} vs ${b}: rpm ${expected}, got ${compareRpmEvr(a!, b!)}`);
    assert.deepEqual(failures, []);
  });
  it('range bounds read as rpm reads dependencies: a bound without a release names every release of it', () => {
    // Where a feed bounds a range by a bare version (OSV last_affected 2.27), rpm's own
    // dependency semantics apply: <= 2.27 holds for 2.27-0.4, < 2.27 does not.
    assert.equal(versionSatisfies('rpm', '2.27-0.4', '<=', '2.27'), true);
    assert.equal(versionSatisfies('rpm', '2.27-0.4', '<', '2.27'), false);
    assert.equal(versionSatisfies('rpm', '2.27-0.4', '>=', '2.27'), true);
    assert.equal(versionSatisfies('rpm', '1:2.27-0.4', '<=', '2.27'), false);
    assert.equal(versionSatisfies('rpm', '2.27-0.4', '<', '2.27-0.5'), true);
    // Other ecosystems keep their plain order.
    assert.equal(versionSatisfies('deb', '2.27-0.4', '<=', '2.27'), false);
    const list = localVectors('rpm-4.18-dscompare.tsv');
    assert.ok(list.length > 4000);
    const failures = list.filter(([a, op, b, expected]) => Number(rpmSatisfies(a!, op as RpmOperator, b!)) !== Number(expected)).map((vector) => vector.join(' '));
    assert.deepEqual(failures, []);
  });
  it('validates', () => {
    assert.equal(isValidVersion('rpm', '1:2.3-4.el9'), true);
    assert.equal(isValidVersion('rpm', 'a b'), false);
  });
});

describe('semver (npm)', () => {
  it('orders pre-releases as the specification does', () => {
    assertOrdered('npm', ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.0.1', '1.1.0', '2.0.0', '10.0.0']);
  });
  it('ignores build metadata and accepts npm\'s loose prefixes', () => {
    assert.equal(compareVersions('npm', '1.0.0+build.1', '1.0.0+build.2'), 0);
    assert.equal(compareVersions('npm', 'v1.2.3', '1.2.3'), 0);
    assert.equal(compareVersions('npm', '=1.2.3', '1.2.3'), 0);
    assert.equal(compareVersions('npm', '1.2', '1.2.0'), 0);
  });
  it('validates strictly and sorts invalid versions below valid ones', () => {
    assert.equal(isValidVersion('npm', '1.2.3-rc.1+b5'), true);
    assert.equal(isValidVersion('npm', '1.2'), false);
    assert.equal(isValidVersion('npm', '01.2.3'), false);
    assert.equal(compareVersions('npm', 'garbage', '0.0.1'), -1);
  });
});

describe('PEP 440', () => {
  it('orders the specification\'s example sequence', () => {
    assertOrdered('pypi', [
      '1.0.dev456', '1.0a1', '1.0a2.dev456', '1.0a12.dev456', '1.0a12', '1.0b1.dev456', '1.0b2', '1.0b2.post345.dev456', '1.0b2.post345',
      '1.0rc1.dev456', '1.0rc1', '1.0', '1.0+abc.5', '1.0+abc.7', '1.0+5', '1.0.post456.dev34', '1.0.post456', '1.0.15', '1.1.dev1',
    ]);
  });
  it('epochs outrank everything; trailing zeros do not count', () => {
    assert.equal(compareVersions('pypi', '1!0.1', '2024.1'), 1);
    assert.equal(compareVersions('pypi', '1.0', '1.0.0'), 0);
    assert.equal(compareVersions('pypi', '1.0.0.0', '1'), 0);
  });
  it('normalises alternative spellings', () => {
    assert.equal(normalizePep440('1.0-ALPHA.1'), '1.0a1');
    assert.equal(normalizePep440('v1.0-beta2'), '1.0b2');
    assert.equal(normalizePep440('1.0c3'), '1.0rc3');
    assert.equal(normalizePep440('1.0-preview'), '1.0rc0');
    assert.equal(normalizePep440('1.0-1'), '1.0.post1');
    assert.equal(normalizePep440('1.0.rev2'), '1.0.post2');
    assert.equal(normalizePep440('1.0-dev'), '1.0.dev0');
    assert.equal(normalizePep440('1.0+Ubuntu-1'), '1.0+ubuntu.1');
    assert.equal(normalizePep440('1.0-r'), '1.0.post0');
    assert.equal(compareVersions('pypi', '1.0-ALPHA.1', '1.0a1'), 0);
    assert.equal(isValidVersion('pypi', 'not a version'), false);
  });
});

describe('Go module versions', () => {
  it('orders releases, pre-releases and pseudo-versions', () => {
    assertOrdered('golang', [
      'v0.0.0-20191109021931-daa7c04131f5',
      'v0.1.0',
      'v1.2.3-pre',
      'v1.2.3',
      'v1.2.4-0.20191109021931-daa7c04131f5',
      'v1.2.4',
      'v1.10.0',
      'v2.0.0+incompatible',
      'v2.0.1-0.20200101000000-abcdefabcdef+incompatible',
    ]);
  });
  it('ignores +incompatible, accepts the v-less spelling of OSV and the short forms', () => {
    assert.equal(compareVersions('golang', 'v2.0.0+incompatible', 'v2.0.0'), 0);
    assert.equal(compareVersions('golang', '1.2.3', 'v1.2.3'), 0);
    assert.equal(compareVersions('golang', 'v1', 'v1.0.0'), 0);
    assert.equal(compareVersions('golang', 'v1.2', 'v1.2.0'), 0);
  });
  it('recognises pseudo-versions and validates', () => {
    assert.equal(isPseudoVersion('v0.0.0-20191109021931-daa7c04131f5'), true);
    assert.equal(isPseudoVersion('v1.2.4-0.20191109021931-daa7c04131f5'), true);
    assert.equal(isPseudoVersion('v1.2.4-pre.0.20191109021931-daa7c04131f5'), true);
    assert.equal(isPseudoVersion('v1.2.4'), false);
    assert.equal(isValidVersion('golang', 'v1.2.3'), true);
    assert.equal(isValidVersion('golang', 'v1.2-pre'), false);
    assert.equal(compareVersions('golang', 'bogus', 'v0.0.1'), -1);
  });
});

describe('Maven (ComparableVersion of Maven 3.9)', () => {
  it('every case of Maven\'s own ComparableVersionTest (test/vectors/maven-3.9.16-comparable-version.tsv)', () => {
    const list = localVectors('maven-3.9.16-comparable-version.tsv');
    assert.ok(list.length > 900);
    const failures: string[] = [];
    for (const [a, b, expected, source] of list) {
      const forward = compareVersions('maven', a!, b!);
      const backward = compareVersions('maven', b!, a!);
      if (forward !== Number(expected) || backward !== -Number(expected)) failures.push(`${source}: ${a} vs ${b}: expected ${expected}, got ${forward}/${backward}`);
      // The test's own invariant: the canonical form parses to itself.
      for (const version of [a!, b!]) if (canonicalMaven(canonicalMaven(version)) !== canonicalMaven(version)) failures.push(`${source}: canonical(${version})`);
    }
    assert.deepEqual(failures, []);
  });
  it('canonical forms as the POM reference shows them', () => {
    assert.equal(canonicalMaven('1-1.foo-bar1baz-.1'), '1-1.foo-bar-1-baz-0.1');
    assert.equal(canonicalMaven('1.0.0.RC1'), '1-rc-1');
    assert.equal(compareVersions('maven', '1.0', '1.0.0.Final'), 0);
  });
});
