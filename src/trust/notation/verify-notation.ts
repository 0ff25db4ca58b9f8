// One notation signature judged against trust: the envelope's own signature (envelope.ts),
// the signed target being this manifest, the chain leading to a trusted certificate
// (chain.ts), the signing identity trusted, and the signer's expiry honoured.
import type { X509Certificate } from 'node:crypto';
import { NotationError, verifyEnvelope } from './envelope.ts';
import { oneLine, verifyChain } from './chain.ts';

export interface VerifiedNotation {
  readonly signer: string;
  readonly signingTime: number | undefined;
  readonly targetDigest: string;
}

export async function verifyNotationSignature(
  envelope: Buffer,
  manifestDigest: string,
  anchors: readonly X509Certificate[],
  options: { readonly identityTrusted?: (subject: string) => boolean; readonly enforceExpiry?: boolean; readonly now?: Date } = {},
): Promise<VerifiedNotation> {
  const verified = await verifyEnvelope(envelope);
  if (verified.target.digest !== manifestDigest) throw new NotationError(`digest mismatch: the signature is for ${verified.target.digest}, the image is ${manifestDigest}`);
  const now = options.now ?? new Date();
  if ((options.enforceExpiry ?? true) && verified.expiry !== undefined && verified.expiry < now.getTime()) throw new NotationError(`the signature expired at ${new Date(verified.expiry).toISOString()}`);
  const leaf = verifyChain(verified.chain, anchors, now);
  const signer = oneLine(leaf.subject);
  if (options.identityTrusted && !options.identityTrusted(leaf.subject)) throw new NotationError(`the signing identity "${signer}" is not a trusted identity of the policy`);
  return { signer, signingTime: verified.signingTime, targetDigest: verified.target.digest };
}
