// OpenPGP.js (the `openpgp` package, v6: RFC 9580 and RFC 4880 keys and signatures) does
// every cryptographic and packet-level OpenPGP step for Custody. It is 1.2 MB of
// JavaScript (about 40 ms to load), so it is imported on first use, never at start-up:
// commands and servers that never meet a GPG signature do not pay for it.
import type * as OpenPgp from 'openpgp';

export type OpenPgpLibrary = typeof OpenPgp;

let loading: Promise<OpenPgpLibrary> | undefined;

export function openpgpLibrary(): Promise<OpenPgpLibrary> {
  loading ??= import('openpgp');
  return loading;
}

/** A compressed signature larger than this is hostile (a simple-signing payload is < 1 KiB). */
const MAX_DECOMPRESSED_BYTES = 16 * 1024 * 1024;

/**
 * Settings for every call, on top of the library's defaults, which already match what
 * containers/image (through gpg) accepts: MD5 and RIPEMD-160 refused everywhere, SHA-1
 * refused over data but allowed in old self-signatures, DSA and ElGamal refused, RSA keys
 * of at least 2048 bits, unknown critical subpackets refused, message grammar enforced.
 */
export const OPENPGP_CONFIG: OpenPgp.PartialConfig = {
  // The library's default is no limit: a small message could inflate without bound.
  maxDecompressedMessageSize: MAX_DECOMPRESSED_BYTES,
};
