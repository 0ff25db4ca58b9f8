// The rpm header blob, as every rpmdb backend (Berkeley DB, sqlite, ndb) stores it: the
// header without its lead and magic, exactly what rpm's headerExport() writes and
// headerImport() reads back:
//
//   int32 il                  number of index entries
//   int32 dl                  length of the data store
//   il × { int32 tag, int32 type, int32 offset, int32 count }
//   dl bytes of data store
//
// all big-endian. The first entry of a package header is normally a region tag
// (HEADERIMMUTABLE 63; HEADERIMAGE 61 in very old headers, HEADERSIGNATURES 62 in
// signature headers): type BIN, count 16, whose offset points at a 16-byte trailer in
// the data store, itself an index entry whose (negated) offset is the byte size of the
// region's index entries. Entries past the region are "dribbles" that rpm added after
// the package was signed (install time, install tid, ...); as in rpm's headerImport(),
// a dribble replaces a region entry with the same tag.
//
// Everything is bounds-checked against the blob: a corrupt header is an RpmDatabaseError
// naming the package, never an exception from a Buffer read or a huge allocation.

/** A corrupt or unsupported rpm database or header. */
export class RpmDatabaseError extends Error {
  override name = 'RpmDatabaseError';
}

/** Tags this module reads (rpm's lib/rpmtag.h). */
export const RPMTAG = {
  HEADERIMAGE: 61,
  HEADERSIGNATURES: 62,
  HEADERIMMUTABLE: 63,
  NAME: 1000,
  VERSION: 1001,
  RELEASE: 1002,
  EPOCH: 1003,
  SUMMARY: 1004,
  SIZE: 1009,
  VENDOR: 1011,
  LICENSE: 1014,
  ARCH: 1022,
  SOURCERPM: 1044,
  MODULARITYLABEL: 5096,
} as const;

/** Data types (rpm's rpmTagType). */
const TYPE = { NULL: 0, CHAR: 1, INT8: 2, INT16: 3, INT32: 4, INT64: 5, STRING: 6, BIN: 7, STRING_ARRAY: 8, I18NSTRING: 9 } as const;

const ENTRY_SIZE = 16;
const REGION_TAG_COUNT = 16;
/** rpm's own limits (hdrchkTags/hdrchkData): anything larger is corruption, and checking
 * them first keeps a garbage count from driving a loop over millions of entries. */
const HEADER_TAGS_MAX = 0xffff;
const HEADER_DATA_MAX = 0x0fffffff;

/** One installed package as rpm lists it. Absent tags are null (rpm prints `(none)`). */
export interface RpmPackage {
  /** The database's own record number: hnum (Berkeley DB key, sqlite `hnum`) or ndb pkgidx. */
  readonly index: number;
  readonly name: string;
  readonly epoch: number | null;
  readonly version: string;
  readonly release: string;
  readonly arch: string | null;
  /** `name-version-release.src.rpm`; null for source packages and gpg-pubkey. */
  readonly sourceRpm: string | null;
  readonly license: string | null;
  readonly modularityLabel: string | null;
  readonly vendor: string | null;
  readonly summary: string | null;
  /** Installed size in bytes (SIZE), when given. */
  readonly size: number | null;
}

interface IndexEntry {
  readonly tag: number;
  readonly type: number;
  readonly offset: number;
  readonly count: number;
}

/** A parsed header: tag lookups over a validated index. */
export class RpmHeader {
  readonly #data: Buffer;
  readonly #entries: Map<number, IndexEntry>;
  readonly #label: string;

  private constructor(data: Buffer, entries: Map<number, IndexEntry>, label: string) {
    this.#data = data;
    this.#entries = entries;
    this.#label = label;
  }

