// rpm's Berkeley DB `Packages` database (RHEL/CentOS ≤ 8, Amazon Linux 2, old SUSE): a
// Berkeley DB hash database whose keys are 4-byte header numbers (hnum) and whose values
// are rpm header blobs. Read from a buffer, without libdb, with the on-disk layout of
// libdb's dbinc/db_page.h:
//
// Every page starts with a 26-byte header:
//   0 lsn(8)  8 pgno(4)  12 prev_pgno(4)  16 next_pgno(4)  20 entries(2)  22 hf_offset(2)
//   24 level(1)  25 type(1)
// Page 0 is the hash metadata page: 12 magic 0x061561, 16 version, 20 pagesize,
// 24 encrypt_alg, 25 type 8 (P_HASHMETA), 26 metaflags, 32 last_pgno.
// Hash pages (type 13 P_HASH, 2 P_HASH_UNSORTED in old releases) hold `entries` 2-byte
// item offsets right after the header, items packed downward from the page's end, so
// item i spans [inp[i], i == 0 ? pagesize : inp[i-1]). Items alternate key, data. An
// item's first byte is its kind: 1 H_KEYDATA (bytes follow inline), 3 H_OFFPAGE (3
// unused bytes, pgno(4), tlen(4): the value lives on a chain of overflow pages), 2/4
// duplicates (never used by rpm's Packages).
// Overflow pages (type 7 P_OVERFLOW) carry hf_offset bytes of value after the header
// and chain through next_pgno until 0.
// Numbers are in the byte order of the machine that wrote the file; the metadata magic
// tells which, so big-endian databases (s390x, ppc64) are read too.
//
// Scanning hash pages in page order (rather than walking buckets) reaches every live
// item exactly once: bucket overflow pages are hash pages too, and freed pages are
// retyped P_INVALID. Everything is bounds-checked, and no page is read twice for
// values, so a loop in a chain is an error, not a hang.
import { RpmDatabaseError } from './rpm-header.ts';

export interface RpmHeaderBlob {
  /** The database's record number (hnum, ndb pkgidx). */
  readonly index: number;
  readonly blob: Buffer;
}

const HASH_MAGIC = 0x061561;
const BTREE_MAGIC = 0x053162;
const PAGE_HEADER_SIZE = 26;
const P_HASH_UNSORTED = 2;
const P_OVERFLOW = 7;
const P_HASHMETA = 8;
const P_HASH = 13;
const H_KEYDATA = 1;
const H_DUPLICATE = 2;
const H_OFFPAGE = 3;
const H_OFFDUP = 4;
const HOFFPAGE_SIZE = 12;
/** DBMETA_CHKSUM: pages carry a checksum after the header, shifting their contents. rpm
 * never turns it on, and the shifted layout is not implemented (refused, not misread). */
const DBMETA_CHKSUM = 0x01;

