// The real SignatureVerifiers for policy evaluation: the sigstore engineer's key loading,
// signature check and payload parser, and the GPG engineer's OpenPGP verifier. Kept apart
// from evaluate.ts so evaluation can be tested with fixture verifiers, and so the policy
// decides digest and identity itself (signedIdentity has more forms than `custody verify`).
import type { SigstoreSignature, VerifiedSignature } from '../../core/signatures.ts';
import { mergeKeyrings, parseKeyring, SignatureVerificationError as GpgVerificationError, verifySimpleSigning } from '../gpg/openpgp.ts';
import { loadPublicKeys } from '../sigstore/keys.ts';
import { checkSignedPayload, verifyBytes } from '../sigstore/verify.ts';
import { UntrustedKeyError, type SignatureVerifiers } from './evaluate.ts';

async function verifySigstore(signature: SigstoreSignature, publicKeys: readonly Buffer[]): Promise<VerifiedSignature> {
  const keys = publicKeys.flatMap((key) => loadPublicKeys(key.toString('utf8')));
  const key = keys.find((candidate) => verifyBytes(candidate, signature.payload, signature.signature));
  if (key === undefined) throw new UntrustedKeyError('the signature does not verify with any of the public keys');
  // Digest and identity are the policy's to judge (signedIdentity has more forms).
  return checkSignedPayload(signature, key, null);
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

export const realVerifiers: SignatureVerifiers = { verifySigstore, verifySimpleSigning: verifyGpg };
