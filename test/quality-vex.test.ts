// Red Hat VEX documents (CSAF 2.0, category csaf_vex, one per CVE): packages known
// affected without a fix become unfixed findings carrying the vendor's fix state (its
// remediation: none_available "Affected"/"Deferred", no_fix_planned "Will not fix"/"Out
// of support scope") and the CVE's statement, through the advisory database on SQLite and
// PostgreSQL alike, against the synthetic UBI 9 image. The document is written here after
// the CSAF 2.0 specification and Red Hat's published description of its VEX files
// (../shared holds advisories only): unfixed components are source rpms named without a
// version (purl pkg:rpm/redhat/curl?arch=src), paired with a product by relationships.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Advisory, ImageIndex } from '../src/core/quality.ts';
import { isCsaf, parseCsaf } from '../src/scan/advisories/importers/csaf-redhat.ts';
import { FeedReader } from '../src/scan/advisories/feed-reader.ts';
import { matchImage, matchPackages } from '../src/scan/matching/matcher.ts';
import { toSarif } from '../src/scan/matching/sarif.ts';
import { indexImage } from '../src/scan/indexer/index-image.ts';
import { OciLayoutSource } from '../src/image/transports/index.ts';
import { SqlAdvisoryStore } from '../src/metadata/sql-advisory-store.ts';
import { SqliteClient } from '../src/metadata/sqlite-client.ts';
import { PostgresClient } from '../src/metadata/postgres-client.ts';
import { migrate } from '../src/metadata/migrations.ts';
import type { SqlClient } from '../src/metadata/sql-client.ts';
import { createTestDatabase } from './support/postgres.ts';
import { tempDirs } from './support/temp-files.ts';
import { sharedDir } from './support/paths.ts';
import { STATEMENT, vexDocument } from './support/vex-fixture.ts';

const newDir = tempDirs('custody-vex-');
function vexAdvisory(): Advisory {
  const value = vexDocument();
  assert.ok(isCsaf(value));
  return parseCsaf(value);
}

async function ubi9(): Promise<ImageIndex> {
  const source = new OciLayoutSource(`${sharedDir('images', 'ubi9-synthetic-oci')}:9.4-synthetic`);
  try {
    return await indexImage(source);
  } finally {
    await source.close();
  }
}

const summary = (findings: readonly { package: { name: string }; fixState?: string; fixStatement?: string; fixedVersion: string | null }[]) =>
  findings.map((f) => [f.package.name, f.fixedVersion, f.fixState ?? null, f.fixStatement ?? null]);

const EXPECTED_UBI9 = [
  ['curl-minimal', null, 'affected', 'Affected'],
  ['libcurl-minimal', null, 'affected', 'Affected'],
  ['libxml2', null, 'fix-deferred', 'Deferred'],
];

