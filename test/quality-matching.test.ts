// The matcher, errata and the Container Health Index grade, on hand-made advisories:
// deb by source package (binNMUs, source versions), rpm by name and EVR with epochs and
// module streams, apk by origin, npm/PyPI by name across distributions; errata grouped as
// yum updateinfo groups them; grade boundaries day by day around 7, 30, 90 and 365 days.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Advisory, Finding, InstalledPackage, OsRelease } from '../src/core/quality.ts';
import { matchImage, matchPackages, type AffectedHit } from '../src/scan/matching/matcher.ts';
import { distroKeys } from '../src/scan/matching/distro.ts';
import { errataFrom } from '../src/scan/matching/errata.ts';
import { DAY_MS, chiSeverity, gradeFindings, gradeForAge, gradeOn } from '../src/scan/matching/grade.ts';

function os(id: string, versionId: string | null, extra: Partial<OsRelease> = {}): OsRelease {
  return { id, idLike: [], versionId, versionCodename: null, name: null, prettyName: null, cpe: null, source: 'etc/os-release', ...extra };
}

function pkg(fields: Partial<InstalledPackage> & Pick<InstalledPackage, 'ecosystem' | 'name' | 'version'>): InstalledPackage {
  return { path: 'var/lib/dpkg/status', layer: 'sha256:l1', purl: `pkg:${fields.ecosystem}/${fields.name}@${fields.version}`, ...fields };
}

function advisory(fields: Partial<Advisory> & Pick<Advisory, 'id' | 'affected'>): Advisory {
  return { source: 'debian', kind: 'security', severity: 'High', issued: Date.UTC(2024, 0, 1), cves: [], ...fields };
}

const DEBIAN = os('debian', '12', { versionCodename: 'bookworm' });
const UBI9 = os('rhel', '9.4', { cpe: 'cpe:/o:redhat:enterprise_linux:9::baseos' });
const ALPINE = os('alpine', '3.19.1');

describe('distribution keys', () => {
  it('names releases as the advisory database does', () => {
    assert.deepEqual(distroKeys(DEBIAN), ['debian:12']);
    assert.deepEqual(distroKeys(UBI9), ['rhel:9']);
    assert.deepEqual(distroKeys(os('centos', '7')), ['rhel:7']);
    assert.deepEqual(distroKeys(ALPINE), ['alpine:3.19']);
    assert.deepEqual(distroKeys(os('ubuntu', '22.04')), ['ubuntu:22.04']);
    assert.deepEqual(distroKeys(os('debian', null, { versionCodename: 'trixie' })), ['debian:13']);
    assert.deepEqual(distroKeys(null), []);
  });
});

