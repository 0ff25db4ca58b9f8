// The advisory database: each importer on the publishers' own samples (../shared/feeds),
// the store on SQLite and PostgreSQL (bulk lookup, incremental re-import, revisions),
// `custody vulndb` import/status/export, and the database pushed to and pulled from a
// real Custody as an OCI artifact.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { sharedDir } from './support/paths.ts';
import { tempDirs } from './support/temp-files.ts';
import { createTestDatabase, type TestDatabase } from './support/postgres.ts';
import { runCustody, startCustody, type CustodyServer } from './support/custody-server.ts';
import type { Advisory } from '../src/core/quality.ts';
import { SqliteClient } from '../src/metadata/sqlite-client.ts';
import { PostgresClient } from '../src/metadata/postgres-client.ts';
import { migrate } from '../src/metadata/migrations.ts';
import type { SqlClient } from '../src/metadata/sql-client.ts';
import type { AdvisoryStore, FeedDocument } from '../src/metadata/advisory-store.ts';
import { SqlAdvisoryStore } from '../src/metadata/sql-advisory-store.ts';
import { readFeeds, FeedReader } from '../src/scan/advisories/feed-reader.ts';
import { parseOsv } from '../src/scan/advisories/importers/osv.ts';
import { cvss3BaseScore } from '../src/scan/advisories/severity.ts';
import { vulndbCommand } from '../src/cli/vulndb-command.ts';

const newDir = tempDirs('custody-vulndb-');

async function documentsOf(target: string): Promise<FeedDocument[]> {
  const documents: FeedDocument[] = [];
  for await (const document of readFeeds(target)) documents.push(document);
  return documents;
}

function advisoryIn(documents: readonly FeedDocument[], id: string, source?: string): Advisory {
  const found = documents.flatMap((document) => document.advisories).filter((advisory) => advisory.id === id && (!source || advisory.source === source));
  assert.ok(found.length > 0, `advisory ${id} not found`);
  return found[0]!;
}

describe('Red Hat CSAF importer', () => {
  let documents: FeedDocument[];
  before(async () => {
    documents = await documentsOf(sharedDir('feeds', 'redhat-csaf'));
  });

  it('reads all eight advisories, one document each', () => {
    assert.deepEqual(documents.map((document) => document.key).sort(), [
      'redhat:RHSA-2023:3821', 'redhat:RHSA-2023:7025', 'redhat:RHSA-2024:0010', 'redhat:RHSA-2024:0811',
      'redhat:RHSA-2024:1431', 'redhat:RHSA-2024:6163', 'redhat:RHSA-2024:9371', 'redhat:RHSA-2025:23414',
    ]);
  });

  it('RHSA-2024:0010: type, severity, dates, CVEs and fixed NEVRAs per stream', () => {
    const advisory = advisoryIn(documents, 'RHSA-2024:0010');
    assert.equal(advisory.source, 'redhat');
    assert.equal(advisory.kind, 'security');
    assert.equal(advisory.severity, 'High');
    assert.equal(advisory.vendorSeverity, 'Important');
    assert.equal(advisory.issued, Date.parse('2024-01-02T08:58:34Z'));
    assert.equal(advisory.updated, Date.parse('2024-11-23T02:54:26Z'));
    assert.deepEqual(advisory.cves, ['CVE-2023-5367', 'CVE-2023-6377', 'CVE-2023-6478']);
    assert.match(advisory.title ?? '', /tigervnc security update/);
    assert.ok(advisory.references?.includes('https://access.redhat.com/errata/RHSA-2024:0010'));
    const server = advisory.affected.find((entry) => entry.name === 'tigervnc-server');
    assert.deepEqual(server, { ecosystem: 'rpm', distro: 'rhel:9', cpe: 'cpe:/a:redhat:enterprise_linux:9::appstream', name: 'tigervnc-server', ranges: [{ fixed: '0:1.13.1-3.el9_3.3' }] });
    // One entry per binary package and stream, not per architecture; the source rpm apart.
    assert.deepEqual(advisory.affected.filter((entry) => entry.name === 'tigervnc').map((entry) => entry.arch ?? 'binary').sort(), ['binary', 'src']);
  });

  it('module streams and epochs', () => {
    const ruby = advisoryIn(documents, 'RHSA-2023:3821');
    assert.equal(ruby.severity, 'Medium');
    assert.equal(ruby.vendorSeverity, 'Moderate');
    const entry = ruby.affected.find((affected) => affected.name === 'ruby');
    assert.deepEqual(entry, { ecosystem: 'rpm', distro: 'rhel:8', cpe: 'cpe:/a:redhat:enterprise_linux:8::appstream', name: 'ruby', module: 'ruby:2.7', ranges: [{ fixed: '0:2.7.8-139.module+el8.8.0+18745+f1bef313' }] });
    const bind = advisoryIn(documents, 'RHSA-2025:23414');
    assert.equal(bind.severity, 'High');
    assert.deepEqual(bind.cves, ['CVE-2021-25220', 'CVE-2025-40778']);
    const libs = bind.affected.find((affected) => affected.name === 'bind-libs');
    assert.equal(libs?.distro, 'rhel:6');
    assert.equal(libs?.cpe, 'cpe:/o:redhat:rhel_els:6');
    assert.deepEqual(libs?.ranges, [{ fixed: '32:9.8.2-0.68.rc1.el6_10.17' }]);
  });
});

