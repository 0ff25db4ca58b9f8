// rpm's ndb `Packages.db` (rpm ≥ 4.15's own format; the default on SUSE: SLES 15 and
// openSUSE). The layout, from rpm's lib/backend/ndb/rpmpkg.c, all numbers little-endian:
//
//   bytes 0..31    file header: magic "RpmP", version 0, generation, slotnpages,
//                  nextpkgidx, 12 reserved bytes
//   slotnpages × 4096 bytes of slots (the header takes the first two), 16 bytes each:
//                  magic "Slot", pkgidx, blkoff, blkcnt; blkoff 0 is a free slot
//   blocks of 16 bytes after the slot pages; a package's blob starts at block blkoff
//   and spans blkcnt blocks:
//                  head: magic "BlbS", pkgidx, generation, bloblen
//                  the header blob (bloblen bytes), zero padding to a block boundary
//                  tail: adler32 (of head, blob and padding), bloblen, magic "BlbE"
//
// Every slot and blob is checked as rpm's rpmpkgReadSlots/rpmpkgReadBlob check them,
// including the Adler-32, so a torn write reads as an error naming the package.
import { RpmDatabaseError } from './rpm-header.ts';
import type { RpmHeaderBlob } from './rpm-bdb.ts';

/** "RpmP", "Slot", "BlbS", "BlbE" as little-endian integers. */
export const NDB_MAGIC = 0x506d7052;
export const NDB_SLOT_MAGIC = 0x746f6c53;
export const NDB_BLOB_HEAD_MAGIC = 0x53626c42;
export const NDB_BLOB_TAIL_MAGIC = 0x45626c42;
export const NDB_PAGE_SIZE = 4096;
export const NDB_SLOT_SIZE = 16;
export const NDB_BLOCK_SIZE = 16;
export const NDB_HEADER_SIZE = 32;
export const NDB_BLOB_HEAD_SIZE = 16;
export const NDB_BLOB_TAIL_SIZE = 12;

/** Adler-32 (RFC 1950), which ndb uses for its blob checksums; zlib's is not exposed by
 * node:zlib. */