/** Extracts every package header blob from a Berkeley DB hash `Packages` file. */
export function readBdbPackages(content: Buffer): RpmHeaderBlob[] {
  const fail = (what: string): never => {
    throw new RpmDatabaseError(`Berkeley DB Packages: ${what}`);
  };
  if (content.length < 512) fail(`truncated: ${content.length} bytes, smaller than a metadata page`);
  let little: boolean;
  if (content.readUInt32LE(12) === HASH_MAGIC) little = true;
  else if (content.readUInt32BE(12) === HASH_MAGIC) little = false;
  else if (content.readUInt32LE(12) === BTREE_MAGIC || content.readUInt32BE(12) === BTREE_MAGIC) return fail('a B-tree database, not the hash database rpm writes');
  else return fail('not a Berkeley DB hash database (bad magic)');
  const u16 = little ? (at: number) => content.readUInt16LE(at) : (at: number) => content.readUInt16BE(at);
  const u32 = little ? (at: number) => content.readUInt32LE(at) : (at: number) => content.readUInt32BE(at);

  const version = u32(16);
  // Hash format 8 is Berkeley DB 4.x before 4.6, 9 is 4.6 and later (5.x, 6.x): the
  // page layout read here is the same for both.
  if (version !== 8 && version !== 9) fail(`unsupported hash format version ${version}`);
  const pageSize = u32(20);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) fail(`bad page size ${pageSize}`);
  if (content[24] !== 0) fail('encrypted databases are not supported');
  if (content[25] !== P_HASHMETA) fail(`page 0 has type ${content[25]}, not hash metadata`);
  if ((content[26]! & DBMETA_CHKSUM) !== 0) fail('checksummed pages are not supported');
  const lastPgno = u32(32);
  const pageCount = lastPgno + 1;
  if (content.length < pageCount * pageSize) {
    fail(`truncated: the metadata says ${pageCount} pages of ${pageSize} bytes, the file holds ${Math.floor(content.length / pageSize)}`);
  }

  // Which value's chain each overflow page belongs to (0: none yet). Chains are disjoint
  // in a sound database; refusing a page seen before catches a loop within a chain, and
  // keeps crafted values that share one long chain from costing pages × values copies.
  const chainOf = new Uint32Array(pageCount);
  let chains = 0;
  const overflow = (start: number, length: number, label: string): Buffer => {
    if (length > pageCount * pageSize) fail(`${label}: value length ${length} exceeds the database size`);
    const chain = ++chains;
    const value = Buffer.allocUnsafe(length);
    let filled = 0;
    let pgno = start;
    while (pgno !== 0) {
      if (pgno >= pageCount) fail(`${label}: overflow page ${pgno} is past the last page ${lastPgno}`);
      if (chainOf[pgno] === chain) fail(`${label}: overflow page chain loops (back to page ${pgno})`);
      if (chainOf[pgno] !== 0) fail(`${label}: overflow page ${pgno} also belongs to another value`);
      chainOf[pgno] = chain;
      const page = pgno * pageSize;
      if (content[page + 25] !== P_OVERFLOW) fail(`${label}: page ${pgno} in the overflow chain has type ${content[page + 25]}`);
      const used = u16(page + 22);
      if (PAGE_HEADER_SIZE + used > pageSize) fail(`${label}: overflow page ${pgno} claims ${used} bytes`);
      if (filled + used > length) fail(`${label}: overflow chain holds more than the ${length} bytes announced`);
      content.copy(value, filled, page + PAGE_HEADER_SIZE, page + PAGE_HEADER_SIZE + used);
      filled += used;
      pgno = u32(page + 16);
    }
    if (filled !== length) fail(`${label}: overflow chain holds ${filled} bytes, ${length} announced`);
    return value;
  };

  const out: RpmHeaderBlob[] = [];
  const seen = new Set<number>();
  for (let pgno = 1; pgno < pageCount; pgno++) {
    const page = pgno * pageSize;
    const type = content[page + 25];
    if (type !== P_HASH && type !== P_HASH_UNSORTED) continue;
    if (u32(page + 8) !== pgno) fail(`hash page ${pgno} says it is page ${u32(page + 8)}`);
    const entries = u16(page + 20);
    if (entries % 2 !== 0) fail(`hash page ${pgno} has an odd number of items (${entries}): keys and values come in pairs`);
    const itemsStart = PAGE_HEADER_SIZE + entries * 2;
    if (itemsStart > pageSize) fail(`hash page ${pgno} claims ${entries} items, more than fit`);
    const item = (i: number): [number, number] => {
      const start = u16(page + PAGE_HEADER_SIZE + i * 2);
      const end = i === 0 ? pageSize : u16(page + PAGE_HEADER_SIZE + (i - 1) * 2);
      if (start < itemsStart || end > pageSize || start >= end) fail(`hash page ${pgno} item ${i} has bad bounds ${start}..${end}`);
      return [page + start, page + end];
    };
    for (let i = 0; i < entries; i += 2) {
      const [keyStart, keyEnd] = item(i);
      if (content[keyStart] !== H_KEYDATA || keyEnd - keyStart !== 5) {
        fail(`hash page ${pgno} item ${i}: a key of kind ${content[keyStart]} and ${keyEnd - keyStart - 1} bytes, not a 4-byte header number`);
      }
      const hnum = u32(keyStart + 1);
      const [dataStart, dataEnd] = item(i + 1);
      // Record 0 holds rpm's next-instance counter, not a header.
      if (hnum === 0) continue;
      const label = `package ${hnum}`;
      if (seen.has(hnum)) fail(`${label} appears twice`);
      seen.add(hnum);
      const kind = content[dataStart];
      if (kind === H_KEYDATA) {
        out.push({ index: hnum, blob: content.subarray(dataStart + 1, dataEnd) });
      } else if (kind === H_OFFPAGE) {
        if (dataEnd - dataStart < HOFFPAGE_SIZE) fail(`${label}: off-page item of ${dataEnd - dataStart} bytes on page ${pgno}`);
        out.push({ index: hnum, blob: overflow(u32(dataStart + 4), u32(dataStart + 8), label) });
      } else if (kind === H_DUPLICATE || kind === H_OFFDUP) {
        fail(`${label}: duplicate values are not used by rpm and not supported`);
      } else {
        fail(`${label}: unknown item kind ${kind} on page ${pgno}`);
      }
    }
  }
  return out.sort((a, b) => a.index - b.index);
}
