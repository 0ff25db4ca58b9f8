// What one image may cost the registry's indexer (issue 10, item 5), through a real
// `custody serve`: a 1.5 KB manifest listing a 4 GiB gzip bomb ten times, a manifest
// listing one layer 20,000 times, an image that takes longer than the time budget. Each
// is stopped at its bound within seconds and reported "not indexed" with the figure
// (the quality API's status; `custody scan`: one line, exit 1), and the image queued
// after it is indexed. Limits are small here to keep the tests fast.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCustody, startCustody, type CustodyServer } from './support/custody-server.ts';
import { GiB, LAYER_A, gzipBomb, imageOf, type TestImage } from './support/hostile-images.ts';
import { OCI_MANIFEST, debianLayout, layoutEntry, ociRef, sha256 } from './support/images.ts';
import { OciClient } from './support/oci-client.ts';
import { tempDirs } from './support/temp-files.ts';
import { requireTool, runOk, waitFor } from './support/tools.ts';

const newDir = tempDirs('custody-quality-bounds-');

/** Pushes an image with the plain distribution API; returns the manifest digest. */
async function push(server: CustodyServer, repository: string, tag: string, image: TestImage): Promise<string> {
  const client = new OciClient(server.url);
  for (const blob of [image.config, ...image.blobs.values()]) {
    const response = await client.pushBlob(repository, blob);
    assert.equal(response.status, 201, response.text());
  }
  const response = await client.pushManifest(repository, tag, image.manifest, OCI_MANIFEST);
  assert.equal(response.status, 201, response.text());
  return sha256(image.manifest);
}

interface Status {
  status: string;
  error: string | null;
}

async function status(server: CustodyServer, repository: string, digest: string): Promise<Status> {
  const response = await fetch(`${server.url}/api/v1/repositories/${repository}/-/manifests/${digest}/status`);
  assert.equal(response.status, 200);
  return (await response.json()) as Status;
}

/** Waits until the image is indexed or failed (the time limit is the "within seconds" of the test). */
function settled(server: CustodyServer, repository: string, digest: string, seconds = 20): Promise<Status> {
  return waitFor(`${repository}@${digest} to be indexed or refused`, async () => {
    const current = await status(server, repository, digest);
    return current.status === 'indexed' || current.status === 'failed' ? current : undefined;
  }, seconds * 1000, 50);
}

/** User plus system CPU time of a process, in clock ticks (/proc/PID/stat fields 14 and 15). */
async function cpuTicks(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).replace(/^.*\) /s, '').split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

describe('indexing bounds through custody serve', () => {
  let server: CustodyServer;

  before(async () => {
    requireTool('skopeo');
    server = await startCustody({ args: ['--quality-max-layer-bytes', '256MiB', '--quality-max-image-bytes', '1GiB', '--quality-max-entries', '20000', '--quality-time-budget', '60s'] });
  });
  after(async () => {
    await server?.dispose();
  });

  it('a 1.5 KB manifest listing a 4 GiB gzip bomb ten times is "not indexed: too large" within seconds; the next image is indexed', async () => {
    const bomb = gzipBomb(4 * GiB);
    const image = imageOf(Array.from({ length: 10 }, () => bomb));
    assert.ok(image.manifest.length < 2048, `manifest of ${image.manifest.length} bytes`);
    const digest = await push(server, 'evil/bomb', 'latest', image);
    // A real image pushed right after: it waits behind the bomb in the queue.
    await runOk('skopeo', ['copy', '-q', '--dest-tls-verify=false', ociRef(debianLayout(), 'bookworm-minbase'), `docker://${server.host}/library/debian:minbase`]);
    const debian = (await layoutEntry(debianLayout(), 'bookworm-minbase')).digest;

    const refused = await settled(server, 'evil/bomb', digest);
    assert.equal(refused.status, 'failed');
    assert.equal(refused.error, `not indexed: too large: layer 1 (${sha256(bomb)}) inflates to more than 256 MiB (quality.maxLayerBytes)`);
    const packages = await fetch(`${server.url}/api/v1/repositories/evil/bomb/-/manifests/${digest}/packages`);
    assert.equal(packages.status, 409);
    assert.match(await packages.text(), /not indexed: too large/);

    const indexed = await settled(server, 'library/debian', debian, 60);
    assert.equal(indexed.status, 'indexed', indexed.error ?? '');
  });

  it('20,000 identical layer descriptors are walked once and indexed', async () => {
    const image = imageOf(Array.from({ length: 20_000 }, () => LAYER_A));
    const digest = await push(server, 'evil/many', 'latest', image);
    const result = await settled(server, 'evil/many', digest);
    assert.equal(result.status, 'indexed', result.error ?? '');
    const packages = (await (await fetch(`${server.url}/api/v1/repositories/evil/many/-/manifests/${digest}/packages`)).json()) as { layers: unknown[]; packages: { name: string }[] };
    assert.equal(packages.layers.length, 1);
    assert.deepEqual(packages.packages.map((p) => p.name), ['hello']);
  });
});

