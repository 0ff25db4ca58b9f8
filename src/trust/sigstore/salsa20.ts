// Salsa20/20, HSalsa20 and XSalsa20 (Bernstein, "Extending the Salsa20 nonce"): the
// stream cipher under NaCl's secretbox, which cosign's encrypted private keys use and
// node:crypto does not offer.

const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]; // "expand 32-byte k"

function rotl(value: number, shift: number): number {
  return (value << shift) | (value >>> (32 - shift));
}

/** Twenty rounds (ten double rounds) over the 16-word state, in place. */
function rounds(x: Uint32Array): void {
  for (let i = 0; i < 10; i++) {
    // column round
    x[4]! ^= rotl((x[0]! + x[12]!) | 0, 7); x[8]! ^= rotl((x[4]! + x[0]!) | 0, 9);
    x[12]! ^= rotl((x[8]! + x[4]!) | 0, 13); x[0]! ^= rotl((x[12]! + x[8]!) | 0, 18);
    x[9]! ^= rotl((x[5]! + x[1]!) | 0, 7); x[13]! ^= rotl((x[9]! + x[5]!) | 0, 9);
    x[1]! ^= rotl((x[13]! + x[9]!) | 0, 13); x[5]! ^= rotl((x[1]! + x[13]!) | 0, 18);
    x[14]! ^= rotl((x[10]! + x[6]!) | 0, 7); x[2]! ^= rotl((x[14]! + x[10]!) | 0, 9);
    x[6]! ^= rotl((x[2]! + x[14]!) | 0, 13); x[10]! ^= rotl((x[6]! + x[2]!) | 0, 18);
    x[3]! ^= rotl((x[15]! + x[11]!) | 0, 7); x[7]! ^= rotl((x[3]! + x[15]!) | 0, 9);
    x[11]! ^= rotl((x[7]! + x[3]!) | 0, 13); x[15]! ^= rotl((x[11]! + x[7]!) | 0, 18);
    // row round
    x[1]! ^= rotl((x[0]! + x[3]!) | 0, 7); x[2]! ^= rotl((x[1]! + x[0]!) | 0, 9);
    x[3]! ^= rotl((x[2]! + x[1]!) | 0, 13); x[0]! ^= rotl((x[3]! + x[2]!) | 0, 18);
    x[6]! ^= rotl((x[5]! + x[4]!) | 0, 7); x[7]! ^= rotl((x[6]! + x[5]!) | 0, 9);
    x[4]! ^= rotl((x[7]! + x[6]!) | 0, 13); x[5]! ^= rotl((x[4]! + x[7]!) | 0, 18);
    x[11]! ^= rotl((x[10]! + x[9]!) | 0, 7); x[8]! ^= rotl((x[11]! + x[10]!) | 0, 9);
    x[9]! ^= rotl((x[8]! + x[11]!) | 0, 13); x[10]! ^= rotl((x[9]! + x[8]!) | 0, 18);
    x[12]! ^= rotl((x[15]! + x[14]!) | 0, 7); x[13]! ^= rotl((x[12]! + x[15]!) | 0, 9);
    x[14]! ^= rotl((x[13]! + x[12]!) | 0, 13); x[15]! ^= rotl((x[14]! + x[13]!) | 0, 18);
  }
}

/** The initial state: constants on the diagonal, key in words 1-4 and 11-14, input in 6-9. */
function initialState(key: Uint8Array, input: Uint8Array): Uint32Array {
  if (key.length !== 32) throw new Error('salsa20: the key must be 32 bytes');
  if (input.length !== 16) throw new Error('salsa20: the input block must be 16 bytes');
  const k = Buffer.from(key.buffer, key.byteOffset, 32);
  const n = Buffer.from(input.buffer, input.byteOffset, 16);
  return Uint32Array.of(
    SIGMA[0]!, k.readUInt32LE(0), k.readUInt32LE(4), k.readUInt32LE(8),
    k.readUInt32LE(12), SIGMA[1]!, n.readUInt32LE(0), n.readUInt32LE(4),
    n.readUInt32LE(8), n.readUInt32LE(12), SIGMA[2]!, k.readUInt32LE(16),
    k.readUInt32LE(20), k.readUInt32LE(24), k.readUInt32LE(28), SIGMA[3]!,
  );
}

/** HSalsa20: the rounds without the final addition, words 0,5,10,15,6,7,8,9 out (32 bytes). */
export function hsalsa20(key: Uint8Array, input: Uint8Array): Buffer {
  const x = initialState(key, input);
  rounds(x);
  const out = Buffer.alloc(32);
  [0, 5, 10, 15, 6, 7, 8, 9].forEach((word, i) => out.writeUInt32LE(x[word]!, i * 4));
  return out;
}

/** XORs `data` with the Salsa20 keystream for (key, 8-byte nonce), starting at block 0. */
export function salsa20Xor(key: Uint8Array, nonce: Uint8Array, data: Uint8Array): Buffer {
  if (nonce.length !== 8) throw new Error('salsa20: the nonce must be 8 bytes');
  const out = Buffer.alloc(data.length);
  const input = new Uint8Array(16);
  input.set(nonce, 0);
  const initial = initialState(key, input);
  const block = Buffer.alloc(64);
  const x = new Uint32Array(16);
  for (let offset = 0, counter = 0; offset < data.length; offset += 64, counter++) {
    // The 64-bit block counter sits in words 8 and 9.
    initial[8] = counter >>> 0;
    initial[9] = Math.floor(counter / 0x1_0000_0000) >>> 0;
    x.set(initial);
    rounds(x);
    for (let i = 0; i < 16; i++) block.writeUInt32LE((x[i]! + initial[i]!) >>> 0, i * 4);
    const end = Math.min(64, data.length - offset);
    for (let i = 0; i < end; i++) out[offset + i] = data[offset + i]! ^ block[i]!;
  }
  return out;
}

/** XSalsa20: HSalsa20 of the key and the nonce's first 16 bytes keys Salsa20 with its last 8. */
export function xsalsa20Xor(key: Uint8Array, nonce: Uint8Array, data: Uint8Array): Buffer {
  if (nonce.length !== 24) throw new Error('xsalsa20: the nonce must be 24 bytes');
  return salsa20Xor(hsalsa20(key, nonce.subarray(0, 16)), nonce.subarray(16, 24), data);
}
