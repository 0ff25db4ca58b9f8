// The local image store: `custody pull` from a Custody server, `images`, `rmi` with blob
// garbage collection, file permissions, and `unpack` (whiteouts; malicious layers refused).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { startCustody, runCustody, type CustodyServer } from './support/custody-server.ts';
import { requireTool, run } from './support/tools.ts';
import { buildMultiArchLayout, debianLayout, ociRef, sha256, OCI_MANIFEST, OCI_CONFIG, OCI_LAYER_GZIP, type MultiArchLayout } from './support/images.ts';
import { GiB, gzipBomb } from './support/hostile-images.ts';
import { tempDirs } from './support/temp-files.ts';
import { TarWriter, type TarWriterEntry } from '../src/image/archive/tar-writer.ts';
import { copyImage } from '../src/client/copy.ts';
import { OciLayoutSource } from '../src/image/transports/oci-layout.ts';
import { LocalStore, LocalStoreDestination } from '../src/client/local-store/index.ts';

const skopeoBin = requireTool('skopeo');
const newDir = tempDirs('custody-local-store-');
let server: CustodyServer;
let storage: string;

before(async () => {
  server = await startCustody();
  for (const tag of ['bookworm-curl', 'bookworm-minbase']) {
    const result = await run(skopeoBin, ['--insecure-policy', 'copy', '--dest-tls-verify=false', ociRef(debianLayout(), tag), `docker://${server.host}/debian:${tag}`], { timeoutMs: 60_000 });
    assert.equal(result.code, 0, result.stderr);
  }
  storage = join(newDir(), 'storage');
});
after(async () => {
  await server?.dispose();
});

async function custody(args: string[], store = storage): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runCustody(args, { env: { CUSTODY_STORAGE: store } });
}

