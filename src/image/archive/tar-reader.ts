// A streaming tar reader: POSIX ustar, GNU long names and links (`L`/`K`, base-256
// numbers) and PAX extended headers (`x` per entry, `g` global: path, linkpath, size,
// mtime, uid, gid, uname, gname). Entries come out of an async iterator, each with a body
// stream that must be consumed or is skipped when the next entry is asked for. Memory is
// bounded: bodies are streamed (only GNU/PAX metadata bodies, capped, are buffered).
// Header checksums are verified and a truncated archive fails with a clear error.
import { Readable } from 'node:stream';

export const BLOCK_SIZE = 512;
/** Metadata entries (`L`, `K`, `x`, `g`) larger than this are refused. */
const MAX_META_SIZE = 1024 * 1024;
const READ_CHUNK = 64 * 1024;

export type TarEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';

export class TarFormatError extends Error {
  override name = 'TarFormatError';
}

/** One raw ustar/GNU header, before GNU/PAX extensions are applied. */
export interface TarHeader {
  readonly name: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtime: number;
  readonly typeflag: string;
  readonly linkname: string;
  readonly uname: string;
  readonly gname: string;
  readonly format: 'ustar' | 'gnu' | 'v7';
}

export interface TarEntry {
  /** Path in the archive, as given (PAX/GNU long names applied). */
  readonly name: string;
  readonly type: TarEntryType;
  /** The raw type flag ('0', '5', '2', '3'...). */
  readonly typeflag: string;
  readonly size: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Seconds since the epoch (fractional with PAX). */
  readonly mtime: number;
  readonly linkname: string;
  readonly uname: string;
  readonly gname: string;
  /** The PAX records that applied to this entry (global and per-entry). */
  readonly pax: Readonly<Record<string, string>>;
  /** Offset of the entry's data in the input stream (for random access to tar files). */
  readonly offset: number;
  /** The entry's data: consume it before asking for the next entry, or it is skipped. */
  readonly body: Readable;
}

export interface ReadTarOptions {
  /**
   * Accept an archive that ends at an entry boundary without the two zero blocks (as Go's
   * archive/tar does). Default false: such an archive is reported as truncated.
   */
  readonly allowMissingEnd?: boolean;
}

function cString(block: Uint8Array, start: number, length: number): string {
  let end = start;
  const limit = start + length;
  while (end < limit && block[end] !== 0) end++;
  return Buffer.from(block.buffer, block.byteOffset + start, end - start).toString('utf8');
}

/** Parses a numeric header field: octal (space/NUL terminated) or GNU base-256. */
function parseNumeric(block: Uint8Array, start: number, length: number, field: string): number {
  const first = block[start]!;
  if (first & 0x80) {
    // Base-256, big-endian two's complement; the first byte's top bit marks it.
    if (first === 0xff) throw new TarFormatError(`tar header field ${field} is negative`);
    let value = BigInt(first & 0x7f);
    for (let i = 1; i < length; i++) value = (value << 8n) | BigInt(block[start + i]!);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new TarFormatError(`tar header field ${field} is too large`);
    return Number(value);
  }
  let text = '';
  for (let i = start; i < start + length; i++) {
    const byte = block[i]!;
    if (byte === 0) break;
    text += String.fromCharCode(byte);
  }
  text = text.trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError(`tar header field ${field} is not an octal number: ${JSON.stringify(text)}`);
  const value = parseInt(text, 8);
  if (!Number.isSafeInteger(value)) throw new TarFormatError(`tar header field ${field} is too large`);
  return value;
}

function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < BLOCK_SIZE; i++) if (block[i] !== 0) return false;
  return true;
}

/** Parses and checksums one 512-byte header block. */
export function parseHeader(block: Uint8Array): TarHeader {
  if (block.length !== BLOCK_SIZE) throw new TarFormatError(`tar header must be ${BLOCK_SIZE} bytes`);
  const stored = parseNumeric(block, 148, 8, 'chksum');
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK_SIZE; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  if (stored !== unsigned && stored !== signed) {
    throw new TarFormatError(`tar header checksum mismatch (stored ${stored}, computed ${unsigned}): not a tar archive, or corrupt`);
  }
  const magic = cString(block, 257, 6);
  const version = Buffer.from(block.subarray(263, 265)).toString('latin1');
  const format = magic === 'ustar' && version === ' \0' ? 'gnu' : magic === 'ustar' ? 'ustar' : magic === 'ustar ' ? 'gnu' : 'v7';
  let name = cString(block, 0, 100);
  if (format === 'ustar') {
    const prefix = cString(block, 345, 155);
    if (prefix !== '') name = `${prefix}/${name}`;
  }
  const typeflag = block[156] === 0 ? '0' : String.fromCharCode(block[156]!);
  return {
    name,
    mode: parseNumeric(block, 100, 8, 'mode'),
    uid: parseNumeric(block, 108, 8, 'uid'),
    gid: parseNumeric(block, 116, 8, 'gid'),
    size: parseNumeric(block, 124, 12, 'size'),
    mtime: parseNumeric(block, 136, 12, 'mtime'),
    typeflag,
    linkname: cString(block, 157, 100),
    uname: format === 'v7' ? '' : cString(block, 265, 32),
    gname: format === 'v7' ? '' : cString(block, 297, 32),
    format,
  };
}

