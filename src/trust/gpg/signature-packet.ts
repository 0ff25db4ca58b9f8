// Signature packets (v4, RFC 4880 §5.2.3) and the one cryptographic check every
// signature needs: hash the signed material plus the hashed trailer, then verify with
// node:crypto (RSA PKCS#1 v1.5, ECDSA P-256/384/521, EdDSA Ed25519). Our own code,
// so verifying never needs gpg installed.
import { createHash, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { fixedLength, OpenPgpError, Reader, readSubpackets, SUBPACKET, type Subpacket } from './packets.ts';

export const PUBKEY = { rsa: 1, rsaEncrypt: 2, rsaSign: 3, elgamal: 16, dsa: 17, ecdh: 18, ecdsa: 19, eddsaLegacy: 22, x25519: 25, x448: 26, ed25519: 27, ed448: 28 } as const;

export const SIG_TYPE = {
  binary: 0x00,
  text: 0x01,
  certGeneric: 0x10,
  certPositive: 0x13,
  subkeyBinding: 0x18,
  primaryKeyBinding: 0x19,
  directKey: 0x1f,
  keyRevocation: 0x20,
  subkeyRevocation: 0x28,
  certRevocation: 0x30,
} as const;

const HASHES: Readonly<Record<number, { name: string; length: number }>> = {
  2: { name: 'sha1', length: 20 },
  8: { name: 'sha256', length: 32 },
  9: { name: 'sha384', length: 48 },
  10: { name: 'sha512', length: 64 },
  11: { name: 'sha224', length: 28 },
  12: { name: 'sha3-256', length: 32 },
  14: { name: 'sha3-512', length: 64 },
};

export interface SignaturePacket {
  readonly version: number;
  readonly type: number;
  readonly publicKeyAlgorithm: number;
  readonly hashAlgorithm: number;
  readonly hashed: readonly Subpacket[];
  readonly unhashed: readonly Subpacket[];
  /** Version through the end of the hashed subpackets: the part that is hashed. */
  readonly hashedPortion: Buffer;
  readonly left16: Buffer;
  /** Algorithm-specific signature values (RSA: [s]; ECDSA/EdDSA: [r, s]; Ed25519: [sig]). */
  readonly values: readonly Buffer[];
  /** Creation time, seconds since the epoch (hashed subpacket 2). */
  readonly created: number | undefined;
  /** Seconds after creation the signature expires (0/undefined: never). */
  readonly signatureExpires: number | undefined;
  /** Seconds after the key's creation the key expires, when this is a self-signature. */
  readonly keyExpires: number | undefined;
  readonly keyFlags: number | undefined;
  /** Issuer key id (16 hex, upper case), from either subpacket area. */
  readonly issuerKeyId: string | undefined;
  /** Issuer fingerprint (hex, upper case). */
  readonly issuerFingerprint: string | undefined;
  readonly embedded: readonly Buffer[];
}

export function parseSignature(body: Buffer): SignaturePacket {
  const reader = new Reader(body);
  const version = reader.u8();
  if (version !== 4) throw new OpenPgpError(`unsupported signature version ${version}`);
  const type = reader.u8();
  const publicKeyAlgorithm = reader.u8();
  const hashAlgorithm = reader.u8();
  const hashedLength = reader.u16();
  const hashedData = reader.bytes(hashedLength);
  const hashedPortion = body.subarray(0, reader.offset);
  const unhashedLength = reader.u16();
  const unhashedData = reader.bytes(unhashedLength);
  const left16 = reader.bytes(2);
  const values: Buffer[] = [];
  if (publicKeyAlgorithm === PUBKEY.ed25519) values.push(reader.bytes(64));
  else while (reader.remaining > 0) values.push(reader.mpi());
  const hashed = readSubpackets(hashedData);
  const unhashed = readSubpackets(unhashedData);
  const find = (type: number, area: readonly Subpacket[] = hashed): Buffer | undefined => area.find((sub) => sub.type === type)?.body;
  const u32 = (value: Buffer | undefined): number | undefined => (value !== undefined && value.length === 4 ? value.readUInt32BE(0) : undefined);
  // Issuer subpackets are hints to find the key; they may sit in the unhashed area
  // (gpg puts the issuer key id there in older versions). The check is the signature itself.
  const issuer = find(SUBPACKET.issuer) ?? find(SUBPACKET.issuer, unhashed);
  const issuerFpr = find(SUBPACKET.issuerFingerprint) ?? find(SUBPACKET.issuerFingerprint, unhashed);
  const flags = find(SUBPACKET.keyFlags);
  return {
    version,
    type,
    publicKeyAlgorithm,
    hashAlgorithm,
    hashed,
    unhashed,
    hashedPortion,
    left16,
    values,
    created: u32(find(SUBPACKET.creationTime)),
    signatureExpires: u32(find(SUBPACKET.signatureExpirationTime)),
    keyExpires: u32(find(SUBPACKET.keyExpirationTime)),
    keyFlags: flags !== undefined && flags.length > 0 ? flags[0] : undefined,
    issuerKeyId: issuer?.length === 8 ? issuer.toString('hex').toUpperCase() : undefined,
    issuerFingerprint: issuerFpr !== undefined && issuerFpr.length > 1 ? issuerFpr.subarray(1).toString('hex').toUpperCase() : undefined,
    // Embedded signatures (primary key binding "back signatures") are trusted only from
    // the hashed area or, as gpg writes them, the unhashed one: they are self-authenticating.
    embedded: [...hashed, ...unhashed].filter((sub) => sub.type === SUBPACKET.embeddedSignature).map((sub) => sub.body),
  };
}

/** The material a key's verifier needs: its algorithm and a node:crypto key. */
export interface VerifierKey {
  readonly algorithm: number;
  readonly key: KeyObject;
  /** Curve field size in bytes (ECDSA/EdDSA signature values are padded to it). */
  readonly fieldBytes: number;
}

/**
 * Checks `signature` over `signedData` (the document, or key material for certifications)
 * with `verifier`. Returns false for a wrong signature; throws for what we do not support.
 * MD5 is refused always; SHA-1 only for data signatures (`allowSha1` is for old self-signatures).
 */
export function checkSignature(signature: SignaturePacket, signedData: Buffer, verifier: VerifierKey, allowSha1: boolean): boolean {
  const hash = HASHES[signature.hashAlgorithm];
  if (hash === undefined) throw new OpenPgpError(`unsupported or insecure hash algorithm ${signature.hashAlgorithm}`);
  if (hash.name === 'sha1' && !allowSha1) throw new OpenPgpError('SHA-1 signatures over data are not accepted');
  if (!algorithmMatches(signature.publicKeyAlgorithm, verifier.algorithm)) return false;
  const trailer = Buffer.alloc(6);
  trailer[0] = 0x04;
  trailer[1] = 0xff;
  trailer.writeUInt32BE(signature.hashedPortion.length, 2);
  const material = Buffer.concat([signedData, signature.hashedPortion, trailer]);
  const digest = createHash(hash.name).update(material).digest();
  // The quick check: the first two bytes of the hash are stored in the packet.
  if (!digest.subarray(0, 2).equals(signature.left16)) return false;
  try {
    switch (verifier.algorithm) {
      case PUBKEY.rsa:
      case PUBKEY.rsaSign: {
        const modulusBytes = verifier.fieldBytes;
        const s = fixedLength(signature.values[0] ?? Buffer.alloc(0), modulusBytes);
        return cryptoVerify(hash.name, material, verifier.key, s);
      }
      case PUBKEY.ecdsa: {
        const [r, s] = signature.values;
        if (r === undefined || s === undefined) return false;
        const raw = Buffer.concat([fixedLength(r, verifier.fieldBytes), fixedLength(s, verifier.fieldBytes)]);
        return cryptoVerify(hash.name, material, { key: verifier.key, dsaEncoding: 'ieee-p1363' }, raw);
      }
      case PUBKEY.eddsaLegacy: {
        // OpenPGP EdDSA signs the digest, not the message: Ed25519(digest).
        const [r, s] = signature.values;
        if (r === undefined || s === undefined) return false;
        const raw = Buffer.concat([fixedLength(r, 32), fixedLength(s, 32)]);
        return cryptoVerify(null, digest, verifier.key, raw);
      }
      case PUBKEY.ed25519:
        return cryptoVerify(null, digest, verifier.key, signature.values[0]!);
      default:
        throw new OpenPgpError(`unsupported public key algorithm ${verifier.algorithm}`);
    }
  } catch (error) {
    if (error instanceof OpenPgpError) throw error;
    return false;
  }
}

function algorithmMatches(signatureAlgorithm: number, keyAlgorithm: number): boolean {
  if (signatureAlgorithm === keyAlgorithm) return true;
  const rsa = [PUBKEY.rsa, PUBKEY.rsaSign] as number[];
  return rsa.includes(signatureAlgorithm) && rsa.includes(keyAlgorithm);
}
