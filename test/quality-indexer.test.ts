// The image indexer core: the layer walker (gzip, zstd and plain layers, whiteouts,
// opaque directories, symlinks and hard links, every entry shown to onEntry analyzers),
// operating-system detection, the dpkg and apk databases and layer attribution. The
// Debian images' packages must equal what dpkg-query reported inside them, exactly.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { encodeHeader, type TarWriterEntry } from '../src/image/archive/tar-writer.ts';
import { OciLayoutSource } from '../src/image/transports/index.ts';
import type { InstalledPackage } from '../src/core/quality.ts';
import type { Analyzer, LayerEntry } from '../src/scan/indexer/analyzer.ts';
import { indexAllPlatforms, indexImage } from '../src/scan/indexer/index-image.ts';
import { walkLayers, type LayerToWalk } from '../src/scan/indexer/layer-walker.ts';
import { detectOsRelease } from '../src/scan/indexer/os-release.ts';
import { parseDpkgStatus } from '../src/scan/packages/dpkg.ts';
import { parseApkInstalled } from '../src/scan/packages/apk.ts';
import { buildMultiArchLayout, debianLayout, layoutImage, sha256 } from './support/images.ts';
import { sharedDir } from './support/paths.ts';
import { tempDirs } from './support/temp-files.ts';

const newDir = tempDirs('custody-quality-indexer-');

// ---- building layers and layouts ----------------------------------------------------------

type FileSpec = TarWriterEntry & { readonly content?: string | Buffer };

function tarOf(entries: readonly FileSpec[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const content = entry.content === undefined ? Buffer.alloc(0) : Buffer.from(entry.content);
    parts.push(encodeHeader({ ...entry, size: content.length }), content, Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

type Compression = 'gzip' | 'zstd' | 'none';
const LAYER_TYPES: Record<Compression, string> = {
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  none: 'application/vnd.oci.image.layer.v1.tar',
};

function compress(tar: Buffer, compression: Compression): Buffer {
  return compression === 'gzip' ? gzipSync(tar) : compression === 'zstd' ? zstdCompressSync(tar) : tar;
}

/** An OCI layout in a fresh directory with one tagged image of these layers; returns its oci: reference. */
async function buildLayout(layers: ReadonlyArray<{ entries: readonly FileSpec[]; compression: Compression; mediaType?: string }>, tag = 'test'): Promise<string> {
  const dir = newDir();
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = async (content: Buffer): Promise<{ digest: string; size: number }> => {
    const digest = sha256(content);
    await writeFile(join(dir, 'blobs', 'sha256', digest.slice(7)), content);
    return { digest, size: content.length };
  };
  const descriptors = [];
  const diffIds = [];
  for (const layer of layers) {
    const tar = tarOf(layer.entries);
    diffIds.push(sha256(tar));
    descriptors.push({ mediaType: layer.mediaType ?? LAYER_TYPES[layer.compression], ...(await put(compress(tar, layer.compression))) });
  }
  const config = await put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds } })));
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: descriptors }));
  const stored = await put(manifest);
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...stored, annotations: { 'org.opencontainers.image.ref.name': tag } }] }));
  return `${dir}:${tag}`;
}

/** Walks in-memory layers (no layout) with the given analyzers. */
function memoryLayers(layers: ReadonlyArray<readonly FileSpec[]>, compression: Compression = 'none'): LayerToWalk[] {
  return layers.map((entries, index) => {
    const blob = compress(tarOf(entries), compression);
    return { digest: `sha256:${String(index).padStart(64, '0')}`, mediaType: LAYER_TYPES[compression], size: blob.length, open: async () => Readable.from([blob]) };
  });
}

async function withSource<T>(ref: string, body: (source: OciLayoutSource) => Promise<T>): Promise<T> {
  const source = new OciLayoutSource(ref);
  try {
    return await body(source);
  } finally {
    await source.close();
  }
}

// ---- dpkg-query's lists -------------------------------------------------------------------

/** `package source version source_version arch` per line, from the shared *.packages.tsv. */
async function dpkgQueryList(image: 'minbase' | 'curl'): Promise<string[]> {
  const text = await readFile(sharedDir('images', `debian-bookworm-${image}.packages.tsv`), 'utf8');
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [name, , source, version, sourceVersion, arch, status] = line.split('\t') as [string, string, string, string, string, string, string];
      assert.equal(status.trim(), 'ii', `${name}: the shared list holds installed packages only`);
      return [name, source, version, sourceVersion, arch].join('\t');
    })
    .sort();
}

