// Verifying one sigstore bundle (v0.1 to v0.3) with the sigstore project's own libraries:
// @sigstore/bundle parses and checks its shape per version, @sigstore/verify checks the
// signature (message signature or DSSE), the certificate chain against the trusted root's
// Fulcio CAs at the logged time, the transparency log entries (signed entry timestamps and
// inclusion proofs with signed checkpoints, against the root's log keys), SCTs when the root
// names CT logs, and that the log entry records this very signature. Custody adds only
// policy: which keys or identities it trusts, that a keyless signature's time is one the
// log signed, and what an in-toto statement must say (done by the callers).
//
// Key-based bundles (what `custody sign --bundle` and `cosign sign --key` write) verify
// against the given public keys; their log entries are checked when a trusted root is given,
// and ignored otherwise (offline, as cosign --insecure-ignore-tlog).
// Everything sigstore is imported on first use: commands that meet no bundle never load it.
import type { KeyObject } from 'node:crypto';
import { publicKeyId } from '../sigstore/keys.ts';
import { describeMatcher, matches, type CertificateIdentity } from '../keyless/identity.ts';
import type { KeylessTrust } from '../keyless/trusted-root.ts';
import { IN_TOTO_PAYLOAD_TYPE, type InTotoStatement } from './bundle-types.ts';

export interface BundleTrust {
  /** Public keys for key-based bundles. */
  readonly keys?: readonly KeyObject[];
  /** The trusted root (keyless, and log entries of key-based bundles). */
  readonly root?: KeylessTrust;
  /** Required of a certificate-based bundle's signer. */
  readonly identity?: CertificateIdentity;
  /** A key-based bundle must also carry a log entry the root's logs signed (policy.json rekorPublicKey*). */
  readonly requireLog?: boolean;
}

export type BundleSigner =
  | { readonly kind: 'key'; readonly keyId: string }
  | { readonly kind: 'certificate'; readonly subject: string; readonly issuer: string | undefined };

export interface VerifiedBundle {
  readonly mediaType: string;
  readonly content: 'dsse-envelope' | 'message-signature';
  /** The in-toto statement a DSSE envelope carries. */
  readonly statement?: InTotoStatement;
  /** For a message signature: the signed digest (hex) and its algorithm. */
  readonly messageDigest?: { readonly algorithm: string; readonly hex: string };
  readonly signer: BundleSigner;
  /** When the transparency log recorded it (ms), when it was logged and checked. */
  readonly loggedAt?: number;
}

export class BundleVerificationError extends Error {
  override readonly name = 'BundleVerificationError';
}

/** Largest bundle read from a registry (certificates, proofs and a statement fit easily). */
export const MAX_BUNDLE_BYTES = 4 * 1024 * 1024;

/**
 * Verifies the bundle; `artifact` is what a message signature signs (the bytes whose
 * digest the bundle names). Throws BundleVerificationError naming why it does not verify.
 */