describe('Red Hat VEX: affected without a fix, and will not fix', () => {
  it('the importer reads known_affected products with their remediation, the statement, and no fixed product', () => {
    const advisory = vexAdvisory();
    assert.equal(advisory.id, 'CVE-2099-1234');
    assert.equal(advisory.kind, 'security');
    assert.equal(advisory.vendorSeverity, 'Moderate');
    assert.equal(advisory.statement, STATEMENT);
    assert.deepEqual(advisory.affected.map((entry) => [entry.distro, entry.name, entry.arch, entry.ranges, entry.fixState, entry.fixStatement]), [
      ['rhel:9', 'curl', 'src', [{}], 'affected', 'Affected'],
      ['rhel:8', 'curl', 'src', [{}], 'will-not-fix', 'Will not fix'],
      ['rhel:9', 'libxml2', 'src', [{}], 'fix-deferred', 'Deferred'],
      ['rhel:9', 'tar', 'src', [{}], 'affected', undefined],
    ]);
  });

  it('the synthetic UBI 9 image: unfixed findings with the vendor\'s state and statement, nothing to apply', async () => {
    const result = matchPackages(await ubi9(), [vexAdvisory()]);
    assert.deepEqual(result.findings, []);
    assert.deepEqual(summary(result.unfixed), EXPECTED_UBI9);
    assert.ok(result.unfixed.every((f) => f.statement === STATEMENT && f.advisoryId === 'CVE-2099-1234' && f.vendorSeverity === 'Moderate'));
  });

  it('RHEL 8: curl will not be fixed', () => {
    const os = { id: 'rhel', idLike: [], versionId: '8.10', versionCodename: null, name: 'Red Hat Enterprise Linux', prettyName: null, cpe: null, source: 'etc/os-release' };
    const curl = { ecosystem: 'rpm' as const, name: 'curl', version: '7.61.1-34.el8', sourceName: 'curl', sourceVersion: '7.61.1-34.el8', path: 'var/lib/rpm/Packages', layer: 'sha256:l', purl: 'pkg:rpm/redhat/curl@7.61.1-34.el8' };
    const result = matchPackages({ os, packages: [curl] }, [vexAdvisory()]);
    assert.deepEqual(summary(result.unfixed), [['curl', null, 'will-not-fix', 'Will not fix']]);
  });

  for (const [engine, open] of [
    ['SQLite', async () => {
      const sql = new SqliteClient(join(newDir(), 'vulndb.sqlite'));
      return { sql: sql as SqlClient, close: () => sql.close() };
    }],
    ['PostgreSQL', async () => {
      const database = await createTestDatabase();
      const sql = new PostgresClient({ url: database.url, maxConnections: 2 });
      return { sql: sql as SqlClient, close: async () => { await sql.close(); await database.drop(); } };
    }],
  ] as const) {
    describe(`through the advisory database on ${engine}`, () => {
      let sql: SqlClient;
      let close: () => Promise<void>;
      before(async () => {
        ({ sql, close } = await open());
        await migrate(sql);
      });
      after(() => close());

      it('imports the VEX file as a feed document and matches the stored rows as the document itself', async () => {
        const store = new SqlAdvisoryStore(sql);
        const reader = new FeedReader();
        const documents = [...reader.read({ name: 'cve-2099-1234.json', bytes: Buffer.from(JSON.stringify(vexDocument())) }), ...reader.finish()];
        assert.deepEqual(documents.map((document) => document.key), ['redhat:CVE-2099-1234']);
        for (const document of documents) await store.importDocument(document);
        const stored = await store.getAdvisory('redhat', 'CVE-2099-1234');
        assert.equal(stored?.statement, STATEMENT);
        assert.deepEqual(stored?.affected.map((entry) => entry.fixState).sort(), ['affected', 'affected', 'fix-deferred', 'will-not-fix']);
        const result = await matchImage(await ubi9(), store);
        assert.deepEqual(summary(result.unfixed), EXPECTED_UBI9);
        assert.ok(result.unfixed.every((f) => f.statement === STATEMENT));
        // Importing the same document again changes nothing.
        const again = await store.importDocument(documents[0]!);
        assert.equal(again.skipped, true);
      });
    });
  }
});

describe('SARIF of VEX findings', () => {
  it('says the vendor will not fix it, with the vendor\'s statement', () => {
    const os = { id: 'rhel', idLike: [], versionId: '8.10', versionCodename: null, name: null, prettyName: null, cpe: null, source: 'etc/os-release' };
    const curl = { ecosystem: 'rpm' as const, name: 'curl', version: '7.61.1-34.el8', sourceName: 'curl', sourceVersion: '7.61.1-34.el8', path: 'var/lib/rpm/Packages', layer: 'sha256:l', purl: 'pkg:rpm/redhat/curl@7.61.1-34.el8' };
    const { unfixed } = matchPackages({ os, packages: [curl] }, [vexAdvisory()]);
    const log = toSarif(unfixed, { image: 'oci:x:y', toolVersion: '0' }) as { runs: { results: { message: { text: string } }[] }[] };
    assert.match(log.runs[0]!.results[0]!.message.text, /CVE-2099-1234 \[Medium\]: the vendor will not fix it\. Vendor statement: Only services/);
  });
});
