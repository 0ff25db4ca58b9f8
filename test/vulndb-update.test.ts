// `custody vulndb update` against a local mirror laying out the shared samples as the
// publishers do (test/support/feed-mirror.ts): the same database as `custody vulndb
// import` of the same samples, through a connection cut mid-archive (resumed with Range)
// and a 503 with Retry-After; a second run transfers only what changed; a document failing
// its checksum is not imported; a truncated archive fails its source and not the others,
// and the images it covers get no grade.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCustody } from './support/custody-server.ts';
import { FeedMirror, ARCHIVE_DAY, osvRecord } from './support/feed-mirror.ts';
import { sharedDir } from './support/paths.ts';
import { ociRef } from './support/images.ts';
import { SqliteClient } from '../src/metadata/sqlite-client.ts';
import { PostgresClient } from '../src/metadata/postgres-client.ts';
import type { SqlClient } from '../src/metadata/sql-client.ts';
import { createTestDatabase } from './support/postgres.ts';

const ARCHIVE = `/redhat-csaf/csaf_advisories_${ARCHIVE_DAY}.tar.zst`;

/** Advisories and affected rows, without what differs by how they arrived (ids, hashes, times). */
async function dump(target: string | SqlClient): Promise<{ advisories: unknown[]; affected: unknown[]; documents: unknown[] }> {
  const sql = typeof target === 'string' ? new SqliteClient(target) : target;
  try {
    const advisories = await sql.query('SELECT source, advisory_id, kind, title, severity, vendor_severity, issued, updated, cves, refs, statement FROM vulndb_advisories ORDER BY source, advisory_id');
    const affected = await sql.query(
      `SELECT v.source, v.advisory_id, d.document_key, a.ecosystem, a.distro, a.name, a.cpe, a.module, a.arch, a.introduced, a.fixed, a.last_affected, a.ranges, a.fix_state, a.fix_statement
         FROM vulndb_affected a JOIN vulndb_advisories v ON v.id = a.advisory JOIN vulndb_documents d ON d.id = a.document_id
        ORDER BY v.source, v.advisory_id, d.document_key, a.ecosystem, a.distro, a.name, a.fixed, a.cpe, a.module, a.arch`,
    );
    const documents = await sql.query('SELECT source, document_key FROM vulndb_documents ORDER BY document_key');
    // Engines spell numbers differently (BIGINT as text on PostgreSQL): compare as text.
    // Sorted here: the engines order NULLs differently.
    const plain = (rows: object[]): unknown[] => rows.map((row) => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, value === null ? null : String(value)]))).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
    return { advisories: plain(advisories), affected: plain(affected), documents: plain(documents) };
  } finally {
    if (typeof target === 'string') await sql.close();
  }
}

