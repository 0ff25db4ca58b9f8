// Image quality end to end, the way users meet it: skopeo pushes a real image to a
// `custody serve` with authentication on, the registry indexes it in the background, and
// the API shows the same packages, findings and grade as `custody scan` of the image's
// OCI layout. An advisory imported afterwards re-grades the stored image.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_PASSWORD, runCustody, startCustody, type CustodyServer } from './support/custody-server.ts';
import { debianLayout, ociRef } from './support/images.ts';
import { requireTool, runOk } from './support/tools.ts';

const REPOSITORY = 'admin/debian';
const DAY = 86_400_000;

interface ScanJson {
  digest: string;
  packages: { ecosystem: string; name: string; version: string; layer: string }[];
  findings: { advisoryId: string; package: { name: string } }[];
  grade: { grade: string };
}

describe('image quality through custody serve', () => {
  let server: CustodyServer;
  let work: string;
  const basic = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;

  before(async () => {
    requireTool('skopeo');
    work = await mkdtemp(join(tmpdir(), 'custody-quality-serve-'));
    server = await startCustody({ auth: true });
  });
  after(async () => {
    await server?.dispose();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** `authorization` null: an anonymous call. */
  async function api(path: string, authorization: string | null = basic): Promise<Response> {
    return fetch(`${server.url}/api/v1/repositories/${REPOSITORY}/-/manifests/${path}`, { headers: authorization === null ? {} : { authorization } });
  }

  async function waitIndexed(digest: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const response = await api(`${digest}/status`);
      const status = (await response.json()) as { status: string; error: string | null };
      if (status.status === 'indexed') return;
      assert.notEqual(status.status, 'failed', `indexing failed: ${status.error}`);
      assert.ok(Date.now() < deadline, `still ${status.status} after 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  async function scan(vulndb: string): Promise<ScanJson> {
    const result = await runCustody(['scan', ociRef(debianLayout(), 'bookworm-curl'), '--format', 'json', '--vulndb', vulndb]);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as ScanJson;
  }

  it('a pushed image is indexed, and the API agrees with custody scan; a new advisory re-grades it', async () => {
    await runOk('skopeo', ['copy', '-q', '--dest-tls-verify=false', '--dest-creds', `admin:${ADMIN_PASSWORD}`, ociRef(debianLayout(), 'bookworm-curl'), `docker://${server.host}/${REPOSITORY}:curl`]);
    // An advisory database with nothing in it yet: no grade (`?`), never A for want of data.
    const emptyDb = join(work, 'empty.sqlite');
    await mkdir(join(work, 'no-feeds'));
    const created = await runCustody(['vulndb', 'import', '--db', emptyDb, join(work, 'no-feeds')]);
    assert.equal(created.code, 0, created.stderr);
    const before = await scan(emptyDb);
    await waitIndexed(before.digest);

    // Read access is required: anonymous callers are challenged.
    assert.equal((await api(`${before.digest}/packages`, null)).status, 401);

    const packages = (await (await api(`${before.digest}/packages`)).json()) as { packages: ScanJson['packages'] };
    const key = (p: ScanJson['packages'][number]): string => `${p.ecosystem} ${p.name} ${p.version} ${p.layer}`;
    assert.deepEqual(packages.packages.map(key).sort(), before.packages.map(key).sort());
    assert.ok(packages.packages.some((p) => p.name === 'curl' && p.version === '7.88.1-10+deb12u15'));
    assert.equal(before.grade.grade, '?');
    assert.equal(((await (await api(`${before.digest}/grade`)).json()) as { grade: string }).grade, '?');

    // A Critical advisory for curl in Debian 12, published ten days ago and fixed in a
    // later version: Critical older than 7 days is grade C.
    const published = new Date(Date.now() - 10 * DAY).toISOString();
    const feed = join(work, 'feed');
    await mkdir(feed);
    await writeFile(
      join(feed, 'OSV-CUSTODY-TEST-1.json'),
      JSON.stringify({
        id: 'OSV-CUSTODY-TEST-1',
        modified: published,
        published,
        aliases: ['CVE-2099-0001'],
        summary: 'test advisory for curl',
        database_specific: { severity: 'CRITICAL' },
        affected: [{ package: { ecosystem: 'Debian:12', name: 'curl' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '7.88.1-10+deb12u99' }] }] }],
      }),
    );
    for (const db of [join(server.dataDir, 'custody.db'), join(work, 'client.sqlite')]) {
      const imported = await runCustody(['vulndb', 'import', '--db', db, feed]);
      assert.equal(imported.code, 0, imported.stderr);
    }
    const scanned = await scan(join(work, 'client.sqlite'));
    assert.equal(scanned.grade.grade, 'C');
    assert.deepEqual([...new Set(scanned.findings.map((f) => f.package.name))].sort(), ['curl', 'libcurl4']);

    // The registry re-matches its stored package list (no layer is read again).
    const deadline = Date.now() + 30_000;
    let grade = '?';
    while (grade !== 'C' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      grade = ((await (await api(`${before.digest}/grade`)).json()) as { grade: string }).grade;
    }
    assert.equal(grade, 'C');
    const findings = (await (await api(`${before.digest}/findings`)).json()) as { findings: ScanJson['findings'] };
    assert.deepEqual(findings.findings.map((f) => `${f.advisoryId} ${f.package.name}`).sort(), scanned.findings.map((f) => `${f.advisoryId} ${f.package.name}`).sort());
  });
});