describe('deb: by source package and source version, within the release', () => {
  const image = {
    os: DEBIAN,
    packages: [
      pkg({ ecosystem: 'deb', name: 'libcurl4', version: '7.88.1-10+deb12u5', sourceName: 'curl', sourceVersion: '7.88.1-10+deb12u5' }),
      pkg({ ecosystem: 'deb', name: 'curl', version: '7.88.1-10+deb12u5', sourceName: 'curl' }),
      // binNMU: the binary's version is the source's plus +b1; the fix is stated for the source.
      pkg({ ecosystem: 'deb', name: 'bash', version: '5.2.15-2+b7', sourceName: 'bash', sourceVersion: '5.2.15-2' }),
      pkg({ ecosystem: 'deb', name: 'bsdutils', version: '1:2.38.1-5+deb12u3', sourceName: 'util-linux', sourceVersion: '2.38.1-5+deb12u3' }),
    ],
  };
  it('matches every binary built from an affected source, reporting the binary', () => {
    const result = matchPackages(image, [
      advisory({ id: 'DSA-5700-1', cves: ['CVE-2024-2398'], affected: [{ ecosystem: 'deb', distro: 'debian:12', name: 'curl', ranges: [{ fixed: '7.88.1-10+deb12u6' }] }] }),
      // Another release's fix says nothing about bookworm.
      advisory({ id: 'DLA-1-1', affected: [{ ecosystem: 'deb', distro: 'debian:11', name: 'curl', ranges: [{ fixed: '7.74.0-1.3+deb11u99' }] }] }),
    ]);
    assert.deepEqual(result.findings.map((f) => [f.advisoryId, f.package.name, f.package.version, f.fixedVersion]), [
      ['DSA-5700-1', 'curl', '7.88.1-10+deb12u5', '7.88.1-10+deb12u6'],
      ['DSA-5700-1', 'libcurl4', '7.88.1-10+deb12u5', '7.88.1-10+deb12u6'],
    ]);
    assert.equal(result.findings[0]!.package.sourceName, 'curl');
    assert.equal(result.findings[0]!.package.layer, 'sha256:l1');
  });
  it('compares the source version, not the binNMU version', () => {
    // Fixed in 5.2.15-2+b1 would be wrong for a source; 5.2.15-3 is newer than 5.2.15-2(+b7).
    const fixed = matchPackages(image, [advisory({ id: 'CVE-2024-0001', affected: [{ ecosystem: 'deb', distro: 'debian:12', name: 'bash', ranges: [{ fixed: '5.2.15-3' }] }] })]);
    assert.equal(fixed.findings.length, 1);
    // Fixed in 5.2.15-2: the source is that version, so not affected (5.2.15-2+b7 > 5.2.15-2 either way).
    const notAffected = matchPackages(image, [advisory({ id: 'CVE-2024-0002', affected: [{ ecosystem: 'deb', distro: 'debian:12', name: 'bash', ranges: [{ fixed: '5.2.15-2' }] }] })]);
    assert.equal(notAffected.findings.length, 0);
    // Epoch-bearing binary from an epoch-less source: the source version decides.
    const utilLinux = matchPackages(image, [advisory({ id: 'CVE-2024-0003', affected: [{ ecosystem: 'deb', distro: 'debian:12', name: 'util-linux', ranges: [{ fixed: '2.38.1-5+deb12u4' }] }] })]);
    assert.deepEqual(utilLinux.findings.map((f) => f.package.name), ['bsdutils']);
  });
  it('without a recorded source version, strips a binNMU suffix', () => {
    const result = matchPackages({ os: DEBIAN, packages: [pkg({ ecosystem: 'deb', name: 'zsh', version: '5.9-4+b2' })] }, [
      advisory({ id: 'CVE-2024-0004', affected: [{ ecosystem: 'deb', distro: 'debian:12', name: 'zsh', ranges: [{ fixed: '5.9-4+b1' }] }] }),
    ]);
    // 5.9-4 < 5.9-4+b1: the source is affected (a binNMU does not carry a fix).
    assert.equal(result.findings.length, 1);
  });
  it('lists vulnerabilities without a fix apart', () => {
    const result = matchPackages(image, [advisory({ id: 'CVE-2024-9999', severity: 'Medium', affected: [{ ecosystem: 'deb', distro: 'debian:12', name: 'curl', ranges: [{}] }] })]);
    assert.equal(result.findings.length, 0);
    assert.deepEqual(result.unfixed.map((f) => [f.package.name, f.fixedVersion]), [['curl', null], ['libcurl4', null]]);
  });
});

