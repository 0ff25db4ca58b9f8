// rpm databases in all three formats against rpm 4.18's own listings: the real Berkeley
// DB Packages of CentOS 7 and 8, the rpm 4.18 rpmdb.sqlite of the synthetic UBI 9 image
// (extracted from its layer), and an ndb Packages.db built here from real headers
// (no ndb sample is shared). Corrupt inputs must fail quickly with errors that say where.
import assert from 'node:assert/strict';
import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { createGunzip } from 'node:zlib';
import type { OsRelease } from '../src/core/quality.ts';
import { readTar } from '../src/image/archive/tar-reader.ts';
import type { FinalFile, FinalFiles, WalkedLayer } from '../src/scan/indexer/analyzer.ts';
import { rpmAnalyzer } from '../src/scan/packages/rpm-analyzer.ts';
import { readBdbPackages, type RpmHeaderBlob } from '../src/scan/packages/rpm-bdb.ts';
import { parseRpmHeader, RpmHeader } from '../src/scan/packages/rpm-header.ts';
import {
  adler32,
  NDB_BLOB_HEAD_MAGIC,
  NDB_BLOB_HEAD_SIZE,
  NDB_BLOB_TAIL_MAGIC,
  NDB_BLOB_TAIL_SIZE,
  NDB_BLOCK_SIZE,
  NDB_HEADER_SIZE,
  NDB_MAGIC,
  NDB_PAGE_SIZE,
  NDB_SLOT_MAGIC,
  NDB_SLOT_SIZE,
} from '../src/scan/packages/rpm-ndb.ts';
import {
  isRpmDatabasePath,
  parseRpmDatabase,
  parseSourceRpm,
  RpmDatabaseError,
  rpmPurl,
  toInstalledPackage,
  type RpmPackage,
} from '../src/scan/packages/rpm.ts';
import { sharedDir } from './support/paths.ts';

/** One line as the expected listings write it: NAME EPOCH VERSION RELEASE ARCH SOURCERPM
 * MODULARITYLABEL, `(none)` for absent tags except the label, which is empty. */
function listing(pkg: RpmPackage): string[] {
  return [pkg.name, pkg.epoch === null ? '(none)' : String(pkg.epoch), pkg.version, pkg.release, pkg.arch ?? '(none)', pkg.sourceRpm ?? '(none)', pkg.modularityLabel ?? ''];
}

function readTsv(path: string): string[][] {
  return readFileSync(path, 'utf8').split('\n').filter((line) => line !== '').map((line) => line.split('\t'));
}

const byLine = (a: string[], b: string[]): number => (a.join('\t') < b.join('\t') ? -1 : a.join('\t') > b.join('\t') ? 1 : 0);

const BDB_SAMPLES = ['centos7-plain', 'centos8-modularitylabel'] as const;

function bdbSample(name: string): Buffer {
  return readFileSync(join(sharedDir('rpmdb', name), 'Packages'));
}

