// Image quality in the registry and the CLI, on the shared images and feeds: a pushed
// image is indexed by the background worker from the registry's own stores, the API
// serves its packages, findings, errata and grade; importing advisories re-matches the
// stored packages without reading a layer again and changes the grade; the synthetic
// UBI 9 image against Red Hat CSAF advisories decides as rpm does; `custody scan` lists
// packages, findings and grade on the OCI layouts, with --fail-on exit codes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FilesystemBlobStore } from '../src/storage/filesystem-blob-store.ts';
import { SqliteClient } from '../src/metadata/sqlite-client.ts';
import { SqlMetadataStore } from '../src/metadata/sql-metadata-store.ts';
import { migrate } from '../src/metadata/migrations.ts';
import { CoreRegistry, type Registry } from '../src/registry/registry.ts';
import type { AdvisoryStore } from '../src/metadata/advisory-store.ts';
import { SqlAdvisoryStore } from '../src/metadata/sql-advisory-store.ts';
import { readFeeds } from '../src/scan/advisories/feed-reader.ts';
import { SqlQualityStore } from '../src/metadata/sql-quality-store.ts';
import { SqlMaintenanceStore } from '../src/metadata/sql-maintenance-store.ts';
import { QualityService, type QualityNotice } from '../src/scan/quality-service.ts';
import { indexImage } from '../src/scan/indexer/index-image.ts';
import { matchImage } from '../src/scan/matching/matcher.ts';
import { OciLayoutSource } from '../src/image/transports/index.ts';
import { QualityApi } from '../src/server/quality-api.ts';
import { silentLogger } from '../src/observability/logger.ts';
import { ociError } from '../src/core/errors.ts';
import { runCustody } from './support/custody-server.ts';
import { waitFor } from './support/tools.ts';
import { GarbageCollector } from '../src/registry/garbage-collector.ts';
import { sharedDir } from './support/paths.ts';

const DEBIAN_OCI = sharedDir('images', 'debian-oci');
const UBI9_OCI = sharedDir('images', 'ubi9-synthetic-oci');
const CSAF = sharedDir('feeds', 'redhat-csaf');

/** Pushes one tagged image of an OCI layout into the registry, as a client would. */
async function pushLayout(registry: Registry, layout: string, tag: string, repository: string): Promise<string> {
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string; mediaType: string; annotations?: Record<string, string> }[] };
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag)!;
  const blob = (digest: string) => readFile(join(layout, 'blobs', ...digest.split(':')));
  const manifest = await blob(entry.digest);
  const parsed = JSON.parse(manifest.toString('utf8')) as { config: { digest: string }; layers: { digest: string }[] };
  for (const digest of [parsed.config.digest, ...parsed.layers.map((l) => l.digest)]) {
    const bytes = await blob(digest);
    await registry.uploadMonolithic(repository, digest, Readable.from([bytes]), bytes.byteLength);
  }
  return (await registry.putManifest(repository, tag, entry.mediaType, manifest)).digest;
}

/** A Debian tracker and DSA list naming curl in bookworm, fixed after the image's version. */
async function writeCurlFeed(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'debian.json'), JSON.stringify({
    curl: { 'CVE-2099-0001': { releases: { bookworm: { status: 'resolved', repositories: {}, fixed_version: '7.88.1-10+deb12u99', urgency: 'high' } } } },
  }));
  await writeFile(join(dir, 'DSA'), '[02 Jan 2024] DSA-9999-1 curl - security update\n\t{CVE-2099-0001}\n\t[bookworm] - curl 7.88.1-10+deb12u99\n');
}

async function importFeeds(store: AdvisoryStore, target: string): Promise<void> {
  for await (const document of readFeeds(target)) await store.importDocument(document);
}

/** A copy of a real RHSA (Important, RHEL 9 AppStream, tigervnc) retargeted at openssl
 * with the given fixed epoch and version-release (in product ids and purls alike). */