  /**
   * Parses a header blob. `label` names the record in errors ("package 42"), so a bad
   * record in a database of hundreds can be found.
   */
  static parse(blob: Uint8Array, label: string): RpmHeader {
    const buf = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
    const fail = (what: string): never => {
      throw new RpmDatabaseError(`rpm header of ${label}: ${what}`);
    };
    if (buf.length < 8) fail(`truncated: ${buf.length} bytes, not even the index and data counts`);
    const il = buf.readUInt32BE(0);
    const dl = buf.readUInt32BE(4);
    if (il < 1 || il > HEADER_TAGS_MAX) fail(`bad index entry count ${il}`);
    if (dl > HEADER_DATA_MAX) fail(`bad data length ${dl}`);
    const expected = 8 + il * ENTRY_SIZE + dl;
    // rpm refuses a blob whose size is not exactly what its counts say (hdrblobInit).
    if (buf.length !== expected) fail(`size ${buf.length} bytes, but 8 + 16 × ${il} entries + ${dl} data bytes = ${expected}`);
    const dataStart = 8 + il * ENTRY_SIZE;
    const data = buf.subarray(dataStart, dataStart + dl);

    const raw: IndexEntry[] = [];
    for (let i = 0; i < il; i++) {
      const at = 8 + i * ENTRY_SIZE;
      raw.push({ tag: buf.readInt32BE(at), type: buf.readUInt32BE(at + 4), offset: buf.readInt32BE(at + 8), count: buf.readUInt32BE(at + 12) });
    }

    // The region: how many leading entries are the signed, immutable part.
    let regionEntries = il;
    const first = raw[0]!;
    const regionTag = first.tag === RPMTAG.HEADERIMMUTABLE || first.tag === RPMTAG.HEADERIMAGE || first.tag === RPMTAG.HEADERSIGNATURES ? first.tag : 0;
    if (regionTag !== 0) {
      if (first.type !== TYPE.BIN || first.count !== REGION_TAG_COUNT) {
        fail(`bad region tag ${regionTag}: type ${first.type}, count ${first.count}`);
      }
      if (first.offset < 0 || first.offset + REGION_TAG_COUNT > dl) fail(`region trailer offset ${first.offset} outside the ${dl}-byte data store`);
      let trailerTag = data.readInt32BE(first.offset);
      const trailerType = data.readUInt32BE(first.offset + 4);
      const trailerOffset = -data.readInt32BE(first.offset + 8);
      const trailerCount = data.readUInt32BE(first.offset + 12);
      // Old signature headers carry HEADERIMAGE in the trailer; rpm accepts it.
      if (regionTag === RPMTAG.HEADERSIGNATURES && trailerTag === RPMTAG.HEADERIMAGE) trailerTag = RPMTAG.HEADERSIGNATURES;
      if (trailerTag !== regionTag || trailerType !== TYPE.BIN || trailerCount !== REGION_TAG_COUNT) {
        fail(`bad region trailer: tag ${trailerTag}, type ${trailerType}, count ${trailerCount}`);
      }
      if (trailerOffset <= 0 || trailerOffset % ENTRY_SIZE !== 0 || trailerOffset / ENTRY_SIZE > il) {
        fail(`bad region size ${trailerOffset}`);
      }
      regionEntries = trailerOffset / ENTRY_SIZE;
    }

    // As in rpm's headerImport(): a dribble entry (past the region) replaces a region entry
    // of the same tag. The region tag itself is bookkeeping, not data.
    const entries = new Map<number, IndexEntry>();
    for (let i = 0; i < il; i++) {
      const entry = raw[i]!;
      if (i === 0 && regionTag !== 0) continue;
      if (entry.type > TYPE.I18NSTRING) fail(`entry ${i} (tag ${entry.tag}) has unknown type ${entry.type}`);
      if (entry.offset < 0 || entry.offset > dl) fail(`entry ${i} (tag ${entry.tag}) offset ${entry.offset} outside the ${dl}-byte data store`);
      if (entry.count > dl + 1) fail(`entry ${i} (tag ${entry.tag}) count ${entry.count} exceeds the data store`);
      if (i >= regionEntries || !entries.has(entry.tag)) entries.set(entry.tag, entry);
    }
    return new RpmHeader(data, entries, label);
  }

  has(tag: number): boolean {
    return this.#entries.has(tag);
  }