describe('rpm: by binary name and EVR, product stream, module streams', () => {
  const base = { path: 'var/lib/rpm/rpmdb.sqlite' };
  const image = {
    os: UBI9,
    packages: [
      pkg({ ...base, ecosystem: 'rpm', name: 'openssl-libs', version: '1:3.0.7-24.el9', epoch: 1, sourceName: 'openssl' }),
      pkg({ ...base, ecosystem: 'rpm', name: 'shadow-utils', version: '4.9-8.el9', epoch: 2, sourceName: 'shadow-utils' }),
      pkg({ ...base, ecosystem: 'rpm', name: 'ruby', version: '3.1.2-141.module+el9.1.0+1+abc', sourceName: 'ruby', module: 'ruby:3.1:9010020221119:abc' }),
      pkg({ ...base, ecosystem: 'rpm', name: 'sudo', version: '1.9.5p2-9.el9', sourceName: 'sudo' }),
    ],
  };
  const rhsa = (id: string, affected: Advisory['affected'], vendorSeverity = 'Important'): Advisory =>
    advisory({ id, source: 'redhat', vendorSeverity, severity: 'High', affected });
  it('orders by epoch first: a higher epoch in the installed package wins over any version', () => {
    const result = matchPackages(image, [
      rhsa('RHSA-2024:0001', [{ ecosystem: 'rpm', distro: 'rhel:9', name: 'openssl-libs', ranges: [{ fixed: '1:3.0.7-27.el9' }] }]),
      // Fixed without epoch (epoch 0): the installed epoch 1 build is newer.
      rhsa('RHSA-2024:0002', [{ ecosystem: 'rpm', distro: 'rhel:9', name: 'openssl-libs', ranges: [{ fixed: '3.0.9-1.el9' }] }]),
      // shadow-utils 2:4.9-8.el9 against 2:4.9-9.el9 and 1:5.0-1.el9.
      rhsa('RHSA-2024:0003', [{ ecosystem: 'rpm', distro: 'rhel:9', name: 'shadow-utils', ranges: [{ fixed: '2:4.9-9.el9' }] }]),
      rhsa('RHSA-2024:0004', [{ ecosystem: 'rpm', distro: 'rhel:9', name: 'shadow-utils', ranges: [{ fixed: '1:5.0-1.el9' }] }]),
      // RHEL 8's build is another product stream.
      rhsa('RHSA-2024:0005', [{ ecosystem: 'rpm', distro: 'rhel:8', name: 'openssl-libs', ranges: [{ fixed: '1:9.9-1.el8' }] }]),
    ]);
    assert.deepEqual(result.findings.map((f) => f.advisoryId), ['RHSA-2024:0001', 'RHSA-2024:0003']);
    assert.equal(result.findings[0]!.fixedVersion, '1:3.0.7-27.el9');
    assert.equal(result.findings[0]!.vendorSeverity, 'Important');
  });
  it('applies a module stream fix only to that stream, and a non-modular fix only to non-modular packages', () => {
    const result = matchPackages(image, [
      rhsa('RHSA-2024:1431', [{ ecosystem: 'rpm', distro: 'rhel:9', name: 'ruby', module: 'ruby:3.1', ranges: [{ fixed: '3.1.4-142.module+el9.3.0+2+def' }] }]),
      rhsa('RHSA-2024:1432', [{ ecosystem: 'rpm', distro: 'rhel:9', name: 'ruby', module: 'ruby:3.3', ranges: [{ fixed: '3.3.0-1.module+el9.3.0+3+aaa' }] }]),
      rhsa('RHSA-2024:1433', [{ ecosystem: 'rpm', distro: 'rhel:9', name: 'ruby', ranges: [{ fixed: '3.0.9-1.el9' }] }]),
    ]);
    assert.deepEqual(result.findings.map((f) => f.advisoryId), ['RHSA-2024:1431']);
  });
  it('matches entries naming the source rpm against its binaries, and skips extended-support streams', () => {
    const result = matchPackages(image, [
      rhsa('RHSA-2024:6163', [{ ecosystem: 'rpm', distro: 'rhel:9', name: 'openssl', arch: 'src', ranges: [{ fixed: '1:3.0.7-28.el9_4' }] }], 'Moderate'),
      rhsa('RHSA-2024:0811', [
        { ecosystem: 'rpm', distro: 'rhel:9', cpe: 'cpe:/a:redhat:rhel_eus:9.2::baseos', name: 'sudo', ranges: [{ fixed: '1.9.5p2-9.el9_2.2' }] },
        { ecosystem: 'rpm', distro: 'rhel:9', cpe: 'cpe:/o:redhat:enterprise_linux:9::baseos', name: 'sudo', ranges: [{ fixed: '1.9.5p2-10.el9_3' }] },
      ], 'Moderate'),
    ]);
    assert.deepEqual(result.findings.map((f) => [f.advisoryId, f.package.name, f.fixedVersion]), [
      ['RHSA-2024:0811', 'sudo', '1.9.5p2-10.el9_3'],
      ['RHSA-2024:6163', 'openssl-libs', '1:3.0.7-28.el9_4'],
    ]);
  });
});

