// `custody copy` between docker:// (a real Custody server), dir: and oci:, checked against
// skopeo in both directions: digests stay identical, --all keeps the index, a platform is
// picked without it, --format converts, corrupt blobs fail cleanly, existing blobs are skipped.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, readdir, writeFile, open } from 'node:fs/promises';
import { join } from 'node:path';
import { startCustody, runCustody, type CustodyServer } from './support/custody-server.ts';
import { requireTool, run, waitFor } from './support/tools.ts';
import { buildMultiArchLayout, copyDebianLayout, debianLayout, layoutEntry, layoutImage, ociRef, type MultiArchLayout } from './support/images.ts';
import { tempDirs } from './support/temp-files.ts';

const skopeoBin = requireTool('skopeo');
const umociBin = requireTool('umoci');
const curlBin = requireTool('curl');
const newDir = tempDirs('custody-copy-');
let server: CustodyServer;
let multi: MultiArchLayout;
let curlDigest: string;

const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

before(async () => {
  server = await startCustody();
  multi = await buildMultiArchLayout(newDir());
  curlDigest = (await layoutEntry(debianLayout(), 'bookworm-curl')).digest;
});
after(async () => {
  await server?.dispose();
});

function registry(name: string): string {
  return `docker://${server.host}/${name}`;
}

async function copy(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  const result = await runCustody(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', ...args]);
  assert.equal(result.code, 0, `custody copy ${args.join(' ')} failed: ${result.stderr}`);
  return result;
}

async function skopeo(args: string[]): Promise<string> {
  const result = await run(skopeoBin, ['--insecure-policy', ...args], { timeoutMs: 60_000 });
  assert.equal(result.code, 0, `${result.command} failed: ${result.stderr}`);
  return result.stdout;
}

async function registryDigest(name: string): Promise<string> {
  return sha256(Buffer.from(await skopeo(['inspect', '--tls-verify=false', '--raw', registry(name)])));
}

/** Requests on blobs/uploads the server logged since `from` with one of `methods` (and `status`, if given). */
function uploadRequests(from: number, methods: readonly string[], status?: number): number {
  return server.logs.slice(from).filter((line) => {
    try {
      const entry = JSON.parse(line) as { msg?: string; method?: string; path?: string; status?: number };
      return entry.msg === 'request' && methods.includes(entry.method ?? '') && (entry.path ?? '').includes('/blobs/uploads/') && (status === undefined || entry.status === status);
    } catch {
      return false;
    }
  }).length;
}

/**
 * Waits until the server logged the manifest PUT ending a copy: the copy's blob requests
 * were answered before it, so their log lines came first.
 */
async function manifestPutLogged(from: number, repository: string, reference: string): Promise<void> {
  const path = `/v2/${repository}/manifests/${reference}`;
  await waitFor(`the PUT ${path} logged`, () =>
    server.logs.slice(from).some((line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; method?: string; path?: string };
        return entry.msg === 'request' && entry.method === 'PUT' && entry.path === path;
      } catch {
        return false;
      }
    }),
  10_000);
}

