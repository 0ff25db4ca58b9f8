// rpm matching against Red Hat's own documents: an advisory naming only the source rpm
// (the real RHSA-2024:6163 lists python3.9's .src alone) reaches every binary built from
// it, by SOURCERPM, on hand-made package lists and on the synthetic UBI 9 image indexed
// for real; a source entry and a same-named binary stay two entries; range bounds
// without a release read as rpm reads them; CentOS Stream is not taken for RHEL.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Advisory, InstalledPackage, OsRelease } from '../src/core/quality.ts';
import { matchPackages } from '../src/scan/matching/matcher.ts';
import { distroKeys } from '../src/scan/matching/distro.ts';
import { parseCsaf, isCsaf } from '../src/scan/advisories/importers/csaf-redhat.ts';
import { parseOsv } from '../src/scan/advisories/importers/osv.ts';
import { indexImage } from '../src/scan/indexer/index-image.ts';
import { OciLayoutSource } from '../src/image/transports/index.ts';
import { sharedDir } from './support/paths.ts';

const CSAF = sharedDir('feeds', 'redhat-csaf');

function os(id: string, versionId: string | null, extra: Partial<OsRelease> = {}): OsRelease {
  return { id, idLike: [], versionId, versionCodename: null, name: null, prettyName: null, cpe: null, source: 'etc/os-release', ...extra };
}

const UBI9 = os('rhel', '9.4', { name: 'Red Hat Enterprise Linux', cpe: 'cpe:/o:redhat:enterprise_linux:9::baseos' });

/** An installed binary rpm as the indexer records it (SOURCERPM split into name and EVR). */
function rpm(name: string, version: string, sourceName: string, sourceVersion: string): InstalledPackage {
  return { ecosystem: 'rpm', name, version, sourceName, sourceVersion, arch: 'x86_64', path: 'var/lib/rpm/rpmdb.sqlite', layer: 'sha256:l1', purl: `pkg:rpm/redhat/${name}@${version}` };
}

async function readCsaf(file: string, edit: (text: string) => string = (text) => text): Promise<Advisory> {
  const value: unknown = JSON.parse(edit(await readFile(join(CSAF, file), 'utf8')));
  assert.ok(isCsaf(value));
  return parseCsaf(value);
}

describe('Red Hat advisories naming a source rpm', () => {
  it('RHSA-2024:6163 lists python3.9.src only: the importer keeps it as a source entry per stream', async () => {
    const advisory = await readCsaf('rhsa-2024_6163.json');
    assert.deepEqual(advisory.affected.map((entry) => [entry.cpe, entry.name, entry.arch, entry.ranges]), [
      ['cpe:/a:redhat:enterprise_linux:9::appstream', 'python3.9', 'src', [{ fixed: '0:3.9.18-3.el9_4.5' }]],
      ['cpe:/o:redhat:enterprise_linux:9::baseos', 'python3.9', 'src', [{ fixed: '0:3.9.18-3.el9_4.5' }]],
      ['cpe:/a:redhat:enterprise_linux:9::crb', 'python3.9', 'src', [{ fixed: '0:3.9.18-3.el9_4.5' }]],
    ]);
  });

  it('every binary built from python3.9 is matched by its SOURCERPM, compared in the source\'s EVR', async () => {
    const advisory = await readCsaf('rhsa-2024_6163.json');
    const result = matchPackages({
      os: UBI9,
      packages: [
        rpm('python3', '3.9.18-3.el9_4.3', 'python3.9', '3.9.18-3.el9_4.3'),
        rpm('python3-libs', '3.9.18-3.el9_4.3', 'python3.9', '3.9.18-3.el9_4.3'),
        // A subpackage with a version of its own: the source's EVR decides.
        rpm('python3-extra', '1.2-7.el9', 'python3.9', '3.9.18-3.el9_4.3'),
        // Already at the fixed build, and built from another source.
        rpm('python-unversioned-command', '3.9.18-3.el9_4.5', 'python3.9', '3.9.18-3.el9_4.5'),
        rpm('python3.11-libs', '3.11.7-1.el9', 'python3.11', '3.11.7-1.el9'),
      ],
    }, [advisory]);
    assert.deepEqual(result.findings.map((f) => [f.advisoryId, f.package.name, f.package.sourceName, f.fixedVersion, f.vendorSeverity]), [
      ['RHSA-2024:6163', 'python3', 'python3.9', '0:3.9.18-3.el9_4.5', 'Moderate'],
      ['RHSA-2024:6163', 'python3-extra', 'python3.9', '0:3.9.18-3.el9_4.5', 'Moderate'],
      ['RHSA-2024:6163', 'python3-libs', 'python3.9', '0:3.9.18-3.el9_4.5', 'Moderate'],
    ]);
  });

  it('a source entry and a same-named binary entry stay apart (tigervnc.src and tigervnc in RHSA-2024:0010)', async () => {
    const advisory = await readCsaf('rhsa-2024_0010.json');
    const tigervnc = advisory.affected.filter((entry) => entry.name === 'tigervnc');
    assert.deepEqual(tigervnc.map((entry) => entry.arch ?? 'binary').sort(), ['binary', 'src']);
    // The binary entry names the binary only: a binary called tigervnc built from another
    // source is matched by name, a sibling subpackage through the source entry.
    const result = matchPackages({
      os: UBI9,
      packages: [
        rpm('tigervnc', '1.13.1-3.el9_3.1', 'tigervnc-fork', '1.13.1-3.el9_3.1'),
        rpm('tigervnc-selinux-extra', '1.13.1-3.el9_3.1', 'tigervnc', '1.13.1-3.el9_3.1'),
      ],
    }, [advisory]);
    assert.deepEqual(result.findings.map((f) => f.package.name), ['tigervnc', 'tigervnc-selinux-extra']);
  });

  it('the synthetic UBI 9 image, indexed for real: a curl.src-only advisory reaches curl-minimal and libcurl-minimal', async () => {
    const source = new OciLayoutSource(`${sharedDir('images', 'ubi9-synthetic-oci')}:9.4-synthetic`);
    let image;
    try {
      image = await indexImage(source);
    } finally {
      await source.close();
    }
    // The real RHSA-2024:6163 document retargeted from python3.9 at curl, fixed after the
    // image's 7.76.1-29.el9_4: still one .src product and nothing else.
    const advisory = await readCsaf('rhsa-2024_6163.json', (text) => text.replaceAll('python3.9', 'curl').replaceAll('3.9.18-3.el9_4.5', '7.76.1-29.el9_4.1'));
    assert.deepEqual([...new Set(advisory.affected.map((entry) => `${entry.name}.${entry.arch}`))], ['curl.src']);
    const result = matchPackages(image, [advisory]);
    assert.deepEqual(result.findings.map((f) => [f.package.name, f.package.version, f.fixedVersion]), [
      ['curl-minimal', '7.76.1-29.el9_4', '0:7.76.1-29.el9_4.1'],
      ['libcurl-minimal', '7.76.1-29.el9_4', '0:7.76.1-29.el9_4.1'],
    ]);
  });
});

