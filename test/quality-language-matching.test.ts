// Go and Maven matched end to end, as deb, rpm and apk are: an image holding a Go
// executable (module build information, a pseudo-version, the standard library) and a
// jar (pom.properties) is scanned by `custody scan` against OSV records in osv.dev's own
// format, and each package is decided in its ecosystem's order (Go module versions,
// Maven's ComparableVersion).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildFilesImageLayout } from './support/images.ts';
import { pom, syntheticElf, zip } from './support/language-fixtures.ts';
import { runCustody } from './support/custody-server.ts';
import { tempDirs } from './support/temp-files.ts';

const newDir = tempDirs('custody-language-match-');

const MODINFO = [
  'path\texample.com/app/cmd/app',
  'mod\texample.com/app\tv1.4.0\th1:a=',
  'dep\tgithub.com/spf13/cobra\tv1.8.0\th1:b=',
  'dep\tgolang.org/x/crypto\tv0.0.0-20220722155217-630584e8d5aa\th1:c=',
  'dep\tgolang.org/x/net\tv0.17.0\th1:d=',
  'build\t-compiler=gc',
  '',
].join('\n');

/** An OSV record as osv.dev serves it (one affected package, ECOSYSTEM/SEMVER events). */
function osv(id: string, ecosystem: 'Go' | 'Maven', name: string, events: readonly Record<string, string>[], severity?: string): unknown {
  return {
    schema_version: '1.6.0', id, modified: '2024-06-01T00:00:00Z', published: '2024-01-01T00:00:00Z', aliases: [], summary: `${id} in ${name}`,
    affected: [{ package: { ecosystem, name }, ranges: [{ type: ecosystem === 'Go' ? 'SEMVER' : 'ECOSYSTEM', events }] }],
    ...(severity ? { database_specific: { severity } } : {}),
  };
}

describe('Go and Maven packages of an image against OSV', () => {
  let image: string;
  let feed: string;
  before(async () => {
    const dir = newDir();
    const jar = zip([
      { name: 'META-INF/MANIFEST.MF', data: Buffer.from('Manifest-Version: 1.0\n') },
      { name: 'META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties', data: pom('org.apache.logging.log4j', 'log4j-core', '2.14.1'), deflate: true },
      { name: 'META-INF/maven/com.fasterxml.jackson.core/jackson-databind/pom.properties', data: pom('com.fasterxml.jackson.core', 'jackson-databind', '2.13.4.1'), deflate: true },
      { name: 'META-INF/maven/org.example/codec/pom.properties', data: pom('org.example', 'codec', '2.1-1'), deflate: true },
    ]);
    // The Go analyzer skips small files: pad the executable as a real one would be.
    const binary = Buffer.concat([syntheticElf('inline', 8192, MODINFO, 'go1.21.5'), Buffer.alloc(300 * 1024)]);
    image = await buildFilesImageLayout(join(dir, 'layout'), [
      { name: 'usr/local/bin/app', content: binary, mode: 0o755 },
      { name: 'opt/app/lib/app.jar', content: jar },
    ], 'app');
    feed = join(dir, 'osv');
    await mkdir(feed);
    const records = [
      // golang.org/x/net v0.17.0 < 0.23.0 (HTTP/2 CONTINUATION flood).
      osv('GO-2024-2687', 'Go', 'golang.org/x/net', [{ introduced: '0' }, { fixed: '0.23.0' }]),
      // A pseudo-version of 2022 is older than the fix 0.17.0 (Terrapin).
      osv('GO-2023-2402', 'Go', 'golang.org/x/crypto', [{ introduced: '0' }, { fixed: '0.17.0' }]),
      // The standard library go1.21.5: before 1.21.8, and not in the 1.22 range.
      osv('GO-2024-2598', 'Go', 'stdlib', [{ introduced: '0' }, { fixed: '1.21.8' }, { introduced: '1.22.0-0' }, { fixed: '1.22.1' }]),
      // Introduced after the installed cobra v1.8.0: not affected.
      osv('GO-2099-0001', 'Go', 'github.com/spf13/cobra', [{ introduced: '1.8.1' }, { fixed: '1.9.0' }]),
      // Log4Shell: 2.0-beta9 ≤ 2.14.1 < 2.15.0 in Maven's order.
      osv('GHSA-jfh8-c2jp-5v3q', 'Maven', 'org.apache.logging.log4j:log4j-core', [{ introduced: '2.0-beta9' }, { fixed: '2.15.0' }], 'CRITICAL'),
      // Fixed in exactly the installed 2.13.4.1: not affected.
      osv('GHSA-jjjh-jjxp-wpff', 'Maven', 'com.fasterxml.jackson.core:jackson-databind', [{ introduced: '2.13.0' }, { fixed: '2.13.4.1' }], 'HIGH'),
      // A dash is less than a dot in Maven: 2.1-1 < 2.1.0.1.
      osv('GHSA-0000-0000-0001', 'Maven', 'org.example:codec', [{ introduced: '0' }, { fixed: '2.1.0.1' }], 'MODERATE'),
    ];
    for (const record of records) await writeFile(join(feed, `${(record as { id: string }).id}.json`), JSON.stringify(record));
  });

  it('custody scan finds exactly the affected Go modules, the standard library and Maven artifacts', async () => {
    const scan = await runCustody(['scan', image, '--format', 'json', '--vulndb', feed], { env: { CUSTODY_VULNDB: '/nonexistent/vulndb.sqlite' } });
    assert.equal(scan.code, 0, scan.stderr);
    const result = JSON.parse(scan.stdout) as { packages: { ecosystem: string; name: string; version: string }[]; findings: { advisoryId: string; package: { name: string; version: string; ecosystem: string }; fixedVersion: string; severity: string }[] };
    const names = result.packages.filter((p) => p.ecosystem === 'golang' || p.ecosystem === 'maven').map((p) => `${p.ecosystem} ${p.name}@${p.version}`).sort();
    assert.deepEqual(names, [
      'golang example.com/app@v1.4.0',
      'golang github.com/spf13/cobra@v1.8.0',
      'golang golang.org/x/crypto@v0.0.0-20220722155217-630584e8d5aa',
      'golang golang.org/x/net@v0.17.0',
      'golang stdlib@v1.21.5',
      'maven com.fasterxml.jackson.core:jackson-databind@2.13.4.1',
      'maven org.apache.logging.log4j:log4j-core@2.14.1',
      'maven org.example:codec@2.1-1',
    ]);
    const found = result.findings.map((f) => `${f.advisoryId} ${f.package.ecosystem} ${f.package.name}@${f.package.version} -> ${f.fixedVersion}`).sort();
    assert.deepEqual(found, [
      'GHSA-0000-0000-0001 maven org.example:codec@2.1-1 -> 2.1.0.1',
      'GHSA-jfh8-c2jp-5v3q maven org.apache.logging.log4j:log4j-core@2.14.1 -> 2.15.0',
      'GO-2023-2402 golang golang.org/x/crypto@v0.0.0-20220722155217-630584e8d5aa -> 0.17.0',
      'GO-2024-2598 golang stdlib@v1.21.5 -> 1.21.8',
      'GO-2024-2687 golang golang.org/x/net@v0.17.0 -> 0.23.0',
    ]);
    assert.equal(result.findings.find((f) => f.advisoryId === 'GHSA-jfh8-c2jp-5v3q')?.severity, 'Critical');
  });
});
