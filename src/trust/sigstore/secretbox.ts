// NaCl crypto_secretbox (XSalsa20-Poly1305), in the layout golang.org/x/crypto/nacl/secretbox
// writes and cosign's encrypted keys carry: the 16-byte Poly1305 tag, then the ciphertext.
// The first 32 bytes of the XSalsa20 keystream are the Poly1305 key; the message is
// encrypted with the keystream from byte 32 on.
import { timingSafeEqual } from 'node:crypto';
import { poly1305 } from './poly1305.ts';
import { xsalsa20Xor } from './salsa20.ts';

export const SECRETBOX_KEY_BYTES = 32;
export const SECRETBOX_NONCE_BYTES = 24;
export const SECRETBOX_OVERHEAD = 16;

function check(key: Uint8Array, nonce: Uint8Array): void {
  if (key.length !== SECRETBOX_KEY_BYTES) throw new Error(`secretbox: the key must be ${SECRETBOX_KEY_BYTES} bytes`);
  if (nonce.length !== SECRETBOX_NONCE_BYTES) throw new Error(`secretbox: the nonce must be ${SECRETBOX_NONCE_BYTES} bytes`);
}

/** tag || ciphertext. */
export function secretboxSeal(message: Uint8Array, nonce: Uint8Array, key: Uint8Array): Buffer {
  check(key, nonce);
  const stream = xsalsa20Xor(key, nonce, Buffer.concat([Buffer.alloc(32), message]));
  const ciphertext = stream.subarray(32);
  return Buffer.concat([poly1305(stream.subarray(0, 32), ciphertext), ciphertext]);
}

/** The message, or undefined when the box does not authenticate under this key and nonce. */
export function secretboxOpen(box: Uint8Array, nonce: Uint8Array, key: Uint8Array): Buffer | undefined {
  check(key, nonce);
  if (box.length < SECRETBOX_OVERHEAD) return undefined;
  const tag = box.subarray(0, SECRETBOX_OVERHEAD);
  const ciphertext = box.subarray(SECRETBOX_OVERHEAD);
  const polyKey = xsalsa20Xor(key, nonce, Buffer.alloc(32));
  // Authenticate before decrypting: nothing of a forged box is ever returned.
  if (!timingSafeEqual(poly1305(polyKey, ciphertext), tag)) return undefined;
  return xsalsa20Xor(key, nonce, Buffer.concat([Buffer.alloc(32), ciphertext])).subarray(32);
}
