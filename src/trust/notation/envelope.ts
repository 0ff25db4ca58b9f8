// A Notary Project (notation) signature envelope in JWS, as specs/signature-envelope-jws.md
// defines it: flattened JWS JSON, `alg` matching the signing certificate's key (PS256/384/512,
// ES256/384/512), protected headers `cty` = the notary payload type and the critical
// `io.cncf.notary.signingScheme`, the certificate chain in the unprotected `x5c` (leaf first),
// and a payload naming the signed manifest (`targetArtifact`). The JWS signature is checked
// by `jose` with the leaf's public key (node:crypto's X509Certificate reads it); trust in the
// chain is decided by chain.ts against a trust store, never by what the envelope says.
import { X509Certificate, type KeyObject } from 'node:crypto';

export const NOTATION_ARTIFACT_TYPE = 'application/vnd.cncf.notary.signature';
export const JWS_MEDIA_TYPE = 'application/jose+json';
export const NOTATION_PAYLOAD_TYPE = 'application/vnd.cncf.notary.payload.v1+json';

const SIGNING_SCHEME = 'io.cncf.notary.signingScheme';
const SIGNING_TIME = 'io.cncf.notary.signingTime';
const AUTHENTIC_SIGNING_TIME = 'io.cncf.notary.authenticSigningTime';
const EXPIRY = 'io.cncf.notary.expiry';

export class NotationError extends Error {
  override readonly name = 'NotationError';
}

export interface TargetArtifact {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface VerifiedEnvelope {
  readonly target: TargetArtifact;
  /** x5c, leaf first. */
  readonly chain: readonly X509Certificate[];
  readonly signingScheme: string;
  /** Claimed (notary.x509, untrusted) signing time, ms. */
  readonly signingTime: number | undefined;
  readonly expiry: number | undefined;
}

/** Verifies the envelope's own integrity: the JWS signature by its leaf certificate. */
export async function verifyEnvelope(bytes: Buffer): Promise<VerifiedEnvelope> {
  let jws: { payload?: unknown; protected?: unknown; header?: { x5c?: unknown }; signature?: unknown };
  try {
    jws = JSON.parse(bytes.toString('utf8')) as typeof jws;
  } catch {
    throw new NotationError('the JWS envelope is not JSON');
  }
  if (typeof jws !== 'object' || jws === null || typeof jws.payload !== 'string' || typeof jws.protected !== 'string' || typeof jws.signature !== 'string') {
    throw new NotationError('not a flattened JWS JSON envelope (payload, protected, signature)');
  }
  const x5c = jws.header?.x5c;
  if (!Array.isArray(x5c) || x5c.length === 0 || !x5c.every((entry) => typeof entry === 'string')) throw new NotationError('the envelope has no certificate chain (x5c)');
  let chain: X509Certificate[];
  try {
    chain = (x5c as string[]).map((entry) => new X509Certificate(Buffer.from(entry, 'base64')));
  } catch (error) {
    throw new NotationError(`an x5c certificate is not readable: ${(error as Error).message}`);
  }
  const leafKey = chain[0]!.publicKey;
  const algorithm = algorithmFor(leafKey);
  const { flattenedVerify } = await import('jose');
  let result;
  try {
    result = await flattenedVerify(
      { payload: jws.payload, protected: jws.protected, signature: jws.signature, header: jws.header as Record<string, unknown> },
      leafKey,
      // `alg` must be the leaf key's own: no algorithm substitution.
      { algorithms: [algorithm], crit: { [SIGNING_SCHEME]: true, [EXPIRY]: true, [AUTHENTIC_SIGNING_TIME]: true } },
    );
  } catch (error) {
    throw new NotationError(`the JWS signature does not verify with its signing certificate (${(error as Error).message})`);
  }
  const header = result.protectedHeader as Record<string, unknown>;
  if (header.cty !== NOTATION_PAYLOAD_TYPE) throw new NotationError(`the signed content type is ${String(header.cty)}, not ${NOTATION_PAYLOAD_TYPE}`);
  const crit = Array.isArray(header.crit) ? header.crit : [];
  if (!crit.includes(SIGNING_SCHEME)) throw new NotationError(`${SIGNING_SCHEME} must be a critical header`);
  const scheme = header[SIGNING_SCHEME];
  if (scheme !== 'notary.x509') {
    // notary.x509.signingAuthority needs a timestamp authority's countersignature.
    throw new NotationError(`signing scheme ${String(scheme)} is not supported (notary.x509 is)`);
  }
  let payload: { targetArtifact?: Partial<TargetArtifact> };
  try {
    payload = JSON.parse(Buffer.from(result.payload).toString('utf8')) as typeof payload;
  } catch {
    throw new NotationError('the signed payload is not JSON');
  }
  const target = payload.targetArtifact;
  if (typeof target?.digest !== 'string' || typeof target.mediaType !== 'string' || typeof target.size !== 'number') throw new NotationError('the signed payload names no targetArtifact (mediaType, digest, size)');
  return {
    target: target as TargetArtifact,
    chain,
    signingScheme: scheme,
    signingTime: time(header[SIGNING_TIME]),
    expiry: time(header[EXPIRY]),
  };
}

function time(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const parsed = Date.parse(value);
  return Number.isFinite(parsed) ? parsed : undefined;
}

/** The JWS alg the notary spec maps the key to. */
function algorithmFor(key: KeyObject): string {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') {
    const alg = ({ prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' } as Record<string, string>)[details.namedCurve ?? ''];
    if (alg !== undefined) return alg;
  }
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') {
    const bits = details.modulusLength ?? 0;
    if (bits >= 2048) return bits >= 4096 ? 'PS512' : bits >= 3072 ? 'PS384' : 'PS256';
  }
  throw new NotationError(`the signing certificate's ${key.asymmetricKeyType ?? 'unknown'} key is not one notation signs with`);
}
