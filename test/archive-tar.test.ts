// The streaming tar reader and writer: round trips (long names, PAX, links), header
// parsing edge cases (base-256 and PAX sizes above 8 GiB), corrupt and truncated input,
// and interoperability with GNU tar in both directions.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, readlink, stat, symlink, writeFile, link } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseHeader, parsePax, readTar, TarFormatError, type TarEntry } from '../src/image/archive/tar-reader.ts';
import { encodeHeader, paxRecord, TarWriter, type TarBody, type TarWriterEntry } from '../src/image/archive/tar-writer.ts';
import { runOk, requireTool } from './support/tools.ts';
import { tempDirs } from './support/temp-files.ts';

const newDir = tempDirs('custody-archive-tar-');

async function collect(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

interface ReadEntry extends Omit<TarEntry, 'body'> {
  data: Buffer;
}

async function readAll(input: AsyncIterable<Uint8Array>, options = {}): Promise<ReadEntry[]> {
  const out: ReadEntry[] = [];
  for await (const entry of readTar(input, options)) {
    const { body, ...rest } = entry;
    out.push({ ...rest, data: await collect(body) });
  }
  return out;
}

async function writeAll(entries: readonly [TarWriterEntry, TarBody?][]): Promise<Buffer> {
  const writer = new TarWriter();
  const result = collect(writer.output);
  for (const [entry, body] of entries) await writer.add(entry, body);
  await writer.finish();
  return result;
}

function chunked(buffer: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < buffer.length; i += size) parts.push(buffer.subarray(i, i + size));
  return Readable.from(parts);
}

const long150 = `${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(28)}`;
const long300 = `${'a'.repeat(120)}/${'b'.repeat(120)}/${'c'.repeat(58)}.txt`;
const longFileOnly = `dir/${'x'.repeat(150)}`;

describe('tar writer and reader', () => {
  test('round trip: files, dirs, long names (>100, >255), symlinks, hard links, PAX, unicode', async () => {
    const big = Buffer.alloc(200_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) % 251;
    const archive = await writeAll([
      [{ name: 'dir/', type: 'dir' }],
      [{ name: 'dir/hello.txt', size: 6, mode: 0o600, mtime: 1_700_000_000 }, 'hello\n'],
      [{ name: 'empty' , size: 0 }, Buffer.alloc(0)],
      [{ name: long150, size: 3 }, 'abc'],
      [{ name: long300, size: big.length }, Readable.from([big.subarray(0, 1000), big.subarray(1000)])],
      [{ name: longFileOnly, size: 1 }, 'z'],
      [{ name: 'dir/link', type: 'symlink', linkname: 'hello.txt' }],
      [{ name: 'dir/longlink', type: 'symlink', linkname: `../${long300}` }],
      [{ name: 'hard', type: 'hardlink', linkname: 'dir/hello.txt' }],
      [{ name: 'ünïcødé/файл', size: 2 }, 'ok'],
    ]);
    assert.equal(archive.length % 512, 0);
    assert.ok(archive.subarray(-1024).every((b) => b === 0), 'ends with two zero blocks');
    // Read back through tiny chunks to exercise block reassembly.
    const entries = await readAll(chunked(archive, 333));
    assert.deepEqual(entries.map((e) => [e.name, e.type]), [
      ['dir/', 'dir'],
      ['dir/hello.txt', 'file'],
      ['empty', 'file'],
      [long150, 'file'],
      [long300, 'file'],
      [longFileOnly, 'file'],
      ['dir/link', 'symlink'],
      ['dir/longlink', 'symlink'],
      ['hard', 'hardlink'],
      ['ünïcødé/файл', 'file'],
    ]);
    const byName = new Map(entries.map((e) => [e.name, e]));
    assert.equal(byName.get('dir/hello.txt')!.data.toString(), 'hello\n');
    assert.equal(byName.get('dir/hello.txt')!.mode, 0o600);
    assert.equal(byName.get('dir/hello.txt')!.mtime, 1_700_000_000);
    assert.equal(byName.get('dir/')!.mode, 0o755);
    assert.equal(byName.get('empty')!.mode, 0o644);
    assert.equal(byName.get('empty')!.mtime, 0);
    assert.ok(byName.get(long300)!.data.equals(big));
    assert.equal(byName.get(long300)!.pax.path, long300, 'a >255-character name goes in PAX');
    assert.equal(byName.get(long150)!.pax.path, undefined, 'a name that fits prefix+name needs no PAX');
    assert.equal(byName.get('dir/longlink')!.linkname, `../${long300}`);
    assert.equal(byName.get('hard')!.linkname, 'dir/hello.txt');
    assert.equal(byName.get('ünïcødé/файл')!.data.toString(), 'ok');
    for (const e of entries) {
      assert.equal(e.uid, 0);
      assert.equal(e.gid, 0);
    }
  });

  test('the writer is deterministic', async () => {
    const entries: [TarWriterEntry, TarBody?][] = [[{ name: 'a', size: 1 }, 'a'], [{ name: long300, size: 1 }, 'b']];
    assert.ok((await writeAll(entries)).equals(await writeAll(entries)));
  });

  test('bodies not consumed are skipped; partly consumed ones too', async () => {
    const data = Buffer.alloc(300_000, 7);
    const archive = await writeAll([[{ name: 'one', size: data.length }, data], [{ name: 'two', size: data.length }, data], [{ name: 'three', size: 5 }, 'three']]);
    const seen: string[] = [];
    for await (const entry of readTar(chunked(archive, 10_000))) {
      seen.push(entry.name);
      if (entry.name === 'two') {
        for await (const _chunk of entry.body) break; // read a little, then abandon
      }
      if (entry.name === 'three') assert.equal((await collect(entry.body)).toString(), 'three');
    }
    assert.deepEqual(seen, ['one', 'two', 'three']);
  });

  test('the writer refuses a body whose length differs from the size', async () => {
    const writer = new TarWriter();
    void collect(writer.output).catch(() => {});
    await assert.rejects(writer.add({ name: 'x', size: 10 }, Readable.from([Buffer.from('short')])), /5 bytes, expected 10/);
    const other = new TarWriter();
    void collect(other.output).catch(() => {});
    await assert.rejects(other.add({ name: 'x', size: 2 }, Readable.from([Buffer.from('longer')])), /longer than its size/);
  });
});

