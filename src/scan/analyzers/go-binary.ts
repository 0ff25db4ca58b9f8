// Go modules compiled into an executable. The Go linker embeds the build information
// (`go version -m` prints it) in a `.go.buildinfo` blob that starts with the 14-byte
// magic `\xff Go buildinf:` at a 16-byte aligned offset, followed by the pointer size and
// a flags byte. Go 1.18+ (flag 0x2) writes the Go version and the module information
// inline as two varint-prefixed strings after the 32-byte header; Go 1.13–1.17 wrote two
// pointers to the `runtime.buildVersion` and `runtime.modinfo` string variables, which
// are resolved here through the ELF program headers. This mirrors Go's own
// debug/buildinfo, without a Go toolchain.
//
// The parser takes the file's bytes, bounded: the blob sits in the data segment, which
// the linker places after text and rodata, near the end of the file (at 59 of 60 MB in
// kubectl), so a prefix would not do; the layer walker hands over whole files up to its
// content cap, and at most GO_SCAN_BYTES of them are searched. A larger binary is
// reported as nothing rather than read whole.
import { decodeText, type FoundPackage } from './found-package.ts';
import { golangPurl } from './purl.ts';

/** How much of an executable is searched for the build information. */
export const GO_SCAN_BYTES = 128 * 1024 * 1024;

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const HEADER_SIZE = 32;
const ALIGN = 16;
/** A modinfo string is a few KiB to some hundreds; this bounds a corrupt length field. */
const MAX_STRING = 16 * 1024 * 1024;
/** runtime/debug's framing of modinfo, stripped before parsing. */
const SENTINEL_LENGTH = 16;

export interface GoModule {
  readonly path: string;
  readonly version: string;
  readonly sum?: string | undefined;
  /** A `=>` replacement: the code that was actually compiled in. */
  readonly replace?: GoModule | undefined;
}

export interface GoBuildInfo {
  /** `go1.22.3` as runtime.Version() says. */
  readonly goVersion: string;
  /** The main package's import path (`github.com/containers/skopeo/cmd/skopeo`). */
  readonly path: string;
  readonly main: GoModule | null;
  readonly deps: readonly GoModule[];
  /** `build` lines: `-compiler=gc`, `GOOS=linux`, `vcs.revision=...`. */
  readonly settings: readonly (readonly [string, string])[];
}

type ExecutableFormat = 'elf' | 'macho' | 'pe';

/** The executable format by magic number, or null for anything else (scripts, data). */
export function executableFormat(data: Uint8Array): ExecutableFormat | null {
  if (data.length < 4) return null;
  if (data[0] === 0x7f && data[1] === 0x45 && data[2] === 0x4c && data[3] === 0x46) return 'elf';
  const word = Buffer.from(data.buffer, data.byteOffset, 4).readUInt32BE(0);
  if ([0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe].includes(word)) return 'macho';
  if (data[0] === 0x4d && data[1] === 0x5a) return 'pe';
  return null;
}

/** Reads Go build information from an executable's bytes; null when it is not an
 * executable, not built by Go 1.13+, or the blob lies past GO_SCAN_BYTES. */
export function parseGoBuildInfo(input: Uint8Array): GoBuildInfo | null {
  const data = Buffer.from(input.buffer, input.byteOffset, Math.min(input.byteLength, GO_SCAN_BYTES));
  const format = executableFormat(data);
  if (format === null) return null;
  const elf = format === 'elf' ? readElf(data) : null;
  // Search the .go.buildinfo section when the section table is within reach: a binary
  // that links debug/buildinfo also holds the magic as a constant in its rodata.
  const section = elf?.buildInfoSection ?? null;
  const from = section?.offset ?? 0;
  const to = section !== null ? Math.min(data.length, section.offset + section.size) : data.length;
  let at = data.indexOf(MAGIC, from);
  while (at >= 0 && at + HEADER_SIZE <= to) {
    if ((at - from) % ALIGN === 0) {
      const info = decodeAt(data, at, elf);
      if (info !== null) return info;
    }
    at = data.indexOf(MAGIC, at + 1);
  }
  return null;
}