/** Parses PAX extended header records (`<len> <key>=<value>\n`). */
export function parsePax(data: Uint8Array): Record<string, string> {
  const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const records: Record<string, string> = {};
  let offset = 0;
  while (offset < buffer.length) {
    if (buffer[offset] === 0) break; // padding some writers leave
    const space = buffer.indexOf(0x20, offset);
    if (space < 0) throw new TarFormatError('malformed PAX record: no length');
    const lengthText = buffer.toString('latin1', offset, space);
    const length = Number(lengthText);
    if (!/^[0-9]+$/.test(lengthText) || length <= space - offset + 1 || offset + length > buffer.length) throw new TarFormatError(`malformed PAX record length ${JSON.stringify(lengthText)}`);
    const record = buffer.subarray(space + 1, offset + length);
    if (record[record.length - 1] !== 0x0a) throw new TarFormatError('malformed PAX record: no trailing newline');
    const equals = record.indexOf(0x3d);
    if (equals < 0) throw new TarFormatError('malformed PAX record: no "="');
    const key = record.toString('utf8', 0, equals);
    const value = record.toString('utf8', equals + 1, record.length - 1);
    if (value === '') delete records[key];
    else records[key] = value;
    offset += length;
  }
  return records;
}

function paxNumber(records: Record<string, string>, key: string, fallback: number, fractional = false): number {
  const text = records[key];
  if (text === undefined) return fallback;
  const pattern = fractional ? /^-?[0-9]+(\.[0-9]*)?$/ : /^[0-9]+$/;
  const value = Number(text);
  if (!pattern.test(text) || !Number.isFinite(value) || (!fractional && !Number.isSafeInteger(value))) {
    throw new TarFormatError(`invalid PAX ${key} value ${JSON.stringify(text)}`);
  }
  return value;
}

/** Pull-based access to the bytes of a stream. */
class ByteSource {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private chunk: Buffer = Buffer.alloc(0);
  private offset = 0;
  private ended = false;
  /** Bytes handed out or skipped so far. */
  position = 0;