describe('Debian importer', () => {
  it('reads the tracker JSON (one advisory per CVE) and the DSA list', async () => {
    const documents = await documentsOf(sharedDir('feeds', 'debian-security-tracker'));
    assert.deepEqual(documents.map((document) => document.key).sort(), ['debian:DSA', 'debian:tracker']);
    const cve = advisoryIn(documents, 'CVE-2008-7220');
    assert.equal(cve.severity, 'High');
    assert.equal(cve.vendorSeverity, 'high');
    assert.deepEqual(cve.affected.find((entry) => entry.distro === 'debian:10'), { ecosystem: 'deb', distro: 'debian:10', name: 'prototypejs', ranges: [{ fixed: '1.6.0.2-1' }] });
    // fixed_version 0: never affected, no advisory row.
    assert.equal(documents.flatMap((document) => document.advisories).some((advisory) => advisory.id === 'CVE-2007-2383'), false);
    // open in an end-of-life release: affected, no fix.
    const chromium = advisoryIn(documents, 'CVE-2022-0456');
    assert.deepEqual(chromium.affected.find((entry) => entry.distro === 'debian:10')?.ranges, [{}]);
    assert.deepEqual(chromium.affected.find((entry) => entry.distro === 'debian:11')?.ranges, [{ fixed: '98.0.4758.80-1~deb11u1' }]);
    const dsa = advisoryIn(documents, 'DSA-5970-1');
    assert.equal(dsa.kind, 'security');
    assert.equal(dsa.issued, Date.UTC(2025, 6, 31));
    assert.deepEqual(dsa.cves, ['CVE-2025-53603']);
    assert.deepEqual(dsa.affected, [{ ecosystem: 'deb', distro: 'debian:12', name: 'sope', ranges: [{ fixed: '5.8.0-1+deb12u1' }] }]);
    const libpng = advisoryIn(documents, 'DSA-140');
    assert.deepEqual(libpng.affected.map((entry) => `${entry.distro} ${entry.name} ${entry.ranges[0]!.fixed}`), ['debian:3.0 libpng 1.0.12-3.woody.2', 'debian:3.0 libpng3 1.2.1-1.1.woody.2']);
    // Notices without packages (key change, end of life) are no advisories.
    assert.equal(documents.flatMap((document) => document.advisories).some((advisory) => advisory.id === 'DSA-3281-1' || advisory.id === 'DSA-4205-1'), false);
  });

  it('takes a stable release\'s fix from the DSA list when the tracker has none', () => {
    const tracker = { openssl: { 'CVE-2024-0001': { description: 'x', releases: { bookworm: { status: 'open', urgency: 'medium' }, trixie: { status: 'open', urgency: 'medium' } } } } };
    const list = '[02 Feb 2024] DSA-9999-1 openssl - security update\n\t{CVE-2024-0001}\n\t[bookworm] - openssl 3.0.13-1~deb12u1\n';
    const reader = new FeedReader();
    const documents = [...reader.read({ name: 'debian.json', bytes: Buffer.from(JSON.stringify(tracker)) }), ...reader.read({ name: 'DSA', bytes: Buffer.from(list) }), ...reader.finish()];
    const cve = advisoryIn(documents, 'CVE-2024-0001');
    assert.deepEqual(cve.affected.find((entry) => entry.distro === 'debian:12')?.ranges, [{ fixed: '3.0.13-1~deb12u1' }]);
    assert.deepEqual(cve.affected.find((entry) => entry.distro === 'debian:13')?.ranges, [{}]);
    // The DSA is rated by its CVE's urgency.
    assert.equal(advisoryIn(documents, 'DSA-9999-1').severity, 'Medium');
  });
});

