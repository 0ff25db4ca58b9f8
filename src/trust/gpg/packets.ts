// OpenPGP packet framing (RFC 4880 §4, RFC 9580 §4): old and new format headers, partial
// body lengths, armor, MPIs and signature subpackets. Pure parsing over Buffers; no I/O.

export class OpenPgpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OpenPgpError';
  }
}

export const TAG = {
  signature: 2,
  onePassSignature: 4,
  secretKey: 5,
  publicKey: 6,
  secretSubkey: 7,
  compressedData: 8,
  marker: 10,
  literalData: 11,
  trust: 12,
  userId: 13,
  publicSubkey: 14,
  userAttribute: 17,
  padding: 21,
} as const;

export interface Packet {
  readonly tag: number;
  readonly body: Buffer;
}

/** Splits a binary OpenPGP stream into packets. Partial body lengths (new format) are
 * joined into one body; an old-format indeterminate length runs to the end. */
export function readPackets(data: Buffer): Packet[] {
  const packets: Packet[] = [];
  let offset = 0;
  while (offset < data.length) {
    const first = data[offset]!;
    if ((first & 0x80) === 0) throw new OpenPgpError(`not an OpenPGP packet at byte ${offset}`);
    offset += 1;
    if ((first & 0x40) === 0) {
      // Old format: tag in bits 5..2, length type in bits 1..0.
      const tag = (first >> 2) & 0x0f;
      const lengthType = first & 0x03;
      let length: number;
      if (lengthType === 0) { need(data, offset, 1); length = data[offset]!; offset += 1; }
      else if (lengthType === 1) { need(data, offset, 2); length = data.readUInt16BE(offset); offset += 2; }
      else if (lengthType === 2) { need(data, offset, 4); length = data.readUInt32BE(offset); offset += 4; }
      else length = data.length - offset;
      need(data, offset, length);
      packets.push({ tag, body: data.subarray(offset, offset + length) });
      offset += length;
      continue;
    }
    const tag = first & 0x3f;
    const chunks: Buffer[] = [];
    for (;;) {
      need(data, offset, 1);
      const o1 = data[offset]!;
      if (o1 < 192) {
        offset += 1;
        need(data, offset, o1);
        chunks.push(data.subarray(offset, offset + o1));
        offset += o1;
        break;
      }
      if (o1 < 224) {
        need(data, offset, 2);
        const length = ((o1 - 192) << 8) + data[offset + 1]! + 192;
        offset += 2;
        need(data, offset, length);
        chunks.push(data.subarray(offset, offset + length));
        offset += length;
        break;
      }
      if (o1 === 255) {
        need(data, offset, 5);
        const length = data.readUInt32BE(offset + 1);
        offset += 5;
        need(data, offset, length);
        chunks.push(data.subarray(offset, offset + length));
        offset += length;
        break;
      }
      // Partial body length: a power of two, and more length headers follow.
      const length = 1 << (o1 & 0x1f);
      offset += 1;
      need(data, offset, length);
      chunks.push(data.subarray(offset, offset + length));
      offset += length;
    }
    packets.push({ tag, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) });
  }
  return packets;
}

function need(data: Buffer, offset: number, length: number): void {
  if (offset + length > data.length) throw new OpenPgpError('truncated OpenPGP packet');
}

/** A bounds-checked reader over one packet body. */
export class Reader {
  readonly data: Buffer;
  offset: number;

  constructor(data: Buffer, offset = 0) {
    this.data = data;
    this.offset = offset;
  }

  get remaining(): number {
    return this.data.length - this.offset;
  }

  u8(): number {
    need(this.data, this.offset, 1);
    return this.data[this.offset++]!;
  }