async function retargetedCsaf(dir: string, epoch: number, versionRelease: string): Promise<string> {
  const evr = `${epoch}:${versionRelease}`;
  const text = (await readFile(join(CSAF, 'rhsa-2024_0010.json'), 'utf8'))
    .replace(/tigervnc([a-z-]*)@1\.13\.1-3\.el9_3\.3\?arch=([a-z0-9_]+)/g, (_all, suffix: string, arch: string) => `openssl${suffix}@${versionRelease}?arch=${arch}${epoch === 0 ? '' : `&epoch=${epoch}`}`)
    .replaceAll('tigervnc', 'openssl')
    .replaceAll('0:1.13.1-3.el9_3.3', evr);
  await mkdir(dir, { recursive: true });
  const path = join(dir, `rhsa-openssl-${evr.replace(/[^0-9a-z]/gi, '_')}.json`);
  await writeFile(path, text);
  return path;
}

describe('quality in the registry', () => {
  let dir: string;
  let sql: SqliteClient;
  let registry: Registry;
  let advisories: AdvisoryStore;
  let service: QualityService;
  let server: Server;
  let base: string;
  let layerReads = 0;
  let indexRuns = 0;
  const notices: QualityNotice[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custody-quality-'));
    const blobs = new FilesystemBlobStore(join(dir, 'blobs'));
    await blobs.init();
    sql = new SqliteClient(join(dir, 'custody.db'));
    await migrate(sql);
    registry = new CoreRegistry(blobs, new SqlMetadataStore(sql), { maxManifestBytes: 4 << 20, maxPageSize: 100, automaticMount: true });
    advisories = new SqlAdvisoryStore(sql);
    service = new QualityService({
      store: new SqlQualityStore(sql),
      registry,
      advisories,
      logger: silentLogger,
      pollIntervalMs: 100,
      soleWorker: true,
      notify: async (notice) => { notices.push(notice); },
      indexer: async (source) => {
        indexRuns++;
        const counting = { ...source, name: source.name, getManifest: source.getManifest.bind(source), close: source.close.bind(source), getBlob: async (blob: Parameters<typeof source.getBlob>[0]) => { layerReads++; return source.getBlob(blob); } };
        return indexImage(counting);
      },
    });
    await service.start();
    const api = new QualityApi(service, undefined);
    server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://x');
      const route = api.match(request, response, url.pathname, url.searchParams);
      if (!route) { response.statusCode = 404; response.end(); return; }
      route.handle().catch((error: unknown) => {
        const typed = ociError(error);
        response.statusCode = typed ? typed.status : 500;
        response.end(JSON.stringify({ errors: [{ code: typed ? typed.code : 'INTERNAL_ERROR', message: (error as Error).message }] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  after(async () => {
    await service.stop();
    await new Promise((resolve) => server.close(resolve));
    await sql.close();
    await rm(dir, { recursive: true, force: true });
  });

  const get = async (path: string): Promise<{ status: number; body: any }> => {
    const response = await fetch(`${base}${path}`);
    return { status: response.status, body: await response.json() };
  };

  it('indexes a pushed image in the background; the API serves packages, findings, errata and grade', async () => {
    const digest = await pushLayout(registry, DEBIAN_OCI, 'bookworm-curl', 'library/debian');
    await service.onManifestPushed('library/debian', digest);
    const prefix = `/api/v1/repositories/library/debian/-/manifests/${digest}`;
    const status = await waitFor('indexing', async () => {
      const { body } = await get(`${prefix}/status`);
      return body.status === 'indexed' || body.status === 'failed' ? body : undefined;
    }, 30_000, 50);
    assert.equal(status.status, 'indexed', status.error);
    const packages = (await get(`${prefix}/packages`)).body;
    const expected = (await readFile(sharedDir('images', 'debian-bookworm-curl.packages.tsv'), 'utf8')).split('\n').filter((line) => line && !line.startsWith('#')).map((line) => line.split('\t')[0]!).sort();
    assert.deepEqual([...new Set(packages.packages.filter((p: any) => p.ecosystem === 'deb').map((p: any) => p.name as string))].sort(), [...new Set(expected)].sort());
    assert.equal(packages.os.id, 'debian');
    const findings = (await get(`${prefix}/findings`)).body;
    assert.deepEqual(findings.findings, []);
    // The advisory database is still empty: no grade, and why (never A for want of data).
    const grade = (await get(`${prefix}/grade`)).body;
    assert.equal(grade.grade, '?');
    assert.match(grade.reason, /no advisory data for debian:12/);
    assert.equal(grade.data.dataAsOf, null);
    assert.equal((await get(`${prefix}/errata`)).body.total, 0);
    assert.ok(Array.isArray((await get(`${prefix}/secrets`)).body.secrets));
    // Not in this repository: unknown, whatever other repositories hold.
    assert.equal((await get(`/api/v1/repositories/other/repo/-/manifests/${digest}/grade`)).status, 404);
  });

  it('re-matches stored packages when advisories are imported: no layer read again, the grade changes, a notice fires', async () => {
    const digest = (await registry.headManifest('library/debian', 'bookworm-curl')).digest;
    const readsBefore = layerReads;
    const runsBefore = indexRuns;
    await writeCurlFeed(join(dir, 'feed'));
    await importFeeds(advisories, join(dir, 'feed'));
    await service.rematchIfDatabaseChanged();
    assert.equal(layerReads, readsBefore, 'no layer is read to re-match');
    assert.equal(indexRuns, runsBefore);
    const prefix = `/api/v1/repositories/library/debian/-/manifests/${digest}`;
    const findings = (await get(`${prefix}/findings`)).body;
    assert.deepEqual(findings.findings.map((f: any) => `${f.advisoryId} ${f.package.name} ${f.fixedVersion}`).sort(), [
      'CVE-2099-0001 curl 7.88.1-10+deb12u99', 'CVE-2099-0001 libcurl4 7.88.1-10+deb12u99',
      'DSA-9999-1 curl 7.88.1-10+deb12u99', 'DSA-9999-1 libcurl4 7.88.1-10+deb12u99',
    ]);
    // DSA-9999-1 (High → Important) was issued in January 2024: more than 12 months ago, F.
    const grade = (await get(`${prefix}/grade`)).body;
    assert.equal(grade.grade, 'F');
    assert.ok(grade.deciding.some((d: any) => d.advisoryId === 'DSA-9999-1' && d.severity === 'Important'));
    const errata = (await get(`${prefix}/errata`)).body;
    assert.deepEqual(errata.security.errata.map((e: any) => e.id).sort(), ['CVE-2099-0001', 'DSA-9999-1']);
    assert.ok(notices.some((n) => n.event === 'grade-dropped' && n.digest === digest && n.previousGrade === 'A' && n.grade === 'F'));
  });

  it('serves SBOMs and attaches one as an OCI referrer of the image', async () => {
    const digest = (await registry.headManifest('library/debian', 'bookworm-curl')).digest;
    const prefix = `/api/v1/repositories/library/debian/-/manifests/${digest}`;
    const spdx = await fetch(`${base}${prefix}/sbom?format=spdx`);
    assert.equal(spdx.status, 200);
    assert.equal(spdx.headers.get('content-type'), 'application/spdx+json');
    assert.equal(((await spdx.json()) as { spdxVersion: string }).spdxVersion, 'SPDX-2.3');
    // A body-less POST to /api is still sent as JSON (the API's cross-site request guard).
    const attached = await fetch(`${base}${prefix}/sbom?format=cyclonedx`, { method: 'POST', headers: { 'content-type': 'application/json' } });
    assert.equal(attached.status, 201);
    const body = (await attached.json()) as { digest: string; artifactType: string };
    assert.equal(body.artifactType, 'application/vnd.cyclonedx+json');
    const referrers = await registry.listReferrers('library/debian', digest);
    assert.ok(referrers.some((r) => r.digest === body.digest), JSON.stringify(referrers));
    assert.equal((await fetch(`${base}${prefix}/sbom?format=xml`)).status, 400);
  });

  it('the synthetic UBI 9 image against Red Hat CSAF: fixed NEVRAs decide as rpm does', async () => {
    const digest = await pushLayout(registry, UBI9_OCI, '9.4-synthetic', 'ubi9/ubi');
    await service.onManifestPushed('ubi9/ubi', digest);
    const prefix = `/api/v1/repositories/ubi9/ubi/-/manifests/${digest}`;
    await waitFor('indexing', async () => (await get(`${prefix}/status`)).body.status === 'indexed', 30_000, 50);
    // None of the eight real RHSAs concerns the image's packages (tigervnc, sudo and
    // python3.9 are not installed; bind is RHEL 6, ruby's module streams RHEL 8).
    await importFeeds(advisories, CSAF);
    await service.rematchIfDatabaseChanged();
    assert.deepEqual((await get(`${prefix}/findings`)).body.findings, []);
    assert.equal((await get(`${prefix}/grade`)).body.grade, 'A');
    // The tigervnc RHSA retargeted at openssl: epoch 0 fix < installed epoch 1, not affected.
    await importFeeds(advisories, await retargetedCsaf(join(dir, 'csaf-epoch0'), 0, '3.0.7-27.el9'));
    await service.rematchIfDatabaseChanged();
    assert.deepEqual((await get(`${prefix}/findings`)).body.findings, []);
    // Epoch 1 and a later release: openssl 1:3.0.7-24.el9 < 1:3.0.7-27.el9, affected; so is
    // openssl-libs, built from the openssl source rpm the advisory also lists.
    await importFeeds(advisories, await retargetedCsaf(join(dir, 'csaf-epoch1'), 1, '3.0.7-27.el9'));
    await service.rematchIfDatabaseChanged();
    const findings = (await get(`${prefix}/findings`)).body.findings;
    assert.deepEqual(findings.map((f: any) => [f.package.name, f.package.version, f.fixedVersion, f.vendorSeverity]), [
      ['openssl', '1:3.0.7-24.el9', '1:3.0.7-27.el9', 'Important'],
      ['openssl-libs', '1:3.0.7-24.el9', '1:3.0.7-27.el9', 'Important'],
    ]);
    // Important, issued January 2024: older than 12 months.
    assert.equal((await get(`${prefix}/grade`)).body.grade, 'F');
  });

  it('indexes again in the background images stored before indexing, and those an older indexer version indexed', async () => {
    // Stored without the push hook: as before quality existed.
    const digest = await pushLayout(registry, DEBIAN_OCI, 'bookworm-minbase', 'library/old');
    const store = new SqlQualityStore(sql);
    assert.equal(await store.getImage(digest), null);
    const runsBefore = indexRuns;
    assert.ok((await service.reindexOutdated()) >= 1);
    const version = async (): Promise<string | undefined> => {
      const image = await store.getImage(digest);
      return image?.status === 'indexed' ? image.index?.indexerVersion : undefined;
    };
    const current = await waitFor('indexing of the old image', version, 30_000, 50);
    // An index written by an older analyzer is read again.
    await sql.run('UPDATE quality_images SET indexer_version = ? WHERE manifest_digest = ?', ['custody-indexer/0', digest]);
    assert.equal(await service.reindexOutdated(), 1);
    await waitFor('indexing again', async () => ((await version()) === current ? true : undefined), 30_000, 50);
    assert.equal(indexRuns, runsBefore + 2);
    assert.equal(await service.reindexOutdated(), 0, 'nothing left to index again');
  });

  it('a multi-platform index: the worst grade of its platforms, findings labelled by platform', async () => {
    // Two "platforms": bookworm-curl (curl's advisory applies: F) and bookworm-minbase (no curl).
    const curl = await pushLayout(registry, DEBIAN_OCI, 'bookworm-curl', 'library/multi');
    const minbase = await pushLayout(registry, DEBIAN_OCI, 'bookworm-minbase', 'library/multi');
    const size = async (digest: string): Promise<number> => (await registry.headManifest('library/multi', digest)).size;
    const index = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: curl, size: await size(curl), platform: { os: 'linux', architecture: 'amd64' } },
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: minbase, size: await size(minbase), platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      ],
    }));
    const indexDigest = (await registry.putManifest('library/multi', 'latest', 'application/vnd.oci.image.index.v1+json', index)).digest;
    const prefix = `/api/v1/repositories/library/multi/-/manifests/${indexDigest}`;
    // The same images as earlier tests (content addressed: indexed once); a platform not
    // indexed yet would be queued by the asking, and the index graded `?` until it is.
    const graded = await waitFor('both platforms graded', async () => {
      const { body } = await get(`${prefix}/grade`);
      return body.grade !== '?' ? body : undefined;
    }, 30_000, 100);
    assert.equal(graded.grade, 'F');
    assert.deepEqual(graded.platforms.map((p: any) => [p.platform, p.digest]), [['linux/amd64', curl], ['linux/arm64/v8', minbase]]);
    assert.equal(graded.platforms[0].grade, 'F');
    assert.match(graded.platforms[1].grade, /^[A-F]$/);
    const findings = (await get(`${prefix}/findings`)).body;
    assert.ok(findings.findings.length > 0);
    assert.ok(findings.findings.every((f: any) => f.platform === 'linux/amd64'), 'curl is only on the amd64 image');
    assert.deepEqual(findings.platforms.map((p: any) => p.error), [null, null]);
  });

  it('garbage collection of a manifest removes its index, findings, grade and job with it', async () => {
    const digest = (await registry.headManifest('ubi9/ubi', '9.4-synthetic')).digest;
    const rows = async (): Promise<number> => {
      let total = 0;
      for (const table of ['quality_images', 'quality_findings', 'quality_grades', 'quality_jobs']) {
        const [row] = await sql.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table} WHERE manifest_digest = ?`, [digest]);
        total += Number(row!.n);
      }
      return total;
    };
    assert.ok((await rows()) > 0);
    await registry.deleteManifest('ubi9/ubi', digest);
    const report = await new GarbageCollector(registry, new SqlMaintenanceStore(sql), silentLogger).collect({ dryRun: false, deleteUntagged: false, gracePeriodMs: 0 });
    assert.ok(report.manifestsDeleted >= 1, JSON.stringify(report));
    assert.equal(await rows(), 0);
    assert.equal((await get(`/api/v1/repositories/ubi9/ubi/-/manifests/${digest}/grade`)).status, 404);
  });
});

/** Runs a client command the way users do; no advisory database unless --vulndb says. */
function runCommand(name: 'scan' | 'grade' | 'errata', args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runCustody([name, ...args], { env: { CUSTODY_VULNDB: '/nonexistent/vulndb.sqlite' } });
}

describe('custody scan, grade and errata', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custody-scan-'));
    await writeCurlFeed(join(dir, 'feed'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('lists the packages of the shared images, their findings and grade (json)', async () => {
    const debian = await runCommand('scan', [`oci:${DEBIAN_OCI}:bookworm-curl`, '--format', 'json', '--vulndb', join(dir, 'feed')]);
    assert.equal(debian.code, 0, debian.stderr);
    const result = JSON.parse(debian.stdout);
    const expected = (await readFile(sharedDir('images', 'debian-bookworm-curl.packages.tsv'), 'utf8')).split('\n').filter((line) => line && !line.startsWith('#')).length;
    assert.equal(result.packages.filter((p: any) => p.ecosystem === 'deb').length, expected);
    assert.deepEqual([...new Set(result.findings.map((f: any) => f.package.name))].sort(), ['curl', 'libcurl4']);
    assert.equal(result.grade.grade, 'F');

    const ubi = await runCommand('scan', [`oci:${UBI9_OCI}:9.4-synthetic`, '--format', 'json', '--vulndb', CSAF]);
    assert.equal(ubi.code, 0, ubi.stderr);
    const ubiResult = JSON.parse(ubi.stdout);
    // rpm -qa also lists the gpg-pubkey pseudo-package (an imported signing key, not software).
    const rpmQa = (await readFile(sharedDir('images', 'ubi9-synthetic.packages.txt'), 'utf8')).split('\n').filter((line) => line && !line.startsWith('gpg-pubkey ')).length;
    assert.equal(ubiResult.packages.filter((p: any) => p.ecosystem === 'rpm').length, rpmQa);
    assert.deepEqual(ubiResult.findings, []);
    assert.equal(ubiResult.grade.grade, 'A');
  });

  it('--fail-on gates on severity; sarif, grade and errata outputs', async () => {
    const image = `oci:${DEBIAN_OCI}:bookworm-curl`;
    const feed = join(dir, 'feed');
    assert.equal((await runCommand('scan', [image, '--vulndb', feed, '--format', 'json', '--fail-on', 'high'])).code, 1);
    assert.equal((await runCommand('scan', [image, '--vulndb', feed, '--format', 'json', '--fail-on', 'critical'])).code, 0);
    assert.equal((await runCommand('scan', [image, '--vulndb', feed, '--fail-on', 'severe'])).code, 2);
    const sarif = await runCommand('scan', [image, '--vulndb', feed, '--format', 'sarif']);
    const log = JSON.parse(sarif.stdout);
    assert.equal(log.version, '2.1.0');
    assert.ok(log.runs[0].results.length >= 2);
    const grade = await runCommand('grade', [image, '--vulndb', feed]);
    assert.match(grade.stdout, /grade F/);
    const errata = await runCommand('errata', [image, '--vulndb', feed]);
    assert.match(errata.stdout, /2 Security notice\(s\)/);
    assert.match(errata.stdout, /DSA-9999-1/);
  });
});
