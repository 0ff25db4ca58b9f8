// No grade without data: `custody grade` and `custody scan` of a real Debian image give
// `?` with the reason when the advisory database is empty, covers another release, or is
// older than the limit; every grade shows the age of its data; `--fail-on` fails on no
// data unless `--allow-no-data`.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, mkdir, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCustody } from './support/custody-server.ts';
import { debianLayout, ociRef } from './support/images.ts';
import { sharedDir } from './support/paths.ts';
import { checkCoverage } from '../src/scan/coverage.ts';
import { aggregateGrades, indexPlatforms } from '../src/scan/platform-aggregate.ts';
import { SqliteClient } from '../src/metadata/sqlite-client.ts';
import { migrate } from '../src/metadata/migrations.ts';
import { SqlAdvisoryStore } from '../src/metadata/sql-advisory-store.ts';
import type { ImageIndex, InstalledPackage } from '../src/core/quality.ts';

const DAY = 86_400_000;

function pkg(ecosystem: InstalledPackage['ecosystem'], name: string): InstalledPackage {
  return { ecosystem, name, version: '1', path: 'x', layer: 'sha256:0', purl: `pkg:${ecosystem}/${name}@1` };
}

function image(packages: InstalledPackage[], os: ImageIndex['os']): ImageIndex {
  return { manifestDigest: 'sha256:1', os, packages, secrets: [], layers: [], indexerVersion: 't', indexedAt: 0 };
}

const BOOKWORM = { id: 'debian', idLike: [], versionId: '12', versionCodename: 'bookworm', name: 'Debian GNU/Linux', prettyName: 'Debian GNU/Linux 12 (bookworm)', cpe: null, source: 'etc/os-release' };