function asDpkgQueryLines(packages: readonly InstalledPackage[]): string[] {
  return packages.map((found) => [found.name, found.sourceName, found.version, found.sourceVersion, found.arch].join('\t')).sort();
}

describe('dpkg packages of the shared Debian images', () => {
  for (const image of ['minbase', 'curl'] as const) {
    test(`bookworm-${image}: exactly what dpkg-query lists`, async () => {
      const index = await withSource(`${debianLayout()}:bookworm-${image}`, (source) => indexImage(source));
      const expected = await dpkgQueryList(image);
      assert.equal(index.packages.length, expected.length);
      assert.deepEqual(asDpkgQueryLines(index.packages), expected);
      for (const found of index.packages) {
        assert.equal(found.ecosystem, 'deb');
        assert.equal(found.path, 'var/lib/dpkg/status');
      }
      const bsdutils = index.packages.find((found) => found.name === 'bsdutils')!;
      assert.equal(bsdutils.epoch, 1);
      assert.equal(bsdutils.purl, 'pkg:deb/debian/bsdutils@1:2.38.1-5%2Bdeb12u3?arch=amd64&distro=debian-12&upstream=util-linux');
      const manifest = await layoutImage(debianLayout(), `bookworm-${image}`);
      assert.equal(index.manifestDigest, manifest.digest);
      assert.deepEqual(index.layers.map((layer) => layer.digest), manifest.manifest.layers.map((layer) => layer.digest));
    });
  }

  test('bookworm-curl: packages its second layer added or changed are attributed to it, the rest to the first', async () => {
    const index = await withSource(`${debianLayout()}:bookworm-curl`, (source) => indexImage(source));
    const [base, added] = index.layers.map((layer) => layer.digest) as [string, string];
    const minbase = new Set(await dpkgQueryList('minbase'));
    const fromSecondLayer = index.packages.filter((found) => !minbase.has(asDpkgQueryLines([found])[0]!)).map((found) => found.name);
    assert.ok(fromSecondLayer.includes('curl') && fromSecondLayer.includes('openssl'), `curl and openssl come with the second layer: ${fromSecondLayer.join(', ')}`);
    for (const found of index.packages) assert.equal(found.layer, fromSecondLayer.includes(found.name) ? added : base, `${found.name} ${found.version}`);
  });
});