  #fail(tag: number, what: string): never {
    throw new RpmDatabaseError(`rpm header of ${this.#label}: tag ${tag} ${what}`);
  }

  /** NUL-terminated string at `offset`, not past the data store. */
  #cString(tag: number, offset: number): [string, number] {
    const end = this.#data.indexOf(0, offset);
    if (end < 0) this.#fail(tag, `string at ${offset} is not terminated inside the data store`);
    return [this.#data.toString('utf8', offset, end), end + 1];
  }

  /** A string tag (STRING; the first element of STRING_ARRAY and I18NSTRING, whose first
   * is the C locale's), or null when absent. */
  string(tag: number): string | null {
    const entry = this.#entries.get(tag);
    if (entry === undefined) return null;
    if (entry.type === TYPE.STRING) {
      if (entry.count !== 1) this.#fail(tag, `is a STRING with count ${entry.count}`);
    } else if (entry.type === TYPE.STRING_ARRAY || entry.type === TYPE.I18NSTRING) {
      if (entry.count < 1) this.#fail(tag, 'is an empty string array');
    } else {
      this.#fail(tag, `has type ${entry.type}, not a string`);
    }
    return this.#cString(tag, entry.offset)[0];
  }

  /** Every string of a STRING_ARRAY (or the one STRING), or null when absent. */
  strings(tag: number): string[] | null {
    const entry = this.#entries.get(tag);
    if (entry === undefined) return null;
    if (entry.type !== TYPE.STRING && entry.type !== TYPE.STRING_ARRAY && entry.type !== TYPE.I18NSTRING) this.#fail(tag, `has type ${entry.type}, not a string`);
    const out: string[] = [];
    let at = entry.offset;
    // count was checked against dl, and each string takes at least one byte, so a bad
    // count ends at the data store's end instead of looping.
    for (let i = 0; i < entry.count; i++) {
      const [value, next] = this.#cString(tag, at);
      out.push(value);
      at = next;
    }
    return out;
  }

  /** The first value of an integer tag (INT8/16/32; CHAR), or null when absent. */
  integer(tag: number): number | null {
    const entry = this.#entries.get(tag);
    if (entry === undefined) return null;
    const width = entry.type === TYPE.INT32 ? 4 : entry.type === TYPE.INT16 ? 2 : entry.type === TYPE.INT8 || entry.type === TYPE.CHAR ? 1 : entry.type === TYPE.INT64 ? 8 : 0;
    if (width === 0) this.#fail(tag, `has type ${entry.type}, not an integer`);
    if (entry.count < 1) this.#fail(tag, 'has no values');
    // rpm aligns integer data on its width; a misaligned one is corruption (hdrchkAlign).
    if (entry.offset % width !== 0) this.#fail(tag, `offset ${entry.offset} is not aligned to ${width}`);
    if (entry.offset + width > this.#data.length) this.#fail(tag, `value at ${entry.offset} runs past the data store`);
    switch (width) {
      case 1: return this.#data.readUInt8(entry.offset);
      case 2: return this.#data.readUInt16BE(entry.offset);
      case 4: return this.#data.readUInt32BE(entry.offset);
      default: return Number(this.#data.readBigUInt64BE(entry.offset));
    }
  }
}

/** Reads the fields rpm lists from one header blob. `index` is the record number, used
 * in errors and kept on the package. */
export function parseRpmHeader(blob: Uint8Array, index: number): RpmPackage {
  const label = `package ${index}`;
  const header = RpmHeader.parse(blob, label);
  const required = (tag: number, what: string): string => {
    const value = header.string(tag);
    if (value === null) throw new RpmDatabaseError(`rpm header of ${label}: no ${what} (tag ${tag})`);
    return value;
  };
  return {
    index,
    name: required(RPMTAG.NAME, 'NAME'),
    epoch: header.integer(RPMTAG.EPOCH),
    version: required(RPMTAG.VERSION, 'VERSION'),
    release: required(RPMTAG.RELEASE, 'RELEASE'),
    arch: header.string(RPMTAG.ARCH),
    sourceRpm: header.string(RPMTAG.SOURCERPM),
    license: header.string(RPMTAG.LICENSE),
    modularityLabel: header.string(RPMTAG.MODULARITYLABEL),
    vendor: header.string(RPMTAG.VENDOR),
    summary: header.string(RPMTAG.SUMMARY),
    size: header.integer(RPMTAG.SIZE),
  };
}
