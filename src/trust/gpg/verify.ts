// Verifying a GPG simple signing signature: an OpenPGP message (optionally compressed)
// holding one signature over one literal data packet, made by a key of the given
// keyring (a primary key or one of its signing subkeys). Our own code over node:crypto,
// so the registry and the client verify without gpg installed; gpg is only for signing.
import { inflateRawSync, inflateSync } from 'node:zlib';
import type { VerifiedSignature } from '../../core/signatures.ts';
import { OpenPgpError, readPackets, TAG, toBinary, type Packet } from './packets.ts';
import type { PublicKey, PublicKeyring, PublicSubkey } from './keys.ts';
import { checkSignature, parseSignature, SIG_TYPE, type SignaturePacket } from './signature-packet.ts';
import { parseSimpleSigningPayload } from './simple-signing.ts';

export class SignatureVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignatureVerificationError';
  }
}

export interface VerifyOptions {
  /** "Now" for expiry checks, ms since the epoch (default Date.now()). */
  readonly now?: number | undefined;
}

export interface VerifiedMessage {
  /** The literal data: the signed bytes. */
  readonly content: Buffer;
  /** The primary key's fingerprint (upper-case hex): what signedBy compares with. */
  readonly primaryFingerprint: string;
  /** The key that made the signature: the primary key or a subkey. */
  readonly signingFingerprint: string;
  /** Signature creation, seconds since the epoch. */
  readonly created: number;
}

const MAX_DECOMPRESSED = 16 * 1024 * 1024;

function unwrap(packets: readonly Packet[], depth: number): Packet[] {
  const result: Packet[] = [];
  for (const packet of packets) {
    if (packet.tag !== TAG.compressedData) { result.push(packet); continue; }
    if (depth > 2) throw new SignatureVerificationError('compressed data nested too deeply');
    const algorithm = packet.body[0];
    const data = packet.body.subarray(1);
    let inner: Buffer;
    try {
      if (algorithm === 0) inner = data;
      else if (algorithm === 1) inner = inflateRawSync(data, { maxOutputLength: MAX_DECOMPRESSED });
      else if (algorithm === 2) inner = inflateSync(data, { maxOutputLength: MAX_DECOMPRESSED });
      else throw new SignatureVerificationError(`unsupported compression algorithm ${String(algorithm)} (BZip2 is not supported)`);
    } catch (error) {
      if (error instanceof SignatureVerificationError) throw error;
      throw new SignatureVerificationError(`cannot decompress the signature: ${(error as Error).message}`);
    }
    result.push(...unwrap(readPackets(inner), depth + 1));
  }
  return result;
}

function literalContent(body: Buffer): { format: string; content: Buffer } {
  if (body.length < 6) throw new SignatureVerificationError('truncated literal data packet');
  const format = String.fromCharCode(body[0]!);
  const nameLength = body[1]!;
  const start = 2 + nameLength + 4;
  if (start > body.length) throw new SignatureVerificationError('truncated literal data packet');
  return { format, content: body.subarray(start) };
}

/** Text signatures hash lines with CRLF endings. */
function canonicalText(content: Buffer): Buffer {
  return Buffer.from(content.toString('utf8').replace(/\r?\n/g, '\r\n'), 'utf8');
}

interface Candidate {
  readonly primary: PublicKey;
  readonly key: PublicKey | PublicSubkey;
}

function candidates(keyring: PublicKeyring, signature: SignaturePacket): Candidate[] {
  const result: Candidate[] = [];
  const matches = (fingerprint: string, keyId: string): boolean => {
    if (signature.issuerFingerprint !== undefined) return fingerprint === signature.issuerFingerprint;
    if (signature.issuerKeyId !== undefined) return keyId === signature.issuerKeyId;
    return true; // no issuer hint: try every key
  };
  for (const primary of keyring.keys) {
    if (matches(primary.fingerprint, primary.keyId)) result.push({ primary, key: primary });
    for (const subkey of primary.subkeys) if (matches(subkey.fingerprint, subkey.keyId)) result.push({ primary, key: subkey });
  }
  return result;
}

/** A message's packets (compression unwrapped), its literal data and its signatures. */
function messagePackets(message: Buffer): { packets: Packet[]; literals: Packet[]; signatures: Packet[] } {
  let packets: Packet[];
  try {
    packets = unwrap(readPackets(toBinary(message)), 0);
  } catch (error) {
    if (error instanceof SignatureVerificationError) throw error;
    throw new SignatureVerificationError(`not an OpenPGP message: ${(error as Error).message}`);
  }
  return { packets, literals: packets.filter((packet) => packet.tag === TAG.literalData), signatures: packets.filter((packet) => packet.tag === TAG.signature) };
}

