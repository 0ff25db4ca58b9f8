// Language package fixtures built byte by byte, for the analyzers' and the matchers'
// tests: 64-bit ELF executables carrying Go build information in either of Go's formats,
// and zip archives (stored and deflated entries) such as jars with pom.properties.
import { crc32, deflateRawSync } from 'node:zlib';

const enc = (s: string): Buffer => Buffer.from(s);

const SENTINEL_START = Buffer.from('3077af0c9274080241e1c107e6d618e6', 'hex');
const SENTINEL_END = Buffer.from('f932433186182072008242104116d8f2', 'hex');
/** The module information of the synthetic binaries (what `go version -m` prints). */
export const SAMPLE_MODINFO = [
  'path\texample.com/app/cmd/app',
  'mod\texample.com/app\tv1.4.0\th1:abc=',
  'dep\tgithub.com/spf13/cobra\tv1.8.0\th1:x=',
  'dep\tgolang.org/x/net\tv0.17.0\th1:y=',
  '=>\tgithub.com/fork/net\tv0.19.0\th1:z=',
  'dep\texample.com/local\tv0.0.0',
  '=>\t../local\t\t',
  'build\t-compiler=gc',
  'build\tGOOS=linux',
  '',
].join('\n');

function modinfoBytes(modinfo: string): Buffer {
  return Buffer.concat([SENTINEL_START, enc(modinfo), SENTINEL_END]);
}

function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

const BASE = 0x400000;

/** A 64-bit little-endian ELF with one PT_LOAD covering the whole file and no section
 * table, padded to `size`, with a build-info blob at 0x1000 in either format. */
export function syntheticElf(format: 'inline' | 'pointer', size = 8192, modinfoText: string = SAMPLE_MODINFO, goVersion = 'go1.21.5'): Buffer {
  const file = Buffer.alloc(size);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]).copy(file, 0);
  file.writeUInt16LE(2, 16); // ET_EXEC
  file.writeUInt16LE(62, 18); // x86-64
  file.writeUInt32LE(1, 20);
  file.writeBigUInt64LE(64n, 32); // e_phoff
  file.writeUInt16LE(64, 52);
  file.writeUInt16LE(56, 54);
  file.writeUInt16LE(1, 56);
  file.writeUInt16LE(64, 58);
  file.writeUInt32LE(1, 64); // PT_LOAD
  file.writeBigUInt64LE(0n, 64 + 8);
  file.writeBigUInt64LE(BigInt(BASE), 64 + 16);
  file.writeBigUInt64LE(BigInt(size), 64 + 32);
  const at = 0x1000;
  // A decoy: the magic at an unaligned offset (as a rodata constant may sit) is skipped.
  Buffer.from('\xff Go buildinf:', 'latin1').copy(file, 0x803);
  Buffer.from('\xff Go buildinf:', 'latin1').copy(file, at);
  file[at + 14] = 8;
  const version = enc(goVersion);
  const modinfo = modinfoBytes(modinfoText);
  if (format === 'inline') {
    file[at + 15] = 2;
    Buffer.concat([varint(version.length), version, varint(modinfo.length), modinfo]).copy(file, at + 32);
  } else {
    file[at + 15] = 0;
    file.writeBigUInt64LE(BigInt(BASE + 0x1100), at + 16);
    file.writeBigUInt64LE(BigInt(BASE + 0x1110), at + 24);
    file.writeBigUInt64LE(BigInt(BASE + 0x1200), 0x1100);
    file.writeBigUInt64LE(BigInt(version.length), 0x1108);
    file.writeBigUInt64LE(BigInt(BASE + 0x1300), 0x1110);
    file.writeBigUInt64LE(BigInt(modinfo.length), 0x1118);
    version.copy(file, 0x1200);
    modinfo.copy(file, 0x1300);
  }
  return file;
}

export interface ZipSpec {
  readonly name: string;
  readonly data: Buffer;
  readonly deflate?: boolean;
}

/** Writes a zip: local headers, data, central directory, end record. */
export function zip(entries: readonly ZipSpec[], prefix: Buffer = Buffer.alloc(0)): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = enc(entry.name);
    const body = entry.deflate === true ? deflateRawSync(entry.data) : entry.data;
    const crc = crc32(entry.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x800, 6);
    local.writeUInt16LE(entry.deflate === true ? 8 : 0, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, body);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x800, 8);
    central.writeUInt16LE(entry.deflate === true ? 8 : 0, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(entry.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([prefix, ...locals, cd, end]);
}

export const pom = (g: string, a: string, v: string): Buffer => enc(`#Generated by Maven\n#Tue Jan 02 10:00:00 UTC 2024\ngroupId=${g}\nartifactId=${a}\nversion=${v}\n`);