describe('no grade without data', () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'custody-coverage-'));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('checkCoverage: uncovered releases, operating systems and ecosystems, and stale sources, each say why', async () => {
    const sql = new SqliteClient(':memory:');
    await migrate(sql);
    const store = new SqlAdvisoryStore(sql);
    const now = Date.UTC(2026, 5, 1);
    const debianImage = image([pkg('deb', 'curl'), pkg('npm', 'left-pad')], BOOKWORM);
    let coverage = await checkCoverage(debianImage, store, now);
    assert.equal(coverage.covered, false);
    assert.match(coverage.reason!, /no advisory data for debian:12 \(deb packages\); no advisory data for npm packages/);
    await store.importDocument({ source: 'debian', key: 'debian:tracker', hash: 'h', advisories: [{ id: 'CVE-1', source: 'debian', kind: 'security', severity: 'High', issued: now, cves: ['CVE-1'], affected: [{ ecosystem: 'deb', distro: 'debian:12', name: 'zlib', ranges: [{ fixed: '2' }] }] }] }, now - 2 * DAY);
    await store.importDocument({ source: 'osv', key: 'osv:GHSA-1', hash: 'h', advisories: [{ id: 'GHSA-1', source: 'osv', kind: 'security', severity: 'High', issued: now, cves: [], affected: [{ ecosystem: 'npm', name: 'x', ranges: [{ fixed: '2' }] }] }] }, now - 9 * DAY);
    coverage = await checkCoverage(debianImage, store, now);
    assert.equal(coverage.covered, false);
    assert.equal(coverage.reason, 'osv data is 9 days old (limit 7 days)');
    assert.deepEqual(coverage.sources, [{ source: 'debian', updatedAt: now - 2 * DAY }, { source: 'osv', updatedAt: now - 9 * DAY }]);
    assert.equal(coverage.dataAsOf, now - 9 * DAY);
    // An update that found nothing new still makes the data current.
    await store.markCurrent('osv', now - DAY);
    coverage = await checkCoverage(debianImage, store, now);
    assert.deepEqual([coverage.covered, coverage.reason, coverage.dataAsOf], [true, null, now - 2 * DAY]);
    assert.equal((await checkCoverage(debianImage, store, now, DAY)).reason, 'debian data is 2 days old (limit 1 day)');
    // Another release, an OS no source covers (CentOS Stream), no packages at all.
    assert.match((await checkCoverage(image([pkg('deb', 'curl')], { ...BOOKWORM, versionId: '11' }), store, now)).reason!, /no advisory data for debian:11/);
    const stream = { ...BOOKWORM, id: 'centos', versionId: '9', name: 'CentOS Stream', prettyName: 'CentOS Stream 9' };
    assert.match((await checkCoverage(image([pkg('rpm', 'bash')], stream), store, now)).reason!, /CentOS Stream 9: no advisory data for centos-stream:9/);
    assert.match((await checkCoverage(image([pkg('deb', 'bash')], null), store, now)).reason!, /unknown operating system: no advisory source covers/);
    assert.equal((await checkCoverage(image([], BOOKWORM), store, now)).reason, 'no packages recognised in the image');
    await sql.close();
  });

  it('a multi-platform index: the worst platform grade, `?` naming each platform without one; attestations left out', () => {
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [
      { digest: 'sha256:a', platform: { os: 'linux', architecture: 'amd64' } },
      { digest: 'sha256:b', platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
      { digest: 'sha256:c', platform: { os: 'unknown', architecture: 'unknown' } },
    ] }));
    assert.deepEqual(indexPlatforms(index), [{ platform: 'linux/amd64', digest: 'sha256:a' }, { platform: 'linux/arm/v7', digest: 'sha256:b' }]);
    assert.equal(indexPlatforms(Buffer.from('{"schemaVersion":2,"layers":[]}')), null);
    const a = { platform: 'linux/amd64', digest: 'sha256:a', grade: 'B' as const, reason: null, dataAsOf: 5 };
    const b = { platform: 'linux/arm/v7', digest: 'sha256:b', grade: 'D' as const, reason: null, dataAsOf: 3 };
    assert.deepEqual([aggregateGrades([a, b]).grade, aggregateGrades([a, b]).dataAsOf], ['D', 3]);
    const none = aggregateGrades([a, { ...b, grade: '?', reason: 'no advisory data for alpine:3.19 (apk packages)' }]);
    assert.deepEqual([none.grade, none.reason], ['?', 'linux/arm/v7: no advisory data for alpine:3.19 (apk packages)']);
    assert.equal(aggregateGrades([]).grade, '?');
  });

  it('custody grade and scan: an empty database gives ?, imported data a letter with its age, stale data ? with why; --fail-on fails on no data', async () => {
    const empty = join(work, 'empty.sqlite');
    await mkdir(join(work, 'nothing'));
    assert.equal((await runCustody(['vulndb', 'import', '--db', empty, join(work, 'nothing')])).code, 0);
    const image = ociRef(debianLayout(), 'bookworm-curl');
    let result = await runCustody(['grade', image, '--vulndb', empty]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /grade \? \(Debian GNU\/Linux 12 \(bookworm\): no advisory data for debian:12 \(deb packages\)\)/);
    assert.match(result.stdout, /data as of no data/);
    const json = JSON.parse((await runCustody(['grade', image, '--vulndb', empty, '--format', 'json'])).stdout) as { grade: string; reason: string; data: { covered: boolean } };
    assert.deepEqual([json.grade, json.data.covered], ['?', false]);

    // The gate: no data fails --fail-on, unless told otherwise.
    result = await runCustody(['scan', image, '--vulndb', empty, '--fail-on', 'Critical', '--format', 'json']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no grade for want of data: .*no advisory data for debian:12.*--allow-no-data/);
    result = await runCustody(['scan', image, '--vulndb', empty, '--fail-on', 'Critical', '--allow-no-data', '--format', 'json']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal((JSON.parse(result.stdout) as { grade: { grade: string } }).grade.grade, '?');
    assert.equal((await runCustody(['scan', image, '--vulndb', empty, '--allow-no-data'])).code, 2, '--allow-no-data goes with --fail-on');

    // Debian data: a letter, and the age of the data behind it.
    const db = join(work, 'debian.sqlite');
    const feeds = join(work, 'debian-feeds');
    await mkdir(feeds);
    await copyFile(sharedDir('feeds', 'debian-security-tracker', 'debian.json'), join(feeds, 'debian.json'));
    assert.equal((await runCustody(['vulndb', 'import', '--db', db, feeds])).code, 0);
    result = await runCustody(['grade', image, '--vulndb', db]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /grade [A-F]\n/);
    assert.match(result.stdout, /data as of \d{4}-\d\d-\d\d \(today\)/);
    result = await runCustody(['scan', image, '--vulndb', db, '--format', 'table']);
    assert.match(result.stdout, /grade [A-F].*; data as of \d{4}-\d\d-\d\d \(today\)/);
    // The same data past the limit: `?` and why.
    result = await runCustody(['grade', image, '--vulndb', db, '--max-data-age', '0s']);
    assert.match(result.stdout, /grade \? \(debian data is 0 days old \(limit 0 days\)\)/);
    result = await runCustody(['scan', image, '--vulndb', db, '--max-data-age', '0s', '--fail-on', 'Critical', '--format', 'json']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /debian data is 0 days old/);
  });
});