describe('tar header parsing', () => {
  test('sizes above 8 GiB: PAX size and GNU base-256', () => {
    const size = 9 * 1024 ** 3 + 123;
    // PAX: the writer's header for a 9 GiB entry carries the size in a PAX record.
    const encoded = encodeHeader({ name: 'huge', size });
    assert.equal(encoded.length, 512 * 3, 'PAX header, PAX data, ustar header');
    assert.equal(parseHeader(encoded.subarray(0, 512)).typeflag, 'x');
    assert.equal(parsePax(encoded.subarray(512, 1024)).size, String(size));
    assert.equal(parseHeader(encoded.subarray(1024)).name, 'huge');
    // Base-256 (GNU): the size field's first byte has the high bit set.
    const block = Buffer.from(encodeHeader({ name: 'huge', size: 0 }));
    block.fill(0, 124, 136);
    block[124] = 0x80;
    block.writeUIntBE(size, 136 - 6, 6);
    block.fill(0x20, 148, 156);
    let sum = 0;
    for (const byte of block) sum += byte;
    block.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
    assert.equal(parseHeader(block).size, size);
  });

  test('PAX records: length prefix counts itself; reader ignores trailing padding', () => {
    for (const value of ['x', 'y'.repeat(95), 'z'.repeat(996)]) {
      const record = paxRecord('path', value);
      assert.equal(Number(record.split(' ')[0]), Buffer.byteLength(record));
      assert.deepEqual(parsePax(Buffer.concat([Buffer.from(record), Buffer.alloc(10)])), { path: value });
    }
    assert.throws(() => parsePax(Buffer.from('99 path=x\n')), TarFormatError);
  });

  test('a corrupt header checksum is reported', async () => {
    const archive = await writeAll([[{ name: 'a', size: 1 }, 'a']]);
    archive[10] = archive[10]! ^ 0xff;
    await assert.rejects(readAll(Readable.from([archive])), /checksum mismatch/);
  });

  test('truncated archives fail clearly', async () => {
    const archive = await writeAll([[{ name: 'a', size: 2000 }, Buffer.alloc(2000, 1)], [{ name: 'b', size: 1 }, 'b']]);
    // In the middle of data.
    await assert.rejects(readAll(Readable.from([archive.subarray(0, 1500)])), /truncated.*inside the data of "a"/);
    // In the middle of a header.
    await assert.rejects(readAll(Readable.from([archive.subarray(0, 512 + 2048 + 100)])), /truncated.*inside a header/);
    // At an entry boundary, without the end-of-archive blocks.
    const noEnd = archive.subarray(0, archive.length - 1024);
    await assert.rejects(readAll(Readable.from([noEnd])), /truncated/);
    assert.equal((await readAll(Readable.from([noEnd]), { allowMissingEnd: true })).length, 2);
    // Unconsumed data cut short is reported when skipping.
    await assert.rejects(async () => {
      for await (const _entry of readTar(Readable.from([archive.subarray(0, 1000)]))) {
        // skip
      }
    }, /truncated/);
  });
});