describe('apk and language ecosystems', () => {
  it('apk: by origin or name within the branch', () => {
    const result = matchPackages({
      os: ALPINE,
      packages: [
        pkg({ ecosystem: 'apk', name: 'libcrypto3', version: '3.1.4-r2', sourceName: 'openssl', path: 'lib/apk/db/installed' }),
        pkg({ ecosystem: 'apk', name: 'busybox', version: '1.36.1-r15', sourceName: 'busybox', path: 'lib/apk/db/installed' }),
      ],
    }, [
      advisory({ id: 'CVE-2024-0727', source: 'alpine', affected: [{ ecosystem: 'apk', distro: 'alpine:3.19', name: 'openssl', ranges: [{ fixed: '3.1.4-r5' }] }] }),
      advisory({ id: 'CVE-2023-42363', source: 'alpine', affected: [{ ecosystem: 'apk', distro: 'alpine:3.19', name: 'busybox', ranges: [{ fixed: '1.36.1-r15' }] }] }),
      advisory({ id: 'CVE-2023-0001', source: 'alpine', affected: [{ ecosystem: 'apk', distro: 'alpine:3.18', name: 'busybox', ranges: [{ fixed: '1.36.1-r99' }] }] }),
    ]);
    assert.deepEqual(result.findings.map((f) => [f.advisoryId, f.package.name]), [['CVE-2024-0727', 'libcrypto3']]);
  });
  it('npm and PyPI: by name across every distribution, introduced ≤ v < fixed or ≤ lastAffected', () => {
    const image = {
      os: DEBIAN,
      packages: [
        pkg({ ecosystem: 'npm', name: 'lodash', version: '4.17.20', path: 'app/node_modules/lodash/package.json' }),
        pkg({ ecosystem: 'npm', name: 'minimist', version: '1.2.5', path: 'app/node_modules/minimist/package.json' }),
        pkg({ ecosystem: 'npm', name: 'semver', version: '7.5.2', path: 'app/node_modules/semver/package.json' }),
        pkg({ ecosystem: 'pypi', name: 'Jinja2', version: '3.1.2', path: 'usr/lib/python3/dist-packages/Jinja2-3.1.2.dist-info/METADATA' }),
      ],
    };
    const result = matchPackages(image, [
      advisory({ id: 'GHSA-35jh-r3h4-6jhm', source: 'osv', affected: [{ ecosystem: 'npm', name: 'lodash', ranges: [{ introduced: '0', fixed: '4.17.21' }] }] }),
      advisory({ id: 'GHSA-xvch-5gv4-984h', source: 'osv', affected: [{ ecosystem: 'npm', name: 'minimist', ranges: [{ introduced: '1.0.0', fixed: '1.2.6' }, { fixed: '0.2.4' }] }] }),
      // Introduced later than installed: not affected.
      advisory({ id: 'GHSA-c2qf-rxjj-qqgw', source: 'osv', affected: [{ ecosystem: 'npm', name: 'semver', ranges: [{ introduced: '7.5.3', fixed: '7.5.5' }] }] }),
      advisory({ id: 'GHSA-h5c8-rqwp-cp95', source: 'osv', severity: 'Medium', affected: [{ ecosystem: 'pypi', name: 'jinja2', ranges: [{ introduced: '0', lastAffected: '3.1.2' }] }] }),
    ]);
    assert.deepEqual(result.findings.map((f) => f.advisoryId), ['GHSA-35jh-r3h4-6jhm', 'GHSA-xvch-5gv4-984h']);
    assert.deepEqual(result.unfixed.map((f) => [f.advisoryId, f.package.name]), [['GHSA-h5c8-rqwp-cp95', 'Jinja2']]);
  });
  it('matchImage asks the database per ecosystem and release, in bulk', async () => {
    const calls: [string, string | null, string[]][] = [];
    const entries = [
      advisory({ id: 'DSA-1', affected: [{ ecosystem: 'deb', distro: 'debian:12', name: 'curl', ranges: [{ fixed: '8.0' }] }] }),
      advisory({ id: 'GHSA-1', source: 'osv', affected: [{ ecosystem: 'npm', name: 'lodash', ranges: [{ fixed: '4.17.21' }] }] }),
    ];
    const lookup = {
      async affectedFor(ecosystem: string, distro: string | null, names: readonly string[]): Promise<AffectedHit[]> {
        calls.push([ecosystem, distro, [...names]]);
        return entries.flatMap((a) => a.affected.filter((e) => e.ecosystem === ecosystem && (e.distro ?? null) === distro && names.includes(e.name)).map((affected) => ({ advisory: a, affected })));
      },
    };
    const result = await matchImage({
      os: DEBIAN,
      packages: [
        pkg({ ecosystem: 'deb', name: 'libcurl4', version: '7.88.1-10', sourceName: 'curl', sourceVersion: '7.88.1-10' }),
        pkg({ ecosystem: 'deb', name: 'curl', version: '7.88.1-10', sourceName: 'curl', sourceVersion: '7.88.1-10' }),
        pkg({ ecosystem: 'npm', name: 'lodash', version: '4.17.20' }),
      ],
    }, lookup);
    assert.deepEqual(calls, [['deb', 'debian:12', ['curl']], ['npm', null, ['lodash']]]);
    assert.deepEqual(result.findings.map((f) => `${f.advisoryId}:${f.package.name}`), ['DSA-1:curl', 'DSA-1:libcurl4', 'GHSA-1:lodash']);
  });
});

