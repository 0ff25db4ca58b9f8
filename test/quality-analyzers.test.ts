// Language packages (npm, Python, Go binaries, Java archives), secrets in layers and SBOM
// export. Fixtures are generated here: package trees and lock files, metadata files, zips
// written byte by byte (stored and deflated entries, a nested jar), synthetic ELF files in
// both Go build-info formats plus the Go binaries installed on this machine, and layers
// walked by the real layer walker (whiteouts included) for the adapters.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { ImageIndex, InstalledPackage } from '../src/core/quality.ts';
import { encodeHeader, type TarWriterEntry } from '../src/image/archive/tar-writer.ts';
import { walkLayers, type LayerToWalk } from '../src/scan/indexer/layer-walker.ts';
import type { Analyzer, AnalyzerContext } from '../src/scan/indexer/analyzer.ts';
import { goBinaryAnalyzer, javaAnalyzer, npmAnalyzer, pythonAnalyzer, secretsAnalyzer } from '../src/scan/analyzers/index.ts';
import { isNpmLockFilePath, isNpmPackageManifestPath, parseNpmPackageJson, parsePackageLock, parsePnpmLock, parseYarnLock } from '../src/scan/analyzers/npm.ts';
import { isPythonMetadataPath, parsePythonMetadata } from '../src/scan/analyzers/python.ts';
import { goBinaryPackages, parseGoBuildInfo, parseModinfo } from '../src/scan/analyzers/go-binary.ts';
import { isJavaArchivePath, parseJavaArchive, parseJarManifest, parseProperties } from '../src/scan/analyzers/java.ts';
import { isSecretScanCandidate, scanSecrets, SECRET_RULE_IDS } from '../src/scan/analyzers/secrets.ts';
import { golangPurl, mavenPurl, npmPurl, pypiPurl } from '../src/scan/analyzers/purl.ts';
import { toCycloneDx, toSpdx } from '../src/scan/sbom.ts';
import { requireTool } from './support/tools.ts';
import { pom, syntheticElf, zip } from './support/language-fixtures.ts';

const enc = (s: string): Buffer => Buffer.from(s);

// ---- layers for the walker --------------------------------------------------------------

type FileSpec = TarWriterEntry & { readonly content?: string | Buffer };

