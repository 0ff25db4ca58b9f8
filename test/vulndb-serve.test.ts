// The updater inside `custody serve`: a job on the server's scheduler, pointed at a local
// mirror of the publishers (test/support/feed-mirror.ts). It fetches only what the stored
// images need (a Debian image: the Debian tracker, no Alpine secdb), a stored image gets
// a grade once data arrives, and a new advisory on the mirror re-grades it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, startCustody, type CustodyServer } from './support/custody-server.ts';
import { debianLayout, ociRef } from './support/images.ts';
import { requireTool, runOk } from './support/tools.ts';
import { FeedMirror } from './support/feed-mirror.ts';
import { runCustody } from './support/custody-server.ts';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const REPOSITORY = 'library/debian';

interface GradeBody {
  grade: string;
  reason: string | null;
  data: { dataAsOf: number | null; sources: { source: string }[] };
  deciding: { advisoryId: string }[];
}

describe('the advisory updater as a scheduled job of custody serve', () => {
  const mirror = new FeedMirror();
  let server: CustodyServer;
  const basic = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;

  before(async () => {
    requireTool('skopeo');
    await mirror.start();
    server = await startCustody({
      auth: true,
      env: {
        CUSTODY_VULNDB_UPDATE: 'true',
        CUSTODY_VULNDB_UPDATE_INTERVAL: '1s',
        CUSTODY_VULNDB_SOURCES: `debian=${mirror.url}/debian,alpine=${mirror.url}/alpine,redhat-csaf=${mirror.url}/redhat-csaf`,
      },
    });
  });
  after(async () => {
    await server?.dispose();
    await mirror.stop();
  });

  async function grade(digest: string): Promise<GradeBody> {
    const response = await fetch(`${server.url}/api/v1/repositories/${REPOSITORY}/-/manifests/${digest}/grade`, { headers: { authorization: basic } });
    return (await response.json()) as GradeBody;
  }

  async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const value = await probe().catch(() => undefined);
      if (value !== undefined) return value;
      assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  it('fetches what the stored images need, grades them, and re-grades them when the mirror publishes a new advisory', async () => {
    // Nothing stored: nothing needed, nothing fetched.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.equal(mirror.requests.length, 0);

    await runOk('skopeo', ['copy', '-q', '--dest-tls-verify=false', '--dest-creds', `admin:${ADMIN_PASSWORD}`, ociRef(debianLayout(), 'bookworm-curl'), `docker://${server.host}/${REPOSITORY}:curl`]);
    const head = await fetch(`${server.url}/v2/${REPOSITORY}/manifests/curl`, { method: 'HEAD', headers: { authorization: basic, accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' } });
    const digest = head.headers.get('docker-content-digest')!;
    assert.ok(digest, `HEAD ${head.status}`);

    // Indexed, then graded once the scheduled updater fetched the Debian tracker.
    const first = await until('a grade backed by data', async () => {
      const body = await grade(digest);
      return body.grade !== undefined && body.grade !== '?' ? body : undefined;
    });
    assert.match(first.grade, /^[A-F]$/);
    assert.deepEqual(first.data.sources.map((source) => source.source), ['debian']);
    assert.ok(first.data.dataAsOf !== null && Date.now() - first.data.dataAsOf < 60_000);
    const paths = new Set(mirror.requests.map((request) => request.path));
    assert.ok(paths.has('/debian/data/json'));
    assert.ok(![...paths].some((path) => path.startsWith('/alpine/') || path.startsWith('/redhat-csaf/')), `only what a Debian image needs: ${[...paths].join(', ')}`);

    // The mirror publishes a High tracker CVE for curl in bookworm, fixed in a later version.
    const tracker = JSON.parse(mirror.files.get('/debian/data/json')!.toString()) as Record<string, unknown>;
    tracker.curl = {
      'CVE-2099-0002': {
        scope: 'remote',
        description: 'test vulnerability in curl',
        releases: { bookworm: { status: 'resolved', repositories: { bookworm: '7.88.1-10+deb12u99' }, fixed_version: '7.88.1-10+deb12u99', urgency: 'high' } },
      },
    };
    mirror.set('/debian/data/json', JSON.stringify(tracker));
    const regraded = await until('the re-grade by the scheduled updater', async () => {
      const body = await grade(digest);
      return body.deciding?.some((erratum) => erratum.advisoryId === 'CVE-2099-0002') ? body : undefined;
    });
    // High (Important), undated: dated by when it first applied here, today: B at best.
    assert.match(regraded.grade, /^[B-F]$/);
    assert.notEqual(first.deciding.some((erratum) => erratum.advisoryId === 'CVE-2099-0002'), true);

    // `custody vulndb update --config` without --source: the same choice as the server's job.
    const config = join(server.dataDir, 'custody.yaml');
    await writeFile(config, `dataDir: ${server.dataDir}\nvulndb:\n  sources: debian=${mirror.url}/debian,alpine=${mirror.url}/alpine\n`);
    const update = await runCustody(['vulndb', 'update', '--config', config]);
    assert.equal(update.code, 0, update.stdout + update.stderr);
    assert.match(update.stdout, /^debian: 0 documents imported/m);
    assert.doesNotMatch(update.stdout, /alpine/);
  });
});