describe('layer walker on the shared images', () => {
  async function finalTree(tag: string) {
    return withSource(`${debianLayout()}:${tag}`, async (source) => {
      const manifest = JSON.parse((await source.getManifest()).bytes.toString('utf8')) as { layers: Array<{ digest: string; mediaType: string; size: number }> };
      const layers = manifest.layers.map((layer) => ({ ...layer, open: () => source.getBlob(layer) }));
      return (await walkLayers(layers, [])).files;
    });
  }

  test("bookworm-curl's whiteouts remove a file, a directory and var/lib/apt/lists/partial", async () => {
    const minbase = await finalTree('bookworm-minbase');
    const curl = await finalTree('bookworm-curl');
    for (const path of ['etc/motd', 'usr/share/doc/debian-archive-keyring', 'var/lib/apt/lists/partial']) {
      assert.ok(minbase.stat(path, { noFollow: true }) !== undefined, `${path} is in the first layer`);
      assert.equal(curl.stat(path, { noFollow: true }), undefined, `${path} is whited out by the second layer`);
      assert.equal(curl.fateAfter(path, 0)?.how, 'deleted');
      assert.equal(curl.fateAfter(path, 0)?.layer.index, 1);
    }
    assert.equal(curl.stat('usr/share/doc/debian-archive-keyring/copyright'), undefined, "a whited-out directory's content goes with it");
    assert.equal(curl.fateAfter('usr/share/doc/debian-archive-keyring/copyright', 0)?.how, 'deleted');
    assert.equal(curl.stat('var/lib/apt/lists')?.type, 'dir', 'the parent stays');
    assert.equal(curl.stat('etc/passwd')?.layer.index, 0);
    assert.equal(curl.stat('usr/bin/curl')?.layer.index, 1);
    // Merged /usr: bin is a symlink to usr/bin, followed inside the image root.
    assert.equal(curl.stat('bin', { noFollow: true })?.type, 'symlink');
    assert.equal(curl.stat('bin/bash')?.path, 'usr/bin/bash');
  });

  test('OS detection: Debian from os-release; the UBI 9 image through its relative os-release symlink', async () => {
    const debian = await withSource(`${debianLayout()}:bookworm-minbase`, (source) => indexImage(source));
    assert.deepEqual(
      { id: debian.os?.id, versionId: debian.os?.versionId, codename: debian.os?.versionCodename },
      { id: 'debian', versionId: '12', codename: 'bookworm' },
    );
    const ubi = sharedDir('images', 'ubi9-synthetic-oci');
    const index = await withSource(`${ubi}:9.4-synthetic`, async (source) => {
      const manifest = JSON.parse((await source.getManifest()).bytes.toString('utf8')) as { layers: Array<{ digest: string; mediaType: string; size: number }> };
      const walk = await walkLayers(manifest.layers.map((layer) => ({ ...layer, open: () => source.getBlob(layer) })), [{ name: 'os', wants: (path) => path === 'usr/lib/os-release' || path === 'etc/os-release', finish: async () => ({}) }]);
      const link = walk.files.stat('etc/os-release', { noFollow: true });
      assert.equal(link?.type, 'symlink');
      assert.ok(!link.linkTarget.startsWith('/'), `a relative target: ${link.linkTarget}`);
      return indexImage(source);
    });
    assert.equal(index.os?.id, 'rhel');
    assert.equal(index.os?.versionId, '9.4');
    assert.equal(index.os?.cpe, 'cpe:/o:redhat:enterprise_linux:9::baseos');
  });

  test('an index: the chosen platform, or every platform', async () => {
    const multi = await buildMultiArchLayout(newDir());
    const arm = await withSource(`${multi.layout}:${multi.tag}`, (source) => indexImage(source, { platform: { os: 'linux', architecture: 'arm64' } }));
    assert.equal(arm.manifestDigest, multi.children[1]!.digest);
    assert.equal(arm.packages.length, (await dpkgQueryList('minbase')).length);
    const all = await withSource(`${multi.layout}:${multi.tag}`, (source) => indexAllPlatforms(source));
    assert.deepEqual(all.map((entry) => [entry.platform?.architecture, entry.index.packages.length]), [['amd64', 106], ['arm64', 88]]);
  });
});

// ---- generated images ---------------------------------------------------------------------

function dpkgStanza(name: string, version: string, options: { source?: string; status?: string; arch?: string } = {}): string {
  return [
    `Package: ${name}`,
    `Status: ${options.status ?? 'install ok installed'}`,
    'Priority: optional',
    `Architecture: ${options.arch ?? 'amd64'}`,
    ...(options.source === undefined ? [] : [`Source: ${options.source}`]),
    `Version: ${version}`,
    `Description: the ${name} package`,
    ' with a continuation line',
    '',
  ].join('\n');
}

const DEBIAN_OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n';