/** Asserts that `run` throws an RpmDatabaseError matching `pattern`, within a second. */
async function rejectsQuickly(run: () => unknown, pattern: RegExp): Promise<void> {
  const started = performance.now();
  await assert.rejects(async () => run(), (error: unknown) => {
    assert.ok(error instanceof RpmDatabaseError, `expected an RpmDatabaseError, got ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  });
  assert.ok(performance.now() - started < 1000, 'the error took more than a second');
}

describe('rpm Berkeley DB Packages', () => {
  for (const sample of BDB_SAMPLES) {
    it(`${sample} lists exactly what rpm 4.18 lists`, async () => {
      const expected = readTsv(join(sharedDir('rpmdb', sample), 'expected-rpm-4.18-qa.tsv'));
      const packages = await parseRpmDatabase('var/lib/rpm/Packages', bdbSample(sample));
      assert.equal(packages.length, expected.length);
      assert.deepEqual(packages.map(listing).sort(byLine), expected.sort(byLine));
      assert.ok(packages.every((pkg) => pkg.path === 'var/lib/rpm/Packages'));
      // Record order: header numbers ascending, none twice.
      const indexes = packages.map((pkg) => pkg.index);
      assert.deepEqual(indexes, [...indexes].sort((a, b) => a - b));
      assert.equal(new Set(indexes).size, indexes.length);
    });
  }

  it('keeps modularity labels, epochs and licenses', async () => {
    const packages = await parseRpmDatabase('/var/lib/rpm/Packages', bdbSample('centos8-modularitylabel'));
    const conmon = packages.find((pkg) => pkg.name === 'conmon');
    assert.ok(conmon);
    assert.equal(conmon.epoch, 2);
    assert.equal(conmon.modularityLabel, 'container-tools:rhel8:8020020200507003530:0d58ad57');
    assert.equal(conmon.path, 'var/lib/rpm/Packages');
    assert.ok(packages.every((pkg) => pkg.license !== null && pkg.license !== ''), 'every package of the sample has a LICENSE');
    const installed = toInstalledPackage(conmon, { layer: 'sha256:aa', os: os('centos', '8') });
    assert.equal(installed.version, '2:2.0.6-1.module_el8.2.0+305+5e198a41');
    assert.equal(installed.module, 'container-tools:rhel8:8020020200507003530:0d58ad57');
    assert.equal(installed.sourceName, 'conmon');
    assert.equal(installed.sourceVersion, '2:2.0.6-1.module_el8.2.0+305+5e198a41');
    assert.equal(installed.purl, 'pkg:rpm/centos/conmon@2.0.6-1.module_el8.2.0%2B305%2B5e198a41?arch=x86_64&distro=centos-8&epoch=2');
  });
});

function os(id: string, versionId: string | null): OsRelease {
  return { id, idLike: [], versionId, versionCodename: null, name: null, prettyName: null, cpe: null, source: 'etc/os-release' };
}

/** rpmdb.sqlite out of the synthetic UBI 9 image's (only) layer, through the project's tar reader. */
async function ubi9RpmdbSqlite(): Promise<Buffer> {
  const layout = sharedDir('images', 'ubi9-synthetic-oci');
  const blob = (digest: string): string => join(layout, 'blobs', ...digest.split(':'));
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const manifest = JSON.parse(readFileSync(blob(index.manifests[0]!.digest), 'utf8')) as { layers: { digest: string; mediaType: string }[] };
  for (const layer of manifest.layers) {
    const stream = createReadStream(blob(layer.digest)).pipe(createGunzip());
    for await (const entry of readTar(stream)) {
      if (entry.name.replace(/^\.?\//, '') !== 'var/lib/rpm/rpmdb.sqlite') continue;
      const chunks: Buffer[] = [];
      for await (const chunk of entry.body) chunks.push(chunk as Buffer);
      stream.destroy();
      return Buffer.concat(chunks);
    }
  }
  throw new Error('var/lib/rpm/rpmdb.sqlite not found in the ubi9-synthetic image');
}

describe('rpm sqlite rpmdb.sqlite', () => {
  it('the UBI 9 synthetic image lists exactly what rpm -qa lists', async () => {
    const content = await ubi9RpmdbSqlite();
    const before = Buffer.from(content);
    const packages = await parseRpmDatabase('var/lib/rpm/rpmdb.sqlite', content);
    assert.ok(content.equals(before), 'the caller\'s bytes are not modified');
    const expected = readFileSync(sharedDir('images', 'ubi9-synthetic.packages.txt'), 'utf8')
      .split('\n').filter((line) => line !== '').map((line) => line.split(' '));
    assert.deepEqual(packages.map((pkg) => listing(pkg).slice(0, 6)).sort(byLine), expected.sort(byLine));
    assert.ok(packages.some((pkg) => pkg.name === 'gpg-pubkey'), 'rpm -qa lists the gpg-pubkey entry, and so does parseRpmDatabase');

    const openssl = packages.find((pkg) => pkg.name === 'openssl-libs');
    assert.ok(openssl);
    const ubi = os('rhel', '9.4');
    const installed = toInstalledPackage(openssl, { layer: 'sha256:bb', os: ubi });
    assert.deepEqual(installed, {
      ecosystem: 'rpm',
      name: 'openssl-libs',
      version: '1:3.0.7-24.el9',
      epoch: 1,
      arch: 'x86_64',
      sourceName: 'openssl',
      sourceVersion: '1:3.0.7-24.el9',
      module: undefined,
      licenses: openssl.license === null ? undefined : [openssl.license],
      path: 'var/lib/rpm/rpmdb.sqlite',
      layer: 'sha256:bb',
      purl: 'pkg:rpm/redhat/openssl-libs@3.0.7-24.el9?arch=x86_64&distro=rhel-9.4&epoch=1',
    });
    const bash = packages.find((pkg) => pkg.name === 'bash')!;
    assert.equal(rpmPurl(bash, ubi), 'pkg:rpm/redhat/bash@5.1.8-9.el9?arch=x86_64&distro=rhel-9.4');
    assert.equal(rpmPurl(bash, null), 'pkg:rpm/bash@5.1.8-9.el9?arch=x86_64');
    const gpg = packages.find((pkg) => pkg.name === 'gpg-pubkey')!;
    assert.equal(toInstalledPackage(gpg, { layer: 'sha256:bb', os: ubi }).sourceName, undefined);
  });

  it('a corrupt header names its hnum; a damaged file is an RpmDatabaseError', async () => {
    const content = await ubi9RpmdbSqlite();
    const db = new DatabaseSync(':memory:');
    const copy = Buffer.from(content);
    copy[18] = 1;
    copy[19] = 1;
    db.deserialize(copy);
    const row = db.prepare('SELECT hnum, blob FROM Packages ORDER BY hnum LIMIT 1 OFFSET 3').get() as { hnum: number; blob: Uint8Array };
    const damaged = Buffer.from(row.blob);
    damaged.writeUInt32BE(0x7fffffff, 8 + 16 * 2 + 8); // the third entry's offset
    db.prepare('UPDATE Packages SET blob = ? WHERE hnum = ?').run(damaged, row.hnum);
    const edited = Buffer.from(db.serialize());
    db.close();
    await rejectsQuickly(() => parseRpmDatabase('var/lib/rpm/rpmdb.sqlite', edited), new RegExp(`^var/lib/rpm/rpmdb\\.sqlite: rpm header of package ${row.hnum}: .*offset`));

    const garbage = Buffer.concat([content.subarray(0, 100), Buffer.alloc(8192, 0xa5)]);
    await rejectsQuickly(() => parseRpmDatabase('var/lib/rpm/rpmdb.sqlite', garbage), /^var\/lib\/rpm\/rpmdb\.sqlite: rpmdb\.sqlite: /);
    await rejectsQuickly(() => parseRpmDatabase('var/lib/rpm/rpmdb.sqlite', content.subarray(0, 50)), /not an rpm database \(expected SQLite for its name\)/);
  });
});

// ndb Packages.db, written here as rpm's lib/backend/ndb/rpmpkg.c writes it (see
// rpm-ndb.ts for the layout): a 32-byte header in the first slot page, 16-byte slots,
// blobs in 16-byte blocks after the slot pages, each with head, padding and a tail
// holding the Adler-32 of head, blob and padding.
interface NdbOptions {
  readonly slotPages?: number;
  /** Free slots left before the first used one (rpm reuses the first free slot). */
  readonly freeSlots?: number;
}

function buildNdb(packages: readonly RpmHeaderBlob[], options: NdbOptions = {}): Buffer {
  const slotPages = options.slotPages ?? 1;
  const freeSlots = options.freeSlots ?? 0;
  const head = Buffer.alloc(slotPages * NDB_PAGE_SIZE);
  head.writeUInt32LE(NDB_MAGIC, 0);
  head.writeUInt32LE(0, 4); // version
  head.writeUInt32LE(7, 8); // generation
  head.writeUInt32LE(slotPages, 12);
  head.writeUInt32LE(Math.max(0, ...packages.map((p) => p.index)) + 1, 16); // nextpkgidx
  for (let at = NDB_HEADER_SIZE; at < head.length; at += NDB_SLOT_SIZE) head.writeUInt32LE(NDB_SLOT_MAGIC, at);
  const blobs: Buffer[] = [];
  let block = head.length / NDB_BLOCK_SIZE;
  packages.forEach((pkg, i) => {
    const blkcnt = Math.ceil((NDB_BLOB_HEAD_SIZE + pkg.blob.length + NDB_BLOB_TAIL_SIZE) / NDB_BLOCK_SIZE);
    const stored = Buffer.alloc(blkcnt * NDB_BLOCK_SIZE);
    stored.writeUInt32LE(NDB_BLOB_HEAD_MAGIC, 0);
    stored.writeUInt32LE(pkg.index, 4);
    stored.writeUInt32LE(7, 8);
    stored.writeUInt32LE(pkg.blob.length, 12);
    pkg.blob.copy(stored, NDB_BLOB_HEAD_SIZE);
    const tail = stored.length - NDB_BLOB_TAIL_SIZE;
    stored.writeUInt32LE(adler32(stored.subarray(0, tail)), tail);
    stored.writeUInt32LE(pkg.blob.length, tail + 4);
    stored.writeUInt32LE(NDB_BLOB_TAIL_MAGIC, tail + 8);
    const slot = (NDB_HEADER_SIZE / NDB_SLOT_SIZE + freeSlots + i) * NDB_SLOT_SIZE;
    head.writeUInt32LE(pkg.index, slot + 4);
    head.writeUInt32LE(block, slot + 8);
    head.writeUInt32LE(blkcnt, slot + 12);
    blobs.push(stored);
    block += blkcnt;
  });
  return Buffer.concat([head, ...blobs]);
}

/** A handful of real CentOS 8 headers: a modular package, epochs, a gpg-pubkey. */
function sampleHeaders(): RpmHeaderBlob[] {
  const names = new Set(['bash', 'conmon', 'buildah', 'openssl-libs', 'gpg-pubkey', 'tzdata', 'glibc']);
  const blobs = readBdbPackages(bdbSample('centos8-modularitylabel'));
  const picked = blobs.filter((entry) => names.has(parseRpmHeader(entry.blob, entry.index).name));
  assert.equal(picked.length, names.size);
  return picked;
}

describe('rpm ndb Packages.db', () => {
  it('lists the packages of a Packages.db built from real headers', async () => {
    const headers = sampleHeaders();
    // Slots out of pkgidx order and a free slot first, as a database with history has.
    const db = buildNdb([...headers].reverse(), { slotPages: 2, freeSlots: 3 });
    const packages = await parseRpmDatabase('usr/lib/sysimage/rpm/Packages.db', db);
    const expected = headers.map((entry) => parseRpmHeader(entry.blob, entry.index));
    assert.deepEqual(packages.map((pkg) => pkg.index), expected.map((pkg) => pkg.index));
    assert.deepEqual(packages.map(listing), expected.map(listing));
    assert.ok(packages.every((pkg) => pkg.path === 'usr/lib/sysimage/rpm/Packages.db'));
    assert.deepEqual(await parseRpmDatabase('usr/lib/sysimage/rpm/Packages.db', buildNdb([])), []);
  });

  it('corrupt ndb files fail with the package named', async () => {
    const headers = sampleHeaders();
    const db = buildNdb(headers);
    const path = 'usr/lib/sysimage/rpm/Packages.db';
    const first = headers[0]!.index;

    const flipped = Buffer.from(db);
    flipped[NDB_PAGE_SIZE + NDB_BLOB_HEAD_SIZE + 100]! ^= 0xff;
    await rejectsQuickly(() => parseRpmDatabase(path, flipped), new RegExp(`package ${first} \\(slot 2\\): blob checksum mismatch`));

    await rejectsQuickly(() => parseRpmDatabase(path, db.subarray(0, db.length - 40)), /runs past the end of the file.*truncated/);
    await rejectsQuickly(() => parseRpmDatabase(path, db.subarray(0, 2000)), /truncated: 1 slot pages announced/);

    const badSlot = Buffer.from(db);
    badSlot.writeUInt32LE(3, NDB_HEADER_SIZE + 8); // blob offset inside the slot pages
    await rejectsQuickly(() => parseRpmDatabase(path, badSlot), new RegExp(`package ${first} \\(slot 2\\): bad slot`));

    const wrongOwner = Buffer.from(db);
    wrongOwner.writeUInt32LE(headers[1]!.index, NDB_HEADER_SIZE + NDB_SLOT_SIZE + 4);
    wrongOwner.writeUInt32LE(headers[1]!.index, NDB_HEADER_SIZE + 4);
    await rejectsQuickly(() => parseRpmDatabase(path, wrongOwner), /has two slots|belongs to package/);

    const overlapping = Buffer.from(db);
    const secondBlock = db.readUInt32LE(NDB_HEADER_SIZE + NDB_SLOT_SIZE + 8);
    overlapping.writeUInt32LE(db.readUInt32LE(NDB_HEADER_SIZE + 12) + 1, NDB_HEADER_SIZE + 12); // first blob one block longer
    await rejectsQuickly(() => parseRpmDatabase(path, overlapping), new RegExp(`slot 3\\): its blob overlaps the blob of package ${first} \\(slot 2\\)`));
    assert.ok(secondBlock > 0);

    const badMagic = Buffer.from(db);
    badMagic.writeUInt32LE(0, NDB_HEADER_SIZE + 20 * NDB_SLOT_SIZE);
    await rejectsQuickly(() => parseRpmDatabase(path, badMagic), /slot 22 has a bad magic/);
  });
});

/** Page `pgno` of a Berkeley DB file, and the first off-page (overflow) item of its first hash page. */
function firstOverflow(content: Buffer): { pageSize: number; hashPage: number; item: number; overflowPage: number; hnum: number } {
  const pageSize = content.readUInt32LE(20);
  for (let pgno = 1; pgno * pageSize < content.length; pgno++) {
    const page = pgno * pageSize;
    if (content[page + 25] !== 13) continue;
    const entries = content.readUInt16LE(page + 20);
    for (let i = 0; i < entries; i += 2) {
      const data = page + content.readUInt16LE(page + 26 + (i + 1) * 2);
      if (content[data] === 3) {
        const key = page + content.readUInt16LE(page + 26 + i * 2);
        return { pageSize, hashPage: pgno, item: data, overflowPage: content.readUInt32LE(data + 4), hnum: content.readUInt32LE(key + 1) };
      }
    }
  }
  throw new Error('no overflow item');
}

/** The off-page item after `item` on the same hash page. */
function secondOverflowItem(content: Buffer, item: number): number {
  const pageSize = content.readUInt32LE(20);
  const page = item - (item % pageSize);
  const entries = content.readUInt16LE(page + 20);
  for (let i = 1; i < entries; i += 2) {
    const data = page + content.readUInt16LE(page + 26 + i * 2);
    if (data !== item && content[data] === 3) return data;
  }
  throw new Error('no second overflow item');
}

describe('rpm corrupt inputs', () => {
  const path = 'var/lib/rpm/Packages';

  it('Berkeley DB: truncation, bad page references and loops in overflow chains', async () => {
    const content = bdbSample('centos7-plain');
    const { pageSize, item, overflowPage, hnum } = firstOverflow(content);

    await rejectsQuickly(() => parseRpmDatabase(path, content.subarray(0, content.length / 2)), /^var\/lib\/rpm\/Packages: Berkeley DB Packages: truncated: the metadata says \d+ pages/);
    await rejectsQuickly(() => parseRpmDatabase(path, content.subarray(0, 300)), /not an rpm database \(expected Berkeley DB for its name\)|truncated/);

    const pastEnd = Buffer.from(content);
    pastEnd.writeUInt32LE(0x7fffffff, item + 4);
    await rejectsQuickly(() => parseRpmDatabase(path, pastEnd), new RegExp(`package ${hnum}: overflow page 2147483647 is past the last page`));

    const hugeLength = Buffer.from(content);
    hugeLength.writeUInt32LE(0xffffffff, item + 8);
    await rejectsQuickly(() => parseRpmDatabase(path, hugeLength), new RegExp(`package ${hnum}: value length 4294967295 exceeds the database size`));

    // A chain that points back at itself, whether its pages carry data or not.
    const selfLoop = Buffer.from(content);
    selfLoop.writeUInt32LE(overflowPage, overflowPage * pageSize + 16);
    await rejectsQuickly(() => parseRpmDatabase(path, selfLoop), new RegExp(`package ${hnum}: overflow page chain loops \\(back to page ${overflowPage}\\)`));
    const emptyLoop = Buffer.from(selfLoop);
    emptyLoop.writeUInt16LE(0, overflowPage * pageSize + 22);
    await rejectsQuickly(() => parseRpmDatabase(path, emptyLoop), new RegExp(`package ${hnum}: overflow page chain loops`));
    // A chain longer than its value, and two values sharing one chain.
    const tooLong = Buffer.from(content);
    tooLong.writeUInt32LE(10, item + 8);
    await rejectsQuickly(() => parseRpmDatabase(path, tooLong), new RegExp(`package ${hnum}: overflow chain holds more than the 10 bytes announced`));
    const shared = Buffer.from(content);
    const second = secondOverflowItem(content, item);
    shared.writeUInt32LE(overflowPage, second + 4);
    shared.writeUInt32LE(content.readUInt32LE(item + 8), second + 8);
    await rejectsQuickly(() => parseRpmDatabase(path, shared), new RegExp(`overflow page ${overflowPage} also belongs to another value`));

    const notOverflow = Buffer.from(content);
    notOverflow.writeUInt32LE(0, item + 4 /* page 0 is the metadata page */);
    await rejectsQuickly(() => parseRpmDatabase(path, notOverflow), new RegExp(`package ${hnum}: overflow page|chain`));

    const badItem = Buffer.from(content);
    badItem[item] = 9;
    await rejectsQuickly(() => parseRpmDatabase(path, badItem), new RegExp(`package ${hnum}: unknown item kind 9`));

    const badPageSize = Buffer.from(content);
    badPageSize.writeUInt32LE(3000, 20);
    await rejectsQuickly(() => parseRpmDatabase(path, badPageSize), /bad page size 3000/);

    // A damaged header inside a sound database names the package.
    const damagedHeader = Buffer.from(content);
    damagedHeader.writeUInt32BE(0x00ffffff, overflowPage * pageSize + 26); // il of the blob
    await rejectsQuickly(() => parseRpmDatabase(path, damagedHeader), new RegExp(`rpm header of package ${hnum}: bad index entry count`));
  });

  it('a big-endian Berkeley DB reads the same', async () => {
    // Byte-swap every number the reader uses, as a database written on s390x has them.
    const content = bdbSample('centos7-plain');
    const swapped = Buffer.from(content);
    const swap32 = (at: number): void => { swapped.writeUInt32BE(content.readUInt32LE(at), at); };
    const swap16 = (at: number): void => { swapped.writeUInt16BE(content.readUInt16LE(at), at); };
    for (const at of [12, 16, 20, 32]) swap32(at);
    const pageSize = content.readUInt32LE(20);
    for (let pgno = 1; pgno * pageSize < content.length; pgno++) {
      const page = pgno * pageSize;
      const type = content[page + 25];
      if (type !== 13 && type !== 7) continue;
      swap32(page + 8);
      swap32(page + 16);
      swap16(page + 20);
      swap16(page + 22);
      if (type !== 13) continue;
      const entries = content.readUInt16LE(page + 20);
      for (let i = 0; i < entries; i++) {
        swap16(page + 26 + i * 2);
        const at = page + content.readUInt16LE(page + 26 + i * 2);
        if (content[at] === 1 && i % 2 === 0) swap32(at + 1);
        if (content[at] === 3) { swap32(at + 4); swap32(at + 8); }
      }
    }
    const little = await parseRpmDatabase(path, content);
    const big = await parseRpmDatabase(path, swapped);
    assert.deepEqual(big, little);
  });

  it('rpm header blobs: every offset is checked', () => {
    const [entry] = readBdbPackages(bdbSample('centos7-plain'));
    assert.ok(entry);
    const blob = entry.blob;
    const label = `package ${entry.index}`;
    const damage = (edit: (copy: Buffer) => void): Buffer => {
      const copy = Buffer.from(blob);
      edit(copy);
      return copy;
    };
    const throwsNaming = (bytes: Uint8Array, pattern: RegExp): void => {
      assert.throws(() => parseRpmHeader(bytes, entry.index), (error: unknown) => {
        assert.ok(error instanceof RpmDatabaseError);
        assert.ok(error.message.startsWith(`rpm header of ${label}: `), error.message);
        assert.match(error.message, pattern);
        return true;
      });
    };
    const il = blob.readUInt32BE(0);
    const dl = blob.readUInt32BE(4);
    throwsNaming(blob.subarray(0, 5), /truncated/);
    throwsNaming(blob.subarray(0, blob.length - 1), /size \d+ bytes, but/);
    throwsNaming(damage((b) => b.writeUInt32BE(0, 0)), /bad index entry count 0/);
    throwsNaming(damage((b) => b.writeUInt32BE(0x7fffffff, 4)), /bad data length/);
    // The region trailer's offset, outside the data store.
    throwsNaming(damage((b) => b.writeInt32BE(dl, 8 + 8)), /region trailer offset/);
    // The region trailer's negative size, larger than the index.
    const trailer = 8 + il * 16 + blob.readInt32BE(8 + 8);
    throwsNaming(damage((b) => b.writeInt32BE(-(il + 1) * 16, trailer + 8)), /bad region size/);
    throwsNaming(damage((b) => b.writeInt32BE(1000, trailer)), /bad region trailer/);
    // An entry with an unknown type, a negative offset, a string running off the end.
    throwsNaming(damage((b) => b.writeUInt32BE(42, 8 + 16 + 4)), /unknown type 42/);
    throwsNaming(damage((b) => b.writeInt32BE(-5, 8 + 16 + 8)), /offset -5 outside/);
    const header = RpmHeader.parse(blob, label);
    assert.equal(header.has(1000), true);
    const nameEntry = [...Array(il).keys()].map((i) => 8 + i * 16).find((at) => blob.readInt32BE(at) === 1000)!;
    throwsNaming(damage((b) => {
      b.writeInt32BE(dl - 1, nameEntry + 8);
      b[b.length - 1] = 0x41;
    }), /tag 1000 string at \d+ is not terminated/);
    throwsNaming(damage((b) => b.writeUInt32BE(4, nameEntry + 4)), /tag 1000 has type 4, not a string/);
  });

  it('unknown content names the path', async () => {
    await rejectsQuickly(() => parseRpmDatabase('var/lib/rpm/Packages.db', Buffer.alloc(4096, 1)), /^var\/lib\/rpm\/Packages\.db: not an rpm database \(expected ndb for its name\)/);
    assert.deepEqual(await parseRpmDatabase('var/lib/rpm/Packages', Buffer.alloc(0)), []);
  });
});

describe('rpm helpers', () => {
  it('source rpm names, database paths', () => {
    assert.deepEqual(parseSourceRpm('NetworkManager-1.22.8-5.el8_2.src.rpm'), { name: 'NetworkManager', version: '1.22.8', release: '5.el8_2' });
    assert.deepEqual(parseSourceRpm('python-urllib3-1.26.5-3.el9.nosrc.rpm'), { name: 'python-urllib3', version: '1.26.5', release: '3.el9' });
    assert.equal(parseSourceRpm('broken.rpm'), null);
    for (const path of ['var/lib/rpm/Packages', 'var/lib/rpm/rpmdb.sqlite', 'usr/lib/sysimage/rpm/Packages.db', 'usr/lib/sysimage/rpm/rpmdb.sqlite']) {
      assert.ok(isRpmDatabasePath(path), path);
    }
    assert.ok(!isRpmDatabasePath('var/lib/rpm/Name'));
    assert.ok(!isRpmDatabasePath('/var/lib/rpm/Packages'));
  });
});

describe('rpm analyzer', () => {
  const layer = (index: number): WalkedLayer => ({ digest: `sha256:${String(index).repeat(64)}`, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: 1, index });

  function finalFiles(files: readonly FinalFile[]): FinalFiles {
    const byPath = new Map(files.map((file) => [file.path, file]));
    return {
      layers: [layer(0), layer(1), layer(2)],
      file: (path) => byPath.get(path === 'var/lib/rpm/Packages.db' ? 'usr/lib/sysimage/rpm/Packages.db' : path),
      stat: (path) => byPath.get(path),
      wantedFiles: () => files,
      list: () => [],
      fateAfter: () => null,
    };
  }

  function finalFile(path: string, versions: { layer: WalkedLayer; content: Buffer | null }[]): FinalFile {
    const last = versions.at(-1)!;
    return { path, type: 'file', size: last.content?.length ?? 1 << 30, mode: 0o644, linkTarget: '', layer: last.layer, content: last.content, versions };
  }

  it('attributes each package to the layer that introduced it, skips gpg-pubkey, prefers the newest format', async () => {
    const headers = sampleHeaders();
    const named = (name: string): RpmHeaderBlob => headers.find((entry) => parseRpmHeader(entry.blob, entry.index).name === name)!;
    const base = ['bash', 'glibc', 'tzdata', 'gpg-pubkey'].map(named);
    // Layer 1 adds buildah and removes tzdata; layer 2 adds conmon and tzdata again.
    const withBuildah = [...base.filter((entry) => parseRpmHeader(entry.blob, entry.index).name !== 'tzdata'), named('buildah')];
    const final = [...withBuildah, named('conmon'), named('tzdata')];
    const ndb = finalFile('usr/lib/sysimage/rpm/Packages.db', [
      { layer: layer(0), content: buildNdb(base) },
      { layer: layer(1), content: buildNdb(withBuildah) },
      { layer: layer(2), content: buildNdb(final) },
    ]);
    // A stale Berkeley DB beside it is ignored: rpm never converts back.
    const stale = finalFile('var/lib/rpm/Packages', [{ layer: layer(0), content: bdbSample('centos7-plain') }]);
    assert.equal(rpmAnalyzer.wants?.('usr/lib/sysimage/rpm/Packages.db'), true);
    const result = await rpmAnalyzer.finish(finalFiles([stale, ndb]), { os: os('centos', '8'), manifestDigest: 'sha256:00' });
    const packages = result.packages ?? [];
    assert.deepEqual(packages.map((pkg) => [pkg.name, pkg.layer.slice(7, 8), pkg.path]), [
      ['bash', '0', 'usr/lib/sysimage/rpm/Packages.db'],
      ['buildah', '1', 'usr/lib/sysimage/rpm/Packages.db'],
      ['conmon', '2', 'usr/lib/sysimage/rpm/Packages.db'],
      ['glibc', '0', 'usr/lib/sysimage/rpm/Packages.db'],
      ['tzdata', '2', 'usr/lib/sysimage/rpm/Packages.db'],
    ]);
    // Without the middle version (over the cap), what is on both sides keeps its layer.
    const capped = finalFile('usr/lib/sysimage/rpm/Packages.db', [
      { layer: layer(0), content: buildNdb(base) },
      { layer: layer(1), content: null },
      { layer: layer(2), content: buildNdb(final) },
    ]);
    const again = await rpmAnalyzer.finish(finalFiles([capped]), { os: null, manifestDigest: 'sha256:00' });
    assert.deepEqual(again.packages?.map((pkg) => pkg.layer.slice(7, 8)), ['0', '2', '2', '0', '0']);
  });

  it('an image without an rpm database has no rpm packages; one over the cap is an error', async () => {
    assert.deepEqual((await rpmAnalyzer.finish(finalFiles([]), { os: null, manifestDigest: 'sha256:00' })).packages, []);
    const huge = finalFile('var/lib/rpm/rpmdb.sqlite', [{ layer: layer(0), content: null }]);
    await assert.rejects(rpmAnalyzer.finish(finalFiles([huge]), { os: null, manifestDigest: 'sha256:00' }), /larger than the indexer keeps/);
  });
});