function decodeAt(data: Buffer, at: number, elf: ElfInfo | null): GoBuildInfo | null {
  const ptrSize = data[at + 14]!;
  const flags = data[at + 15]!;
  let version: string | null;
  let modinfo: string | null;
  if ((flags & 0x2) !== 0) {
    let pos = at + HEADER_SIZE;
    const v = readVarintString(data, pos);
    if (v === null) return null;
    pos = v.next;
    const m = readVarintString(data, pos);
    if (m === null) return null;
    version = v.value;
    modinfo = m.value;
  } else {
    if (elf === null || (ptrSize !== 4 && ptrSize !== 8)) return null;
    const bigEndian = (flags & 0x1) !== 0;
    const readPtr = (offset: number): number | null => {
      if (offset < 0 || offset + ptrSize > data.length) return null;
      if (ptrSize === 4) return bigEndian ? data.readUInt32BE(offset) : data.readUInt32LE(offset);
      const v = bigEndian ? data.readBigUInt64BE(offset) : data.readBigUInt64LE(offset);
      return v > BigInt(Number.MAX_SAFE_INTEGER) ? null : Number(v);
    };
    const readGoString = (varAddress: number | null): string | null => {
      if (varAddress === null) return null;
      const header = elf.offsetOf(varAddress);
      if (header === null) return null;
      const pointer = readPtr(header);
      const length = readPtr(header + ptrSize);
      if (pointer === null || length === null || length > MAX_STRING) return null;
      if (length === 0) return '';
      const offset = elf.offsetOf(pointer);
      if (offset === null || offset + length > data.length) return null;
      return decodeText(data.subarray(offset, offset + length));
    };
    version = readGoString(readPtr(at + 16));
    modinfo = readGoString(readPtr(at + 16 + ptrSize));
  }
  if (version === null || !version.startsWith('go')) return null;
  return parseModinfo(version, modinfo ?? '');
}

function readVarintString(data: Buffer, pos: number): { value: string; next: number } | null {
  let length = 0;
  let shift = 0;
  for (;;) {
    if (pos >= data.length || shift > 28) return null;
    const byte = data[pos++]!;
    length += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) break;
    shift += 7;
  }
  if (length > MAX_STRING || pos + length > data.length) return null;
  return { value: decodeText(data.subarray(pos, pos + length)), next: pos + length };
}

/** Parses runtime/debug's module information text (what `go version -m` prints). */
export function parseModinfo(goVersion: string, raw: string): GoBuildInfo {
  let text = raw;
  if (text.length >= 2 * SENTINEL_LENGTH + 1 && text[text.length - SENTINEL_LENGTH - 1] === '\n') {
    text = text.slice(SENTINEL_LENGTH, text.length - SENTINEL_LENGTH);
  }
  let path = '';
  let main: GoModule | null = null;
  const deps: GoModule[] = [];
  const settings: [string, string][] = [];
  // `=>` replaces the module on the line before it.
  let last: { kind: 'main' } | { kind: 'dep'; index: number } | null = null;
  for (const line of text.split('\n')) {
    const fields = line.split('\t');
    const module = (): GoModule => ({
      path: fields[1] ?? '',
      version: fields[2] ?? '',
      ...(fields[3] !== undefined && fields[3] !== '' ? { sum: fields[3] } : {}),
    });
    switch (fields[0]) {
      case 'path': path = fields[1] ?? ''; break;
      case 'mod': main = module(); last = { kind: 'main' }; break;
      case 'dep': deps.push(module()); last = { kind: 'dep', index: deps.length - 1 }; break;
      case '=>':
        if (last?.kind === 'main' && main !== null) main = withReplacement(main as GoModule, module());
        else if (last?.kind === 'dep') deps[last.index] = withReplacement(deps[last.index]!, module());
        last = null;
        break;
      case 'build': {
        const setting = fields.slice(1).join('\t');
        const eq = setting.indexOf('=');
        if (eq > 0) settings.push([setting.slice(0, eq), setting.slice(eq + 1)]);
        break;
      }
      default: break;
    }
  }
  return { goVersion, path, main, deps, settings };
}

function withReplacement(module: GoModule, replace: GoModule): GoModule {
  return { ...module, replace };
}

