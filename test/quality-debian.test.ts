// Debian advisories in findings, errata and the grade: a tracker CVE is dated by the
// DSA/DLA that announced it, and otherwise stays undated (never "today"); severity
// words count together whatever their case; an errata line for a binary with an epoch
// of its own (bsdutils in the shared bookworm image) keeps that epoch.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Advisory, Finding } from '../src/core/quality.ts';
import { readFeeds } from '../src/scan/advisories/feed-reader.ts';
import { matchPackages } from '../src/scan/matching/matcher.ts';
import { errataFrom } from '../src/scan/matching/errata.ts';
import { DAY_MS, gradeFindings } from '../src/scan/matching/grade.ts';
import { indexImage } from '../src/scan/indexer/index-image.ts';
import { OciLayoutSource } from '../src/image/transports/index.ts';
import { sharedDir } from './support/paths.ts';

async function debianAdvisories(): Promise<Advisory[]> {
  const advisories: Advisory[] = [];
  for await (const document of readFeeds(sharedDir('feeds', 'debian-security-tracker'))) advisories.push(...document.advisories);
  return advisories;
}

describe('Debian tracker dates', () => {
  it('a CVE is issued when the first DSA naming it was; one no DSA names is undated', async () => {
    const advisories = await debianAdvisories();
    const cve = (id: string): Advisory => advisories.find((advisory) => advisory.id === id)!;
    // CVE-2025-53603 (sope) went out as DSA-5970-1 on 31 Jul 2025.
    assert.equal(cve('CVE-2025-53603').issued, Date.UTC(2025, 6, 31));
    // CVE-2008-7220 (prototypejs) is in no DSA of the sample: undated, not today.
    assert.equal(cve('CVE-2008-7220').issued, null);
  });

  it('an undated erratum is graded without a date: it does not pass for a new one released today', () => {
    const asOf = Date.UTC(2025, 0, 1);
    const undated: Finding = {
      advisoryId: 'CVE-2008-7220', source: 'debian', kind: 'security', cves: ['CVE-2008-7220'], severity: 'High', vendorSeverity: 'high', issued: null,
      package: { name: 'libjs-prototype', version: '1.6.0-1', ecosystem: 'deb', sourceName: 'prototypejs', layer: 'sha256:l', path: 'var/lib/dpkg/status' }, fixedVersion: '1.6.0.2-1',
    };
    const report = gradeFindings([undated], asOf);
    assert.deepEqual(report.deciding, [{ advisoryId: 'CVE-2008-7220', severity: 'Important', issued: null }]);
    // At least B (it is unapplied), with no drop scheduled from a made-up date.
    assert.equal(report.grade, 'B');
    assert.equal(report.next, null);
    // Where the caller knows when it first applied (the registry), it ages from then.
    assert.equal(gradeFindings([undated], asOf, () => asOf - 100 * DAY_MS).grade, 'D');
  });
});

describe('Debian errata', () => {
  it('severity words count together whatever their case', () => {
    const finding = (id: string, vendorSeverity: string | undefined): Finding => ({
      advisoryId: id, source: 'debian', kind: 'security', cves: [], severity: 'High', ...(vendorSeverity === undefined ? {} : { vendorSeverity }), issued: Date.UTC(2025, 0, 1),
      package: { name: 'curl', version: '7.88.1-10', ecosystem: 'deb', layer: 'sha256:l', path: 'var/lib/dpkg/status' }, fixedVersion: '7.88.1-10+deb12u1',
    });
    // The tracker's urgency is `high`; a DSA rated from it has no word of its own (High).
    const errata = errataFrom([finding('CVE-2024-1', 'high'), finding('CVE-2024-2', 'high'), finding('DSA-1-1', undefined), finding('CVE-2024-3', 'HIGH')]);
    assert.deepEqual(errata.security.byVendorSeverity, { High: 4 });
    assert.deepEqual([...new Set(errata.security.errata.map((erratum) => erratum.vendorSeverity ?? erratum.severity))], ['High']);
  });

  it('bsdutils, built from util-linux, is updated to its own epoch\'s version', async () => {
    const source = new OciLayoutSource(`${sharedDir('images', 'debian-oci')}:bookworm-minbase`);
    let image;
    try {
      image = await indexImage(source);
    } finally {
      await source.close();
    }
    const advisory: Advisory = {
      id: 'DSA-9998-1', source: 'debian', kind: 'security', severity: 'High', issued: Date.UTC(2025, 0, 1), cves: ['CVE-2099-0002'],
      affected: [{ ecosystem: 'deb', distro: 'debian:12', name: 'util-linux', ranges: [{ fixed: '2.38.1-5+deb12u4' }] }],
    };
    const { findings } = matchPackages(image, [advisory]);
    const lines = errataFrom(findings).security.errata[0]!.packages.filter((pkg) => ['bsdutils', 'libuuid1', 'util-linux'].includes(pkg.name));
    assert.deepEqual(lines, [
      { name: 'bsdutils', installed: '1:2.38.1-5+deb12u3', fixed: '1:2.38.1-5+deb12u4' },
      { name: 'libuuid1', installed: '2.38.1-5+deb12u3', fixed: '2.38.1-5+deb12u4' },
      { name: 'util-linux', installed: '2.38.1-5+deb12u3', fixed: '2.38.1-5+deb12u4' },
    ]);
  });
});
