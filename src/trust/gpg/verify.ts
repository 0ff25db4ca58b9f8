// Verifying a GPG simple signing signature: an OpenPGP message holding one signature over
// one literal data packet, made by a key of the given keyring (a primary key or one of
// its signing subkeys; v4 keys as gpg makes them, or RFC 9580 v6 keys). OpenPGP.js checks
// the signature, and the key's self-signatures, subkey bindings, expiry and revocation at
// the time of signing; on top of that, as gpg (and so skopeo) does, a key that has expired
// or been revoked since is refused too. Neither the registry nor the client needs gpg
// installed to verify; gpg is only for signing (sign.ts).
import type { Config, PublicKey, SignaturePacket, Subkey } from 'openpgp';
import type { VerifiedSignature } from '../../core/signatures.ts';
import { fingerprintOf, type PublicKeyring } from './keys.ts';
import { OPENPGP_CONFIG, openpgpLibrary } from './library.ts';
import { hex, readSignedMessage, SignatureVerificationError } from './message.ts';
import { parseSimpleSigningPayload } from './simple-signing.ts';

export { SignatureVerificationError };

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

interface Candidate {
  readonly primary: PublicKey;
  readonly key: PublicKey | Subkey;
}

/** The library's words for "these bytes were not signed by this key". */
const NOT_SIGNED_BY_THIS_KEY = /Signed digest did not match|Signature verification failed|was not issued by the given public key|does not match issuer key algorithm/;
/** …and for "this key (or subkey) exists and is valid, but its flags do not allow signing". */
const NO_SIGNING_KEY = /^Could not find valid signing key packet in key [0-9a-f]+$/;

function candidates(keyring: PublicKeyring, signature: SignaturePacket, issuerFingerprint: string | undefined): Candidate[] {
  const found: Candidate[] = [];
  for (const primary of keyring.keys) {
    for (const key of primary.getKeys(signature.issuerKeyID)) {
      if (issuerFingerprint === undefined || fingerprintOf(key) === issuerFingerprint) found.push({ primary, key });
    }
  }
  return found;
}

/** Why a genuine signature by `fingerprint` is still refused (the library judged the key at
 * signing time), in Custody's words. */
function refusal(fingerprint: string, reason: string): string {
  if (/revoked/i.test(reason)) return `key ${fingerprint} is revoked`;
  if (/expired/i.test(reason)) return `key ${fingerprint} had expired when the signature was made`;
  if (/Key is newer than the signature/.test(reason)) return `signature predates key ${fingerprint}`;
  if (NO_SIGNING_KEY.test(reason)) return `key ${fingerprint} is not allowed to sign data`;
  return `signature by key ${fingerprint} is not acceptable: ${reason}`;
}

/** The earliest expiry of the primary key and the signing key, if any. */
async function expiryOf({ primary, key }: Candidate, at: Date, config: Config): Promise<Date | undefined> {
  const dates = [await primary.getExpirationTime(undefined, config)];
  if (key !== primary) dates.push(await (key as Subkey).getExpirationTime(at, config));
  const finite = dates.filter((date): date is Date => date instanceof Date);
  return finite.sort((a, b) => a.getTime() - b.getTime())[0];
}

/** Verifies an OpenPGP signed message against a keyring; returns the signed bytes and the signer. */
export async function verifyOpenPgpMessage(message: Buffer, keyring: PublicKeyring, options: VerifyOptions = {}): Promise<VerifiedMessage> {
  const openpgp = await openpgpLibrary();
  const config: Config = { ...openpgp.config, ...OPENPGP_CONFIG };
  const { content, signature } = await readSignedMessage(message);
  const { binary, text } = openpgp.enums.signature;
  if (signature.signatureType !== binary && signature.signatureType !== text) {
    throw new SignatureVerificationError(`signature type 0x${(signature.signatureType ?? 0).toString(16)} is not a document signature`);
  }
  if (signature.created === null) throw new SignatureVerificationError('signature has no creation time');
  const signedAt = signature.created;
  const issuerFingerprint = signature.issuerFingerprint ? hex(signature.issuerFingerprint) : undefined;
  const found = candidates(keyring, signature, issuerFingerprint);
  if (found.length === 0) {
    throw new SignatureVerificationError(`signature by ${issuerFingerprint ?? signature.issuerKeyID.toHex().toUpperCase()}, which is not in the keyring`);
  }

  const now = new Date(options.now ?? Date.now());
  const packets = new openpgp.PacketList<SignaturePacket>();
  packets.push(signature);
  const detached = new openpgp.Signature(packets);
  let refused: string | undefined;
  for (const candidate of found) {
    const signingFingerprint = fingerprintOf(candidate.key);
    // The literal's bytes against the signature packet, as a detached signature: exactly
    // what an inline signature covers (the data, not the literal packet's name or date).
    let reason: string | undefined;
    try {
      // date null: the library judges the key at the signature's creation time and leaves
      // the judgement against "now" to the checks below.
      const result = await openpgp.verify({ message: await openpgp.createMessage({ binary: content }), signature: detached, verificationKeys: [candidate.primary], date: null, format: 'binary', config });
      const outcome = result.signatures[0];
      if (outcome === undefined) throw new Error('Signature verification failed');
      await outcome.verified;
    } catch (error) {
      reason = (error as Error).message;
    }
    if (reason !== undefined) {
      if (!NOT_SIGNED_BY_THIS_KEY.test(reason)) refused ??= refusal(signingFingerprint, reason);
      continue;
    }
    const expires = signature.getExpirationTime();
    if (expires instanceof Date && now >= expires) throw new SignatureVerificationError(`signature expired on ${expires.toISOString()}`);
    // Valid when it signed; gpg also refuses keys revoked or expired since.
    try {
      await candidate.primary.getSigningKey(candidate.key.getKeyID(), now, undefined, config);
    } catch (error) {
      const why = (error as Error).message;
      if (/revoked/i.test(why)) throw new SignatureVerificationError(`key ${signingFingerprint} is revoked`);
      if (/expired/i.test(why)) {
        const expiry = await expiryOf(candidate, now, config);
        throw new SignatureVerificationError(`key ${signingFingerprint} ${expiry ? `expired on ${expiry.toISOString()}` : 'has expired'}`);
      }
      if (NO_SIGNING_KEY.test(why)) throw new SignatureVerificationError(`key ${signingFingerprint} is not allowed to sign data`);
      throw new SignatureVerificationError(`key ${signingFingerprint} cannot sign now: ${why}`);
    }
    return { content, primaryFingerprint: fingerprintOf(candidate.primary), signingFingerprint, created: Math.floor(signedAt.getTime() / 1000) };
  }
  throw new SignatureVerificationError(refused ?? 'signature does not verify (tampered content or wrong key)');
}

/** Verifies a simple signing signature and parses its payload (containers-signature(5)). */
export async function verifySimpleSigning(message: Buffer, keyring: PublicKeyring, options: VerifyOptions = {}): Promise<VerifiedSignature> {
  const verified = await verifyOpenPgpMessage(message, keyring, options);
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
export async function readUnverifiedMessage(message: Buffer): Promise<UnverifiedMessage> {
  const { content, signature } = await readSignedMessage(message);
  return {
    content,
    issuerKeyId: signature.issuerKeyID.toHex().toUpperCase(),
    issuerFingerprint: signature.issuerFingerprint ? hex(signature.issuerFingerprint) : undefined,
    created: signature.created === null ? undefined : Math.floor(signature.created.getTime() / 1000),
  };
}