describe('the indexing time budget through custody serve', () => {
  let server: CustodyServer;

  before(async () => {
    // Default byte bounds: only the time budget can stop this bomb.
    server = await startCustody({ args: ['--quality-time-budget', '2s'] });
  });
  after(async () => {
    await server?.dispose();
  });

  it('abandons an image that takes longer than the budget; the image queued after it is indexed', async () => {
    const bomb = gzipBomb(8 * GiB);
    const digest = await push(server, 'evil/slow', 'latest', imageOf([bomb]));
    const small = await push(server, 'library/small', 'latest', imageOf([LAYER_A]));
    const abandoned = await settled(server, 'evil/slow', digest);
    assert.equal(abandoned.status, 'failed');
    assert.equal(abandoned.error, 'not indexed: took longer than 2s (quality.timeBudget)');
    const indexed = await settled(server, 'library/small', small);
    assert.equal(indexed.status, 'indexed', indexed.error ?? '');
    assert.ok(server.logs.some((line) => line.includes('"quality: image not indexed"') && line.includes('took longer than 2s')));
    // The inflation really stopped: the rest of the 8 GiB would keep a core busy for
    // seconds, and the server now idles (CPU in clock ticks, 100 a second when busy).
    const before = await cpuTicks(server.process.pid!);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const spent = (await cpuTicks(server.process.pid!)) - before;
    assert.ok(spent < 30, `the server used ${spent} ticks of CPU in the second after`);
  });
});

describe('custody scan of a gzip bomb', () => {
  it('fails with one line naming the bound and a non-zero exit', async () => {
    const dir = newDir();
    const layout = join(dir, 'layout');
    const bomb = gzipBomb(4 * GiB);
    const image = imageOf(Array.from({ length: 10 }, () => bomb));
    await mkdir(join(layout, 'blobs', 'sha256'), { recursive: true });
    for (const blob of [image.config, image.manifest, ...image.blobs.values()]) await writeFile(join(layout, 'blobs', 'sha256', sha256(blob).slice(7)), blob);
    await writeFile(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await writeFile(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: OCI_MANIFEST, digest: sha256(image.manifest), size: image.manifest.length, annotations: { 'org.opencontainers.image.ref.name': 'bomb' } }] }));
    await mkdir(join(dir, 'no-feeds'));
    const vulndb = join(dir, 'vulndb.sqlite');
    assert.equal((await runCustody(['vulndb', 'import', '--db', vulndb, join(dir, 'no-feeds')])).code, 0);

    const result = await runCustody(['scan', `oci:${layout}:bomb`, '--vulndb', vulndb, '--max-layer-size', '64MiB', '--format', 'json']);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, `custody scan: oci:${layout}:bomb: not indexed: too large: layer 1 (${sha256(bomb)}) inflates to more than 64 MiB (--max-layer-size)\n`);

    const usage = await runCustody(['scan', `oci:${layout}:bomb`, '--vulndb', vulndb, '--max-layer-size', 'lots']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /^custody scan: --max-layer-size: expected a size such as 512MiB or 16GiB, got "lots"\n$/);
  });
});
