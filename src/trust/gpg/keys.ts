// OpenPGP public keys and keyrings (RFC 4880 §5.5, §11.1): v4 keys (RSA, ECDSA
// P-256/384/521, legacy EdDSA Ed25519, and RFC 9580 Ed25519), fingerprints and key ids,
// transferable public keys with their self-signatures, subkeys with binding signatures
// (and back-signatures for signing subkeys), expiry and revocation. A keyring is any
// number of transferable public keys, concatenated, armored or binary — what
// `gpg --export [--armor]` writes and what policy.json's `keyPath` names.
import { createHash, createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { OpenPgpError, readPackets, Reader, TAG, toBinary, type Packet } from './packets.ts';
import { checkSignature, parseSignature, PUBKEY, SIG_TYPE, type SignaturePacket, type VerifierKey } from './signature-packet.ts';

const CURVES: Readonly<Record<string, { name: string; fieldBytes: number; kind: 'ec' | 'ed25519' | 'other' }>> = {
  '2a8648ce3d030107': { name: 'P-256', fieldBytes: 32, kind: 'ec' },
  '2b81040022': { name: 'P-384', fieldBytes: 48, kind: 'ec' },
  '2b81040023': { name: 'P-521', fieldBytes: 66, kind: 'ec' },
  '2b06010401da470f01': { name: 'Ed25519', fieldBytes: 32, kind: 'ed25519' },
  '2b060104019755010501': { name: 'Curve25519', fieldBytes: 32, kind: 'other' },
};

const KEY_FLAG_SIGN = 0x02;

interface KeyMaterial {
  readonly fingerprint: string;
  readonly keyId: string;
  /** Creation time, seconds since the epoch. */
  readonly created: number;
  readonly algorithm: number;
  /** Undefined for algorithms we cannot verify with (DSA, ElGamal, ECDH...). */
  readonly verifier: VerifierKey | undefined;
  /** The public key packet body (hashed into fingerprints and key signatures). */
  readonly body: Buffer;
}

export interface PublicSubkey extends KeyMaterial {
  /** Absolute expiry, seconds since the epoch; undefined: never. */
  readonly expires: number | undefined;
  readonly revoked: boolean;
  /** Bound by a valid binding signature that allows signing, with a valid back-signature. */
  readonly canSign: boolean;
}

export interface PublicKey extends KeyMaterial {
  readonly userIds: readonly string[];
  readonly expires: number | undefined;
  readonly revoked: boolean;
  /** Has at least one valid self-signature (user id certification or direct key signature). */
  readonly valid: boolean;
  readonly canSign: boolean;
  readonly subkeys: readonly PublicSubkey[];
}

export interface PublicKeyring {
  readonly keys: readonly PublicKey[];
}

/** Parses a keyring: concatenated transferable public keys, armored or binary. Keys of
 * algorithms we cannot verify with are kept (for fingerprints) but never match a signature. */
export function parseKeyring(data: Buffer | string): PublicKeyring {
  const binary = toBinary(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  const packets = readPackets(binary);
  const groups: Packet[][] = [];
  for (const packet of packets) {
    if (packet.tag === TAG.publicKey || packet.tag === TAG.secretKey) groups.push([packet]);
    else if (packet.tag === TAG.trust || packet.tag === TAG.marker || packet.tag === TAG.padding) continue;
    else if (groups.length === 0) throw new OpenPgpError(`keyring does not start with a public key (packet tag ${packet.tag})`);
    else groups.at(-1)!.push(packet);
  }
  return { keys: groups.map(assembleKey) };
}

export async function readKeyringFile(path: string): Promise<PublicKeyring> {
  return parseKeyring(await readFile(path));
}

/** Merges keyrings (policy.json `keyPaths`). */
export function mergeKeyrings(...keyrings: readonly PublicKeyring[]): PublicKeyring {
  return { keys: keyrings.flatMap((keyring) => keyring.keys) };
}

/** All fingerprints (primary keys) in the keyring, upper-case hex. */
export function keyringFingerprints(keyring: PublicKeyring): string[] {
  return keyring.keys.map((key) => key.fingerprint);
}

export function parseKeyMaterial(body: Buffer, secret = false): KeyMaterial {
  const reader = new Reader(body);
  const version = reader.u8();
  if (version !== 4) throw new OpenPgpError(`unsupported public key version ${version}`);
  const created = reader.u32();
  const algorithm = reader.u8();
  let verifier: VerifierKey | undefined;
  switch (algorithm) {
    case PUBKEY.rsa:
    case PUBKEY.rsaEncrypt:
    case PUBKEY.rsaSign: {
      const n = reader.mpi();
      const e = reader.mpi();
      if (algorithm !== PUBKEY.rsaEncrypt) {
        verifier = {
          algorithm,
          key: createPublicKey({ key: { kty: 'RSA', n: n.toString('base64url'), e: e.toString('base64url') }, format: 'jwk' }),
          fieldBytes: n.length,
        };
      }
      break;
    }
    case PUBKEY.ecdsa:
    case PUBKEY.eddsaLegacy:
    case PUBKEY.ecdh: {
      const oid = reader.bytes(reader.u8()).toString('hex');
      const point = reader.mpi();
      if (algorithm === PUBKEY.ecdh) { reader.bytes(reader.u8()); break; }
      const curve = CURVES[oid];
      if (curve === undefined) break;
      if (algorithm === PUBKEY.ecdsa && curve.kind === 'ec' && point[0] === 0x04 && point.length === 1 + 2 * curve.fieldBytes) {
        const x = point.subarray(1, 1 + curve.fieldBytes);
        const y = point.subarray(1 + curve.fieldBytes);
        verifier = {
          algorithm,
          key: createPublicKey({ key: { kty: 'EC', crv: curve.name, x: x.toString('base64url'), y: y.toString('base64url') }, format: 'jwk' }),
          fieldBytes: curve.fieldBytes,
        };
      } else if (algorithm === PUBKEY.eddsaLegacy && curve.kind === 'ed25519' && point[0] === 0x40 && point.length === 33) {
        // Legacy EdDSA points carry a 0x40 "native encoding" prefix.
        verifier = { algorithm, key: ed25519Key(point.subarray(1)), fieldBytes: 32 };
      }
      break;
    }
    case PUBKEY.ed25519:
      verifier = { algorithm, key: ed25519Key(reader.bytes(32)), fieldBytes: 32 };
      break;
    case PUBKEY.x25519:
      reader.bytes(32);
      break;
    case PUBKEY.dsa:
      reader.mpi(); reader.mpi(); reader.mpi(); reader.mpi();
      break;
    case PUBKEY.elgamal:
      reader.mpi(); reader.mpi(); reader.mpi();
      break;
    default:
      if (secret) throw new OpenPgpError(`unsupported key algorithm ${algorithm} in a secret key packet`);
      reader.offset = body.length;
  }
  // A secret key packet starts with the public key; only that part is the key's identity.
  const publicBody = secret ? body.subarray(0, reader.offset) : body;
  const fingerprint = createHash('sha1').update(keyHashPrefix(publicBody)).digest('hex').toUpperCase();
  return { fingerprint, keyId: fingerprint.slice(-16), created, algorithm, verifier, body: publicBody };
}

function ed25519Key(raw: Buffer): VerifierKey['key'] {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

/** 0x99, two-octet length, body: how a v4 key enters fingerprints and key signatures. */
export function keyHashPrefix(body: Buffer): Buffer {
  const head = Buffer.alloc(3);
  head[0] = 0x99;
  head.writeUInt16BE(body.length, 1);
  return Buffer.concat([head, body]);
}

function userIdHashPrefix(tag: number, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head[0] = tag === TAG.userAttribute ? 0xd1 : 0xb4;
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

function safeParse(body: Buffer): SignaturePacket | undefined {
  try {
    return parseSignature(body);
  } catch {
    return undefined; // v3 or malformed signatures on keys are ignored, as gpg does
  }
}

function verifies(signature: SignaturePacket, data: Buffer, key: KeyMaterial): boolean {
  if (key.verifier === undefined) return false;
  try {
    return checkSignature(signature, data, key.verifier, true);
  } catch {
    return false;
  }
}

function newest(signatures: readonly SignaturePacket[]): SignaturePacket | undefined {
  return [...signatures].sort((a, b) => (b.created ?? 0) - (a.created ?? 0))[0];
}

function assembleKey(packets: readonly Packet[]): PublicKey {
  const primaryPacket = packets[0]!;
  const primary = parseKeyMaterial(primaryPacket.body, primaryPacket.tag === TAG.secretKey);
  const primaryPrefix = keyHashPrefix(primary.body);
  const userIds: string[] = [];
  const selfSignatures: SignaturePacket[] = [];
  let revoked = false;
  const subkeyGroups: { material: KeyMaterial | undefined; signatures: SignaturePacket[] }[] = [];
  let current: { kind: 'primary' } | { kind: 'user'; tag: number; body: Buffer } | { kind: 'subkey'; index: number } = { kind: 'primary' };

  for (const packet of packets.slice(1)) {
    if (packet.tag === TAG.userId || packet.tag === TAG.userAttribute) {
      current = { kind: 'user', tag: packet.tag, body: packet.body };
      continue;
    }
    if (packet.tag === TAG.publicSubkey || packet.tag === TAG.secretSubkey) {
      let material: KeyMaterial | undefined;
      try {
        material = parseKeyMaterial(packet.body, packet.tag === TAG.secretSubkey);
      } catch {
        material = undefined; // an unsupported subkey does not spoil the key
      }
      subkeyGroups.push({ material, signatures: [] });
      current = { kind: 'subkey', index: subkeyGroups.length - 1 };
      continue;
    }
    if (packet.tag !== TAG.signature) continue;
    const signature = safeParse(packet.body);
    if (signature === undefined) continue;
    if (current.kind === 'primary') {
      if (signature.type === SIG_TYPE.keyRevocation && verifies(signature, primaryPrefix, primary)) revoked = true;
      else if (signature.type === SIG_TYPE.directKey && verifies(signature, primaryPrefix, primary)) selfSignatures.push(signature);
    } else if (current.kind === 'user') {
      const isCertification = signature.type >= SIG_TYPE.certGeneric && signature.type <= SIG_TYPE.certPositive;
      if (isCertification && verifies(signature, Buffer.concat([primaryPrefix, userIdHashPrefix(current.tag, current.body)]), primary)) {
        selfSignatures.push(signature);
        if (current.tag === TAG.userId) {
          const uid = current.body.toString('utf8');
          if (!userIds.includes(uid)) userIds.push(uid);
        }
      }
    } else {
      subkeyGroups[current.index]!.signatures.push(signature);
    }
  }

  const latest = newest(selfSignatures);
  const expires = latest?.keyExpires ? primary.created + latest.keyExpires : undefined;
  const canSign = latest !== undefined && (latest.keyFlags === undefined || (latest.keyFlags & KEY_FLAG_SIGN) !== 0);

  const subkeys: PublicSubkey[] = [];
  for (const group of subkeyGroups) {
    const material = group.material;
    if (material === undefined) continue;
    const data = Buffer.concat([primaryPrefix, keyHashPrefix(material.body)]);
    const bindings = group.signatures.filter((sig) => sig.type === SIG_TYPE.subkeyBinding && verifies(sig, data, primary));
    const subRevoked = group.signatures.some((sig) => sig.type === SIG_TYPE.subkeyRevocation && verifies(sig, data, primary));
    const binding = newest(bindings);
    if (binding === undefined) continue; // an unbound subkey is not part of this key at all
    let signs = binding.keyFlags !== undefined && (binding.keyFlags & KEY_FLAG_SIGN) !== 0;
    if (signs) {
      // A signing subkey must sign back (primary key binding), or anyone could attach
      // someone else's signing key to their own primary key.
      signs = binding.embedded.some((raw) => {
        const back = safeParse(raw);
        return back !== undefined && back.type === SIG_TYPE.primaryKeyBinding && verifies(back, data, material);
      });
    }
    subkeys.push({ ...material, expires: binding.keyExpires ? material.created + binding.keyExpires : undefined, revoked: subRevoked, canSign: signs });
  }

  return { ...primary, userIds, expires, revoked, valid: latest !== undefined, canSign, subkeys };
}
