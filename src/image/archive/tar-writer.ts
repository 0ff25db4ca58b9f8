// A streaming, deterministic tar writer: POSIX ustar headers, with a PAX extended header
// (`x`) before an entry whose name, link target or size does not fit ustar's fields (or
// is not ASCII). Owners are 0/0 with empty names, mtime is 0 unless given, modes default
// to 0644 (files, hard links), 0755 (directories) and 0777 (symlinks). Entry data comes
// from streams of a known size, which is verified; the archive ends with two zero blocks.
import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import { BLOCK_SIZE } from './tar-reader.ts';

export type TarWriterEntryType = 'file' | 'dir' | 'symlink' | 'hardlink';

export interface TarWriterEntry {
  readonly name: string;
  readonly type?: TarWriterEntryType;
  /** Data size; required for files (0 for the other types). */
  readonly size?: number;
  readonly mode?: number;
  /** Seconds since the epoch; default 0. */
  readonly mtime?: number;
  readonly linkname?: string;
}

const MAX_OCTAL_12 = 0o77777777777; // 8 GiB - 1
const MAX_OCTAL_8 = 0o7777777;
const TYPEFLAGS: Readonly<Record<TarWriterEntryType, string>> = { file: '0', dir: '5', symlink: '2', hardlink: '1' };
const ZEROS = Buffer.alloc(BLOCK_SIZE * 2);

function writeString(block: Buffer, value: string, start: number, length: number): void {
  block.write(value, start, length, 'utf8');
}

function writeOctal(block: Buffer, value: number, start: number, length: number): void {
  // length-1 octal digits, NUL-terminated.
  block.write(value.toString(8).padStart(length - 1, '0') + '\0', start, length, 'latin1');
}

function isAscii(value: string): boolean {
  return /^[\x01-\x7f]*$/.test(value);
}

/** Splits a name over ustar's prefix (155) and name (100) fields, if it can be. */
function splitName(name: string): { prefix: string; name: string } | undefined {
  if (!isAscii(name)) return undefined;
  if (name.length <= 100) return { prefix: '', name };
  if (name.length > 256) return undefined;
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== '/') continue;
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (rest.length > 100) return undefined;
    if (rest.length > 0 && prefix.length <= 155) return { prefix, name: rest };
  }
  return undefined;
}

/** One PAX record, `<len> key=value\n`, where len counts the whole record. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLength = Buffer.byteLength(body);
  let length = bodyLength + 1;
  while (String(length).length + bodyLength !== length) length = String(length).length + bodyLength;
  return `${length}${body}`;
}

function headerBlock(fields: { name: string; prefix: string; mode: number; size: number; mtime: number; typeflag: string; linkname: string }): Buffer {
  const block = Buffer.alloc(BLOCK_SIZE);
  writeString(block, fields.name, 0, 100);
  writeOctal(block, fields.mode, 100, 8);
  writeOctal(block, 0, 108, 8);
  writeOctal(block, 0, 116, 8);
  writeOctal(block, fields.size, 124, 12);
  writeOctal(block, fields.mtime, 136, 12);
  block.fill(0x20, 148, 156);
  block.write(fields.typeflag, 156, 1, 'latin1');
  writeString(block, fields.linkname, 157, 100);
  block.write('ustar\0', 257, 6, 'latin1');
  block.write('00', 263, 2, 'latin1');
  writeOctal(block, 0, 329, 8);
  writeOctal(block, 0, 337, 8);
  writeString(block, fields.prefix, 345, 155);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return block;
}

/** The header block(s) for an entry: a PAX `x` header first when ustar cannot hold it. */
export function encodeHeader(entry: TarWriterEntry): Buffer {
  const type = entry.type ?? 'file';
  const size = type === 'file' ? (entry.size ?? 0) : 0;
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`tar entry "${entry.name}": invalid size ${entry.size}`);
  if (entry.name === '' || entry.name.includes('\0')) throw new RangeError(`invalid tar entry name ${JSON.stringify(entry.name)}`);
  const mode = entry.mode ?? (type === 'dir' ? 0o755 : type === 'symlink' ? 0o777 : 0o644);
  const mtime = Math.floor(entry.mtime ?? 0);
  const linkname = entry.linkname ?? '';
  if ((type === 'symlink' || type === 'hardlink') && linkname === '') throw new RangeError(`tar entry "${entry.name}": a ${type} needs a link name`);
  const records: string[] = [];
  let split = splitName(entry.name);
  if (!split) {
    records.push(paxRecord('path', entry.name));
    split = { prefix: '', name: asciiPrefix(entry.name, 100) };
  }
  let headerLink = linkname;
  if (linkname.length > 100 || !isAscii(linkname)) {
    records.push(paxRecord('linkpath', linkname));
    headerLink = asciiPrefix(linkname, 100);
  }
  let headerSize = size;
  if (size > MAX_OCTAL_12) {
    records.push(paxRecord('size', String(size)));
    headerSize = 0;
  }
  let headerMtime = mtime;
  if (mtime < 0 || mtime > MAX_OCTAL_12) {
    records.push(paxRecord('mtime', String(mtime)));
    headerMtime = 0;
  }
  if (mode < 0 || mode > MAX_OCTAL_8) throw new RangeError(`tar entry "${entry.name}": invalid mode ${mode}`);
  const main = headerBlock({ name: split.name, prefix: split.prefix, mode, size: headerSize, mtime: headerMtime, typeflag: TYPEFLAGS[type], linkname: headerLink });
  if (records.length === 0) return main;
  const pax = Buffer.from(records.join(''), 'utf8');
  const base = entry.name.replace(/\/+$/, '').split('/').pop() ?? 'entry';
  const paxHeader = headerBlock({ name: `PaxHeaders/${asciiPrefix(base, 80)}`, prefix: '', mode: 0o644, size: pax.length, mtime: 0, typeflag: 'x', linkname: '' });
  return Buffer.concat([paxHeader, pax, Buffer.alloc(padding(pax.length)), main]);
}