export async function verifyBundle(json: unknown, trust: BundleTrust, artifact?: Buffer): Promise<VerifiedBundle> {
  const [{ bundleFromJSON }, sigverify] = await Promise.all([import('@sigstore/bundle'), import('@sigstore/verify')]);
  let bundle;
  try {
    bundle = bundleFromJSON(json);
  } catch (error) {
    throw new BundleVerificationError(`invalid bundle: ${describe(error)}`);
  }
  const content = bundle.content.$case === 'dsseEnvelope' ? 'dsse-envelope' : 'message-signature';
  if (content === 'message-signature' && artifact === undefined) throw new BundleVerificationError('a message-signature bundle needs the signed artifact');
  let entity;
  try {
    entity = sigverify.toSignedEntity(bundle, artifact);
  } catch (error) {
    throw new BundleVerificationError(`invalid bundle: ${describe(error)}`);
  }

  let signer: BundleSigner;
  if (entity.key.$case === 'public-key') {
    const keys = trust.keys ?? [];
    if (keys.length === 0) throw new BundleVerificationError('signed with a key, and no public key was given to verify it');
    // Offline and without a root, the log cannot be checked: it is ignored, never half-trusted.
    const checked = trust.root === undefined ? { ...entity, tlogEntries: [], timestamps: [] } : entity;
    const options = { tlogThreshold: trust.requireLog === true ? 1 : 0, ctlogThreshold: 0, timestampThreshold: 0 };
    let failure: unknown;
    const key = keys.find((candidate) => {
      const material = { ...(trust.root?.material ?? emptyMaterial()), publicKey: () => ({ publicKey: candidate, validFor: () => true }) };
      try {
        new sigverify.Verifier(material, options).verify(checked);
        return true;
      } catch (error) {
        failure = error;
        return false;
      }
    });
    if (key === undefined) {
      const reason = describe(failure);
      throw new BundleVerificationError(/signature verification failed/.test(reason) ? 'not signed by a given key (the signature does not verify with the public key)' : reason);
    }
    signer = { kind: 'key', keyId: publicKeyId(key) };
  } else {
    const root = trust.root;
    const identity = trust.identity;
    if (root === undefined || identity === undefined) throw new BundleVerificationError('signed keyless (a Fulcio certificate): verifying it needs a trusted root and a certificate identity');
    const rfc3161 = bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps?.length ?? 0;
    // The certificate is judged at the time the log recorded the signature: that time
    // must be one the log signed (a signed entry timestamp) or a timestamp authority's.
    if (rfc3161 === 0 && !bundle.verificationMaterial.tlogEntries.some((entry) => entry.inclusionPromise !== undefined)) {
      throw new BundleVerificationError('no signed entry timestamp: the time the log recorded the signature is not signed, so the certificate cannot be judged at it');
    }
    let verified;
    try {
      verified = new sigverify.Verifier(root.material, { tlogThreshold: 1, ctlogThreshold: root.requireSct ? 1 : 0, timestampThreshold: 1 }).verify(entity);
    } catch (error) {
      throw new BundleVerificationError(describe(error));
    }
    const subject = verified.identity?.subjectAlternativeName;
    const issuer = verified.identity?.extensions?.issuer;
    if (!matches(identity.subject, subject)) throw new BundleVerificationError(`certificate identity mismatch: the certificate is for "${subject ?? 'nobody'}", not ${describeMatcher(identity.subject)}`);
    if (!matches(identity.issuer, issuer)) throw new BundleVerificationError(`certificate issuer mismatch: the certificate's OIDC issuer is "${issuer ?? 'none'}", not ${describeMatcher(identity.issuer)}`);
    signer = { kind: 'certificate', subject: subject!, issuer };
  }

  const times = entity.timestamps.flatMap((stamp) => (stamp.$case === 'transparency-log' ? [Number(stamp.tlogEntry.integratedTime) * 1000] : []));
  const loggedAt = signer.kind === 'key' && trust.root === undefined ? undefined : times[0];
  const base = { mediaType: bundle.mediaType, content, signer, ...(loggedAt === undefined ? {} : { loggedAt }) } as const;
  if (bundle.content.$case === 'messageSignature') {
    const digest = bundle.content.messageSignature.messageDigest;
    return { ...base, messageDigest: { algorithm: hashName(digest?.algorithm), hex: Buffer.from(digest?.digest ?? []).toString('hex') } };
  }
  const envelope = bundle.content.dsseEnvelope;
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) throw new BundleVerificationError(`the DSSE envelope carries ${envelope.payloadType}, not an in-toto statement (${IN_TOTO_PAYLOAD_TYPE})`);
  return { ...base, statement: parseStatement(Buffer.from(envelope.payload)) };
}

function parseStatement(payload: Buffer): InTotoStatement {
  let statement: Partial<InTotoStatement>;
  try {
    statement = JSON.parse(payload.toString('utf8')) as Partial<InTotoStatement>;
  } catch {
    throw new BundleVerificationError('the signed in-toto statement is not JSON');
  }
  if (typeof statement !== 'object' || statement === null || typeof statement._type !== 'string' || typeof statement.predicateType !== 'string' || !Array.isArray(statement.subject)) {
    throw new BundleVerificationError('the signed in-toto statement lacks _type, subject or predicateType');
  }
  for (const subject of statement.subject) {
    if (typeof subject !== 'object' || subject === null || typeof subject.digest !== 'object' || subject.digest === null) throw new BundleVerificationError('an in-toto subject has no digest');
  }
  return statement as InTotoStatement;
}

/** Whether a statement is about `digest` (`sha256:<hex>`): one of its subjects names it. */
export function statementNames(statement: InTotoStatement, digest: string): boolean {
  const [algorithm, hex] = digest.split(':');
  return statement.subject.some((subject) => algorithm !== undefined && subject.digest[algorithm] === hex);
}

function emptyMaterial() {
  return { certificateAuthorities: [], timestampAuthorities: [], tlogs: [], ctlogs: [] };
}

function hashName(algorithm: number | undefined): string {
  // sigstore's HashAlgorithm enum: 1 SHA2_256, 2 SHA2_384, 3 SHA2_512.
  return algorithm === 2 ? 'sha384' : algorithm === 3 ? 'sha512' : 'sha256';
}

/** The library's message, with the cause that says what exactly failed. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  const detail = cause instanceof Error && cause.message !== error.message ? `: ${cause.message}` : '';
  const fields = (error as { fields?: unknown }).fields;
  const invalid = Array.isArray(fields) && fields.length > 0 ? ` (${fields.join(', ')})` : '';
  return `${error.message}${detail}${invalid}`;
}
