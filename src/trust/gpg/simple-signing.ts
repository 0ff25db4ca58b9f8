// The simple signing payload (containers-signature(5)) as containers/image writes and
// reads it. Writing matches Go's json.Marshal of maps (keys sorted, no spaces), so a
// payload Custody signs is byte-for-byte what skopeo would have signed at that moment.
// Reading is as strict as containers/image: exact field sets in `critical`, the type
// "atomic container signature", an integer timestamp.
import type { SimpleSigningPayload } from '../../core/signatures.ts';
import { goJson } from '../sigstore/go-json.ts';

export const ATOMIC_SIGNATURE_TYPE = 'atomic container signature';

export class InvalidPayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidPayloadError';
  }
}

export interface PayloadOptions {
  /** optional.creator; containers/image writes "atomic <version>". */
  readonly creator?: string | undefined;
  /** optional.timestamp in seconds; default now. 0 omits it, as containers/image does. */
  readonly timestamp?: number | undefined;
}

/** The payload bytes for `dockerReference` (e.g. "registry.example/ns/app:1") and a manifest digest. */
export function buildSimpleSigningPayload(dockerReference: string, manifestDigest: string, options: PayloadOptions = {}): Buffer {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const creator = options.creator ?? 'custody';
  const optional: Record<string, unknown> = {};
  if (creator !== '') optional['creator'] = creator;
  if (timestamp !== 0) optional['timestamp'] = Math.trunc(timestamp);
  const document = {
    critical: {
      identity: { 'docker-reference': dockerReference },
      image: { 'docker-manifest-digest': manifestDigest },
      type: ATOMIC_SIGNATURE_TYPE,
    },
    optional,
  };
  return Buffer.from(goJson(document), 'utf8');
}

function exactObject(value: unknown, fields: readonly string[], where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidPayloadError(`${where} is not a JSON object`);
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  for (const key of keys) if (!fields.includes(key)) throw new InvalidPayloadError(`unexpected field "${key}" in ${where}`);
  for (const field of fields) if (!(field in record)) throw new InvalidPayloadError(`missing field "${field}" in ${where}`);
  return record;
}

/** Parses and validates a verified payload (containers/image's strictUnmarshalJSON). */
export function parseSimpleSigningPayload(content: Buffer): SimpleSigningPayload {
  let document: unknown;
  try {
    document = JSON.parse(content.toString('utf8'));
  } catch (error) {
    throw new InvalidPayloadError(`signature payload is not JSON: ${(error as Error).message}`);
  }
  const top = exactObject(document, ['critical', 'optional'], 'the signature payload');
  const optional = top['optional'];
  if (optional !== null && (typeof optional !== 'object' || Array.isArray(optional))) throw new InvalidPayloadError('optional is not a JSON object');
  if (optional !== null) {
    const fields = optional as Record<string, unknown>;
    if ('creator' in fields && typeof fields['creator'] !== 'string') throw new InvalidPayloadError('optional.creator is not a string');
    if ('timestamp' in fields && (typeof fields['timestamp'] !== 'number' || !Number.isInteger(fields['timestamp']))) {
      throw new InvalidPayloadError('optional.timestamp is not an integer');
    }
  }
  const critical = exactObject(top['critical'], ['type', 'image', 'identity'], 'critical');
  if (critical['type'] !== ATOMIC_SIGNATURE_TYPE) throw new InvalidPayloadError(`unrecognized signature type ${JSON.stringify(critical['type'])}`);
  const image = exactObject(critical['image'], ['docker-manifest-digest'], 'critical.image');
  const digest = image['docker-manifest-digest'];
  if (typeof digest !== 'string' || !/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(digest)) {
    throw new InvalidPayloadError('critical.image.docker-manifest-digest is not a digest');
  }
  const identity = exactObject(critical['identity'], ['docker-reference'], 'critical.identity');
  const reference = identity['docker-reference'];
  if (typeof reference !== 'string') throw new InvalidPayloadError('critical.identity.docker-reference is not a string');
  return {
    critical: {
      identity: { 'docker-reference': reference },
      image: { 'docker-manifest-digest': digest },
      type: ATOMIC_SIGNATURE_TYPE,
    },
    optional: optional as Readonly<Record<string, unknown>> | null,
  };
}