describe('dpkg database details', () => {
  test('status parsing: epochs, Source with and without a version, states with files on disk only', async () => {
    const status = [
      dpkgStanza('bsdutils', '1:2.38.1-5+deb12u3', { source: 'util-linux (2.38.1-5+deb12u3)' }),
      dpkgStanza('libc6', '2.36-9+deb12u9', { source: 'glibc' }),
      dpkgStanza('removed', '1.0', { status: 'deinstall ok config-files' }),
      dpkgStanza('gone', '1.0', { status: 'purge ok not-installed' }),
      dpkgStanza('half', '2.0', { status: 'install reinstreq half-configured' }),
    ].join('\n');
    assert.equal(parseDpkgStatus(status).length, 5);
    const ref = await buildLayout([{ compression: 'gzip', entries: [{ name: 'etc/os-release', content: DEBIAN_OS_RELEASE }, { name: 'var/lib/dpkg/status', content: status }] }]);
    const index = await withSource(ref, (source) => indexImage(source));
    assert.deepEqual(
      index.packages.map((found) => [found.name, found.version, found.epoch, found.sourceName, found.sourceVersion]),
      [
        ['bsdutils', '1:2.38.1-5+deb12u3', 1, 'util-linux', '2.38.1-5+deb12u3'],
        ['half', '2.0', undefined, 'half', '2.0'],
        ['libc6', '2.36-9+deb12u9', undefined, 'glibc', '2.36-9+deb12u9'],
      ],
    );
  });

  test('distroless status.d: one file per package, .md5sums ignored', async () => {
    const ref = await buildLayout([
      {
        compression: 'gzip',
        entries: [
          { name: 'etc/debian_version', content: '12.7\n' },
          { name: 'var/lib/dpkg/status.d/base-files', content: dpkgStanza('base-files', '12.4+deb12u7') },
          { name: 'var/lib/dpkg/status.d/base-files.md5sums', content: 'd41d8cd98f00b204e9800998ecf8427e  etc/issue\n' },
          { name: 'var/lib/dpkg/status.d/libssl3', content: dpkgStanza('libssl3', '3.0.14-1~deb12u2', { source: 'openssl' }) },
        ],
      },
    ]);
    const index = await withSource(ref, (source) => indexImage(source));
    assert.equal(index.os?.source, 'etc/debian_version');
    assert.equal(index.os?.versionId, '12');
    assert.equal(index.os?.versionCodename, 'bookworm');
    assert.deepEqual(index.packages.map((found) => [found.name, found.path, found.purl]), [
      ['base-files', 'var/lib/dpkg/status.d/base-files', 'pkg:deb/debian/base-files@12.4%2Bdeb12u7?arch=amd64&distro=debian-12'],
      ['libssl3', 'var/lib/dpkg/status.d/libssl3', 'pkg:deb/debian/libssl3@3.0.14-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl'],
    ]);
  });

  test('zstd and uncompressed layers; attribution follows the stanza, not the file', async () => {
    const first = [dpkgStanza('a', '1.0'), dpkgStanza('b', '1.0'), dpkgStanza('c', '1.0')].join('\n');
    const second = [dpkgStanza('a', '1.0'), dpkgStanza('b', '1.1'), dpkgStanza('c', '1.0'), dpkgStanza('d', '4.0')].join('\n');
    // A third layer that rewrites the file unchanged keeps every package where it was.
    const ref = await buildLayout([
      { compression: 'zstd', entries: [{ name: 'etc/os-release', content: DEBIAN_OS_RELEASE }, { name: 'var/lib/dpkg/status', content: first }] },
      { compression: 'none', entries: [{ name: 'var/lib/dpkg/status', content: second }] },
      { compression: 'gzip', entries: [{ name: 'var/lib/dpkg/', type: 'dir' }, { name: 'var/lib/dpkg/status', content: second }] },
    ]);
    const index = await withSource(ref, (source) => indexImage(source));
    assert.deepEqual(index.walk.map((layer) => layer.compression), ['zstd', 'none', 'gzip']);
    const layerOf = new Map(index.layers.map((layer, position) => [layer.digest, position]));
    assert.deepEqual(index.packages.map((found) => [found.name, found.version, layerOf.get(found.layer)]), [
      ['a', '1.0', 0],
      ['b', '1.1', 1],
      ['c', '1.0', 0],
      ['d', '4.0', 1],
    ]);
  });

  test('a whited-out status database means no packages; a status written again after it starts afresh', async () => {
    const status = dpkgStanza('a', '1.0');
    const ref = await buildLayout([
      { compression: 'gzip', entries: [{ name: 'var/lib/dpkg/status', content: status }] },
      { compression: 'gzip', entries: [{ name: 'var/lib/dpkg/.wh.status' }] },
    ]);
    assert.deepEqual((await withSource(ref, (source) => indexImage(source))).packages, []);
    const again = await buildLayout([
      { compression: 'gzip', entries: [{ name: 'var/lib/dpkg/status', content: status }] },
      { compression: 'gzip', entries: [{ name: 'var/lib/.wh..wh..opq' }] },
      { compression: 'gzip', entries: [{ name: 'var/lib/dpkg/status', content: status }] },
    ]);
    const index = await withSource(again, (source) => indexImage(source));
    assert.equal(index.packages[0]?.layer, index.layers[2]!.digest);
  });
});