describe('Alpine secdb importer', () => {
  it('one advisory per CVE per release, with the fixing version', async () => {
    const documents = await documentsOf(sharedDir('feeds', 'alpine-secdb'));
    assert.deepEqual(documents.map((document) => document.key).sort(), ['alpine:v3.10/community', 'alpine:v3.10/main', 'alpine:v3.11/community', 'alpine:v3.11/main', 'alpine:v3.15/community', 'alpine:v3.15/main']);
    const main315 = documents.find((document) => document.key === 'alpine:v3.15/main')!;
    assert.equal(main315.advisories.length, 13);
    assert.deepEqual(advisoryIn([main315], 'CVE-2022-1271'), {
      id: 'CVE-2022-1271', source: 'alpine', kind: 'security', severity: 'Unknown', issued: null, cves: ['CVE-2022-1271'],
      references: ['https://security.alpinelinux.org/vuln/CVE-2022-1271'],
      affected: [{ ecosystem: 'apk', distro: 'alpine:3.15', name: 'xz', ranges: [{ fixed: '5.2.5-r1' }] }],
    });
    assert.deepEqual(advisoryIn([main315], 'CVE-2018-1083').affected, [{ ecosystem: 'apk', distro: 'alpine:3.15', name: 'zsh', ranges: [{ fixed: '5.4.2-r1' }] }]);
    const community = documents.find((document) => document.key === 'alpine:v3.15/community')!;
    assert.deepEqual(advisoryIn([community], 'CVE-2021-38370').affected, [{ ecosystem: 'apk', distro: 'alpine:3.15', name: 'alpine', ranges: [{ fixed: '2.25-r0' }] }]);
    // Non-CVE ids (Xen's XSAs) are advisories without CVEs.
    const xsa = documents.flatMap((document) => document.advisories).find((advisory) => advisory.id.startsWith('XSA-'));
    assert.ok(xsa);
    assert.deepEqual(xsa.cves, []);
  });
});

describe('OSV importer', () => {
  it('maps ecosystems, ranges, aliases and severities', () => {
    const advisory = parseOsv({
      id: 'GHSA-aaaa-bbbb-cccc',
      aliases: ['CVE-2024-1111'],
      published: '2024-03-01T00:00:00Z',
      modified: '2024-04-01T00:00:00Z',
      summary: 'prototype pollution',
      database_specific: { severity: 'MODERATE' },
      affected: [
        { package: { ecosystem: 'npm', name: 'lodash' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '4.17.21' }, { introduced: '5.0.0' }, { last_affected: '5.0.2' }] }] },
        { package: { ecosystem: 'PyPI', name: 'Foo_Bar' }, versions: ['1.0', '1.1'] },
        { package: { ecosystem: 'Ubuntu:22.04:LTS', name: 'openssl' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '3.0.2-0ubuntu1.15' }] }] },
        { package: { ecosystem: 'Rocky Linux:9', name: 'openssl' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1:3.0.7-25.el9_3' }] }] },
        { package: { ecosystem: 'Go', name: 'golang.org/x/net' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '0.17.0' }] }] },
        { package: { ecosystem: 'crates.io', name: 'ignored' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }] }] },
      ],
    });
    assert.equal(advisory.severity, 'Medium');
    assert.equal(advisory.vendorSeverity, 'MODERATE');
    assert.deepEqual(advisory.cves, ['CVE-2024-1111']);
    assert.equal(advisory.issued, Date.parse('2024-03-01T00:00:00Z'));
    assert.deepEqual(advisory.affected, [
      { ecosystem: 'npm', name: 'lodash', ranges: [{ fixed: '4.17.21' }, { introduced: '5.0.0', lastAffected: '5.0.2' }] },
      { ecosystem: 'pypi', name: 'foo-bar', ranges: [{ introduced: '1.0', lastAffected: '1.0' }, { introduced: '1.1', lastAffected: '1.1' }] },
      { ecosystem: 'deb', distro: 'ubuntu:22.04', name: 'openssl', ranges: [{ fixed: '3.0.2-0ubuntu1.15' }] },
      { ecosystem: 'rpm', distro: 'rocky:9', name: 'openssl', ranges: [{ fixed: '1:3.0.7-25.el9_3' }] },
      { ecosystem: 'golang', name: 'golang.org/x/net', ranges: [{ fixed: '0.17.0' }] },
    ]);
  });

  it('rates by CVSS when no word is given', () => {
    assert.equal(cvss3BaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'), 9.8);
    assert.equal(cvss3BaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N'), 6.1);
    const advisory = parseOsv({ id: 'CVE-2024-2222', severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }], affected: [] });
    assert.equal(advisory.severity, 'Critical');
    assert.deepEqual(advisory.cves, ['CVE-2024-2222']);
  });
});