describe('custody vulndb update from the publishers\' layouts', () => {
  const mirror = new FeedMirror();
  let work: string;
  let updated: string;
  const sources = (): string[] => [
    '--source', `redhat-csaf=${mirror.url}/redhat-csaf`,
    '--source', `redhat-vex=${mirror.url}/redhat-vex`,
    '--source', `debian=${mirror.url}/debian`,
    '--source', `alpine=${mirror.url}/alpine`,
    '--source', `osv:npm=${mirror.url}/osv`,
  ];
  const okPaths = (from: number): string[] => mirror.since(from).filter((request) => request.status === 200 || request.status === 206).map((request) => request.path).sort();

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'custody-update-'));
    updated = join(work, 'updated.sqlite');
    await mirror.start();
  });
  after(async () => {
    await mirror.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('gives exactly the database `vulndb import` of the same samples gives, through a cut archive and a Retry-After', async () => {
    mirror.faults.set(ARCHIVE, { kind: 'cut', afterBytes: 4000, times: 1 });
    mirror.faults.set('/debian/data/json', { kind: 'retry-after', seconds: 1, times: 1 });
    const result = await runCustody(['vulndb', 'update', '--db', updated, ...sources()]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /^redhat-csaf: 8 documents imported, 0 unchanged/m);
    assert.match(result.stdout, /^redhat-vex: 1 documents imported/m);
    assert.match(result.stdout, /^debian: 2 documents imported/m);
    assert.match(result.stdout, /^alpine: 6 documents imported/m);
    assert.match(result.stdout, /^osv: 2 documents imported/m);

    const imported = join(work, 'imported.sqlite');
    const direct = await runCustody(['vulndb', 'import', '--db', imported, mirror.samples.redhat, mirror.samples.vex, mirror.samples.debian, mirror.samples.alpine, mirror.samples.osv]);
    assert.equal(direct.code, 0, direct.stderr);
    const [fromUpdate, fromImport] = [await dump(updated), await dump(imported)];
    assert.ok(fromImport.advisories.length > 50, `samples imported: ${fromImport.advisories.length}`);
    assert.deepEqual(fromUpdate.documents, fromImport.documents);
    assert.deepEqual(fromUpdate.advisories, fromImport.advisories);
    assert.deepEqual(fromUpdate.affected, fromImport.affected);

    // The cut archive was resumed where it stopped, under its ETag.
    const archive = mirror.requests.filter((request) => request.path === ARCHIVE);
    assert.deepEqual(archive.map((request) => [request.status, request.range]), [[200, null], [206, 'bytes=4000-']]);
    // Retry-After: 1 was waited for.
    const tracker = mirror.requests.filter((request) => request.path === '/debian/data/json');
    assert.deepEqual(tracker.map((request) => request.status), [503, 200]);
    assert.ok(tracker[1]!.at - tracker[0]!.at >= 950, `retried after ${tracker[1]!.at - tracker[0]!.at} ms`);
    // Only the two documents modified after the archive's day were fetched one by one, with their checksums.
    assert.deepEqual(okPaths(0).filter((path) => /\/rhsa-/.test(path)), [
      '/redhat-csaf/2024/rhsa-2024_1431.json', '/redhat-csaf/2024/rhsa-2024_1431.json.sha256',
      '/redhat-csaf/2024/rhsa-2024_6163.json', '/redhat-csaf/2024/rhsa-2024_6163.json.sha256',
    ]);
    const status = await runCustody(['vulndb', 'status', '--db', updated]);
    assert.match(status.stdout, /redhat-csaf +http:\/\/127\.0\.0\.1:\d+\/redhat-csaf +\d{4}-\d\d-\d\d +today +8 +-/);
  });

  it('into PostgreSQL: the same database', async () => {
    const database = await createTestDatabase();
    try {
      const result = await runCustody(['vulndb', 'update', '--database-url', database.url, ...sources()]);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      const sql = new PostgresClient({ url: database.url, maxConnections: 1 });
      try {
        assert.deepEqual(await dump(sql), await dump(join(work, 'imported.sqlite')));
      } finally {
        await sql.close();
      }
    } finally {
      await database.drop();
    }
  });

  it('a second run transfers only what changed: 304s, then the one changed advisory and the new record', async () => {
    let from = mirror.requests.length;
    let result = await runCustody(['vulndb', 'update', '--db', updated, ...sources()]);
    assert.equal(result.code, 0, result.stderr);
    // Nothing changed: every index answered 304; only the alpine index page (it has no validators) is read.
    assert.deepEqual(okPaths(from), ['/alpine/']);
    assert.ok(mirror.since(from).filter((request) => request.status === 304).length >= 9);
    assert.match(result.stdout, /^redhat-csaf: 0 documents imported, 0 unchanged/m);

    // A new advisory on the mirror: an RHSA revised today, a new OSV record.
    const revisedAt = new Date().toISOString();
    const revised = JSON.parse((mirror.files.get('/redhat-csaf/2024/rhsa-2024_0010.json')!).toString()) as { document: { title: string; tracking: { current_release_date: string } } };
    revised.document.title = 'Revised: tigervnc security update';
    revised.document.tracking.current_release_date = revisedAt;
    mirror.setDocument('/redhat-csaf/2024/rhsa-2024_0010.json', JSON.stringify(revised));
    const changes = mirror.files.get('/redhat-csaf/changes.csv')!.toString();
    mirror.set('/redhat-csaf/changes.csv', `"2024/rhsa-2024_0010.json","${revisedAt}"\n${changes}`);
    const record = osvRecord('GHSA-aaaa-0003', 'minimist', '1.2.6', '2026-11-30T00:00:00Z');
    mirror.set('/osv/npm/GHSA-aaaa-0003.json', JSON.stringify(record));
    mirror.setOsvIndex([record, osvRecord('GHSA-aaaa-0001', 'left-pad', '1.3.0', '2026-01-10T00:00:00Z'), osvRecord('GHSA-aaaa-0002', 'lodash', '4.17.21', '2026-02-10T00:00:00Z')]);
    from = mirror.requests.length;
    result = await runCustody(['vulndb', 'update', '--db', updated, ...sources()]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(okPaths(from), [
      '/alpine/', '/osv/npm/GHSA-aaaa-0003.json', '/osv/npm/modified_id.csv',
      '/redhat-csaf/2024/rhsa-2024_0010.json', '/redhat-csaf/2024/rhsa-2024_0010.json.sha256', '/redhat-csaf/changes.csv',
    ]);
    const sql = new SqliteClient(updated);
    try {
      assert.deepEqual((await sql.query<{ title: string }>('SELECT title FROM vulndb_advisories WHERE advisory_id = ?', ['RHSA-2024:0010'])).map((row) => row.title), ['Revised: tigervnc security update']);
      assert.equal((await sql.query('SELECT 1 FROM vulndb_advisories WHERE advisory_id = ?', ['GHSA-aaaa-0003'])).length, 1);
    } finally {
      await sql.close();
    }
  });

  it('a document failing its checksum is not imported and is fetched again next run', async () => {
    const path = '/redhat-csaf/2024/rhsa-2024_9371.json';
    const original = mirror.files.get(path)!;
    const revised = JSON.parse(original.toString()) as { document: { title: string; tracking: { current_release_date: string } } };
    revised.document.title = 'Tampered';
    const at = new Date().toISOString();
    revised.document.tracking.current_release_date = at;
    mirror.setDocument(path, JSON.stringify(revised), 'a'.repeat(64));
    mirror.set('/redhat-csaf/changes.csv', `"2024/rhsa-2024_9371.json","${at}"\n${mirror.files.get('/redhat-csaf/changes.csv')!.toString()}`);
    let result = await runCustody(['vulndb', 'update', '--db', updated, '--source', `redhat-csaf=${mirror.url}/redhat-csaf`]);
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stderr, /2024\/rhsa-2024_9371\.json: sha256 [0-9a-f]{64} does not match the published a{64}; not imported/);
    assert.match(result.stdout, /1 document failed its check and was not imported: 2024\/rhsa-2024_9371\.json/);
    const title = async (): Promise<unknown> => {
      const sql = new SqliteClient(updated);
      try {
        return (await sql.query<{ title: string }>('SELECT title FROM vulndb_advisories WHERE advisory_id = ?', ['RHSA-2024:9371']))[0]?.title;
      } finally {
        await sql.close();
      }
    };
    assert.notEqual(await title(), 'Tampered');
    assert.match((await runCustody(['vulndb', 'status', '--db', updated])).stdout, /redhat-csaf .*1 document failed its check/);
    // Published correctly: the next run fetches it again (changes.csv unchanged) and imports it.
    mirror.setDocument(path, JSON.stringify(revised));
    result = await runCustody(['vulndb', 'update', '--db', updated, '--source', `redhat-csaf=${mirror.url}/redhat-csaf`]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal(await title(), 'Tampered');
    // A document withdrawn (deletions.csv) takes what it contributed with it.
    mirror.set('/redhat-vex/deletions.csv', `"2099/cve-2099-1234.json","${new Date().toISOString()}"\n`);
    result = await runCustody(['vulndb', 'update', '--db', updated, '--source', `redhat-vex=${mirror.url}/redhat-vex`]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const sql = new SqliteClient(updated);
    try {
      assert.deepEqual(await sql.query('SELECT advisory_id FROM vulndb_advisories WHERE advisory_id = ?', ['CVE-2099-1234']), []);
    } finally {
      await sql.close();
    }
  });

  it('a truncated archive fails its source and not the others; its images get no grade, and say why', async () => {
    const fresh = join(work, 'fresh.sqlite');
    const whole = mirror.files.get(ARCHIVE)!;
    mirror.set(ARCHIVE, whole.subarray(0, Math.floor(whole.length / 2)));
    mirror.files.delete(`${ARCHIVE}.sha256`);
    const result = await runCustody(['vulndb', 'update', '--db', fresh, ...sources()]);
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stdout, /^redhat-csaf: FAILED: /m);
    assert.match(result.stdout, /^debian: 2 documents imported/m);
    assert.match(result.stdout, /^alpine: 6 documents imported/m);
    assert.match(result.stdout, /^osv: 2 documents imported/m);
    const status = await runCustody(['vulndb', 'status', '--db', fresh]);
    assert.match(status.stdout, /redhat-csaf +http:\S+ +- +never +\d+ +\S/);
    const grade = await runCustody(['grade', ociRef(sharedDir('images', 'ubi9-synthetic-oci'), '9.4-synthetic'), '--vulndb', fresh]);
    assert.equal(grade.code, 0, grade.stderr);
    assert.match(grade.stdout, /grade \? \(.*(redhat: no complete update yet|no advisory data for rhel:9)/);
    mirror.set(ARCHIVE, whole);
  });
});