describe('apk database', () => {
  const record = (name: string, version: string, origin: string, license: string): string =>
    [`C:Q1abc=`, `P:${name}`, `V:${version}`, 'A:x86_64', 'S:1000', 'I:2000', `T:the ${name} package`, `L:${license}`, `o:${origin}`, 'm:Someone <x@example.org>', 'F:usr/lib', `R:lib${name}.so`, ''].join('\n');
  const ALPINE_OS = 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME="Alpine Linux v3.19"\n';

  test('parses P/V/A/o/L records', () => {
    const records = parseApkInstalled([record('musl', '1.2.4_git20230717-r4', 'musl', 'MIT'), record('libcrypto3', '3.1.4-r5', 'openssl', 'Apache-2.0')].join('\n'));
    assert.deepEqual(records.map((found) => [found.name, found.version, found.architecture, found.origin, found.license]), [
      ['musl', '1.2.4_git20230717-r4', 'x86_64', 'musl', 'MIT'],
      ['libcrypto3', '3.1.4-r5', 'x86_64', 'openssl', 'Apache-2.0'],
    ]);
  });

  test('a generated Alpine image: OS, packages, licenses, purls and layers', async () => {
    const base = [record('musl', '1.2.4_git20230717-r4', 'musl', 'MIT'), record('busybox', '1.36.1-r15', 'busybox', 'GPL-2.0-only')].join('\n');
    const more = [base, record('libcrypto3', '3.1.4-r5', 'openssl', 'Apache-2.0')].join('\n');
    const ref = await buildLayout([
      { compression: 'gzip', entries: [{ name: 'etc/alpine-release', content: '3.19.1\n' }, { name: 'etc/os-release', content: ALPINE_OS }, { name: 'lib/apk/db/installed', content: base }] },
      { compression: 'zstd', entries: [{ name: 'lib/apk/db/installed', content: more }] },
    ]);
    const index = await withSource(ref, (source) => indexImage(source));
    assert.equal(index.os?.id, 'alpine');
    assert.equal(index.os?.versionId, '3.19.1');
    const layerOf = new Map(index.layers.map((layer, position) => [layer.digest, position]));
    assert.deepEqual(index.packages.map((found) => [found.name, found.version, found.sourceName, found.licenses, layerOf.get(found.layer), found.purl]), [
      ['busybox', '1.36.1-r15', 'busybox', ['GPL-2.0-only'], 0, 'pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1'],
      ['libcrypto3', '3.1.4-r5', 'openssl', ['Apache-2.0'], 1, 'pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&distro=alpine-3.19.1&upstream=openssl'],
      ['musl', '1.2.4_git20230717-r4', 'musl', ['MIT'], 0, 'pkg:apk/alpine/musl@1.2.4_git20230717-r4?arch=x86_64&distro=alpine-3.19.1'],
    ]);
  });

  test('alpine-release alone is enough to detect Alpine', async () => {
    const ref = await buildLayout([{ compression: 'none', entries: [{ name: 'etc/alpine-release', content: '3.20.0\n' }] }]);
    const index = await withSource(ref, (source) => indexImage(source));
    assert.deepEqual([index.os?.id, index.os?.versionId, index.os?.source], ['alpine', '3.20.0', 'etc/alpine-release']);
  });
});