export function adler32(data: Uint8Array, start = 1): number {
  let a = start & 0xffff;
  let b = (start >>> 16) & 0xffff;
  // 5552 is the largest run for which b cannot overflow 2^32 before the modulo.
  for (let i = 0; i < data.length;) {
    const end = Math.min(i + 5552, data.length);
    for (; i < end; i++) {
      a += data[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

export function isNdbDatabase(content: Uint8Array): boolean {
  return content.length >= 4 && Buffer.from(content.buffer, content.byteOffset, 4).readUInt32LE(0) === NDB_MAGIC;
}

/** Extracts every package header blob from an ndb Packages.db, in pkgidx order. */
export function readNdbPackages(content: Buffer): RpmHeaderBlob[] {
  const fail = (what: string): never => {
    throw new RpmDatabaseError(`ndb Packages.db: ${what}`);
  };
  if (content.length < NDB_HEADER_SIZE) fail(`truncated: ${content.length} bytes, smaller than the file header`);
  if (content.readUInt32LE(0) !== NDB_MAGIC) fail('not an ndb database (bad magic)');
  const version = content.readUInt32LE(4);
  if (version !== 0) fail(`unsupported version ${version}`);
  const slotPages = content.readUInt32LE(12);
  if (slotPages === 0) fail('no slot pages');
  if (slotPages * NDB_PAGE_SIZE > content.length) fail(`truncated: ${slotPages} slot pages announced, the file holds ${content.length} bytes`);
  const fileBlocks = Math.floor(content.length / NDB_BLOCK_SIZE);
  // Blobs live after the slot pages; a slot pointing into them is corrupt.
  const firstBlobBlock = (slotPages * NDB_PAGE_SIZE) / NDB_BLOCK_SIZE;

  const slots: { pkgidx: number; blkoff: number; blkcnt: number; label: string }[] = [];
  const seen = new Set<number>();
  for (let at = NDB_HEADER_SIZE; at < slotPages * NDB_PAGE_SIZE; at += NDB_SLOT_SIZE) {
    const slotNumber = at / NDB_SLOT_SIZE;
    if (content.readUInt32LE(at) !== NDB_SLOT_MAGIC) fail(`slot ${slotNumber} has a bad magic`);
    const blkoff = content.readUInt32LE(at + 8);
    if (blkoff === 0) continue;
    const pkgidx = content.readUInt32LE(at + 4);
    const blkcnt = content.readUInt32LE(at + 12);
    const label = `package ${pkgidx} (slot ${slotNumber})`;
    if (pkgidx === 0 || blkcnt === 0 || blkoff < firstBlobBlock) fail(`${label}: bad slot (block ${blkoff}, ${blkcnt} blocks)`);
    if (blkoff + blkcnt > fileBlocks) fail(`${label}: blob at block ${blkoff} (${blkcnt} blocks) runs past the end of the file (${fileBlocks} blocks): truncated`);
    if (seen.has(pkgidx)) fail(`${label}: package ${pkgidx} has two slots`);
    seen.add(pkgidx);
    slots.push({ pkgidx, blkoff, blkcnt, label });
  }
  // Blobs never overlap (rpm treats it as corruption too); checking it first also bounds
  // the checksum work by the file's size whatever the slots claim.
  slots.sort((a, b) => a.blkoff - b.blkoff);
  for (let i = 1; i < slots.length; i++) {
    const before = slots[i - 1]!;
    if (before.blkoff + before.blkcnt > slots[i]!.blkoff) fail(`${slots[i]!.label}: its blob overlaps the blob of ${before.label}`);
  }
  const out = slots.map((slot) => ({ index: slot.pkgidx, blob: readBlob(content, slot.pkgidx, slot.blkoff, slot.blkcnt, slot.label, fail) }));
  return out.sort((a, b) => a.index - b.index);
}

function readBlob(content: Buffer, pkgidx: number, blkoff: number, blkcnt: number, label: string, fail: (what: string) => never): Buffer {
  const start = blkoff * NDB_BLOCK_SIZE;
  const end = start + blkcnt * NDB_BLOCK_SIZE;
  if (blkcnt * NDB_BLOCK_SIZE < NDB_BLOB_HEAD_SIZE + NDB_BLOB_TAIL_SIZE) fail(`${label}: ${blkcnt} blocks cannot hold a blob`);
  if (content.readUInt32LE(start) !== NDB_BLOB_HEAD_MAGIC) fail(`${label}: bad blob magic at block ${blkoff}`);
  if (content.readUInt32LE(start + 4) !== pkgidx) fail(`${label}: the blob at block ${blkoff} belongs to package ${content.readUInt32LE(start + 4)}`);
  const length = content.readUInt32LE(start + 12);
  const needed = Math.ceil((NDB_BLOB_HEAD_SIZE + length + NDB_BLOB_TAIL_SIZE) / NDB_BLOCK_SIZE);
  if (needed !== blkcnt) fail(`${label}: a blob of ${length} bytes needs ${needed} blocks, the slot says ${blkcnt}`);
  const tail = end - NDB_BLOB_TAIL_SIZE;
  if (content.readUInt32LE(tail + 8) !== NDB_BLOB_TAIL_MAGIC) fail(`${label}: bad blob tail magic`);
  if (content.readUInt32LE(tail + 4) !== length) fail(`${label}: blob tail says ${content.readUInt32LE(tail + 4)} bytes, head ${length}`);
  const checksum = adler32(content.subarray(start, tail));
  if (content.readUInt32LE(tail) !== checksum) fail(`${label}: blob checksum mismatch`);
  return content.subarray(start + NDB_BLOB_HEAD_SIZE, start + NDB_BLOB_HEAD_SIZE + length);
}