describe('rpm range bounds without a release', () => {
  it('OSV last_affected 2.27 covers every 2.27 build; fixed 2.27 covers none of them', () => {
    const osv = (id: string, event: Record<string, string>): Advisory => parseOsv({
      id, published: '2024-01-01T00:00:00Z', affected: [{ package: { ecosystem: 'Rocky Linux:9', name: 'glibc' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, event] }] }],
    });
    const image = { os: os('rocky', '9.3'), packages: [rpm('glibc', '2.27-0.4.el9', 'glibc', '2.27-0.4.el9')] };
    const result = matchPackages(image, [osv('RLSA-LAST', { last_affected: '2.27' }), osv('RLSA-FIXED', { fixed: '2.27' }), osv('RLSA-NEXT', { fixed: '2.27-0.5.el9' })]);
    assert.deepEqual(result.findings.map((f) => f.advisoryId), ['RLSA-NEXT']);
    assert.deepEqual(result.unfixed.map((f) => f.advisoryId), ['RLSA-LAST']);
  });
});

describe('CentOS Stream is not RHEL', () => {
  const stream9 = os('centos', '9', { name: 'CentOS Stream', prettyName: 'CentOS Stream 9', idLike: ['rhel', 'fedora'], cpe: 'cpe:/o:centos:centos:9' });
  const stream8 = os('centos', '8', { name: 'CentOS Stream', prettyName: 'CentOS Stream 8', idLike: ['rhel', 'fedora'], cpe: 'cpe:/o:centos:centos:8' });

  it('its packages are not matched against Red Hat\'s advisories; UBI and RHEL still are', async () => {
    assert.deepEqual(distroKeys(stream9), ['centos-stream:9']);
    assert.deepEqual(distroKeys(stream8), ['centos-stream:8']);
    // Without a NAME, VERSION_ID 9 or later can only be Stream (CentOS Linux ended with 8).
    assert.deepEqual(distroKeys(os('centos', '10', { cpe: 'cpe:/o:centos:centos:10' })), ['centos-stream:10']);
    // CentOS Linux 7 and 8 were rebuilds of RHEL's own sources.
    assert.deepEqual(distroKeys(os('centos', '7', { name: 'CentOS Linux' })), ['rhel:7']);
    assert.deepEqual(distroKeys(UBI9), ['rhel:9']);
    const advisory = await readCsaf('rhsa-2024_6163.json');
    const packages = [rpm('python3-libs', '3.9.18-1.el9', 'python3.9', '3.9.18-1.el9')];
    assert.equal(matchPackages({ os: stream9, packages }, [advisory]).findings.length, 0);
    assert.equal(matchPackages({ os: UBI9, packages }, [advisory]).findings.length, 1);
  });
});