function tarOf(entries: readonly FileSpec[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const content = entry.content === undefined ? Buffer.alloc(0) : Buffer.from(entry.content);
    parts.push(encodeHeader({ mode: 0o644, ...entry, size: content.length }), content, Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

function layerDigest(index: number): string {
  return `sha256:${String(index).padStart(64, '0')}`;
}

function memoryLayers(layers: ReadonlyArray<readonly FileSpec[]>): LayerToWalk[] {
  return layers.map((entries, index) => {
    const blob = tarOf(entries);
    return { digest: layerDigest(index), mediaType: 'application/vnd.oci.image.layer.v1.tar', size: blob.length, open: async () => Readable.from([blob]) };
  });
}

const CONTEXT: AnalyzerContext = { os: null, manifestDigest: `sha256:${'f'.repeat(64)}` };

async function run(analyzer: Analyzer, layers: ReadonlyArray<readonly FileSpec[]>) {
  const { files } = await walkLayers(memoryLayers(layers), [analyzer]);
  return analyzer.finish(files, CONTEXT);
}

// ---- purls --------------------------------------------------------------------------------

describe('purls', () => {
  test('each ecosystem spells its purl as the spec says', () => {
    assert.equal(npmPurl('@Babel/Core', '7.24.0'), 'pkg:npm/%40babel/core@7.24.0');
    assert.equal(npmPurl('lodash', '4.17.21'), 'pkg:npm/lodash@4.17.21');
    assert.equal(pypiPurl('Foo_Bar.baz', '1.0'), 'pkg:pypi/foo-bar-baz@1.0');
    assert.equal(golangPurl('github.com/Foo/bar/v2', 'v2.1.0+incompatible'), 'pkg:golang/github.com/Foo/bar/v2@v2.1.0%2Bincompatible');
    assert.equal(mavenPurl('org.apache.commons', 'commons-lang3', '3.14.0'), 'pkg:maven/org.apache.commons/commons-lang3@3.14.0');
  });
});

// ---- npm ----------------------------------------------------------------------------------

describe('npm', () => {
  test('only package.json files of package directories under node_modules are installed packages', () => {
    assert.ok(isNpmPackageManifestPath('app/node_modules/lodash/package.json'));
    assert.ok(isNpmPackageManifestPath('usr/lib/node_modules/npm/node_modules/@npmcli/arborist/package.json'));
    assert.ok(isNpmPackageManifestPath('node_modules/x/package.json'));
    assert.ok(!isNpmPackageManifestPath('app/package.json'), 'the project itself is not installed');
    assert.ok(!isNpmPackageManifestPath('app/node_modules/lodash/fp/package.json'), 'subpath markers are not packages');
    assert.ok(!isNpmPackageManifestPath('app/node_modules/@scope/package.json'));
    assert.ok(isNpmLockFilePath('app/package-lock.json') && isNpmLockFilePath('yarn.lock') && isNpmLockFilePath('srv/pnpm-lock.yaml'));
    assert.ok(!isNpmLockFilePath('app/node_modules/x/package-lock.json'), 'a published package\'s lock file installs nothing');
  });

  test('package.json: name, version, license in its three spellings', () => {
    const a = parseNpmPackageJson('node_modules/@scope/a/package.json', enc(JSON.stringify({ name: '@scope/a', version: '1.2.3', license: 'MIT' })));
    assert.deepEqual(a, { ecosystem: 'npm', name: '@scope/a', version: '1.2.3', licenses: ['MIT'], path: 'node_modules/@scope/a/package.json', purl: 'pkg:npm/%40scope/a@1.2.3' });
    const b = parseNpmPackageJson('p', enc('\ufeff' + JSON.stringify({ name: 'b', version: '2.0.0', license: { type: 'ISC' } })));
    assert.deepEqual(b?.licenses, ['ISC']);
    const c = parseNpmPackageJson('p', enc(JSON.stringify({ name: 'c', version: '0.1.0', licenses: [{ type: 'MIT' }, { type: 'Apache-2.0' }] })));
    assert.deepEqual(c?.licenses, ['MIT', 'Apache-2.0']);
    assert.equal(parseNpmPackageJson('p', enc(JSON.stringify({ name: 'no-version' }))), null);
    assert.equal(parseNpmPackageJson('p', enc('{not json')), null);
  });

  test('package-lock.json v1 (nested, aliases, dev) and v2/v3 (packages, links, workspaces)', () => {
    const v1 = parsePackageLock(enc(JSON.stringify({
      lockfileVersion: 1,
      dependencies: {
        express: { version: '4.18.2', dependencies: { debug: { version: '2.6.9' } } },
        debug: { version: '4.3.4' },
        mocha: { version: '10.2.0', dev: true },
        alias: { version: 'npm:real-pkg@1.0.1' },
        gitdep: { version: 'git+https://example.com/x.git#abc' },
      },
    })));
    assert.deepEqual(v1.map((p) => `${p.name}@${p.version}${p.dev ? ' dev' : ''}`), ['debug@2.6.9', 'debug@4.3.4', 'express@4.18.2', 'mocha@10.2.0 dev', 'real-pkg@1.0.1']);
    const v3 = parsePackageLock(enc(JSON.stringify({
      lockfileVersion: 3,
      packages: {
        '': { name: 'app', version: '1.0.0' },
        'node_modules/express': { version: '4.18.2' },
        'node_modules/express/node_modules/debug': { version: '2.6.9' },
        'node_modules/@types/node': { version: '20.1.0', dev: true },
        'node_modules/aliased': { name: 'real', version: '3.0.0' },
        'node_modules/workspace-a': { resolved: 'packages/a', link: true },
        'packages/a': { name: 'workspace-a', version: '0.0.1' },
      },
    })));
    assert.deepEqual(v3.map((p) => `${p.name}@${p.version}${p.dev ? ' dev' : ''}`), ['@types/node@20.1.0 dev', 'debug@2.6.9', 'express@4.18.2', 'real@3.0.0']);
  });

  test('yarn.lock classic and berry', () => {
    const classic = [
      '# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.',
      '# yarn lockfile v1',
      '',
      '"@babel/code-frame@^7.0.0", "@babel/code-frame@^7.10.4":',
      '  version "7.12.13"',
      '  resolved "https://registry.yarnpkg.com/@babel/code-frame/-/code-frame-7.12.13.tgz"',
      '  dependencies:',
      '    "@babel/highlight" "^7.10.4"',
      '',
      'lodash@^4.17.21:',
      '  version "4.17.21"',
      '',
      'my-alias@npm:left-pad@^1.3.0:',
      '  version "1.3.0"',
      '',
    ].join('\n');
    assert.deepEqual(parseYarnLock(enc(classic)).map((p) => `${p.name}@${p.version}`), ['@babel/code-frame@7.12.13', 'left-pad@1.3.0', 'lodash@4.17.21']);
    const berry = [
      '__metadata:',
      '  version: 6',
      '',
      '"app@workspace:.":',
      '  version: 0.0.0-use.local',
      '',
      '"lodash@npm:^4.17.21, lodash@npm:^4.17.4":',
      '  version: 4.17.21',
      '  resolution: "lodash@npm:4.17.21"',
      '',
    ].join('\n');
    assert.deepEqual(parseYarnLock(enc(berry)).map((p) => `${p.name}@${p.version}`), ['lodash@4.17.21']);
  });

  test('pnpm-lock.yaml v5, v6 and v9 keys', () => {
    const v5 = "lockfileVersion: 5.4\npackages:\n  /lodash/4.17.21:\n    resolution: {integrity: sha512-x}\n  /@babel/core/7.24.0_supports-color@8.1.1:\n    resolution: {integrity: sha512-y}\n    dev: true\n";
    assert.deepEqual(parsePnpmLock(enc(v5)).map((p) => `${p.name}@${p.version}${p.dev ? ' dev' : ''}`), ['@babel/core@7.24.0 dev', 'lodash@4.17.21']);
    const v6 = "lockfileVersion: '6.0'\npackages:\n  /lodash@4.17.21:\n    dev: false\n  /@scope/pkg@1.0.0(react@18.2.0):\n    dev: false\n";
    assert.deepEqual(parsePnpmLock(enc(v6)).map((p) => `${p.name}@${p.version}`), ['@scope/pkg@1.0.0', 'lodash@4.17.21']);
    const v9 = "lockfileVersion: '9.0'\npackages:\n  lodash@4.17.21:\n    resolution: {integrity: sha512-x}\n  '@scope/pkg@2.0.0':\n    resolution: {integrity: sha512-y}\n";
    assert.deepEqual(parsePnpmLock(enc(v9)).map((p) => `${p.name}@${p.version}`), ['@scope/pkg@2.0.0', 'lodash@4.17.21']);
  });

  test('adapter: node_modules packages from the final filesystem; a lock file only where nothing is installed', async () => {
    const pkg = (name: string, version: string): string => JSON.stringify({ name, version, license: 'MIT' });
    const result = await run(npmAnalyzer(), [
      [
        { name: 'app/package.json', content: pkg('app', '1.0.0') },
        { name: 'app/package-lock.json', content: JSON.stringify({ lockfileVersion: 3, packages: { 'node_modules/left-pad': { version: '1.3.0' } } }) },
        { name: 'app/node_modules/express/package.json', content: pkg('express', '4.18.2') },
        { name: 'app/node_modules/@types/node/package.json', content: pkg('@types/node', '20.1.0') },
        { name: 'app/node_modules/gone/package.json', content: pkg('gone', '1.0.0') },
        { name: 'bundle/package-lock.json', content: JSON.stringify({ lockfileVersion: 3, packages: { 'node_modules/react': { version: '18.2.0' }, 'node_modules/jest': { version: '29.0.0', dev: true } } }) },
      ],
      [{ name: 'app/node_modules/.wh.gone' }, { name: 'app/node_modules/express/package.json', content: pkg('express', '4.19.2') }],
    ]);
    const got = result.packages!.map((p) => `${p.path} ${p.name}@${p.version} ${p.layer.slice(-1)}`);
    assert.deepEqual(got, [
      'app/node_modules/@types/node/package.json @types/node@20.1.0 0',
      'app/node_modules/express/package.json express@4.19.2 1',
      'bundle/package-lock.json react@18.2.0 0',
    ]);
    assert.equal(result.packages![1]!.purl, 'pkg:npm/express@4.19.2');
    assert.deepEqual(result.packages![1]!.licenses, ['MIT']);
  });
});

// ---- Python -------------------------------------------------------------------------------

describe('python', () => {
  test('metadata paths', () => {
    assert.ok(isPythonMetadataPath('usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA'));
    assert.ok(isPythonMetadataPath('usr/lib/python3/dist-packages/six-1.16.0.egg-info'));
    assert.ok(isPythonMetadataPath('site-packages/foo.egg-info/PKG-INFO'));
    assert.ok(isPythonMetadataPath('x/foo-1.0-py3.11.egg/EGG-INFO/PKG-INFO'));
    assert.ok(!isPythonMetadataPath('src/METADATA') && !isPythonMetadataPath('x/PKG-INFO'));
  });

  test('METADATA: name, version, license from License-Expression, a short License or classifiers', () => {
    const metadata = [
      'Metadata-Version: 2.1',
      'Name: Typing_Extensions',
      'Version: 4.9.0',
      'Summary: Backported types',
      'License: This is a long license text',
      '        that continues on the next line',
      'Classifier: License :: OSI Approved :: Python Software Foundation License',
      'Classifier: Programming Language :: Python :: 3',
      '',
      'Name: not-a-header (the description)',
    ].join('\n');
    const p = parsePythonMetadata('site-packages/typing_extensions-4.9.0.dist-info/METADATA', enc(metadata));
    assert.deepEqual(p, {
      ecosystem: 'pypi', name: 'Typing_Extensions', version: '4.9.0', licenses: ['Python Software Foundation License'],
      path: 'site-packages/typing_extensions-4.9.0.dist-info/METADATA', purl: 'pkg:pypi/typing-extensions@4.9.0',
    });
    const expression = parsePythonMetadata('m', enc('Metadata-Version: 2.4\r\nName: pkg\r\nVersion: 1.0\r\nLicense-Expression: MIT OR Apache-2.0\r\nLicense: MIT\r\n\r\n'));
    assert.deepEqual(expression?.licenses, ['MIT OR Apache-2.0']);
    const pkgInfo = parsePythonMetadata('six.egg-info', enc('Metadata-Version: 1.1\nName: six\nVersion: 1.16.0\nLicense: MIT\n'));
    assert.deepEqual([pkgInfo?.name, pkgInfo?.version, pkgInfo?.licenses], ['six', '1.16.0', ['MIT']]);
    assert.equal(parsePythonMetadata('m', enc('Name: x\n')), null);
  });

  test('adapter reports the final filesystem\'s packages', async () => {
    const meta = (name: string, version: string): string => `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`;
    const result = await run(pythonAnalyzer(), [
      [
        { name: 'usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA', content: meta('requests', '2.31.0') },
        { name: 'usr/lib/python3/dist-packages/old-1.0.dist-info/METADATA', content: meta('old', '1.0') },
      ],
      [{ name: 'usr/lib/python3/dist-packages/.wh.old-1.0.dist-info' }],
    ]);
    assert.deepEqual(result.packages!.map((p) => `${p.name}@${p.version} ${p.purl}`), ['requests@2.31.0 pkg:pypi/requests@2.31.0']);
  });
});

// ---- Go binaries --------------------------------------------------------------------------

describe('go binaries', () => {
  for (const format of ['inline', 'pointer'] as const) {
    test(`build info in the ${format === 'inline' ? 'Go 1.18+ inline' : 'Go 1.13-1.17 pointer'} format`, () => {
      const info = parseGoBuildInfo(syntheticElf(format));
      assert.ok(info !== null);
      assert.equal(info.goVersion, 'go1.21.5');
      assert.equal(info.path, 'example.com/app/cmd/app');
      assert.deepEqual(info.main, { path: 'example.com/app', version: 'v1.4.0', sum: 'h1:abc=' });
      assert.equal(info.deps.length, 3);
      assert.deepEqual(info.deps[1], { path: 'golang.org/x/net', version: 'v0.17.0', sum: 'h1:y=', replace: { path: 'github.com/fork/net', version: 'v0.19.0', sum: 'h1:z=' } });
      assert.deepEqual(info.settings, [['-compiler', 'gc'], ['GOOS', 'linux']]);
      assert.deepEqual(goBinaryPackages('app', info).map((p) => p.purl), [
        'pkg:golang/example.com/app@v1.4.0',
        'pkg:golang/github.com/spf13/cobra@v1.8.0',
        'pkg:golang/github.com/fork/net@v0.19.0',
        'pkg:golang/stdlib@v1.21.5',
      ]);
    });
  }

  test('not an executable, no build info, a truncated blob: null', () => {
    assert.equal(parseGoBuildInfo(enc('#!/bin/sh\necho hi\n')), null);
    const elf = syntheticElf('inline');
    assert.equal(parseGoBuildInfo(elf.subarray(0, 0x1000 + 40)), null);
    elf.fill(0, 0x1000, 0x1010);
    assert.equal(parseGoBuildInfo(elf), null);
  });

  test('a development build: no main module package, the standard library still reported', () => {
    const info = parseModinfo('go1.22.0 X:nocoverageredesign', 'path\tcmd\nmod\tcmd\t(devel)\t\n');
    assert.deepEqual(goBinaryPackages('bin/x', info).map((p) => p.purl), ['pkg:golang/stdlib@v1.22.0']);
  });

  // Debian builds its Go packages in GOPATH mode: the path and Go version are stamped,
  // but no module lines (`go version -m /usr/bin/skopeo` shows the same).
  test('real binaries: skopeo (Debian) and, where installed, a module-mode kubectl', () => {
    const skopeo = parseGoBuildInfo(readFileSync(requireTool('skopeo')));
    assert.ok(skopeo !== null);
    assert.equal(skopeo.path, 'github.com/containers/skopeo/cmd/skopeo');
    assert.match(skopeo.goVersion, /^go1\.\d+/);
    const kubectl = '/usr/lib/google-cloud-sdk/bin/kubectl.1.33';
    if (existsSync(kubectl)) {
      const info = parseGoBuildInfo(readFileSync(kubectl));
      assert.ok(info !== null);
      assert.equal(info.path, 'k8s.io/kubernetes/cmd/kubectl');
      assert.equal(info.main?.path, 'k8s.io/kubernetes');
      assert.ok(info.deps.some((d) => d.path === 'github.com/spf13/cobra' && /^v1\./.test(d.version)));
    }
  });

  test('adapter: executables of the final filesystem; deleted binaries and small files are not reported', async () => {
    const big = Buffer.concat([syntheticElf('inline'), Buffer.alloc(300 * 1024)]);
    // The padded copy must keep a PT_LOAD over the blob: it is at the start, unchanged.
    const result = await run(goBinaryAnalyzer(), [
      [
        { name: 'usr/local/bin/app', content: big, mode: 0o755 },
        { name: 'usr/local/bin/gone', content: big, mode: 0o755 },
        { name: 'usr/local/bin/not-executable', content: big, mode: 0o644 },
      ],
      [{ name: 'usr/local/bin/.wh.gone' }],
    ]);
    const paths = new Set(result.packages!.map((p) => p.path));
    assert.deepEqual([...paths], ['usr/local/bin/app']);
    assert.ok(result.packages!.some((p) => p.purl === 'pkg:golang/github.com/spf13/cobra@v1.8.0' && p.layer === layerDigest(0)));
  });
});

// ---- Java ---------------------------------------------------------------------------------

describe('java', () => {
  test('properties and manifest parsing', () => {
    assert.deepEqual([...parseProperties('# c\n! c\nkey = value\nother:x\\\n  y\nesc=a\\tb\\u0041\n')], [['key', 'value'], ['other', 'xy'], ['esc', 'a\tbA']]);
    const mf = parseJarManifest('Manifest-Version: 1.0\r\nImplementation-Title: a-very-long-title-that-wraps-at-seventy-two-bytes-as-the-jar-spec-sa\r\n ys\r\n\r\nName: x\r\n');
    assert.equal(mf.get('Implementation-Title'), 'a-very-long-title-that-wraps-at-seventy-two-bytes-as-the-jar-spec-says');
    assert.equal(mf.has('Name'), false);
    assert.ok(isJavaArchivePath('app/lib/x.JAR') && isJavaArchivePath('srv/app.war') && !isJavaArchivePath('x.java'));
  });

  test('pom.properties (stored and deflated), a shaded artifact, a nested Spring Boot jar, a manifest-only jar', () => {
    const nested = zip([
      { name: 'META-INF/MANIFEST.MF', data: enc('Manifest-Version: 1.0\n'), deflate: true },
      { name: 'META-INF/maven/org.yaml/snakeyaml/pom.properties', data: pom('org.yaml', 'snakeyaml', '2.2'), deflate: true },
    ]);
    const manifestOnly = zip([{ name: 'META-INF/MANIFEST.MF', data: enc('Manifest-Version: 1.0\nBundle-SymbolicName: org.example.bundle;singleton:=true\nBundle-Version: 3.1.0\nImplementation-Vendor-Id: org.example\n'), deflate: true }]);
    const app = zip([
      { name: 'META-INF/MANIFEST.MF', data: enc('Manifest-Version: 1.0\nImplementation-Title: ignored\n') },
      { name: 'META-INF/maven/com.example/app/pom.properties', data: pom('com.example', 'app', '1.0.0') },
      { name: 'META-INF/maven/com.google.guava/guava/pom.properties', data: pom('com.google.guava', 'guava', '32.1.3-jre'), deflate: true },
      { name: 'BOOT-INF/lib/snakeyaml-2.2.jar', data: nested },
      { name: 'BOOT-INF/lib/bundle.jar', data: manifestOnly, deflate: true },
      { name: 'BOOT-INF/lib/broken.jar', data: enc('not a zip') },
    ], enc('#!/bin/sh\nexec java -jar "$0" "$@"\n'));
    const packages = parseJavaArchive('app/app.jar', app);
    assert.deepEqual(packages.map((p) => `${p.name}@${p.version} ${p.purl}`), [
      'com.example:app@1.0.0 pkg:maven/com.example/app@1.0.0',
      'com.google.guava:guava@32.1.3-jre pkg:maven/com.google.guava/guava@32.1.3-jre',
      'org.example:org.example.bundle@3.1.0 pkg:maven/org.example/org.example.bundle@3.1.0',
      'org.yaml:snakeyaml@2.2 pkg:maven/org.yaml/snakeyaml@2.2',
    ]);
    assert.ok(packages.every((p) => p.path === 'app/app.jar' && p.ecosystem === 'maven'));
    assert.deepEqual(parseJavaArchive('x.jar', enc('PK garbage')), []);
  });

  test('a deflated entry that inflates past its declared size is refused, not buffered', () => {
    const bomb = zip([{ name: 'META-INF/maven/g/a/pom.properties', data: Buffer.alloc(4 * 1024 * 1024, 0x41), deflate: true }]);
    // Lie about the size in the central directory: the inflate limit still holds.
    const cd = bomb.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    bomb.writeUInt32LE(10, cd + 24);
    assert.deepEqual(parseJavaArchive('x.jar', bomb), []);
  });

  test('adapter reads archives of the final filesystem', async () => {
    const jar = zip([{ name: 'META-INF/maven/org.slf4j/slf4j-api/pom.properties', data: pom('org.slf4j', 'slf4j-api', '2.0.9'), deflate: true }]);
    const result = await run(javaAnalyzer(), [[{ name: 'opt/app/lib/slf4j-api.jar', content: jar }]]);
    assert.deepEqual(result.packages!.map((p) => `${p.path} ${p.name}@${p.version}`), ['opt/app/lib/slf4j-api.jar org.slf4j:slf4j-api@2.0.9']);
  });
});

// ---- secrets ------------------------------------------------------------------------------

/** Deterministic, random-looking strings: the fixtures are not real credentials, and no
 * literal token sits in this file for other scanners to trip over. */
function fake(seed: string, length: number, alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'): string {
  let out = '';
  let counter = 0;
  while (out.length < length) {
    for (const byte of createHash('sha256').update(`${seed}:${counter++}`).digest()) {
      if (out.length < length) out += alphabet[byte % alphabet.length];
    }
  }
  return out;
}

const UPPER_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function pemBody(seed: string): string {
  return fake(seed, 256, B64).match(/.{1,64}/g)!.join('\n');
}

interface SecretCase {
  readonly rule: string;
  readonly path: string;
  readonly content: string;
  readonly secret: string;
  readonly line: number;
  /** Same rule, content that must not match. */
  readonly negative: { readonly path: string; readonly content: string };
}

function secretCases(): SecretCase[] {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const rsaBody = rsa.split('\n').filter((l) => l !== '' && !l.startsWith('-----')).join('');
  const awsId = 'AKIA' + fake('aws-id', 16, UPPER_DIGITS);
  const awsSecret = fake('aws-secret', 40, B64);
  const azure = fake('azure', 86, B64) + '==';
  const gh = 'ghp_' + fake('gh', 36);
  const gl = 'glpat-' + fake('gl', 20);
  const slack = 'xoxb-' + fake('slack1', 11, '0123456789') + '-' + fake('slack2', 24);
  const npm = 'npm_' + fake('npm', 36);
  const dockerAuth = Buffer.from('robot:' + fake('docker', 24)).toString('base64');
  const gcpKeyId = fake('gcp', 40, '0123456789abcdef');
  const openssh = pemBody('openssh');
  const pgp = pemBody('pgp');
  const envSecret = fake('env', 20);
  const pgPassword = fake('pg', 16);
  const netrc = fake('netrc', 16);
  const gitCredential = fake('gitcred', 16);
  const wp = fake('wp', 16);
  const mysql = fake('mysql', 16);
  return [
    {
      rule: 'private-key', path: 'root/.ssh/id_rsa', content: rsa, secret: rsaBody, line: 1,
      negative: { path: 'app/check.py', content: 'if line.startswith("-----BEGIN RSA PRIVATE KEY-----"):\n    pass\n' },
    },
    {
      rule: 'private-key', path: 'home/u/.ssh/id_ed25519', content: `-----BEGIN OPENSSH PRIVATE KEY-----\n${openssh}\n-----END OPENSSH PRIVATE KEY-----\n`, secret: openssh.replace(/\n/g, ''), line: 1,
      negative: { path: 'home/u/.ssh/id_ed25519.pub', content: `ssh-ed25519 ${fake('pub', 68, B64)} u@h\n` },
    },
    {
      rule: 'private-key', path: 'root/key.asc', content: `-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\n\n${pgp}\n=abcd\n-----END PGP PRIVATE KEY BLOCK-----\n`, secret: pgp.replace(/\n/g, '') + '=abcd', line: 1,
      negative: { path: 'root/pub.asc', content: `-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n${pgp}\n-----END PGP PUBLIC KEY BLOCK-----\n` },
    },
    {
      rule: 'aws-access-key-id', path: 'root/.aws/credentials', content: `[default]\naws_access_key_id = ${awsId}\n`, secret: awsId, line: 2,
      negative: { path: 'root/.aws/credentials', content: '[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n' },
    },
    {
      rule: 'aws-secret-access-key', path: 'app/config.yaml', content: `region: eu-west-1\naws_secret_access_key: "${awsSecret}"\n`, secret: awsSecret, line: 2,
      negative: { path: 'app/config.yaml', content: `aws_secret_access_key: ${awsSecret.slice(0, 30)}\n` },
    },
    {
      rule: 'gcp-service-account', path: 'app/sa.json',
      content: JSON.stringify({ type: 'service_account', project_id: 'p', private_key_id: gcpKeyId, private_key: `-----BEGIN PRIVATE KEY-----\n${pemBody('gcp-key')}\n-----END PRIVATE KEY-----\n`, client_email: 'x@p.iam.gserviceaccount.com' }, null, 2),
      secret: gcpKeyId, line: 4,
      negative: { path: 'app/other.json', content: JSON.stringify({ type: 'authorized_user', private_key_id: gcpKeyId }) },
    },
    {
      rule: 'azure-storage-account-key', path: 'app/appsettings.json', content: `{\n  "Storage": "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${azure};EndpointSuffix=core.windows.net"\n}\n`, secret: azure, line: 2,
      negative: { path: 'app/appsettings.json', content: '{ "Storage": "UseDevelopmentStorage=true" }\n' },
    },
    {
      rule: 'github-token', path: 'app/deploy.sh', content: `#!/bin/sh\nexport GITHUB_TOKEN=${gh}\n`, secret: gh, line: 2,
      negative: { path: 'app/deploy.sh', content: `export GITHUB_TOKEN=ghp_${fake('short', 20)}\n` },
    },
    {
      rule: 'gitlab-token', path: 'app/ci.sh', content: `curl -H "PRIVATE-TOKEN: ${gl}" https://gitlab.example/api\n`, secret: gl, line: 1,
      negative: { path: 'app/ci.sh', content: 'curl -H "PRIVATE-TOKEN: $TOKEN" https://gitlab.example/api\n' },
    },
    {
      rule: 'slack-token', path: 'app/notify.py', content: `client = WebClient(token="${slack}")\n`, secret: slack, line: 1,
      negative: { path: 'app/notify.py', content: 'client = WebClient(token=os.environ["SLACK_TOKEN"])\n' },
    },
    {
      rule: 'npmrc-auth', path: 'root/.npmrc', content: `registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=${npm}\n`, secret: npm, line: 2,
      negative: { path: 'root/.npmrc', content: '//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n' },
    },
    {
      rule: 'npm-token', path: 'app/publish.sh', content: `NPM_TOKEN=${npm} npm publish\n`, secret: npm, line: 1,
      negative: { path: 'app/publish.sh', content: `npm_config_cache=/tmp/${fake('cache', 36)}\n` },
    },
    {
      rule: 'registry-auth', path: 'root/.docker/config.json', content: JSON.stringify({ auths: { 'registry.example': { auth: dockerAuth } } }, null, 2), secret: dockerAuth, line: 4,
      negative: { path: 'root/.docker/config.json', content: JSON.stringify({ auths: {}, credsStore: 'desktop' }, null, 2) },
    },
    {
      rule: 'dotenv-secret', path: 'app/.env', content: `NODE_ENV=production\nDB_PASSWORD="${envSecret}"\nAPI_URL=https://x\n`, secret: envSecret, line: 2,
      negative: { path: 'app/.env', content: 'DB_PASSWORD=${DB_PASSWORD}\nSECRET_KEY=\nNODE_ENV=production\n' },
    },
    {
      rule: 'pgpass-password', path: 'root/.pgpass', content: `# host:port:db:user:password\ndb.example:5432:*:app:${pgPassword}\n`, secret: pgPassword, line: 2,
      negative: { path: 'root/.pgpass', content: '# only a comment\n' },
    },
    {
      rule: 'netrc-password', path: 'root/.netrc', content: `machine api.example\n  login bot\n  password ${netrc}\n`, secret: netrc, line: 3,
      negative: { path: 'root/.netrc', content: 'machine api.example login bot\n' },
    },
    {
      rule: 'git-credentials', path: 'root/.git-credentials', content: `https://bot:${gitCredential}@github.com\n`, secret: gitCredential, line: 1,
      negative: { path: 'root/.git-credentials', content: 'https://github.com\n' },
    },
    {
      rule: 'wordpress-db-password', path: 'var/www/html/wp-config.php', content: `<?php\ndefine( 'DB_USER', 'wp' );\ndefine( 'DB_PASSWORD', '${wp}' );\n`, secret: wp, line: 3,
      negative: { path: 'var/www/html/wp-config.php', content: "<?php\ndefine( 'DB_PASSWORD', getenv('WORDPRESS_DB_PASSWORD') );\n" },
    },
    {
      rule: 'mysql-password', path: 'root/.my.cnf', content: `[client]\nuser=root\npassword=${mysql}\n`, secret: mysql, line: 3,
      negative: { path: 'root/.my.cnf', content: '[client]\nuser=root\n' },
    },
  ];
}

describe('secrets', () => {
  const cases = secretCases();
  test('every rule has a positive case here', () => {
    const covered = new Set(cases.map((c) => c.rule));
    covered.add('slack-webhook');
    assert.deepEqual(SECRET_RULE_IDS.filter((id) => !covered.has(id)), []);
  });

  for (const c of cases) {
    test(`${c.rule}: ${c.path}`, () => {
      const found = scanSecrets(c.path, enc(c.content));
      const match = found.find((f) => f.rule === c.rule);
      assert.ok(match !== undefined, `expected ${c.rule} in ${JSON.stringify(found)}`);
      assert.equal(match.line, c.line);
      assert.equal(match.hint, `${c.secret.slice(0, 2)}…${c.secret.slice(-2)}`);
      for (const f of found) {
        assert.ok(!f.hint.includes(c.secret.slice(0, 6)), 'a hint never shows the secret');
        assert.ok(!JSON.stringify(f).includes(c.secret), 'a finding never carries the secret');
      }
      assert.deepEqual(scanSecrets(c.negative.path, enc(c.negative.content)).filter((f) => f.rule === c.rule), [], `negative for ${c.rule}`);
    });
  }

  test('slack webhook, one finding per secret, the GCP key file is one finding', () => {
    const hook = `https://hooks.slack.com/services/T${fake('t', 8, UPPER_DIGITS)}/B${fake('b', 8, UPPER_DIGITS)}/${fake('hook', 24)}`;
    assert.deepEqual(scanSecrets('app/alert.sh', enc(`curl -X POST ${hook}\n`)).map((f) => f.rule), ['slack-webhook']);
    const npmrc = cases.find((c) => c.rule === 'npmrc-auth')!;
    assert.deepEqual(scanSecrets(npmrc.path, enc(npmrc.content)).map((f) => f.rule), ['npmrc-auth'], 'the npm token rule does not repeat it');
    const gcp = cases.find((c) => c.rule === 'gcp-service-account')!;
    assert.deepEqual(scanSecrets(gcp.path, enc(gcp.content)).map((f) => f.rule), ['gcp-service-account']);
  });

  test('binary, huge, test-fixture and package-tree files are not scanned', () => {
    const gh = 'ghp_' + fake('gh', 36);
    assert.deepEqual(scanSecrets('app/blob', Buffer.concat([enc(`token=${gh}\n`), Buffer.from([0, 1, 2])])), []);
    assert.ok(isSecretScanCandidate('app/config.yaml', 100));
    assert.ok(!isSecretScanCandidate('app/config.yaml', 0));
    assert.ok(!isSecretScanCandidate('app/huge.log', 3 * 1024 * 1024));
    assert.ok(!isSecretScanCandidate('app/node_modules/x/test/key.pem', 100));
    assert.ok(!isSecretScanCandidate('usr/lib/python3/dist-packages/x/tests/key.pem', 100));
    assert.ok(!isSecretScanCandidate('src/testdata/key.pem', 100));
    assert.ok(!isSecretScanCandidate('usr/share/doc/x/README', 100));
    assert.ok(!isSecretScanCandidate('app/logo.png', 100));
    assert.ok(isSecretScanCandidate('etc/ssl/private/server.key', 100));
  });

  test('adapter: every layer is scanned; a deleted or replaced file says in which layer', async () => {
    const cases = secretCases();
    const env = cases.find((c) => c.rule === 'dotenv-secret')!;
    const npmrc = cases.find((c) => c.rule === 'npmrc-auth')!;
    const key = cases.find((c) => c.path === 'root/.ssh/id_rsa')!;
    const result = await run(secretsAnalyzer(), [
      [
        { name: env.path, content: env.content },
        { name: npmrc.path, content: npmrc.content },
        { name: key.path, content: key.content, mode: 0o600 },
        { name: 'app/node_modules/pkg/test/fixture.pem', content: key.content },
      ],
      [
        { name: 'root/.wh..npmrc' },
        { name: env.path, content: 'NODE_ENV=production\n' },
      ],
    ]);
    const got = result.secrets!.map((s) => `${s.rule} ${s.path}:${s.line} ${s.layer.slice(-1)} ${s.removedInLayer?.slice(-1) ?? '-'}`).sort();
    assert.deepEqual(got, [
      'dotenv-secret app/.env:2 0 1',
      'npmrc-auth root/.npmrc:2 0 1',
      'private-key root/.ssh/id_rsa:1 0 -',
    ]);
    assert.ok(!JSON.stringify(result).includes(env.secret));
  });
});

// ---- SBOM ---------------------------------------------------------------------------------

function sampleIndex(order: 'forward' | 'reverse' = 'forward'): ImageIndex {
  const layer = `sha256:${'1'.repeat(64)}`;
  const packages: InstalledPackage[] = [
    { ecosystem: 'deb', name: 'libc6', version: '2.36-9+deb12u4', arch: 'amd64', sourceName: 'glibc', licenses: ['LGPL-2.1', 'GPL-2+'], path: 'var/lib/dpkg/status', layer, purl: 'pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12' },
    { ecosystem: 'npm', name: 'express', version: '4.19.2', licenses: ['MIT'], path: 'app/node_modules/express/package.json', layer, purl: npmPurl('express', '4.19.2') },
    { ecosystem: 'npm', name: 'express', version: '4.19.2', licenses: ['MIT'], path: 'other/node_modules/express/package.json', layer, purl: npmPurl('express', '4.19.2') },
    { ecosystem: 'pypi', name: 'requests', version: '2.31.0', licenses: ['Apache 2.0'], path: 'x/requests-2.31.0.dist-info/METADATA', layer, purl: pypiPurl('requests', '2.31.0') },
    { ecosystem: 'maven', name: 'org.yaml:snakeyaml', version: '2.2', licenses: ['Apache-2.0 OR MIT'], path: 'app.jar', layer, purl: mavenPurl('org.yaml', 'snakeyaml', '2.2') },
    { ecosystem: 'golang', name: 'stdlib', version: 'v1.21.5', path: 'usr/local/bin/app', layer, purl: golangPurl('stdlib', 'v1.21.5') },
  ];
  return {
    manifestDigest: `sha256:${'a'.repeat(64)}`,
    os: { id: 'debian', idLike: [], versionId: '12', versionCodename: 'bookworm', name: 'Debian GNU/Linux', prettyName: 'Debian GNU/Linux 12 (bookworm)', cpe: null, source: 'etc/os-release' },
    packages: order === 'forward' ? packages : [...packages].reverse(),
    secrets: [],
    layers: [{ digest: layer, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: 10 }],
    indexerVersion: '1',
    indexedAt: 0,
  };
}

const SBOM_OPTIONS = { name: 'registry.example/team/app:1.0', created: Date.UTC(2024, 0, 2, 3, 4, 5, 678), toolVersion: '0.1.0' };

describe('sbom', () => {
  test('SPDX 2.3: required fields, valid ids, relationships to existing elements, licenses', () => {
    const doc = toSpdx(sampleIndex(), SBOM_OPTIONS);
    for (const field of ['SPDXID', 'creationInfo', 'dataLicense', 'name', 'spdxVersion', 'documentNamespace'] as const) assert.ok(doc[field] !== undefined, field);
    assert.equal(doc.spdxVersion, 'SPDX-2.3');
    assert.equal(doc.dataLicense, 'CC0-1.0');
    assert.equal(doc.creationInfo.created, '2024-01-02T03:04:05Z');
    assert.match(doc.creationInfo.created, /^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z$/);
    assert.ok(doc.creationInfo.creators.length >= 1 && doc.creationInfo.creators[0]!.startsWith('Tool: '));
    assert.ok(/^[a-z]+:\/\//.test(doc.documentNamespace) && !doc.documentNamespace.includes('#'));
    const ids = new Set<string>(['SPDXRef-DOCUMENT']);
    for (const p of doc.packages) {
      for (const field of ['SPDXID', 'name', 'downloadLocation']) assert.ok(p[field] !== undefined, `package ${field}`);
      assert.match(p['SPDXID'] as string, /^SPDXRef-[a-zA-Z0-9.-]+$/);
      assert.ok(!ids.has(p['SPDXID'] as string), 'unique SPDXIDs');
      ids.add(p['SPDXID'] as string);
      for (const ref of (p['externalRefs'] as Record<string, string>[] | undefined) ?? []) {
        assert.deepEqual(Object.keys(ref).sort(), ['referenceCategory', 'referenceLocator', 'referenceType']);
        assert.equal(ref['referenceType'], 'purl');
        assert.match(ref['referenceLocator']!, /^pkg:[a-z]+\//);
      }
    }
    assert.equal(doc.packages.length, 2 + 6, 'the image, the OS and every package occurrence');
    for (const r of doc.relationships) {
      assert.ok(ids.has(r.spdxElementId) && ids.has(r.relatedSpdxElement), JSON.stringify(r));
      assert.ok(['DESCRIBES', 'CONTAINS'].includes(r.relationshipType));
    }
    assert.deepEqual(doc.relationships[0], { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: 'SPDXRef-Image' });
    const byName = (name: string) => doc.packages.find((p) => p['name'] === name)!;
    const libc = byName('libc6');
    assert.ok(doc.relationships.some((r) => r.spdxElementId === 'SPDXRef-OperatingSystem' && r.relatedSpdxElement === libc['SPDXID']));
    assert.equal(byName('org.yaml:snakeyaml')['licenseDeclared'], 'Apache-2.0 OR MIT');
    assert.equal(byName('stdlib')['licenseDeclared'], 'NOASSERTION');
    // Free-text licenses become LicenseRefs with their text extracted once.
    const requestsLicense = byName('requests')['licenseDeclared'] as string;
    assert.match(requestsLicense, /^LicenseRef-[a-f0-9]+$/);
    assert.deepEqual(doc.hasExtractedLicensingInfos?.find((l) => l.licenseId === requestsLicense)?.extractedText, 'Apache 2.0');
    assert.equal(libc['licenseDeclared'], 'LGPL-2.1 AND GPL-2+');
  });

  test('CycloneDX 1.6: required fields, the image as metadata.component, unique bom-refs, dependencies', () => {
    const bom = toCycloneDx(sampleIndex(), SBOM_OPTIONS);
    assert.equal(bom.bomFormat, 'CycloneDX');
    assert.equal(bom.specVersion, '1.6');
    assert.equal(bom.version, 1);
    assert.match(bom.serialNumber, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(bom.metadata['timestamp'], '2024-01-02T03:04:05Z');
    const component = bom.metadata['component'] as Record<string, unknown>;
    assert.equal(component['type'], 'container');
    assert.equal(component['version'], `sha256:${'a'.repeat(64)}`);
    assert.deepEqual(component['hashes'], [{ alg: 'SHA-256', content: 'a'.repeat(64) }]);
    assert.match(component['purl'] as string, /^pkg:oci\/app@sha256%3Aa{64}\?repository_url=registry.example\/team\/app&tag=1.0$/);
    const refs = new Set<string>([component['bom-ref'] as string]);
    for (const c of bom.components) {
      assert.ok(typeof c['type'] === 'string' && typeof c['name'] === 'string', 'type and name are required');
      assert.ok(!refs.has(c['bom-ref'] as string), 'unique bom-refs');
      refs.add(c['bom-ref'] as string);
    }
    assert.equal(bom.components.length, 7);
    for (const d of bom.dependencies) for (const ref of [d.ref, ...d.dependsOn]) assert.ok(refs.has(ref), ref);
    const snake = bom.components.find((c) => c['name'] === 'snakeyaml')!;
    assert.equal(snake['group'], 'org.yaml');
    assert.deepEqual(snake['licenses'], [{ expression: 'Apache-2.0 OR MIT' }]);
    assert.deepEqual(bom.components.find((c) => c['name'] === 'requests')!['licenses'], [{ license: { name: 'Apache 2.0' } }]);
    assert.deepEqual(bom.components.find((c) => c['name'] === 'libc6')!['licenses'], [{ license: { id: 'LGPL-2.1' } }, { license: { id: 'GPL-2+' } }]);
  });

  test('deterministic: the same index (in any order) gives the same bytes', () => {
    assert.equal(JSON.stringify(toSpdx(sampleIndex('forward'), SBOM_OPTIONS)), JSON.stringify(toSpdx(sampleIndex('reverse'), SBOM_OPTIONS)));
    assert.equal(JSON.stringify(toCycloneDx(sampleIndex('forward'), SBOM_OPTIONS)), JSON.stringify(toCycloneDx(sampleIndex('reverse'), SBOM_OPTIONS)));
    assert.notEqual(toCycloneDx(sampleIndex(), SBOM_OPTIONS).serialNumber, toCycloneDx(sampleIndex(), { ...SBOM_OPTIONS, created: 0 }).serialNumber);
  });
});
