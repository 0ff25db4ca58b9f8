// Reading a GPG simple-signing signature: an OpenPGP message (binary as gpg writes it, or
// armored; optionally compressed) that must hold exactly one literal data packet and one
// signature — containers/image (gpgme) refuses anything else. OpenPGP.js parses the
// packets (and enforces the message grammar); this file only walks what it parsed.
import type { AnyPacket, LiteralDataPacket, PacketList, SignaturePacket } from 'openpgp';
import { OPENPGP_CONFIG, openpgpLibrary, type OpenPgpLibrary } from './library.ts';
import { isArmored } from './keys.ts';

export class SignatureVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignatureVerificationError';
  }
}

export interface SignedMessage {
  /** The literal data: the signed bytes (not yet verified). */
  readonly content: Buffer;
  /** The one signature packet, parsed. */
  readonly signature: SignaturePacket;
}

interface Readable<T> {
  getReader(): { read(): Promise<{ done: boolean; value?: T }> };
}

/** The library leaves packets after the first compressed or literal one in a stream. */
async function drain<T>(stream: Readable<T> | null | undefined): Promise<T[]> {
  const items: T[] = [];
  if (stream === null || stream === undefined) return items;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return items;
    items.push(value as T);
  }
}

/** Every packet of the message, compressed data replaced by what it holds (the library
 * refuses compressed data inside compressed data, and inflating past OPENPGP_CONFIG's limit). */
async function flatten(openpgp: OpenPgpLibrary, list: PacketList<AnyPacket>): Promise<AnyPacket[]> {
  const packets = [...list, ...(await drain((list as unknown as { stream?: Readable<AnyPacket> }).stream))];
  const flat: AnyPacket[] = [];
  for (const packet of packets) {
    if (packet instanceof openpgp.CompressedDataPacket) flat.push(...(await flatten(openpgp, (packet as unknown as { packets: PacketList<AnyPacket> }).packets)));
    else flat.push(packet);
  }
  return flat;
}

async function literalBytes(openpgp: OpenPgpLibrary, literal: LiteralDataPacket): Promise<Buffer> {
  const list = new openpgp.PacketList<AnyPacket>();
  list.push(literal);
  const data = new openpgp.Message(list).getLiteralData() as Uint8Array | Readable<Uint8Array> | null;
  if (data === null) throw new SignatureVerificationError('the literal data packet holds no data');
  const chunks = data instanceof Uint8Array ? [data] : await drain(data);
  return Buffer.concat(chunks);
}

/** A parsed packet's tag is its class's; a packet the library could not parse carries its own. */
function tagOf(packet: AnyPacket): number {
  return packet instanceof Object && 'tag' in packet ? (packet as { tag: number }).tag : (packet.constructor as unknown as { tag: number }).tag;
}

/** The message's signed bytes and its one signature, or a SignatureVerificationError. */
export async function readSignedMessage(message: Buffer): Promise<SignedMessage> {
  const openpgp = await openpgpLibrary();
  let packets: AnyPacket[];
  try {
    const parsed = isArmored(message)
      ? await openpgp.readMessage({ armoredMessage: message.toString('latin1'), config: OPENPGP_CONFIG })
      : await openpgp.readMessage({ binaryMessage: message, config: OPENPGP_CONFIG });
    packets = await flatten(openpgp, parsed.packets);
  } catch (error) {
    if (error instanceof SignatureVerificationError) throw error;
    throw new SignatureVerificationError(`not an OpenPGP signed message: ${(error as Error).message}`);
  }
  const { literalData, signature, onePassSignature, marker, padding } = openpgp.enums.packet;
  const other = packets.find((packet) => ![literalData, signature, onePassSignature, marker, padding].includes(tagOf(packet)));
  if (other !== undefined) throw new SignatureVerificationError(`unexpected OpenPGP packet (tag ${tagOf(other)}) in a signature`);
  const literals = packets.filter((packet): packet is LiteralDataPacket => packet instanceof openpgp.LiteralDataPacket);
  const signatures = packets.filter((packet): packet is SignaturePacket => packet instanceof openpgp.SignaturePacket);
  if (literals.length !== 1) throw new SignatureVerificationError(`expected one literal data packet, found ${literals.length}`);
  if (signatures.length !== 1) throw new SignatureVerificationError(`unexpected GPG signature count ${signatures.length}`);
  let content: Buffer;
  try {
    content = await literalBytes(openpgp, literals[0]!);
  } catch (error) {
    if (error instanceof SignatureVerificationError) throw error;
    throw new SignatureVerificationError(`cannot read the signed data: ${(error as Error).message}`);
  }
  return { content, signature: signatures[0]! };
}

/** Upper-case hex, as gpg and containers/image print key ids and fingerprints. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex').toUpperCase();
}