describe('custody copy', () => {
  it('copies oci: → docker:// → dir: → oci: keeping the digest, and skopeo reads what it wrote', async () => {
    const dirOut = join(newDir(), 'img');
    const ociOut = join(newDir(), 'layout');
    await copy(ociRef(debianLayout(), 'bookworm-curl'), registry('copy/debian:curl'));
    assert.equal(await registryDigest('copy/debian:curl'), curlDigest);
    await copy(registry('copy/debian:curl'), `dir:${dirOut}`);
    assert.equal(sha256(await readFile(join(dirOut, 'manifest.json'))), curlDigest);
    assert.equal(await readFile(join(dirOut, 'version'), 'utf8'), 'Directory Transport Version: 1.1\n');
    const inspected = JSON.parse(await skopeo(['inspect', `dir:${dirOut}`])) as { Digest: string; Layers: string[] };
    assert.equal(inspected.Digest, curlDigest);
    await copy(`dir:${dirOut}`, `oci:${ociOut}:curl`);
    const copied = await layoutImage(ociOut, 'curl');
    assert.equal(copied.digest, curlDigest);
    for (const blob of [copied.manifest.config, ...copied.manifest.layers]) {
      assert.equal(sha256(await readFile(join(ociOut, 'blobs', 'sha256', blob.digest.slice(7)))), blob.digest);
    }
    // skopeo pushes what custody wrote, unchanged.
    await skopeo(['copy', '--dest-tls-verify=false', `oci:${ociOut}:curl`, registry('copy/fromskopeo:curl')]);
    assert.equal(await registryDigest('copy/fromskopeo:curl'), curlDigest);
  });

  it('reads what skopeo wrote (dir:) and adds tags to an oci: layout keeping the others', async () => {
    const dirOut = join(newDir(), 'skopeo-dir');
    const ociOut = join(newDir(), 'layout');
    await skopeo(['copy', ociRef(debianLayout(), 'bookworm-curl'), `dir:${dirOut}`]);
    await copy(`dir:${dirOut}`, `oci:${ociOut}:one`);
    await copy(ociRef(debianLayout(), 'bookworm-minbase'), `oci:${ociOut}:two`);
    await copy(`dir:${dirOut}`, `oci:${ociOut}:two`);
    const index = JSON.parse(await readFile(join(ociOut, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations: Record<string, string> }[] };
    assert.deepEqual(
      index.manifests.map((entry) => [entry.annotations['org.opencontainers.image.ref.name'], entry.digest]),
      [['one', curlDigest], ['two', curlDigest]],
    );
    assert.deepEqual((await readdir(ociOut)).sort(), ['blobs', 'index.json', 'oci-layout']);
    assert.equal(JSON.parse(await skopeo(['inspect', `oci:${ociOut}:two`])).Digest, curlDigest);
  });

  it('copies a multi-arch index with --all through docker:// and dir: with an identical index digest', async () => {
    const dirOut = join(newDir(), 'multi-dir');
    const ociOut = join(newDir(), 'multi-oci');
    await copy('--all', multi.ref, registry('copy/multi:all'));
    assert.equal(await registryDigest('copy/multi:all'), multi.indexDigest);
    await copy('--all', registry('copy/multi:all'), `dir:${dirOut}`);
    assert.equal(sha256(await readFile(join(dirOut, 'manifest.json'))), multi.indexDigest);
    for (const child of multi.children) assert.equal(sha256(await readFile(join(dirOut, `${child.digest.slice(7)}.manifest.json`))), child.digest);
    // The same files skopeo writes for the same copy.
    const skopeoDir = join(newDir(), 'skopeo-multi');
    await skopeo(['copy', '--all', multi.ref, `dir:${skopeoDir}`]);
    assert.deepEqual((await readdir(dirOut)).sort(), (await readdir(skopeoDir)).sort());
    await copy('--all', `dir:${dirOut}`, `oci:${ociOut}:multi`);
    assert.equal((await layoutEntry(ociOut, 'multi')).digest, multi.indexDigest);
    assert.equal(sha256(Buffer.from(await skopeo(['inspect', '--raw', `oci:${ociOut}:multi`]))), multi.indexDigest);
  });

  it('without --all copies the instance for the requested platform', async () => {
    const dirOut = join(newDir(), 'arm');
    await copy('--override-os', 'linux', '--override-arch', 'arm64', multi.ref, `dir:${dirOut}`);
    const arm = multi.children.find((child) => child.architecture === 'arm64')!;
    assert.equal(sha256(await readFile(join(dirOut, 'manifest.json'))), arm.digest);
    await copy('--override-arch', 'amd64', multi.ref, registry('copy/pick:amd64'));
    assert.equal(await registryDigest('copy/pick:amd64'), multi.children.find((child) => child.architecture === 'amd64')!.digest);
    const refused = await runCustody(['copy', '--override-arch', 's390x', multi.ref, `dir:${join(newDir(), 'none')}`]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^custody copy: .*no image found for architecture "s390x"/);
    assert.equal(refused.stderr.trim().split('\n').length, 1);
  });

  it('converts with --format v2s2 and back with --format oci, the config unchanged', async () => {
    const source = await layoutImage(debianLayout(), 'bookworm-curl');
    await copy('--format', 'v2s2', ociRef(debianLayout(), 'bookworm-curl'), registry('copy/convert:v2s2'));
    const v2s2 = JSON.parse(await skopeo(['inspect', '--tls-verify=false', '--raw', registry('copy/convert:v2s2')])) as { mediaType: string; config: { mediaType: string; digest: string }; layers: { mediaType: string; digest: string }[] };
    assert.equal(v2s2.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    assert.equal(v2s2.config.mediaType, 'application/vnd.docker.container.image.v1+json');
    assert.equal(v2s2.config.digest, source.manifest.config.digest);
    assert.deepEqual(v2s2.layers.map((layer) => layer.mediaType), source.manifest.layers.map(() => 'application/vnd.docker.image.rootfs.diff.tar.gzip'));
    assert.deepEqual(v2s2.layers.map((layer) => layer.digest), source.manifest.layers.map((layer) => layer.digest));
    const ociOut = join(newDir(), 'back');
    await copy('--format', 'oci', registry('copy/convert:v2s2'), `oci:${ociOut}:back`);
    const back = await layoutImage(ociOut, 'back');
    assert.equal(back.manifest.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(back.manifest.config.mediaType, 'application/vnd.oci.image.config.v1+json');
    assert.equal(back.manifest.config.digest, source.manifest.config.digest);
    assert.deepEqual(back.manifest.layers.map((layer) => [layer.mediaType, layer.digest]), source.manifest.layers.map((layer) => [layer.mediaType, layer.digest]));
    // skopeo accepts the converted image.
    assert.equal(JSON.parse(await skopeo(['inspect', `oci:${ociOut}:back`])).Digest, back.digest);
  });

  it('refuses to convert zstd layers to v2s2 with a clear message', async () => {
    const layout = await copyDebianLayout(newDir());
    const source = await layoutImage(layout, 'bookworm-curl');
    const zstd = { ...source.manifest, layers: source.manifest.layers.map((layer) => ({ ...layer, mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd' })) };
    const bytes = Buffer.from(JSON.stringify(zstd));
    await writeFile(join(layout, 'blobs', 'sha256', sha256(bytes).slice(7)), bytes);
    await writeFile(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(bytes), size: bytes.length, annotations: { 'org.opencontainers.image.ref.name': 'zstd' } }] }));
    const result = await runCustody(['copy', '--format', 'v2s2', `oci:${layout}:zstd`, `dir:${join(newDir(), 'out')}`]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^custody copy: .*cannot convert to Docker schema2 \(v2s2\): it does not support zstd-compressed layers/);
  });

  it('fails on a corrupted blob in a dir: source, leaving no partial blob behind', async () => {
    const dirSource = join(newDir(), 'corrupt');
    await copy(ociRef(debianLayout(), 'bookworm-curl'), `dir:${dirSource}`);
    const manifest = JSON.parse(await readFile(join(dirSource, 'manifest.json'), 'utf8')) as { layers: { digest: string; size: number }[] };
    const victim = manifest.layers.reduce((a, b) => (a.size > b.size ? a : b));
    const handle = await open(join(dirSource, victim.digest.slice(7)), 'r+');
    await handle.write(Buffer.from('corrupted!'), 0, 10, Math.floor(victim.size / 2));
    await handle.close();
    for (const [destination, blobDir] of [[`oci:${join(newDir(), 'dst')}:x`, 'oci'], [registry('copy/corrupt:x'), 'registry']] as const) {
      const result = await runCustody(['copy', '--dest-tls-verify=false', `dir:${dirSource}`, destination]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`^custody copy: .*digest mismatch for blob ${victim.digest}`));
      if (blobDir === 'oci') {
        const root = destination.slice(4, -2);
        const files = await readdir(join(root, 'blobs', 'sha256'));
        assert.ok(!files.includes(victim.digest.slice(7)), 'the corrupt blob was not stored');
        assert.ok(files.every((name) => !name.startsWith('.')), `no temporary files: ${files.join(', ')}`);
        assert.deepEqual((await readdir(root)).sort(), ['blobs', 'oci-layout']);
      } else {
        const head = await run(curlBin, ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-I', `${server.url}/v2/copy/corrupt/blobs/${victim.digest}`]);
        assert.equal(head.stdout, '404');
      }
    }
  });

  it('skips blobs the registry already has on a second copy', async () => {
    await copy(ociRef(debianLayout(), 'bookworm-curl'), registry('copy/skip:one'));
    const mark = server.logs.length;
    const second = await copy(ociRef(debianLayout(), 'bookworm-curl'), registry('copy/skip:two'));
    assert.equal(second.stderr, '');
    await manifestPutLogged(mark, 'copy/skip', 'two');
    assert.equal(uploadRequests(mark, ['POST', 'PATCH', 'PUT']), 0, 'no blob uploads on the second copy');
    assert.equal(await registryDigest('copy/skip:two'), curlDigest);
    // Another repository on the same registry: blobs are mounted, not uploaded.
    const mark2 = server.logs.length;
    await copy(registry('copy/skip:one'), registry('copy/mounted:one'));
    await manifestPutLogged(mark2, 'copy/mounted', 'one');
    // A mount is a POST answered 201 Created; an upload would need a PUT (or PATCHes).
    assert.equal(uploadRequests(mark2, ['POST'], 201), 3, 'config and two layers mounted');
    assert.equal(uploadRequests(mark2, ['PATCH', 'PUT']), 0, 'no blob data uploaded');
    assert.equal(await registryDigest('copy/mounted:one'), curlDigest);
  });

  it('writes layouts umoci reads, and reads what umoci wrote', async () => {
    const layout = join(newDir(), 'umoci');
    await copy(ociRef(debianLayout(), 'bookworm-curl'), `oci:${layout}:curl`);
    const listed = await run(umociBin, ['ls', '--layout', layout]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(listed.stdout.trim().split('\n'), ['curl']);
    const stat = await run(umociBin, ['stat', '--json', '--image', `${layout}:curl`]);
    assert.equal(stat.code, 0, stat.stderr);
    // umoci writes a new config and manifest under a new tag; custody copies that image out unchanged.
    const modified = await run(umociBin, ['config', '--image', `${layout}:curl`, '--tag', 'modified', '--config.env', 'CUSTODY_TEST=1']);
    assert.equal(modified.code, 0, modified.stderr);
    const entry = await layoutEntry(layout, 'modified');
    await copy(`oci:${layout}:modified`, registry('copy/umoci:modified'));
    assert.equal(await registryDigest('copy/umoci:modified'), entry.digest);
    const config = JSON.parse(await skopeo(['inspect', '--tls-verify=false', '--config', registry('copy/umoci:modified')])) as { config: { Env: string[] } };
    assert.ok(config.config.Env.includes('CUSTODY_TEST=1'));
  });

  it('gives one-line usage errors', async () => {
    const result = await runCustody(['copy', 'oci:/nowhere']);
    assert.equal(result.code, 2);
    assert.equal(result.stderr, 'custody copy: missing DST\n');
    const transport = await runCustody(['copy', 'tarball:/x', 'dir:/y']);
    assert.equal(transport.code, 2);
    assert.match(transport.stderr, /^custody copy: unsupported transport "tarball:"/);
  });
});