describe('layer walker semantics', () => {
  const keep = (paths: string[]): Analyzer => ({ name: 'keep', wants: (path) => paths.includes(path), finish: async () => ({}) });

  test('opaque directories keep only what their own layer wrote', async () => {
    const { files } = await walkLayers(
      memoryLayers([
        [{ name: 'etc/app/', type: 'dir' }, { name: 'etc/app/old.conf', content: 'old' }, { name: 'etc/app/sub/deep', content: 'deep' }, { name: 'etc/other', content: 'x' }],
        // The marker may come after this layer's own entries.
        [{ name: 'etc/app/new.conf', content: 'new' }, { name: 'etc/app/.wh..wh..opq' }],
      ], 'gzip'),
      [keep(['etc/app/new.conf'])],
    );
    assert.deepEqual(files.list('etc/app'), ['new.conf']);
    assert.equal(files.stat('etc/app/sub'), undefined);
    assert.equal(files.stat('etc/other')?.layer.index, 0);
    assert.equal(files.file('etc/app/new.conf')?.content?.toString(), 'new');
    assert.deepEqual(files.fateAfter('etc/app/old.conf', 0), { how: 'deleted', layer: files.layers[1] });
    assert.equal(files.fateAfter('etc/app/new.conf', 1), null);
  });

  test('a whiteout spares a same-layer entry; a replaced file reports the layer that replaced it', async () => {
    const { files } = await walkLayers(
      memoryLayers([
        [{ name: 'a', content: '1' }, { name: 'b', content: '1' }],
        [{ name: 'b', content: '2' }, { name: '.wh.b' }],
        [{ name: 'a', content: '3' }],
      ]),
      [keep(['a', 'b'])],
    );
    assert.equal(files.file('b')?.content?.toString(), '2');
    assert.deepEqual(files.file('a')?.versions.map((version) => [version.layer.index, version.content?.toString()]), [[0, '1'], [2, '3']]);
    assert.deepEqual(files.fateAfter('a', 0), { how: 'replaced', layer: files.layers[2] });
  });

  test('symlinks (relative, absolute, chained, in parent directories, loops) and hard links', async () => {
    const { files } = await walkLayers(
      memoryLayers([
        [
          { name: 'usr/lib/os-release', content: 'ID=test\n' },
          { name: 'etc/os-release', type: 'symlink', linkname: '../usr/lib/os-release' },
          { name: 'etc/abs', type: 'symlink', linkname: '/etc/os-release' },
          { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
          { name: 'up', type: 'symlink', linkname: '../../../../usr/lib/os-release' },
          { name: 'loop1', type: 'symlink', linkname: 'loop2' },
          { name: 'loop2', type: 'symlink', linkname: 'loop1' },
          { name: 'usr/lib/data', content: 'shared bytes' },
          { name: 'usr/lib/data-link', type: 'hardlink', linkname: 'usr/lib/data' },
        ],
        // Written through the `lib` symlink of the layer below: lands in usr/lib.
        [{ name: 'lib/apk/db/installed', content: 'P:x\nV:1\n' }],
      ]),
      [keep(['usr/lib/os-release', 'usr/lib/data', 'usr/lib/data-link', 'usr/lib/apk/db/installed'])],
    );
    for (const path of ['etc/os-release', 'etc/abs', 'up', 'lib/os-release']) {
      assert.equal(files.file(path)?.content?.toString(), 'ID=test\n', path);
      assert.equal(files.file(path)?.path, 'usr/lib/os-release', path);
    }
    assert.equal(files.stat('loop1'), undefined);
    assert.equal(files.file('usr/lib/data-link')?.content?.toString(), 'shared bytes');
    assert.equal(files.file('lib/apk/db/installed')?.path, 'usr/lib/apk/db/installed');
    assert.equal(detectOsRelease(files)?.id, 'test');
  });

  test('onEntry sees every file of every layer, deleted ones included, and can read them', async () => {
    const seen: string[] = [];
    const watcher: Analyzer = {
      name: 'watch',
      async onEntry(entry: LayerEntry) {
        if (entry.type !== 'file') return;
        seen.push(`${entry.layer.index}:${entry.path}=${(await entry.readContent())?.toString()}`);
      },
      finish: async () => ({}),
    };
    const { files } = await walkLayers(memoryLayers([[{ name: 'root/.aws/credentials', content: 'secret' }, { name: 'big', content: 'x'.repeat(100) }], [{ name: 'root/.aws/.wh.credentials' }]], 'zstd'), [watcher], { contentCap: 50 });
    assert.deepEqual(seen, ['0:root/.aws/credentials=secret', '0:big=undefined']);
    assert.equal(files.stat('root/.aws/credentials'), undefined);
    assert.deepEqual(files.fateAfter('root/.aws/credentials', 0), { how: 'deleted', layer: files.layers[1] });
  });

  test('a layer whose media type says gzip but is not, and a blob that does not match its digest, fail', async () => {
    const ref = await buildLayout([{ compression: 'none', mediaType: LAYER_TYPES.gzip, entries: [{ name: 'a', content: 'a' }] }]);
    await assert.rejects(withSource(ref, (source) => indexImage(source)), /says gzip/);
    const good = await buildLayout([{ compression: 'gzip', entries: [{ name: 'a', content: 'a' }] }]);
    const [dir] = good.split(':') as [string];
    const manifest = JSON.parse((await withSource(good, (source) => source.getManifest())).bytes.toString('utf8')) as { layers: Array<{ digest: string }> };
    const blob = join(dir, 'blobs', 'sha256', manifest.layers[0]!.digest.slice(7));
    const bytes = await readFile(blob);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    await writeFile(blob, bytes);
    await assert.rejects(withSource(good, (source) => indexImage(source)), /digest|size|gzip|corrupt|check/i);
  });
});