/** Verifies an OpenPGP signed message against a keyring; returns the signed bytes and the signer. */
export function verifyOpenPgpMessage(message: Buffer, keyring: PublicKeyring, options: VerifyOptions = {}): VerifiedMessage {
  const { packets, literals, signatures } = messagePackets(message);
  const others = packets.filter((packet) => ![TAG.literalData, TAG.signature, TAG.onePassSignature, TAG.marker, TAG.padding].includes(packet.tag as never));
  if (others.length > 0) throw new SignatureVerificationError(`unexpected OpenPGP packet (tag ${others[0]!.tag}) in a signature`);
  if (literals.length !== 1) throw new SignatureVerificationError(`expected one literal data packet, found ${literals.length}`);
  // containers/image (gpgme) refuses anything but exactly one signature.
  if (signatures.length !== 1) throw new SignatureVerificationError(`unexpected GPG signature count ${signatures.length}`);
  let signature: SignaturePacket;
  try {
    signature = parseSignature(signatures[0]!.body);
  } catch (error) {
    throw new SignatureVerificationError(`invalid signature packet: ${(error as Error).message}`);
  }
  if (signature.type !== SIG_TYPE.binary && signature.type !== SIG_TYPE.text) {
    throw new SignatureVerificationError(`signature type 0x${signature.type.toString(16)} is not a document signature`);
  }
  const { content } = literalContent(literals[0]!.body);
  const signed = signature.type === SIG_TYPE.text ? canonicalText(content) : content;
  if (signature.created === undefined) throw new SignatureVerificationError('signature has no creation time');

  const found = candidates(keyring, signature);
  if (found.length === 0) {
    const who = signature.issuerFingerprint ?? signature.issuerKeyId ?? 'an unknown key';
    throw new SignatureVerificationError(`signature by ${who}, which is not in the keyring`);
  }
  let verified: Candidate | undefined;
  for (const candidate of found) {
    if (candidate.key.verifier === undefined) continue;
    let ok: boolean;
    try {
      ok = checkSignature(signature, signed, candidate.key.verifier, false);
    } catch (error) {
      throw new SignatureVerificationError((error as Error).message);
    }
    if (ok) { verified = candidate; break; }
  }
  if (verified === undefined) throw new SignatureVerificationError('signature does not verify (tampered content or wrong key)');

  const { primary, key } = verified;
  const created = signature.created;
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  if (!primary.valid) throw new SignatureVerificationError(`key ${primary.fingerprint} has no valid self-signature`);
  if (primary.revoked || ('valid' in key ? false : key.revoked)) throw new SignatureVerificationError(`key ${key.fingerprint} is revoked`);
  if (!key.canSign) throw new SignatureVerificationError(`key ${key.fingerprint} is not allowed to sign data`);
  if (created < key.created) throw new SignatureVerificationError(`signature predates key ${key.fingerprint}`);
  for (const k of key === primary ? [primary] : [primary, key]) {
    if (k.expires !== undefined && created >= k.expires) throw new SignatureVerificationError(`key ${k.fingerprint} had expired when the signature was made`);
    // gpg (and so skopeo through gpgme) also refuses signatures by keys expired now.
    if (k.expires !== undefined && now >= k.expires) throw new SignatureVerificationError(`key ${k.fingerprint} expired on ${new Date(k.expires * 1000).toISOString()}`);
  }
  if (signature.signatureExpires && now >= created + signature.signatureExpires) throw new SignatureVerificationError('signature has expired');
  return { content, primaryFingerprint: primary.fingerprint, signingFingerprint: key.fingerprint, created };
}

/** Verifies a simple signing signature and parses its payload (containers-signature(5)). */
export function verifySimpleSigning(message: Buffer, keyring: PublicKeyring, options: VerifyOptions = {}): VerifiedSignature {
  const verified = verifyOpenPgpMessage(message, keyring, options);
  let payload;
  try {
    payload = parseSimpleSigningPayload(verified.content);
  } catch (error) {
    throw new SignatureVerificationError(`invalid signature payload: ${(error as Error).message}`);
  }
  return { format: 'simple-signing', payload, keyId: verified.primaryFingerprint, signedAt: verified.created * 1000 };
}

export interface UnverifiedMessage {
  /** The literal data: NOT verified, only for display and sanity checks. */
  readonly content: Buffer;
  readonly issuerKeyId: string | undefined;
  readonly issuerFingerprint: string | undefined;
  /** Claimed creation time, seconds since the epoch. */
  readonly created: number | undefined;
}

/**
 * Reads a signed message's structure without verifying it: what the registry checks
 * before storing a signature (well-formed, one signature, a payload for this manifest),
 * and what a report shows as "claims to be signed by". Never a trust decision.
 */
export function readUnverifiedMessage(message: Buffer): UnverifiedMessage {
  const { literals, signatures } = messagePackets(message);
  if (literals.length !== 1 || signatures.length !== 1) {
    throw new SignatureVerificationError(`expected one literal data packet and one signature, found ${literals.length} and ${signatures.length}`);
  }
  let signature: SignaturePacket;
  try {
    signature = parseSignature(signatures[0]!.body);
  } catch (error) {
    throw new SignatureVerificationError(`invalid signature packet: ${(error as Error).message}`);
  }
  return { content: literalContent(literals[0]!.body).content, issuerKeyId: signature.issuerKeyId, issuerFingerprint: signature.issuerFingerprint, created: signature.created };
}