async function ok(args: string[], store = storage): Promise<string> {
  const result = await custody(args, store);
  assert.equal(result.code, 0, `custody ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

async function blobs(store = storage): Promise<string[]> {
  return (await readdir(join(store, 'blobs', 'sha256'))).filter((name) => !name.startsWith('.')).sort();
}

async function layerDigests(tag: string): Promise<string[]> {
  const index = JSON.parse(await readFile(join(debianLayout(), 'index.json'), 'utf8')) as { manifests: { digest: string; annotations: Record<string, string> }[] };
  const digest = index.manifests.find((entry) => entry.annotations['org.opencontainers.image.ref.name'] === tag)!.digest;
  const manifest = JSON.parse(await readFile(join(debianLayout(), 'blobs', 'sha256', digest.slice(7)), 'utf8')) as { layers: { digest: string }[] };
  return manifest.layers.map((layer) => layer.digest.slice(7));
}

describe('local image store', () => {
  it('pulls two images sharing a base layer, lists them, keeps files private, and unpacks with whiteouts', async () => {
    const curlRef = `${server.host}/debian:bookworm-curl`;
    const minRef = `${server.host}/debian:bookworm-minbase`;
    const digest = (await ok(['pull', '--tls-verify=false', curlRef])).trim();
    assert.match(digest, /^sha256:[a-f0-9]{64}$/);
    await ok(['pull', '--tls-verify=false', `docker://${minRef}`]);
    const images = JSON.parse(await ok(['images', '--format', 'json'])) as { name: string; repository: string; tag: string; digest: string; size: number }[];
    assert.deepEqual(images.map((image) => image.name), [curlRef, minRef]);
    assert.equal(images[0]!.digest, digest);
    assert.equal(images[0]!.tag, 'bookworm-curl');
    const table = await ok(['images']);
    assert.match(table, /^REPOSITORY\s+TAG\s+DIGEST\s+SIZE\s+CREATED\n/);
    assert.match(table, new RegExp(`${server.host}/debian\\s+bookworm-curl\\s+${digest.slice(0, 19)}`));
    // 2 manifests, 2 configs, 2 layers (the base layer once).
    const [base, top] = await layerDigests('bookworm-curl');
    assert.equal((await blobs()).length, 6);
    assert.ok((await blobs()).includes(base!));
    // Private: directories 0700, files 0600.
    for (const path of [storage, join(storage, 'blobs'), join(storage, 'blobs', 'sha256')]) assert.equal((await lstat(path)).mode & 0o777, 0o700, path);
    for (const path of [join(storage, 'index.json'), join(storage, 'oci-layout'), ...(await blobs()).map((name) => join(storage, 'blobs', 'sha256', name))]) {
      assert.equal((await lstat(path)).mode & 0o777, 0o600, path);
    }
    // Pulling again stores nothing new.
    await ok(['pull', '--tls-verify=false', curlRef]);
    assert.equal((await blobs()).length, 6);

    // unpack: the second layer's whiteouts delete from the first.
    const whiteouts = (await run('tar', ['tzf', join(debianLayout(), 'blobs', 'sha256', top!)])).stdout.split('\n').filter((name) => /(^|\/)\.wh\./.test(name));
    assert.ok(whiteouts.length > 0);
    const rootfs = join(newDir(), 'rootfs');
    const unpacked = await custody(['unpack', curlRef, rootfs]);
    assert.equal(unpacked.code, 0, unpacked.stderr);
    assert.match(unpacked.stderr, /skipping character device "dev\/null"/);
    assert.match(await readFile(join(rootfs, 'etc', 'debian_version'), 'utf8'), /^12\./);
    assert.ok(existsSync(join(rootfs, 'usr', 'bin', 'curl')));
    assert.equal((await lstat(join(rootfs, 'bin'))).isSymbolicLink(), true);
    for (const whiteout of whiteouts) {
      const deleted = whiteout.replace(/\.wh\.([^/]*)$/, '$1');
      assert.ok(!existsSync(join(rootfs, deleted)), `${deleted} should have been deleted by ${whiteout}`);
      assert.ok(!existsSync(join(rootfs, whiteout)));
    }
    assert.ok(existsSync(join(rootfs, 'etc', 'passwd')));
    // Same files as GNU tar extracting the first layer would give (for the base image).
    assert.equal((await lstat(join(rootfs, 'usr', 'bin', 'perl5.36.0'))).ino, (await lstat(join(rootfs, 'usr', 'bin', 'perl'))).ino);
    // Non-empty target refused.
    const again = await custody(['unpack', curlRef, rootfs]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /not empty/);

    // rmi: the shared base layer stays until its last user goes.
    await ok(['rmi', curlRef]);
    const left = await blobs();
    assert.equal(left.length, 3);
    assert.ok(left.includes(base!));
    assert.ok(!left.includes(top!));
    const missing = await custody(['rmi', curlRef]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no image/);
    await ok(['rmi', minRef]);
    assert.deepEqual(await blobs(), []);
    assert.deepEqual(JSON.parse(await ok(['images', '--format', 'json'])), []);
  });

  it('keeps every entry when two pulls commit at once', async () => {
    const store = join(newDir(), 'storage');
    await Promise.all([
      ok(['pull', '--tls-verify=false', `${server.host}/debian:bookworm-curl`], store),
      ok(['pull', '--tls-verify=false', `${server.host}/debian:bookworm-minbase`], store),
    ]);
    assert.equal((JSON.parse(await ok(['images', '--format', 'json'], store)) as unknown[]).length, 2);
  });
});