  u16(): number {
    need(this.data, this.offset, 2);
    const value = this.data.readUInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  u32(): number {
    need(this.data, this.offset, 4);
    const value = this.data.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  bytes(length: number): Buffer {
    need(this.data, this.offset, length);
    const value = this.data.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  rest(): Buffer {
    return this.bytes(this.remaining);
  }

  /** A multiprecision integer: bit count, then the big-endian bytes (no leading zero bytes). */
  mpi(): Buffer {
    const bits = this.u16();
    return this.bytes((bits + 7) >> 3);
  }
}

/** Left-pads (or strips leading zeros of) a big-endian integer to exactly `length` bytes. */
export function fixedLength(value: Buffer, length: number): Buffer {
  let start = 0;
  while (value.length - start > length && value[start] === 0) start += 1;
  const trimmed = value.subarray(start);
  if (trimmed.length > length) throw new OpenPgpError('integer too large');
  if (trimmed.length === length) return trimmed;
  return Buffer.concat([Buffer.alloc(length - trimmed.length), trimmed]);
}

// ---- armor (RFC 4880 §6) ----

const ARMOR = /-----BEGIN PGP ([A-Z ,0-9/]+)-----\r?\n([\s\S]*?)-----END PGP \1-----/g;

/** Whether the bytes look like ASCII armor rather than binary packets. */
export function isArmored(data: Buffer): boolean {
  const head = data.subarray(0, 1024).toString('latin1');
  return /-----BEGIN PGP /.test(head);
}

/** Decodes every armored block in `text` (concatenated keyrings are common) and checks
 * each block's CRC-24 when present. */
export function dearmor(text: string): Buffer[] {
  const blocks: Buffer[] = [];
  for (const match of text.matchAll(ARMOR)) {
    const lines = match[2]!.split(/\r?\n/);
    // Armor headers end at the first empty line; a block without headers starts with data.
    let start = 0;
    const blank = lines.findIndex((line) => line.trim() === '');
    if (blank >= 0 && lines.slice(0, blank).every((line) => /^[A-Za-z-]+: /.test(line))) start = blank + 1;
    let checksum: string | undefined;
    const base64: string[] = [];
    for (const raw of lines.slice(start)) {
      const line = raw.trim();
      if (line === '') continue;
      if (line.startsWith('=') && line.length === 5) { checksum = line.slice(1); continue; }
      base64.push(line);
    }
    const bytes = Buffer.from(base64.join(''), 'base64');
    if (checksum !== undefined) {
      const expected = Buffer.from(checksum, 'base64');
      const actual = crc24(bytes);
      if (expected.length !== 3 || expected.readUIntBE(0, 3) !== actual) throw new OpenPgpError('armor checksum mismatch');
    }
    blocks.push(bytes);
  }
  if (blocks.length === 0) throw new OpenPgpError('no ASCII-armored OpenPGP block found');
  return blocks;
}

export function crc24(data: Buffer): number {
  let crc = 0xb704ce;
  for (const byte of data) {
    crc ^= byte << 16;
    for (let i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}

/** Binary packets from armored or binary input. */
export function toBinary(data: Buffer): Buffer {
  return isArmored(data) ? Buffer.concat(dearmor(data.toString('latin1'))) : data;
}

// ---- signature subpackets (RFC 4880 §5.2.3.1) ----

export const SUBPACKET = {
  creationTime: 2,
  signatureExpirationTime: 3,
  keyExpirationTime: 9,
  issuer: 16,
  primaryUserId: 25,
  keyFlags: 27,
  embeddedSignature: 32,
  issuerFingerprint: 33,
} as const;

export interface Subpacket {
  readonly type: number;
  readonly critical: boolean;
  readonly body: Buffer;
}

export function readSubpackets(data: Buffer): Subpacket[] {
  const result: Subpacket[] = [];
  const reader = new Reader(data);
  while (reader.remaining > 0) {
    const o1 = reader.u8();
    let length: number;
    if (o1 < 192) length = o1;
    else if (o1 < 255) length = ((o1 - 192) << 8) + reader.u8() + 192;
    else length = reader.u32();
    if (length === 0) throw new OpenPgpError('empty signature subpacket');
    const body = reader.bytes(length);
    result.push({ type: body[0]! & 0x7f, critical: (body[0]! & 0x80) !== 0, body: body.subarray(1) });
  }
  return result;
}