describe('errata', () => {
  it('groups applicable advisories as security fixes, bug fixes and enhancements, one per advisory, with counts', () => {
    const image = {
      os: UBI9,
      packages: [
        pkg({ ecosystem: 'rpm', name: 'curl-minimal', version: '7.76.1-29.el9_4', sourceName: 'curl' }),
        pkg({ ecosystem: 'rpm', name: 'libcurl-minimal', version: '7.76.1-29.el9_4', sourceName: 'curl' }),
        pkg({ ecosystem: 'rpm', name: 'tzdata', version: '2024a-1.el9', sourceName: 'tzdata' }),
        pkg({ ecosystem: 'rpm', name: 'glibc', version: '2.34-100.el9', sourceName: 'glibc' }),
      ],
    };
    const red = (id: string, kind: Advisory['kind'], vendorSeverity: string | undefined, severity: Advisory['severity'], name: string, fixed: string): Advisory =>
      advisory({ id, source: 'redhat', kind, vendorSeverity, severity, affected: [{ ecosystem: 'rpm', distro: 'rhel:9', name, ranges: [{ fixed }] }] });
    const { findings } = matchPackages(image, [
      advisory({ id: 'RHSA-2024:3501', source: 'redhat', vendorSeverity: 'Moderate', severity: 'Medium', affected: [
        { ecosystem: 'rpm', distro: 'rhel:9', name: 'curl-minimal', ranges: [{ fixed: '7.76.1-29.el9_4.1' }] },
        { ecosystem: 'rpm', distro: 'rhel:9', name: 'libcurl-minimal', ranges: [{ fixed: '7.76.1-29.el9_4.1' }] },
      ] }),
      red('RHSA-2024:4000', 'security', 'Important', 'High', 'glibc', '2.34-100.el9_4.2'),
      red('RHBA-2024:5000', 'bugfix', undefined, 'Unknown', 'glibc', '2.34-101.el9'),
      red('RHEA-2024:6000', 'enhancement', undefined, 'Unknown', 'tzdata', '2024b-1.el9'),
    ]);
    const errata = errataFrom(findings);
    assert.equal(errata.total, 4);
    assert.deepEqual(errata.security.errata.map((e) => e.id), ['RHSA-2024:4000', 'RHSA-2024:3501']);
    assert.deepEqual(errata.security.errata[1]!.packages.map((p) => p.name), ['curl-minimal', 'libcurl-minimal']);
    assert.equal(errata.security.bySeverity.High, 1);
    assert.equal(errata.security.bySeverity.Medium, 1);
    assert.deepEqual(errata.security.byVendorSeverity, { Important: 1, Moderate: 1 });
    assert.deepEqual(errata.bugfix.errata.map((e) => e.id), ['RHBA-2024:5000']);
    assert.deepEqual(errata.enhancement.errata.map((e) => e.id), ['RHEA-2024:6000']);
  });
});

