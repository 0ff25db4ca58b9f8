// NaCl crypto_secretbox (XSalsa20-Poly1305), in the layout golang.org/x/crypto/nacl/secretbox
// writes and cosign's encrypted keys carry: the 16-byte Poly1305 tag, then the ciphertext.
// node:crypto has no XSalsa20, so the cipher is @noble/ciphers' (audited by Cure53, no
// dependencies; Poly1305 in fixed-width limbs, the tag compared in constant time), whose
// xsalsa20poly1305 produces exactly this layout. It is loaded on first use: only key
// generation and signing need it, not every command that imports the sigstore key code.

export const SECRETBOX_KEY_BYTES = 32;
export const SECRETBOX_NONCE_BYTES = 24;
export const SECRETBOX_OVERHEAD = 16;

function check(key: Uint8Array, nonce: Uint8Array): void {
  if (key.length !== SECRETBOX_KEY_BYTES) throw new Error(`secretbox: the key must be ${SECRETBOX_KEY_BYTES} bytes`);
  if (nonce.length !== SECRETBOX_NONCE_BYTES) throw new Error(`secretbox: the nonce must be ${SECRETBOX_NONCE_BYTES} bytes`);
}

async function cipher(key: Uint8Array, nonce: Uint8Array) {
  check(key, nonce);
  const { xsalsa20poly1305 } = await import('@noble/ciphers/salsa.js');
  return xsalsa20poly1305(key, nonce);
}

/** tag || ciphertext. */
export async function secretboxSeal(message: Uint8Array, nonce: Uint8Array, key: Uint8Array): Promise<Buffer> {
  const sealed = (await cipher(key, nonce)).encrypt(message);
  return Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
}

/** The message, or undefined when the box does not authenticate under this key and nonce
 * (the library checks the tag, in constant time, before it decrypts anything). */
export async function secretboxOpen(box: Uint8Array, nonce: Uint8Array, key: Uint8Array): Promise<Buffer | undefined> {
  const boxCipher = await cipher(key, nonce);
  if (box.length < SECRETBOX_OVERHEAD) return undefined;
  let opened: Uint8Array;
  try {
    opened = boxCipher.decrypt(box);
  } catch {
    return undefined; // a forged or damaged box: wrong password, or changed bytes
  }
  return Buffer.from(opened.buffer, opened.byteOffset, opened.byteLength);
}
