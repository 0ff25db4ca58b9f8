// The real SignatureVerifiers for policy evaluation: the sigstore engineer's key loading,
// signature check and payload parser, and the GPG engineer's OpenPGP verifier. Kept apart
// from evaluate.ts so evaluation can be tested with fixture verifiers, and so the policy
// decides digest and identity itself (signedIdentity has more forms than `custody verify`).
import type { SigstoreSignature, VerifiedSignature } from '../../core/signatures.ts';
import { mergeKeyrings, parseKeyring, SignatureVerificationError as GpgVerificationError, verifySimpleSigning } from '../gpg/openpgp.ts';
import { loadPublicKeys } from '../sigstore/keys.ts';
import { checkSignedPayload, verifyBytes } from '../sigstore/verify.ts';
import { parsePayload, PayloadError } from '../sigstore/payload.ts';
import { BundleVerificationError, verifyBundle } from '../bundle/verify-bundle.ts';
import { COSIGN_CHAIN_ANNOTATION, isKeyless, LegacyBundleError, legacyToBundle } from '../keyless/legacy-bundle.ts';
import { trustFromPolicy, TrustedRootError } from '../keyless/trusted-root.ts';
import { UntrustedKeyError, type FulcioTrust, type SignatureVerifiers } from './evaluate.ts';

async function verifySigstore(signature: SigstoreSignature, publicKeys: readonly Buffer[], rekorPublicKeys?: readonly Buffer[]): Promise<VerifiedSignature> {
  const keys = publicKeys.flatMap((key) => loadPublicKeys(key.toString('utf8')));
  const key = keys.find((candidate) => verifyBytes(candidate, signature.payload, signature.signature));
  if (key === undefined) throw new UntrustedKeyError('the signature does not verify with any of the public keys');
  if (rekorPublicKeys !== undefined) {
    // The key signed it; the log must also have recorded it (its signed entry timestamp).
    const root = await trustFromPolicy(undefined, rekorPublicKeys.map((pem) => pem.toString('utf8')), 'rekorPublicKey');
    await checked(verifyBundle(legacyToBundle(signature), { keys: [key], root, requireLog: true }, signature.payload));
  }
  // Digest and identity are the policy's to judge (signedIdentity has more forms).
  return checkSignedPayload(signature, key, null);
}

async function verifySigstoreFulcio(signature: SigstoreSignature, fulcio: FulcioTrust): Promise<VerifiedSignature> {
  if (!isKeyless(signature)) throw new UntrustedKeyError('the signature carries no Fulcio certificate');
  const root = await trustFromPolicy(fulcio.caCertificates.toString('utf8'), fulcio.rekorPublicKeys.map((pem) => pem.toString('utf8')), 'fulcio', signature.annotations[COSIGN_CHAIN_ANNOTATION] ?? '');
  const identity = { subject: { exact: fulcio.subjectEmail }, issuer: { exact: fulcio.oidcIssuer } };
  const verified = await checked(verifyBundle(legacyToBundle(signature), { root, identity }, signature.payload));
  let payload;
  try {
    payload = parsePayload(signature.payload);
  } catch (error) {
    if (error instanceof PayloadError) throw new Error(`invalid signed payload: ${error.message}`);
    throw error;
  }
  const signer = verified.signer.kind === 'certificate' ? `${verified.signer.subject} (issuer ${verified.signer.issuer ?? 'unknown'})` : 'unknown';
  return { format: 'sigstore', payload, keyId: signer, ...(verified.loggedAt === undefined ? {} : { signedAt: verified.loggedAt }) };
}

/** Bundle and annotation failures are reasons, said as they are. */
async function checked<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    if (error instanceof BundleVerificationError || error instanceof LegacyBundleError || error instanceof TrustedRootError) throw new Error(error.message);
    throw error;
  }
}

/** The OpenPGP verifier's messages that mean "not one of these keys" rather than "not a valid signature". */
const GPG_KEY_MISMATCH = /not in the keyring|does not verify/;

async function verifyGpg(message: Buffer, keyring: readonly Buffer[]): Promise<VerifiedSignature> {
  const merged = mergeKeyrings(...(await Promise.all(keyring.map((data) => parseKeyring(data)))));
  try {
    return await verifySimpleSigning(message, merged);
  } catch (error) {
    if (error instanceof GpgVerificationError && GPG_KEY_MISMATCH.test(error.message)) throw new UntrustedKeyError(error.message);
    throw error;
  }
}

export const realVerifiers: SignatureVerifiers = { verifySigstore, verifySigstoreFulcio, verifySimpleSigning: verifyGpg };