describe('GNU tar interoperability', () => {
  const tar = requireTool('tar');

  test('GNU tar lists and extracts what the writer produces', async () => {
    const dir = newDir();
    const file = join(dir, 'out.tar');
    const writer = new TarWriter();
    const done = pipeline(writer.output, createWriteStream(file));
    await writer.add({ name: 'top/', type: 'dir' });
    await writer.add({ name: 'top/file.txt', size: 5, mode: 0o755 }, 'data\n');
    await writer.add({ name: `top/${long300}`, size: 4 }, 'long');
    await writer.add({ name: 'top/sym', type: 'symlink', linkname: 'file.txt' });
    await writer.add({ name: 'top/hard', type: 'hardlink', linkname: 'top/file.txt' });
    await writer.finish();
    await done;
    const listing = (await runOk(tar, ['-tvf', file])).stdout;
    assert.match(listing, /-rwxr-xr-x 0\/0 +5 1970-01-01 00:00 top\/file\.txt/);
    assert.ok(listing.includes(`top/${long300}`), listing);
    assert.match(listing, /top\/sym -> file\.txt/);
    assert.match(listing, /top\/hard link to top\/file\.txt/);
    const out = join(dir, 'x');
    await mkdir(out);
    await runOk(tar, ['-xf', file, '-C', out]);
    assert.equal(await readFile(join(out, 'top', 'file.txt'), 'utf8'), 'data\n');
    assert.equal(await readFile(join(out, 'top', long300), 'utf8'), 'long');
    assert.equal(await readlink(join(out, 'top', 'sym')), 'file.txt');
    assert.equal((await stat(join(out, 'top', 'hard'))).ino, (await stat(join(out, 'top', 'file.txt'))).ino);
  });

  for (const format of ['gnu', 'posix', 'ustar'] as const) {
    test(`reads archives from tar --format=${format}`, async () => {
      const dir = newDir();
      const src = join(dir, 'src');
      const names = format === 'ustar' ? ['a.txt', long150] : ['a.txt', long150, long300];
      for (const name of names) {
        await mkdir(join(src, name, '..'), { recursive: true });
        await writeFile(join(src, name), `content of ${name}`);
      }
      await symlink('a.txt', join(src, 'sym'));
      await link(join(src, 'a.txt'), join(src, 'hard'));
      const big = Buffer.alloc(1_000_003, 0x5a);
      await writeFile(join(src, 'big.bin'), big);
      const file = join(dir, 'in.tar');
      await runOk(tar, [`--format=${format}`, '-cf', file, '-C', src, '.']);
      const entries = await readAll(createReadStream(file, { highWaterMark: 4096 }));
      const byName = new Map(entries.map((e) => [e.name.replace(/^\.\//, ''), e]));
      for (const name of names) {
        const entry = byName.get(name);
        assert.ok(entry, `${name} in ${[...byName.keys()].join(', ')}`);
        if (entry.type === 'hardlink') continue; // a.txt and hard: whichever tar met second
        assert.equal(entry.type, 'file');
        assert.equal(entry.data.toString(), `content of ${name}`);
      }
      assert.ok(byName.get('big.bin')!.data.equals(big));
      assert.equal(byName.get('sym')!.type, 'symlink');
      assert.equal(byName.get('sym')!.linkname, 'a.txt');
      const hard = byName.get('hard') ?? byName.get('a.txt');
      const linked = entries.find((e) => e.type === 'hardlink');
      assert.ok(linked && hard, 'one of the two names is a hard link');
      assert.ok(['./a.txt', './hard', 'a.txt', 'hard'].includes(linked.linkname));
      assert.ok(byName.get('')?.type === 'dir' || entries.some((e) => e.type === 'dir'));
    });
  }
});
