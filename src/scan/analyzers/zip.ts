// A minimal zip reader for Java archives held in memory: the central directory (found
// through the end of central directory record, ZIP64 included) lists the entries, and an
// entry's bytes are read through its local header, stored or deflated. No dependency and
// no native code; bounded: every inflate has an output limit, so a zip bomb costs at most
// that limit.
import { inflateRawSync } from 'node:zlib';

export class ZipFormatError extends Error {
  override readonly name = 'ZipFormatError';
}

export interface ZipEntry {
  readonly name: string;
  /** 0 stored, 8 deflated (others are not read). */
  readonly method: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
/** The EOCD record is 22 bytes plus a comment of at most 65535. */
const EOCD_SEARCH = 22 + 0xffff;

function u64(data: Buffer, offset: number): number {
  const v = data.readBigUInt64LE(offset);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipFormatError('a ZIP64 field is out of range');
  return Number(v);
}

/** Lists the entries of a zip held in `data`. Throws ZipFormatError when it is not one. */
export function zipEntries(data: Buffer): ZipEntry[] {
  let eocd = -1;
  for (let i = data.length - 22; i >= Math.max(0, data.length - EOCD_SEARCH); i--) {
    if (data.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipFormatError('no end of central directory record');
  let count = data.readUInt16LE(eocd + 10);
  let cdSize = data.readUInt32LE(eocd + 12);
  let cdOffset = data.readUInt32LE(eocd + 16);
  let cdEnd = eocd;
  if ((count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) && eocd >= 20 && data.readUInt32LE(eocd - 20) === ZIP64_LOCATOR) {
    const at = u64(data, eocd - 20 + 8);
    if (at + 56 > data.length || data.readUInt32LE(at) !== ZIP64_EOCD) throw new ZipFormatError('bad ZIP64 end of central directory');
    count = u64(data, at + 32);
    cdSize = u64(data, at + 40);
    cdOffset = u64(data, at + 48);
    cdEnd = at;
  }
  // Offsets are relative to the zip's start, which is not the file's start when something
  // is prepended (Spring Boot's "fully executable" jars begin with a shell script): the
  // central directory ends where the EOCD begins, which gives the shift.
  const base = cdEnd - cdSize - cdOffset;
  if (base < 0 || cdEnd - cdSize < 0) throw new ZipFormatError('the central directory lies outside the file');
  const entries: ZipEntry[] = [];
  let p = cdEnd - cdSize;
  for (let i = 0; i < count; i++) {
    if (p + 46 > data.length || data.readUInt32LE(p) !== CENTRAL) throw new ZipFormatError('bad central directory entry');
    const flags = data.readUInt16LE(p + 8);
    const method = data.readUInt16LE(p + 10);
    let compressedSize = data.readUInt32LE(p + 20);
    let size = data.readUInt32LE(p + 24);
    const nameLength = data.readUInt16LE(p + 28);
    const extraLength = data.readUInt16LE(p + 30);
    const commentLength = data.readUInt16LE(p + 32);
    let localHeaderOffset = data.readUInt32LE(p + 42);
    const nameEnd = p + 46 + nameLength;
    if (nameEnd + extraLength > data.length) throw new ZipFormatError('truncated central directory');
    // Bit 11: UTF-8 names; otherwise CP437, where ASCII (all Java tooling writes) agrees.
    const name = data.toString((flags & 0x800) !== 0 ? 'utf8' : 'latin1', p + 46, nameEnd);
    // ZIP64 extended information: the 8-byte values, in this order, of the fields that
    // are 0xffffffff in the record.
    for (let e = nameEnd; e + 4 <= nameEnd + extraLength;) {
      const id = data.readUInt16LE(e);
      const length = data.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let f = e + 4;
        if (size === 0xffffffff && f + 8 <= e + 4 + length) { size = u64(data, f); f += 8; }
        if (compressedSize === 0xffffffff && f + 8 <= e + 4 + length) { compressedSize = u64(data, f); f += 8; }
        if (localHeaderOffset === 0xffffffff && f + 8 <= e + 4 + length) { localHeaderOffset = u64(data, f); }
      }
      e += 4 + length;
    }
    entries.push({ name, method, compressedSize, size, localHeaderOffset: localHeaderOffset + base });
    p = nameEnd + extraLength + commentLength;
  }
  return entries;
}

/** The entry's uncompressed bytes, or null when it is larger than `maxBytes`, uses a
 * method other than stored or deflate, or is corrupt. Stored entries are views of `data`. */
export function readZipEntry(data: Buffer, entry: ZipEntry, maxBytes: number): Buffer | null {
  if (entry.size > maxBytes) return null;
  const p = entry.localHeaderOffset;
  if (p + 30 > data.length || data.readUInt32LE(p) !== LOCAL) return null;
  // The local header's own name and extra lengths may differ from the central record's.
  const start = p + 30 + data.readUInt16LE(p + 26) + data.readUInt16LE(p + 28);
  const end = start + entry.compressedSize;
  if (end > data.length) return null;
  const raw = data.subarray(start, end);
  if (entry.method === 0) return raw;
  if (entry.method !== 8) return null;
  try {
    // The output limit is what bounds memory: the declared size may lie.
    return inflateRawSync(raw, { maxOutputLength: Math.max(1, maxBytes) });
  } catch {
    return null;
  }
}
