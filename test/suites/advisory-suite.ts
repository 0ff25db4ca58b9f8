// The AdvisoryStore contract over any SqlClient, after migrate(): importing feed documents
// (skipped when unchanged, replaced when changed, advisories leaving with the last document
// that carries them), bulk lookups by package name, status and export. Each test gets a
// fresh database from `openClient` and the store from the factories.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { migrate } from '../../src/metadata/migrations.ts';
import type { SqlClient } from '../../src/metadata/sql-client.ts';
import type { AdvisoryStore, FeedDocument } from '../../src/metadata/advisory-store.ts';
import type { Advisory, AffectedPackage } from '../../src/core/quality.ts';
import type { StoreFactories } from '../support/sql-stores.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

function deb(name: string, fixed: string, distro = 'debian:12'): AffectedPackage {
  return { ecosystem: 'deb', distro, name, ranges: [{ fixed }] };
}

function advisory(id: string, affected: AffectedPackage[], overrides: Partial<Advisory> = {}): Advisory {
  return { id, source: 'debian', kind: 'security', severity: 'High', issued: T0, cves: [id], affected, ...overrides };
}

function document(key: string, hash: string, advisories: Advisory[], source: FeedDocument['source'] = 'debian'): FeedDocument {
  return { source, key, hash, advisories };
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

export function advisorySuite(name: string, openClient: () => Promise<SqlClient>, stores: StoreFactories): void {
  describe(`AdvisoryStore contract: ${name}`, () => {
    let sql: SqlClient;
    let store: AdvisoryStore;

    beforeEach(async () => {
      sql = await openClient();
      await migrate(sql);
      store = stores.advisories(sql);
    });
    afterEach(async () => {
      await sql.close();
    });

    it('imports a document, skips it unchanged, and bumps the revision only on change', async () => {
      assert.equal(await store.revision(), 0);
      const feed = document('debian:tracker', 'h1', [advisory('CVE-2026-0001', [deb('openssl', '3.0.1-1')]), advisory('CVE-2026-0002', [deb('curl', '8.0-1')])]);
      assert.deepEqual(await store.importDocument(feed, T0), { key: 'debian:tracker', skipped: false, added: 2, updated: 0, removed: 0, unchanged: 0 });
      const first = await store.revision();
      assert.ok(first > 0);
      assert.deepEqual(await store.importDocument(feed, T0 + 1), { key: 'debian:tracker', skipped: true, added: 0, updated: 0, removed: 0, unchanged: 0 });
      // A new hash with the same content reads it but changes nothing.
      assert.deepEqual(await store.importDocument({ ...feed, hash: 'h2' }, T0 + 2), { key: 'debian:tracker', skipped: false, added: 0, updated: 0, removed: 0, unchanged: 2 });
      assert.equal(await store.revision(), first);
      const changed = document('debian:tracker', 'h3', [advisory('CVE-2026-0001', [deb('openssl', '3.0.2-1')]), advisory('CVE-2026-0003', [deb('zlib', '1.3-1')])]);
      assert.deepEqual(await store.importDocument(changed, T0 + 3), { key: 'debian:tracker', skipped: false, added: 1, updated: 1, removed: 1, unchanged: 0 });
      assert.ok((await store.revision()) > first);
      assert.equal(await store.getAdvisory('debian', 'CVE-2026-0002'), null, 'an advisory no document carries is gone');
      assert.deepEqual((await store.getAdvisory('debian', 'CVE-2026-0001'))?.affected, [deb('openssl', '3.0.2-1')]);
    });

    it('getAdvisory returns the header and every affected package, as imported', async () => {
      const full = advisory('RHSA-2026:0001', [
        // In name order, as a lookup returns them.
        { ecosystem: 'rpm', distro: 'rhel:9', name: 'kernel', ranges: [{}], fixState: 'will-not-fix', fixStatement: 'Will not fix' },
        { ecosystem: 'rpm', distro: 'rhel:9', name: 'nodejs', module: 'nodejs:20', ranges: [{ introduced: '1:20.0.0', fixed: '1:20.11.1-1.el9' }, { introduced: '1:21.0.0', lastAffected: '1:21.1.0' }] },
        { ecosystem: 'rpm', distro: 'rhel:9', cpe: 'cpe:/o:redhat:enterprise_linux:9::baseos', name: 'openssl', ranges: [{ fixed: '1:3.0.7-27.el9' }], arch: 'src' },
      ], { source: 'redhat', kind: 'bugfix', title: 'openssl update', severity: 'Critical', vendorSeverity: 'Important', updated: T0 + DAY, references: ['https://example.com/RHSA'], statement: 'a statement', cves: ['CVE-2026-1', 'CVE-2026-2'] });
      await store.importDocument(document('redhat:RHSA-2026:0001', 'h', [full], 'redhat'), T0);
      assert.deepEqual(await store.getAdvisory('redhat', 'RHSA-2026:0001'), full);
      assert.equal(await store.getAdvisory('debian', 'RHSA-2026:0001'), null, 'advisories are per source');
    });

    it('affectedFor looks names up in bulk, per ecosystem and distro release, each entry once', async () => {
      const names = Array.from({ length: 1200 }, (_, index) => `pkg${index}`);
      await store.importDocument(document('debian:big', 'h', [advisory('CVE-2026-1000', names.map((name) => deb(name, '2.0')))]), T0);
      await store.importDocument(document('debian:other', 'h', [advisory('CVE-2026-2000', [deb('pkg5', '3.0'), deb('pkg5', '3.0', 'debian:11')])]), T0);
      // The same entry carried by a second document (a bundle of the feed) counts once.
      await store.importDocument(document('debian:bundle', 'h', [advisory('CVE-2026-2000', [deb('pkg5', '3.0')])]), T0);
      await store.importDocument(document('osv:npm', 'h', [advisory('GHSA-1', [{ ecosystem: 'npm', name: 'pkg5', ranges: [{ introduced: '0', fixed: '1.2.3' }] }], { source: 'osv' })], 'osv'), T0);

      const hits = await store.affectedFor('deb', 'debian:12', [...names, 'pkg5', 'absent']);
      assert.equal(hits.length, 1201);
      const pkg5 = hits.filter((hit) => hit.affected.name === 'pkg5').map((hit) => `${hit.advisory.id} ${hit.affected.ranges[0]?.fixed}`).sort();
      assert.deepEqual(pkg5, ['CVE-2026-1000 2.0', 'CVE-2026-2000 3.0']);
      const hit = hits.find((entry) => entry.advisory.id === 'CVE-2026-2000')!;
      assert.equal('affected' in hit.advisory, false, 'a hit carries the advisory header, not its whole list');
      assert.deepEqual((await store.affectedFor('deb', 'debian:11', ['pkg5'])).map((entry) => entry.affected.distro), ['debian:11']);
      assert.deepEqual((await store.affectedFor('npm', null, ['pkg5'])).map((entry) => entry.advisory.id), ['GHSA-1']);
      assert.deepEqual(await store.affectedFor('rpm', 'rhel:9', ['pkg5']), []);
      assert.deepEqual(await store.affectedFor('deb', 'debian:12', []), []);
    });

    it('an advisory stays while any document carries it; each document replaces only its own rows', async () => {
      await store.importDocument(document('debian:a', 'h1', [advisory('CVE-2026-3000', [deb('one', '1.0')])]), T0);
      await store.importDocument(document('debian:b', 'h1', [advisory('CVE-2026-3000', [deb('two', '2.0')])]), T0);
      assert.deepEqual((await store.getAdvisory('debian', 'CVE-2026-3000'))?.affected.map((entry) => entry.name).sort(), ['one', 'two']);
      await store.importDocument(document('debian:a', 'h2', []), T0 + 1);
      assert.deepEqual((await store.getAdvisory('debian', 'CVE-2026-3000'))?.affected.map((entry) => entry.name), ['two']);
      await store.importDocument(document('debian:b', 'h2', []), T0 + 2);
      assert.equal(await store.getAdvisory('debian', 'CVE-2026-3000'), null);
    });

    it('a document naming an advisory twice stores one advisory with both packages', async () => {
      await store.importDocument(document('alpine:v3.19/main', 'h', [advisory('CVE-2026-4000', [deb('a', '1')]), advisory('CVE-2026-4000', [deb('b', '2')], { cves: ['CVE-2026-4001'] })], 'alpine'), T0);
      const stored = await store.getAdvisory('debian', 'CVE-2026-4000');
      assert.deepEqual(stored?.affected.map((entry) => entry.name).sort(), ['a', 'b']);
      assert.deepEqual([...(stored?.cves ?? [])].sort(), ['CVE-2026-4000', 'CVE-2026-4001']);
    });

    it('status counts per source with the last import and the newest date; documents and their advisories export in pages', async () => {
      await store.importDocument(document('debian:tracker', 'h', [advisory('CVE-1', [deb('a', '1')], { updated: T0 + 5 * DAY }), advisory('CVE-2', [deb('b', '1'), deb('c', '1')])]), T0 + DAY);
      await store.importDocument(document('alpine:v3.19', 'h', [advisory('CVE-3', [{ ecosystem: 'apk', distro: 'alpine:3.19', name: 'musl', ranges: [{ fixed: '1.2' }] }], { source: 'alpine' })], 'alpine'), T0 + 2 * DAY);
      const status = await store.status();
      assert.equal(status.revision, await store.revision());
      assert.deepEqual(status.sources, [
        { source: 'alpine', documents: 1, advisories: 1, affected: 1, lastImport: T0 + 2 * DAY, newest: T0 },
        { source: 'debian', documents: 1, advisories: 2, affected: 3, lastImport: T0 + DAY, newest: T0 + 5 * DAY },
      ]);
      const documents = await store.documents();
      assert.deepEqual(documents.map((entry) => [entry.source, entry.key, entry.hash, entry.importedAt]), [['debian', 'debian:tracker', 'h', T0 + DAY], ['alpine', 'alpine:v3.19', 'h', T0 + 2 * DAY]]);
      const exported = await collect(store.documentAdvisories(documents[0]!.id, 1));
      assert.deepEqual(exported.map((entry) => [entry.id, entry.affected.map((affected) => affected.name).sort()]), [['CVE-1', ['a']], ['CVE-2', ['b', 'c']]]);
      assert.deepEqual(await collect(store.documentAdvisories(9999)), []);
    });

    it('coveringSource names the source holding entries for an ecosystem and release; markCurrent restarts a source\'s age', async () => {
      assert.equal(await store.coveringSource('deb', 'debian:12'), null, 'an empty database covers nothing');
      await store.importDocument(document('debian:tracker', 'h', [advisory('CVE-1', [deb('a', '1')])]), T0);
      await store.importDocument(document('osv:GHSA-1', 'h', [advisory('GHSA-1', [{ ecosystem: 'npm', name: 'left-pad', ranges: [{ fixed: '2' }] }], { source: 'osv' })], 'osv'), T0);
      assert.equal(await store.coveringSource('deb', 'debian:12'), 'debian');
      assert.equal(await store.coveringSource('deb', 'debian:11'), null, 'another release is not covered');
      assert.equal(await store.coveringSource('npm', null), 'osv');
      assert.equal(await store.coveringSource('pypi', null), null);
      await store.markCurrent('debian', T0 + 3 * DAY);
      assert.equal((await store.status()).sources.find((source) => source.source === 'debian')?.lastImport, T0 + 3 * DAY);
    });
  });
}
