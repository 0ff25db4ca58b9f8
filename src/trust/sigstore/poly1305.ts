// Poly1305 (RFC 8439 §2.5), the one-time authenticator of NaCl's secretbox. Arithmetic in
// BigInt: the messages authenticated here are private keys of a few hundred bytes, so
// clarity wins over speed.

const P = (1n << 130n) - 5n;
const CLAMP = 0x0ffffffc0ffffffc0ffffffc0fffffffn;

function littleEndian(bytes: Uint8Array): bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
  return value;
}

/** The 16-byte tag of `message` under the 32-byte one-time `key` (r || s). */
export function poly1305(key: Uint8Array, message: Uint8Array): Buffer {
  if (key.length !== 32) throw new Error('poly1305: the key must be 32 bytes');
  const r = littleEndian(key.subarray(0, 16)) & CLAMP;
  const s = littleEndian(key.subarray(16, 32));
  let h = 0n;
  for (let offset = 0; offset < message.length; offset += 16) {
    const chunk = message.subarray(offset, Math.min(offset + 16, message.length));
    // Each block gets a 1 bit just above its last byte (so short final blocks differ from padded ones).
    const n = littleEndian(chunk) | (1n << BigInt(8 * chunk.length));
    h = ((h + n) * r) % P;
  }
  let tag = (h + s) & ((1n << 128n) - 1n);
  const out = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) {
    out[i] = Number(tag & 0xffn);
    tag >>= 8n;
  }
  return out;
}