describe('Container Health Index grade', () => {
  const T0 = Date.UTC(2025, 0, 1, 12);
  const security = (id: string, severity: 'Critical' | 'Important', issued: number, extra: Partial<Finding> = {}): Finding => ({
    advisoryId: id, source: 'redhat', kind: 'security', cves: [], severity: severity === 'Critical' ? 'Critical' : 'High', vendorSeverity: severity,
    issued, fixedVersion: '1.1', package: { name: 'p', version: '1.0', ecosystem: 'rpm', layer: 'sha256:l', path: 'x' }, ...extra,
  });
  const at = (days: number, ms = 0): number => T0 + days * DAY_MS + ms;

  it('is A without unapplied Critical or Important security errata; Moderate, Low, bug fixes and unfixed never lower it', () => {
    assert.equal(gradeFindings([], at(0)).grade, 'A');
    const old = T0 - 5000 * DAY_MS;
    const report = gradeFindings([
      security('RHSA-M', 'Important', old, { vendorSeverity: 'Moderate', severity: 'Medium' }),
      security('RHSA-L', 'Important', old, { vendorSeverity: 'Low', severity: 'Low' }),
      security('RHBA-1', 'Critical', old, { kind: 'bugfix' }),
      security('RHSA-U', 'Critical', old, { fixedVersion: null }),
    ], at(0));
    assert.equal(report.grade, 'A');
    assert.equal(report.next, null);
    assert.deepEqual(report.deciding, []);
  });

  // Red Hat's table: day N is "N whole days after release" (the boundary day keeps the better grade).
  const expectations: Record<'Critical' | 'Important', [number, string][]> = {
    Critical: [[0, 'B'], [6, 'B'], [7, 'B'], [8, 'C'], [29, 'C'], [30, 'C'], [31, 'D'], [89, 'D'], [90, 'D'], [91, 'E'], [364, 'E'], [365, 'E'], [366, 'F'], [1000, 'F']],
    Important: [[0, 'B'], [6, 'B'], [7, 'B'], [8, 'B'], [29, 'B'], [30, 'B'], [31, 'C'], [89, 'C'], [90, 'C'], [91, 'D'], [364, 'D'], [365, 'D'], [366, 'F'], [1000, 'F']],
  };
  for (const severity of ['Critical', 'Important'] as const) {
    it(`${severity}: day by day around 7, 30, 90 and 365 days`, () => {
      for (const [day, grade] of expectations[severity]) {
        assert.equal(gradeFindings([security('RHSA-X', severity, T0)], at(day)).grade, grade, `${severity} at day ${day}`);
        assert.equal(gradeForAge(severity, day), grade);
      }
      // Every day from 0 to 400, both sides of each boundary: the grade only drops, on the day after the threshold.
      let previous = 'B';
      for (let day = 0; day <= 400; day++) {
        const last = gradeFindings([security('RHSA-X', severity, T0)], at(day, DAY_MS - 1)).grade;
        const first = gradeFindings([security('RHSA-X', severity, T0)], at(day)).grade;
        assert.equal(first, last, `${severity}: the grade is constant within day ${day}`);
        assert.ok(first >= previous, `${severity}: the grade never improves by ageing (day ${day})`);
        previous = first;
      }
    });
  }

  it('maps other publishers: Critical → Critical, High → Important', () => {
    const debian = (severity: Finding['severity']): Finding => security('DSA-1', 'Important', T0, { source: 'debian', vendorSeverity: undefined, severity });
    assert.equal(chiSeverity(debian('Critical')), 'Critical');
    assert.equal(chiSeverity(debian('High')), 'Important');
    assert.equal(chiSeverity(debian('Medium')), null);
    assert.equal(gradeFindings([debian('Critical')], at(8)).grade, 'C');
    assert.equal(gradeFindings([debian('High')], at(8)).grade, 'B');
    // Red Hat's own rating decides for Red Hat advisories, whatever the normalised one.
    assert.equal(chiSeverity(security('RHSA-1', 'Important', T0, { severity: 'Critical' })), 'Important');
  });

  it('takes the worst grade of all deciding errata', () => {
    const report = gradeFindings([security('RHSA-I', 'Important', at(-200)), security('RHSA-C', 'Critical', at(-10))], at(0));
    // Important at 200 days: D; Critical at 10 days: C.
    assert.equal(report.grade, 'D');
    assert.deepEqual(report.deciding.map((d) => d.advisoryId), ['RHSA-I', 'RHSA-C']);
  });

  it('stores the timeline: when the grade drops next and to what, so the grade shown is today\'s', () => {
    const report = gradeFindings([security('RHSA-C', 'Critical', T0), security('RHSA-I', 'Important', at(20))], at(0));
    assert.equal(report.grade, 'B');
    assert.deepEqual(report.next, { grade: 'C', at: at(8) });
    assert.deepEqual(report.timeline.map((step) => [(step.from - T0) / DAY_MS, step.grade]), [
      [0, 'B'], [8, 'C'], [31, 'D'], [91, 'E'], [366, 'F'],
    ]);
    // Read at any later instant without recomputing.
    for (const day of [0, 7, 8, 30, 31, 90, 91, 365, 366, 800]) {
      assert.equal(gradeOn(report, at(day)), gradeFindings([security('RHSA-C', 'Critical', T0), security('RHSA-I', 'Important', at(20))], at(day)).grade, `day ${day}`);
    }
  });

  it('dates an advisory without a release date by the fallback (first seen)', () => {
    const report = gradeFindings([security('CVE-1', 'Critical', 0, { issued: null })], at(40), () => at(0));
    assert.equal(report.grade, 'D');
  });
});