/**
 * The packages a binary brings: each dependency module as compiled (a replacement's
 * path and version when it has one; a replacement by a local directory has no version
 * and no advisory can name it, so it is left out), the main module when it carries a
 * real version (`(devel)` is what a build outside a module cache stamps), and the Go
 * standard library as `stdlib` at the toolchain's version, as Trivy, Grype and OSV name it
 * (Go's own vulnerabilities are filed against it).
 */
export function goBinaryPackages(path: string, info: GoBuildInfo): FoundPackage[] {
  const out: FoundPackage[] = [];
  const add = (module: GoModule): void => {
    const effective = module.replace ?? module;
    if (effective.path === '' || effective.version === '' || effective.version === '(devel)') return;
    out.push({ ecosystem: 'golang', name: effective.path, version: effective.version, path, purl: golangPurl(effective.path, effective.version) });
  };
  if (info.main !== null) add(info.main);
  for (const dep of info.deps) add(dep);
  const stdlib = /^go(\d+\.\d+(?:\.\d+)?)/.exec(info.goVersion);
  if (stdlib !== null) {
    const version = `v${stdlib[1]}`;
    out.push({ ecosystem: 'golang', name: 'stdlib', version, path, purl: golangPurl('stdlib', version) });
  }
  return out;
}

interface ElfInfo {
  /** File offset of a virtual address inside a loaded segment, or null. */
  offsetOf(address: number): number | null;
  readonly buildInfoSection: { readonly offset: number; readonly size: number } | null;
}

/** The program headers (to resolve addresses) and, when the section table lies within
 * `data`, the `.go.buildinfo` section. */
function readElf(data: Buffer): ElfInfo | null {
  if (data.length < 52) return null;
  const is64 = data[4] === 2;
  const little = data[5] !== 2;
  const u16 = (o: number): number => (little ? data.readUInt16LE(o) : data.readUInt16BE(o));
  const u32 = (o: number): number => (little ? data.readUInt32LE(o) : data.readUInt32BE(o));
  const uw = (o: number): number => {
    if (!is64) return u32(o);
    const v = little ? data.readBigUInt64LE(o) : data.readBigUInt64BE(o);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  };
  if (is64 && data.length < 64) return null;
  const phoff = is64 ? uw(32) : u32(28);
  const shoff = is64 ? uw(40) : u32(32);
  const phentsize = u16(is64 ? 54 : 42);
  const phnum = u16(is64 ? 56 : 44);
  const shentsize = u16(is64 ? 58 : 46);
  const shnum = u16(is64 ? 60 : 48);
  const shstrndx = u16(is64 ? 62 : 50);
  const segments: { vaddr: number; offset: number; filesz: number }[] = [];
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (p + (is64 ? 56 : 32) > data.length) break;
    if (u32(p) !== 1) continue; // PT_LOAD
    segments.push(is64
      ? { offset: uw(p + 8), vaddr: uw(p + 16), filesz: uw(p + 32) }
      : { offset: u32(p + 4), vaddr: u32(p + 8), filesz: u32(p + 16) });
  }
  let buildInfoSection: { offset: number; size: number } | null = null;
  const entry = is64 ? 64 : 40;
  if (shnum > 0 && shentsize >= entry && shstrndx < shnum && shoff + shnum * shentsize <= data.length) {
    const sectionAt = (i: number): { name: number; offset: number; size: number } => {
      const s = shoff + i * shentsize;
      return is64
        ? { name: u32(s), offset: uw(s + 24), size: uw(s + 32) }
        : { name: u32(s), offset: u32(s + 16), size: u32(s + 20) };
    };
    const names = sectionAt(shstrndx);
    const wanted = Buffer.from('.go.buildinfo\0', 'latin1');
    for (let i = 0; i < shnum; i++) {
      const s = sectionAt(i);
      const n = names.offset + s.name;
      if (n + wanted.length <= data.length && data.subarray(n, n + wanted.length).equals(wanted)) {
        buildInfoSection = { offset: s.offset, size: s.size };
        break;
      }
    }
  }
  return {
    buildInfoSection,
    offsetOf(address: number): number | null {
      for (const s of segments) {
        if (address >= s.vaddr && address < s.vaddr + s.filesz) return s.offset + (address - s.vaddr);
      }
      return null;
    },
  };
}