describe('custody pull of a multi-platform index', () => {
  let multi: MultiArchLayout;
  let ref: string;
  before(async () => {
    multi = await buildMultiArchLayout(newDir());
    ref = `${server.host}/multi:1`;
    const result = await run(skopeoBin, ['--insecure-policy', 'copy', '--all', '--dest-tls-verify=false', multi.ref, `docker://${ref}`], { timeoutMs: 60_000 });
    assert.equal(result.code, 0, result.stderr);
  });

  it('--all stores the index and every instance; unpack picks a platform from it', async () => {
    const store = join(newDir(), 'storage');
    const digest = (await ok(['pull', '--all', '--tls-verify=false', ref], store)).trim();
    assert.equal(digest, multi.indexDigest);
    const images = JSON.parse(await ok(['images', '--format', 'json'], store)) as { name: string; digest: string }[];
    assert.deepEqual(images.map((image) => [image.name, image.digest]), [[ref, multi.indexDigest]]);
    const stored = await blobs(store);
    assert.ok(stored.includes(multi.indexDigest.slice(7)));
    for (const child of multi.children) {
      assert.ok(stored.includes(child.digest.slice(7)), `instance ${child.architecture}`);
      for (const layer of await layerDigests(child.tag)) assert.ok(stored.includes(layer), `${child.architecture} layer ${layer}`);
    }
    // The index's bytes are kept (its digest is the registry's).
    assert.equal(sha256(await readFile(join(store, 'blobs', 'sha256', multi.indexDigest.slice(7)))), multi.indexDigest);
    const rootfs = join(newDir(), 'rootfs');
    const unpacked = await custody(['unpack', ref, rootfs], store);
    assert.equal(unpacked.code, 0, unpacked.stderr);
    assert.ok(existsSync(join(rootfs, 'usr', 'bin', 'curl')), 'the amd64 instance (bookworm-curl)');
    await ok(['rmi', ref], store);
    assert.deepEqual(await blobs(store), []);
  });

  it('--platform, --arch/--variant and --override-arch choose the instance', async () => {
    const arm = multi.children.find((child) => child.architecture === 'arm64')!;
    const amd = multi.children.find((child) => child.architecture === 'amd64')!;
    for (const [flags, expected] of [
      [['--platform', 'linux/arm64/v8'], arm],
      [['--arch', 'arm64', '--variant', 'v8', '--os', 'linux'], arm],
      [['--override-arch', 'arm64', '--override-variant', 'v8'], arm],
      [['--platform', 'linux/amd64'], amd],
    ] as const) {
      const store = join(newDir(), 'storage');
      assert.equal((await ok(['pull', '--tls-verify=false', ...flags, ref], store)).trim(), expected.digest, flags.join(' '));
      const stored = await blobs(store);
      assert.ok(!stored.includes(multi.indexDigest.slice(7)), 'the index itself is not stored');
      for (const layer of await layerDigests(expected.tag)) assert.ok(stored.includes(layer));
    }
    const missing = await custody(['pull', '--tls-verify=false', '--platform', 'linux/s390x', ref], join(newDir(), 'storage'));
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^custody pull: .*no image found for architecture "s390x"/);
    for (const flags of [['--platform', 'linux'], ['--platform', 'linux/arm64', '--arch', 'arm64'], ['--all', '--arch', 'arm64'], ['--arch', 'arm64', '--override-arch', 'arm64']]) {
      const refused = await custody(['pull', '--tls-verify=false', ...flags, ref], join(newDir(), 'storage'));
      assert.equal(refused.code, 2, `${flags.join(' ')}: ${refused.stderr}`);
      assert.equal(refused.stderr.trim().split('\n').length, 1);
    }
  });
});

// ---- malicious layers ----------------------------------------------------------------

type Entry = TarWriterEntry & { body?: string };

async function tarOf(entries: readonly Entry[]): Promise<Buffer> {
  const writer = new TarWriter();
  const chunks: Buffer[] = [];
  writer.output.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise((resolve) => writer.output.on('end', resolve));
  for (const { body, ...entry } of entries) await writer.add(entry, body);
  await writer.finish();
  await done;
  return Buffer.concat(chunks);
}

/** Stores an image of the given layers (gzip unless said, or gzip bytes as they are) under `name` in `store`. */
async function storeImage(store: string, name: string, layers: readonly ({ entries: readonly Entry[]; compression?: 'gzip' | 'zstd' | 'none' } | { gzip: Buffer })[]): Promise<void> {
  const layout = newDir();
  await mkdir(join(layout, 'blobs', 'sha256'), { recursive: true });
  const put = async (bytes: Buffer): Promise<string> => {
    const digest = sha256(bytes);
    await writeFile(join(layout, 'blobs', 'sha256', digest.slice(7)), bytes);
    return digest;
  };
  const descriptors = [];
  for (const layer of layers) {
    if ('gzip' in layer) {
      descriptors.push({ mediaType: OCI_LAYER_GZIP, digest: await put(layer.gzip), size: layer.gzip.length });
      continue;
    }
    const tar = await tarOf(layer.entries);
    const compression = layer.compression ?? 'gzip';
    const bytes = compression === 'gzip' ? gzipSync(tar) : compression === 'zstd' ? zstdCompressSync(tar) : tar;
    const mediaType = `application/vnd.oci.image.layer.v1.tar${compression === 'none' ? '' : `+${compression}`}`;
    descriptors.push({ mediaType, digest: await put(bytes), size: bytes.length });
  }
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: await put(config), size: config.length }, layers: descriptors }));
  const digest = await put(manifest);
  await writeFile(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: OCI_MANIFEST, digest, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': 'x' } }] }));
  await copyImage(new OciLayoutSource(`${layout}:x`), new LocalStoreDestination(new LocalStore(store), () => name));
}