function osvDoc(id: string, fixed: string, names: readonly string[] = ['left-pad']): FeedDocument {
  return {
    source: 'osv',
    key: `osv:${id}`,
    hash: `${id}-${fixed}-${names.join()}`,
    advisories: [{ id, source: 'osv', kind: 'security', severity: 'High', issued: 1000, updated: 2000, cves: ['CVE-2024-9'], affected: names.map((name) => ({ ecosystem: 'npm' as const, name, ranges: [{ fixed }] })) }],
  };
}

function storeSuite(engine: string, open: () => Promise<{ sql: SqlClient; close(): Promise<void> }>): void {
  describe(`advisory store on ${engine}`, () => {
    let sql: SqlClient;
    let store: AdvisoryStore;
    let close: () => Promise<void>;
    before(async () => {
      const opened = await open();
      sql = opened.sql;
      close = opened.close;
      await migrate(sql);
      store = new SqlAdvisoryStore(sql);
    });
    after(async () => close?.());

    it('imports every sample feed; a re-import changes nothing and keeps the revision', async () => {
      const documents = await documentsOf(sharedDir('feeds'));
      assert.equal(await store.revision(), 0);
      for (const document of documents) assert.equal((await store.importDocument(document)).skipped, false);
      const revision = await store.revision();
      assert.equal(revision, documents.length);
      const before = await store.status();
      for (const document of await documentsOf(sharedDir('feeds'))) assert.equal((await store.importDocument(document)).skipped, true);
      assert.equal(await store.revision(), revision);
      const again = await store.status();
      assert.deepEqual(again.sources.map(({ lastImport: _, ...rest }) => rest), before.sources.map(({ lastImport: _, ...rest }) => rest));
      assert.deepEqual(before.sources.map((source) => [source.source, source.documents, source.advisories]), [['alpine', 6, 2079], ['debian', 2, 12], ['redhat', 8, 8]]);
      assert.equal(before.sources.find((source) => source.source === 'redhat')?.newest, Date.parse('2026-04-01T19:04:12Z'));
    });

    it('looks up affected packages in bulk, by distro', async () => {
      const hits = await store.affectedFor('rpm', 'rhel:9', ['tigervnc-server', 'python3', 'not-a-package']);
      const tiger = hits.filter((hit) => hit.affected.name === 'tigervnc-server');
      assert.deepEqual(tiger.map((hit) => [hit.advisory.id, hit.affected.ranges[0]!.fixed]), [['RHSA-2024:0010', '0:1.13.1-3.el9_3.3']]);
      assert.equal(tiger[0]!.advisory.vendorSeverity, 'Important');
      assert.equal(tiger[0]!.advisory.issued, Date.parse('2024-01-02T08:58:34Z'));
      assert.deepEqual(tiger[0]!.advisory.cves, ['CVE-2023-5367', 'CVE-2023-6377', 'CVE-2023-6478']);
      // The same CVE id in two Alpine releases: one advisory, rows of each release apart.
      const xz310 = await store.affectedFor('apk', 'alpine:3.10', ['xz']);
      const xz315 = await store.affectedFor('apk', 'alpine:3.15', ['xz']);
      assert.deepEqual(xz315.map((hit) => [hit.advisory.id, hit.affected.distro, hit.affected.ranges]), [['CVE-2022-1271', 'alpine:3.15', [{ fixed: '5.2.5-r1' }]]]);
      assert.equal(xz310.some((hit) => hit.affected.distro !== 'alpine:3.10'), false);
      const deb = await store.affectedFor('deb', 'debian:12', ['sope']);
      assert.deepEqual(deb.map((hit) => hit.advisory.id).sort(), ['CVE-2025-53603', 'DSA-5970-1']);
      // More names than one IN list holds.
      const many = Array.from({ length: 1200 }, (_, i) => `pkg-${i}`).concat(['tigervnc-server']);
      assert.equal((await store.affectedFor('rpm', 'rhel:9', many)).length, 1);
      const full = await store.getAdvisory('redhat', 'RHSA-2024:0010');
      assert.ok(full && full.affected.length > 5);
    });

    it('upserts replace an advisory\'s rows atomically and bump the revision; dropped advisories go', async () => {
      const start = await store.revision();
      await store.importDocument(osvDoc('GHSA-1', '1.0.0', ['left-pad', 'right-pad']));
      assert.equal(await store.revision(), start + 1);
      assert.equal((await store.affectedFor('npm', null, ['left-pad', 'right-pad'])).length, 2);
      await store.importDocument(osvDoc('GHSA-1', '1.0.1'));
      assert.equal(await store.revision(), start + 2);
      const hits = await store.affectedFor('npm', null, ['left-pad', 'right-pad']);
      assert.deepEqual(hits.map((hit) => [hit.affected.name, hit.affected.ranges]), [['left-pad', [{ fixed: '1.0.1' }]]]);
      // A document whose content changed but whose advisories did not: no bump.
      const same = { ...osvDoc('GHSA-1', '1.0.1'), hash: 'another-hash' };
      const result = await store.importDocument(same);
      assert.equal(result.skipped, false);
      assert.equal(result.unchanged, 1);
      assert.equal(await store.revision(), start + 2);
      // The document no longer carries the advisory: it is removed.
      await store.importDocument({ source: 'osv', key: 'osv:GHSA-1', hash: 'empty', advisories: [] });
      assert.equal(await store.revision(), start + 3);
      assert.deepEqual(await store.affectedFor('npm', null, ['left-pad']), []);
      assert.equal(await store.getAdvisory('osv', 'GHSA-1'), null);
    });

    it('a failing import leaves nothing behind', async () => {
      const start = await store.revision();
      const broken = osvDoc('GHSA-2', '2.0.0');
      const bad = { ...broken, advisories: [{ ...broken.advisories[0]!, affected: [{ ecosystem: 'npm' as const, name: null as unknown as string, ranges: [{ fixed: '1' }] }] }] };
      await assert.rejects(store.importDocument(bad));
      assert.equal(await store.revision(), start);
      assert.equal(await store.getAdvisory('osv', 'GHSA-2'), null);
    });
  });
}

