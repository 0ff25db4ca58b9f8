// The simple-signing payload of a sigstore signature, byte for byte as cosign
// (sigstore/sigstore payload.Cosign) and containers/image (UntrustedSigstorePayload)
// write it:
//   {"critical":{"identity":{"docker-reference":"REF"},"image":{"docker-manifest-digest":"sha256:…"},
//    "type":"cosign container image signature"},"optional":null|{…sorted keys…}}
// cosign writes "optional":null without annotations; containers/image writes
// {"creator":…,"timestamp":…}. Parsing is strict like containers/image's: unknown
// critical fields or a wrong type are refused, since they may change what was signed.
import type { SimpleSigningPayload } from '../../core/signatures.ts';
import { goJson } from './go-json.ts';

export const COSIGN_SIGNATURE_TYPE = 'cosign container image signature';

export class PayloadError extends Error {}

export function serializePayload(identity: string, manifestDigest: string, optional: Readonly<Record<string, unknown>> | null = null): Buffer {
  const critical = `{"identity":{"docker-reference":${goJson(identity)}},"image":{"docker-manifest-digest":${goJson(manifestDigest)}},"type":${goJson(COSIGN_SIGNATURE_TYPE)}}`;
  return Buffer.from(`{"critical":${critical},"optional":${goJson(optional)}}`);
}

/** The docker-reference a payload claims, read leniently for listings (no strict parsing); null when it names none. */
export function claimedIdentity(payload: Buffer): string | null {
  try {
    const reference = (JSON.parse(payload.toString('utf8')) as { critical?: { identity?: { 'docker-reference'?: unknown } } } | null)?.critical?.identity?.['docker-reference'];
    return typeof reference === 'string' ? reference : null;
  } catch {
    return null;
  }
}

export function parsePayload(bytes: Buffer): SimpleSigningPayload {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new PayloadError('the signed payload is not valid JSON');
  }
  const object = (value: unknown, what: string): Record<string, unknown> => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new PayloadError(`the signed payload's ${what} is not an object`);
    return value as Record<string, unknown>;
  };
  const only = (value: Record<string, unknown>, what: string, keys: readonly string[]): void => {
    for (const key of Object.keys(value)) if (!keys.includes(key)) throw new PayloadError(`the signed payload's ${what} has an unknown field "${key}"`);
    for (const key of keys) if (!(key in value)) throw new PayloadError(`the signed payload's ${what} lacks "${key}"`);
  };
  const top = object(parsed, 'top level');
  for (const key of Object.keys(top)) if (key !== 'critical' && key !== 'optional') throw new PayloadError(`the signed payload has an unknown field "${key}"`);
  const critical = object(top.critical, 'critical section');
  only(critical, 'critical section', ['identity', 'image', 'type']);
  if (critical.type !== COSIGN_SIGNATURE_TYPE) throw new PayloadError(`the signed payload's type is "${String(critical.type)}", not "${COSIGN_SIGNATURE_TYPE}"`);
  const identity = object(critical.identity, 'critical.identity');
  only(identity, 'critical.identity', ['docker-reference']);
  const image = object(critical.image, 'critical.image');
  only(image, 'critical.image', ['docker-manifest-digest']);
  const reference = identity['docker-reference'];
  const digest = image['docker-manifest-digest'];
  if (typeof reference !== 'string') throw new PayloadError('the signed payload\'s docker-reference is not a string');
  if (typeof digest !== 'string') throw new PayloadError('the signed payload\'s docker-manifest-digest is not a string');
  const optional = top.optional === undefined || top.optional === null ? null : object(top.optional, 'optional section');
  return {
    critical: { identity: { 'docker-reference': reference }, image: { 'docker-manifest-digest': digest }, type: COSIGN_SIGNATURE_TYPE },
    optional,
  };
}