  constructor(input: AsyncIterable<Uint8Array>) {
    this.iterator = input[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    while (this.offset >= this.chunk.length) {
      if (this.ended) return false;
      const next = await this.iterator.next();
      if (next.done) {
        this.ended = true;
        return false;
      }
      const value = next.value as Uint8Array | string;
      this.chunk = typeof value === 'string' ? Buffer.from(value) : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      this.offset = 0;
    }
    return true;
  }

  /** Up to `max` (> 0) bytes; an empty buffer only at the end of the stream. */
  async readSome(max: number): Promise<Buffer> {
    if (!(await this.fill())) return Buffer.alloc(0);
    const end = Math.min(this.chunk.length, this.offset + max);
    const out = this.chunk.subarray(this.offset, end);
    this.position += out.length;
    this.offset = end;
    return out;
  }

  /** Exactly `length` bytes, or fewer only if the stream ended (the caller decides). */
  async readExact(length: number): Promise<Buffer> {
    const first = await this.readSome(length);
    if (first.length === length || first.length === 0) return Buffer.from(first);
    const parts = [first];
    let got = first.length;
    while (got < length) {
      const part = await this.readSome(length - got);
      if (part.length === 0) break;
      parts.push(part);
      got += part.length;
    }
    return Buffer.concat(parts, got);
  }

  /** Skips `length` bytes; returns how many could be skipped. */
  async skip(length: number): Promise<number> {
    let skipped = 0;
    while (skipped < length) {
      const part = await this.readSome(Math.min(length - skipped, 1 << 30));
      if (part.length === 0) break;
      skipped += part.length;
    }
    return skipped;
  }

  async close(): Promise<void> {
    await this.iterator.return?.();
  }
}

function padding(size: number): number {
  return (BLOCK_SIZE - (size % BLOCK_SIZE)) % BLOCK_SIZE;
}

function entryType(typeflag: string, name: string): TarEntryType {
  switch (typeflag) {
    case '0':
    case '7':
      return name.endsWith('/') ? 'dir' : 'file';
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    case '5':
      return 'dir';
    default:
      return 'other';
  }
}

function truncated(what: string): TarFormatError {
  return new TarFormatError(`tar archive is truncated: unexpected end of data ${what}`);
}

/** Reads the entries of a tar stream. */
export async function* readTar(input: AsyncIterable<Uint8Array>, options: ReadTarOptions = {}): AsyncGenerator<TarEntry, void, undefined> {
  const source = new ByteSource(input);
  let globalPax: Record<string, string> = {};
  try {
    for (;;) {
      let localPax: Record<string, string> = {};
      let longName: string | undefined;
      let longLink: string | undefined;
      let header: TarHeader;
      // Headers, with any GNU/PAX metadata entries before the real one.
      for (;;) {
        const block = await source.readExact(BLOCK_SIZE);
        if (block.length === 0) {
          if (options.allowMissingEnd && longName === undefined && longLink === undefined && Object.keys(localPax).length === 0) return;
          throw truncated('where the next header or the end-of-archive blocks should be');
        }
        if (block.length < BLOCK_SIZE) throw truncated('inside a header');
        if (isZeroBlock(block)) {
          const second = await source.readExact(BLOCK_SIZE);
          if (second.length !== 0 && second.length < BLOCK_SIZE) throw truncated('inside the end-of-archive blocks');
          if (second.length === BLOCK_SIZE && !isZeroBlock(second)) throw new TarFormatError('tar archive has a zero block followed by data: corrupt');
          if (longName !== undefined || longLink !== undefined || Object.keys(localPax).length > 0) throw new TarFormatError('tar archive ends after an extended header without its entry');
          return;
        }
        header = parseHeader(block);
        const flag = header.typeflag;
        if (flag === 'L' || flag === 'K' || flag === 'x' || flag === 'g') {
          if (header.size > MAX_META_SIZE) throw new TarFormatError(`tar ${flag} metadata entry of ${header.size} bytes is too large`);
          const data = await source.readExact(header.size);
          if (data.length < header.size) throw truncated(`inside a ${flag} metadata entry`);
          const pad = padding(header.size);
          if ((await source.skip(pad)) < pad) throw truncated('inside padding');
          if (flag === 'L') longName = cString(data, 0, data.length);
          else if (flag === 'K') longLink = cString(data, 0, data.length);
          else if (flag === 'x') localPax = { ...localPax, ...parsePax(data) };
          else globalPax = { ...globalPax, ...parsePax(data) };
          continue;
        }
        break;
      }
      const pax = { ...globalPax, ...localPax };
      const name = pax.path ?? longName ?? header.name;
      const linkname = pax.linkpath ?? longLink ?? header.linkname;
      const size = paxNumber(pax, 'size', header.size);
      const type = entryType(header.typeflag, name);
      // Hard links, symlinks and directories carry no data even if a size is given
      // (ustar); other types we hand over as stored.
      const dataSize = type === 'hardlink' || type === 'symlink' || type === 'dir' ? 0 : size;
      let remaining = dataSize;
      let inflight: Promise<unknown> | undefined;
      let sourceError: Error | undefined;
      const body = new Readable({
        highWaterMark: READ_CHUNK,
        read() {
          if (remaining === 0) {
            this.push(null);
            return;
          }
          const pending = source.readSome(Math.min(remaining, READ_CHUNK)).then(
            (chunk) => {
              inflight = undefined;
              if (chunk.length === 0) {
                sourceError = truncated(`inside the data of "${name}"`);
                this.destroy(sourceError);
                return;
              }
              remaining -= chunk.length;
              // Copy: the source's chunk buffer may be shared with what follows.
              this.push(Buffer.from(chunk));
              if (remaining === 0) this.push(null);
            },
            (error: unknown) => {
              inflight = undefined;
              sourceError = error as Error;
              this.destroy(sourceError);
            },
          );
          inflight = pending;
        },
      });
      const offset = source.position;
      yield {
        name,
        type,
        typeflag: header.typeflag,
        size: dataSize,
        mode: paxNumber(pax, 'mode', header.mode),
        uid: paxNumber(pax, 'uid', header.uid),
        gid: paxNumber(pax, 'gid', header.gid),
        mtime: paxNumber(pax, 'mtime', header.mtime, true),
        linkname,
        uname: pax.uname ?? header.uname,
        gname: pax.gname ?? header.gname,
        pax,
        offset,
        body,
      };
      // Skip what the consumer left.
      if (inflight) await inflight.catch(() => {});
      // The consumer may have destroyed the body (abandoning it): only the source's own
      // errors end the archive.
      if (sourceError) throw sourceError;
      if (!body.readableEnded) body.destroy();
      const rest = remaining + padding(dataSize);
      if ((await source.skip(rest)) < rest) throw truncated(`inside the data of "${name}"`);
      remaining = 0;
    }
  } finally {
    await source.close().catch(() => {});
  }
}