storeSuite('SQLite', async () => {
  const sql = new SqliteClient(join(newDir(), 'vulndb.sqlite'));
  return { sql, close: () => sql.close() };
});

storeSuite('PostgreSQL', async () => {
  const database: TestDatabase = await createTestDatabase();
  const sql = new PostgresClient({ url: database.url, maxConnections: 4 });
  return {
    sql,
    close: async () => {
      await sql.close();
      await database.drop();
    },
  };
});

// `custody vulndb` run the way users run it, with its own data directory.
const vulndbHome = join(newDir(), 'data');

function runVulndb(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runCustody(['vulndb', ...args], { env: { XDG_DATA_HOME: vulndbHome } });
}

describe('custody vulndb', () => {
  let server: CustodyServer;
  let dir: string;
  before(async () => {
    dir = newDir();
    server = await startCustody();
  });
  after(async () => server?.dispose());

  it('import (directory, incremental), status, export', async () => {
    const db = ['--db', join(dir, 'a.sqlite')];
    const first = await runVulndb(['import', sharedDir('feeds'), ...db]);
    assert.equal(first.code, 0);
    assert.match(first.stdout, /16 documents imported, 0 unchanged/);
    assert.match(first.stdout, /data as of: .*redhat 2026-04-01/);
    const second = await runVulndb(['import', sharedDir('feeds'), ...db]);
    assert.match(second.stdout, /0 documents imported, 16 unchanged; advisories 0 added, 0 updated, 0 removed/);
    assert.match(second.stdout, /revision 16;/);
    const status = await runVulndb(['status', ...db]);
    assert.match(status.stdout, /revision 16/);
    // 194 binary entries and 27 source rpms (one per advisory and stream).
    assert.match(status.stdout, /^redhat\s+8\s+8\s+221\s+\d{4}-\d\d-\d\d\s+2026-04-01\s+(\d+ days old|today|1 day old)$/m);
    assert.match(status.stdout, /^alpine\s+6\s+2079\s+4228\s.*unknown$/m);
    const json = JSON.parse((await runVulndb(['status', '--json', ...db])).stdout) as { revision: number; sources: { source: string }[] };
    assert.equal(json.revision, 16);
    const bundle = join(dir, 'export.jsonl');
    assert.equal((await runVulndb(['export', bundle, ...db])).code, 0);
    const lines = (await readFile(bundle, 'utf8')).trim().split('\n');
    assert.deepEqual(Object.keys(JSON.parse(lines[0]!) as object), ['format', 'version', 'revision', 'exportedAt']);
    assert.equal(lines.filter((line) => line.startsWith('{"document"')).length, 16);
    // The bundle feeds another database, which then skips the same bundle.
    const other = ['--db', join(dir, 'b.sqlite')];
    assert.match((await runVulndb(['import', bundle, ...other])).stdout, /16 documents imported/);
    assert.match((await runVulndb(['import', bundle, ...other])).stdout, /0 documents imported, 16 unchanged/);
    const copy = new SqlAdvisoryStore(new SqliteClient(join(dir, 'b.sqlite')));
    const hit = await copy.affectedFor('rpm', 'rhel:8', ['ruby']);
    assert.ok(hit.some((entry) => entry.advisory.id === 'RHSA-2023:3821' && entry.affected.module === 'ruby:2.7'));
  });

  it('usage errors', async () => {
    await assert.rejects(vulndbCommand.run(['import']), /missing FILE/);
    await assert.rejects(vulndbCommand.run(['frobnicate']), /unknown vulndb command/);
    const help = await runVulndb(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /custody vulndb import FILE\|DIR\|URL/);
    const failed = await runVulndb(['import', join(dir, 'does-not-exist')]);
    assert.equal(failed.code, 1);
    assert.equal(failed.stderr.trim().split('\n').length, 1);
  });

  it('push and pull through a registry as an OCI artifact', async () => {
    const source = ['--db', join(dir, 'a.sqlite')];
    const target = ['--db', join(dir, 'air-gapped.sqlite')];
    const reference = `docker://${server.host}/feeds/vulndb:latest`;
    const pushed = await runVulndb(['push', reference, '--tls-verify=false', ...source]);
    assert.equal(pushed.code, 0);
    const digest = pushed.stdout.split('\n')[0]!;
    assert.match(digest, /^sha256:[0-9a-f]{64}$/);
    const manifest = (await (await fetch(`${server.url}/v2/feeds/vulndb/manifests/latest`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).json()) as { artifactType: string; layers: { digest: string; mediaType: string }[] };
    assert.equal(manifest.artifactType, 'application/vnd.custody.vulndb.v1');
    assert.equal(manifest.layers.length, 1);
    const layer = Buffer.from(await (await fetch(`${server.url}/v2/feeds/vulndb/blobs/${manifest.layers[0]!.digest}`)).arrayBuffer());
    assert.match(gunzipSync(layer).toString('utf8').split('\n')[0]!, /"format":"custody-vulndb"/);
    const pulled = await runVulndb(['pull', reference, '--tls-verify=false', ...target]);
    assert.match(pulled.stdout, /16 documents imported/);
    assert.match(pulled.stdout, /revision 16;/);
    const again = await runVulndb(['pull', reference, '--tls-verify=false', ...target]);
    assert.match(again.stdout, /0 documents imported, 16 unchanged/);
    const missing = await runVulndb(['pull', `docker://${server.host}/feeds/missing:latest`, '--tls-verify=false', ...target]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr.trim().split('\n').length, 1);
  });
});