describe('custody unpack of crafted layers', () => {
  const store = join(tempDirs('custody-unpack-store-')(), 'storage');
  const file = (name: string, body = 'evil\n'): Entry => ({ name, size: Buffer.byteLength(body), body });

  const refused: [string, Entry[][], RegExp][] = [
    ['../evil', [[file('../evil')]], /"\.\." components/],
    ['a/../../evil', [[{ name: 'a/', type: 'dir' }, file('a/../../evil')]], /"\.\." components/],
    ['symlink to .. then a file through it', [[{ name: 'link', type: 'symlink', linkname: '..' }, file('link/x')]], /leads outside the target directory/],
    ['symlink to ../.. nested in a directory', [[{ name: 'a/', type: 'dir' }, { name: 'a/link', type: 'symlink', linkname: '../..' }, file('a/link/x')]], /leads outside the target directory/],
    ['symlink planted by a lower layer', [[{ name: 'link', type: 'symlink', linkname: '..' }], [file('link/x')]], /layer 2\/2 .*leads outside the target directory/],
    ['a symlink loop', [[{ name: 'a', type: 'symlink', linkname: 'b' }, { name: 'b', type: 'symlink', linkname: 'a' }, file('a/x')]], /too many levels of symbolic links/],
    ['hard link to /etc/passwd', [[{ name: 'passwd', type: 'hardlink', linkname: '/etc/passwd' }]], /hard link .*does not exist/],
    ['hard link to ../outside', [[{ name: 'h', type: 'hardlink', linkname: '../outside' }]], /"\.\." components/],
    ['hard link through a symlink to the host', [[{ name: 'link', type: 'symlink', linkname: '/etc' }, { name: 'h', type: 'hardlink', linkname: 'link/passwd' }]], /does not exist/],
  ];

  for (const [title, layers, message] of refused) {
    it(`refuses ${title}`, async () => {
      const name = `localhost/evil/${title.replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}:latest`;
      await storeImage(store, name, layers.map((entries) => ({ entries })));
      const outer = newDir();
      const target = join(outer, 'deep', 'rootfs');
      const result = await custody(['unpack', name, target], store);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.match(result.stderr, /^custody unpack: /);
      // Nothing outside the target; the target is left empty (removed, as unpack created it).
      assert.deepEqual(await readdir(join(outer, 'deep')), []);
      assert.ok(!existsSync(join(outer, 'evil')));
      assert.ok(!existsSync(join(outer, 'deep', 'evil')));
    });
  }

  it('stops at --max-size: one line naming the bound, exit 1, and the directory emptied again', async () => {
    const name = 'localhost/evil/bomb:latest';
    const bomb = gzipBomb(4 * GiB);
    await storeImage(store, name, [{ entries: [file('etc/hostname', 'box\n')] }, { gzip: bomb }]);
    const target = join(newDir(), 'rootfs');
    await mkdir(target);
    const result = await custody(['unpack', '--max-size', '16MiB', name, target], store);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stderr, `custody unpack: layer 2/2 (${sha256(bomb).slice(0, 19)}): the layers inflate to more than 16 MiB (--max-size); nothing was unpacked\n`);
    assert.deepEqual(await readdir(target), []);
    const usage = await custody(['unpack', '--max-size', 'huge', name, target], store);
    assert.equal(usage.code, 2);
    assert.equal(usage.stderr, 'custody unpack: --max-size: expected a size such as 512MiB or 20GiB, got "huge"\n');
    // An image that fits unpacks as usual: its tar stream is exactly 2 KiB (header, data, end).
    await storeImage(store, 'localhost/crafted/small:1', [{ entries: [file('etc/hostname', 'box\n')] }]);
    const small = join(newDir(), 'rootfs');
    await ok(['unpack', '--max-size', '2KiB', 'localhost/crafted/small:1', small], store);
    assert.equal(await readFile(join(small, 'etc', 'hostname'), 'utf8'), 'box\n');
    const tooSmall = await custody(['unpack', '--max-size', '2047', 'localhost/crafted/small:1', join(newDir(), 'rootfs')], store);
    assert.equal(tooSmall.code, 1);
    assert.match(tooSmall.stderr, /more than 2047 B \(--max-size\)/);
  });

  it('follows symlinks inside the image as its own root would (merged /usr, absolute targets)', async () => {
    const name = 'localhost/crafted/links:1';
    await storeImage(store, name, [
      { entries: [{ name: 'usr/', type: 'dir' }, { name: 'usr/bin/', type: 'dir' }, { name: 'bin', type: 'symlink', linkname: 'usr/bin' }, { name: 'etc', type: 'symlink', linkname: '/usr/etc' }, { name: 'usr/etc/', type: 'dir' }], compression: 'gzip' },
      { entries: [file('bin/tool', 'tool\n'), file('etc/passwd', 'root:x:0:0\n'), { name: 'root', type: 'symlink', linkname: '/' }, file('root/usr/from-root', 'ok\n')], compression: 'none' },
    ]);
    const outer = newDir();
    const target = join(outer, 'rootfs');
    await ok(['unpack', name, target], store);
    assert.deepEqual(await readdir(outer), ['rootfs']);
    assert.equal(await readFile(join(target, 'usr', 'bin', 'tool'), 'utf8'), 'tool\n');
    assert.equal(await readFile(join(target, 'usr', 'etc', 'passwd'), 'utf8'), 'root:x:0:0\n');
    assert.equal(await readFile(join(target, 'usr', 'from-root'), 'utf8'), 'ok\n');
    assert.equal((await lstat(join(target, 'bin'))).isSymbolicLink(), true);
  });

  it('puts absolute paths inside the target, keeps modes and mtimes, applies whiteouts and opaque dirs (gzip, zstd, plain)', async () => {
    const name = 'localhost/crafted/ok:1';
    await storeImage(store, name, [
      { entries: [file('/abs', 'inside\n'), { name: 'dir/', type: 'dir', mode: 0o750, mtime: 1_000_000 }, { ...file('dir/keep'), mode: 0o640, mtime: 2_000_000 }, file('dir/gone'), { name: 'opq/', type: 'dir' }, file('opq/lower'), { ...file('suid'), mode: 0o4755 }], compression: 'gzip' },
      { entries: [file('dir/.wh.gone'), { name: 'opq/', type: 'dir' }, file('opq/.wh..wh..opq', ''), file('opq/upper'), { name: 'ln', type: 'symlink', linkname: '/etc/passwd' }], compression: 'zstd' },
      { entries: [{ name: 'hard', type: 'hardlink', linkname: '/dir/keep' }, file('.wh.abs', '')], compression: 'none' },
    ]);
    const outer = newDir();
    const target = join(outer, 'rootfs');
    await ok(['unpack', name, target], store);
    assert.deepEqual((await readdir(target)).sort(), ['dir', 'hard', 'ln', 'opq', 'suid']);
    assert.deepEqual(await readdir(outer), ['rootfs']);
    assert.deepEqual(await readdir(join(target, 'dir')), ['keep']);
    assert.deepEqual(await readdir(join(target, 'opq')), ['upper']);
    assert.equal((await lstat(join(target, 'dir'))).mode & 0o7777, 0o750);
    assert.equal((await lstat(join(target, 'dir'))).mtimeMs, 1_000_000_000);
    assert.equal((await lstat(join(target, 'dir', 'keep'))).mode & 0o7777, 0o640);
    assert.equal((await lstat(join(target, 'dir', 'keep'))).mtimeMs, 2_000_000_000);
    assert.equal((await lstat(join(target, 'hard'))).ino, (await lstat(join(target, 'dir', 'keep'))).ino);
    assert.equal((await lstat(join(target, 'ln'))).isSymbolicLink(), true);
    const root = process.getuid?.() === 0;
    assert.equal((await lstat(join(target, 'suid'))).mode & 0o7777, root ? 0o4755 : 0o755);
  });
});