function asciiPrefix(value: string, max: number): string {
  return value.replace(/[^\x01-\x7f]/g, '_').slice(0, max);
}

function padding(size: number): number {
  return (BLOCK_SIZE - (size % BLOCK_SIZE)) % BLOCK_SIZE;
}

export type TarBody = Readable | AsyncIterable<Uint8Array> | Uint8Array | string;

/**
 * Writes a tar archive to `output` (a readable stream: pipe it where the archive goes).
 * Call add() for each entry, one at a time, then finish(). Backpressure is honoured.
 */
export class TarWriter {
  readonly output: PassThrough;
  private busy = false;
  private finished = false;
  private written = 0;

  constructor(options: { highWaterMark?: number } = {}) {
    this.output = new PassThrough({ highWaterMark: options.highWaterMark ?? 256 * 1024 });
  }

  /** Bytes written so far. */
  get bytesWritten(): number {
    return this.written;
  }

  private async write(chunk: Buffer): Promise<void> {
    if (this.output.destroyed) throw this.output.errored ?? new Error('tar output was closed');
    this.written += chunk.length;
    if (!this.output.write(chunk)) {
      // The listeners go once either event has come (else they pile up, one pair per wait).
      const waiting = new AbortController();
      const closed = once(this.output, 'close', { signal: waiting.signal }).then(() => {
        throw this.output.errored ?? new Error('tar output was closed');
      });
      const drained = once(this.output, 'drain', { signal: waiting.signal });
      closed.catch(() => {});
      drained.catch(() => {});
      try {
        await Promise.race([drained, closed]);
      } finally {
        waiting.abort();
      }
    }
  }

  /** Adds an entry; files need `size` and a body of exactly that many bytes. */
  async add(entry: TarWriterEntry, body?: TarBody): Promise<void> {
    if (this.finished) throw new Error('tar writer already finished');
    if (this.busy) throw new Error('tar writer: add() called while another entry is being written');
    this.busy = true;
    try {
      const type = entry.type ?? 'file';
      let data = body;
      let size = entry.size;
      if (typeof data === 'string') data = Buffer.from(data);
      if (data instanceof Uint8Array) {
        if (size !== undefined && size !== data.length) throw new RangeError(`tar entry "${entry.name}": size ${size} but ${data.length} bytes given`);
        size = data.length;
      }
      if (type === 'file' && size === undefined) throw new RangeError(`tar entry "${entry.name}": size is required`);
      if (type !== 'file' && data !== undefined) throw new RangeError(`tar entry "${entry.name}": a ${type} has no data`);
      await this.write(encodeHeader({ ...entry, type, size: size ?? 0 }));
      if (type !== 'file') return;
      const expected = size!;
      let got = 0;
      if (data instanceof Uint8Array) {
        if (data.length > 0) await this.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
        got = data.length;
      } else if (data !== undefined) {
        for await (const chunk of data) {
          const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
          got += buffer.length;
          if (got > expected) throw new RangeError(`tar entry "${entry.name}": data is longer than its size ${expected}`);
          await this.write(buffer);
        }
      }
      if (got !== expected) throw new RangeError(`tar entry "${entry.name}": data is ${got} bytes, expected ${expected}`);
      const pad = padding(expected);
      if (pad > 0) await this.write(Buffer.alloc(pad));
    } catch (error) {
      // The archive is unusable now: fail the output too.
      this.output.destroy(error as Error);
      throw error;
    } finally {
      this.busy = false;
    }
  }

  /** Writes the two zero blocks and ends the output. */
  async finish(): Promise<void> {
    if (this.finished) return;
    if (this.busy) throw new Error('tar writer: finish() called while an entry is being written');
    this.finished = true;
    await this.write(ZEROS);
    this.output.end();
  }

  /** Abandons the archive, failing the output stream. */
  abort(error: Error): void {
    this.finished = true;
    this.output.destroy(error);
  }
}
