// Public entry points for GPG simple signing (containers-signature(5)).
//
// Signing shells out to the real `gpg` with the user's keyring, as containers/image does
// through gpgme: private keys, agents and smartcards are gpg's business. Verification is
// our own OpenPGP code over node:crypto (see verify.ts) so neither the registry nor the
// client needs gpg installed to check a signature.
export type { PublicKeyring, PublicKey } from './keys.ts';
export { parseKeyring, readKeyringFile, mergeKeyrings, keyringFingerprints } from './keys.ts';
export { verifySimpleSigning, verifyOpenPgpMessage, readUnverifiedMessage, SignatureVerificationError } from './verify.ts';
export type { VerifiedMessage, UnverifiedMessage } from './verify.ts';
export { buildSimpleSigningPayload, parseSimpleSigningPayload, ATOMIC_SIGNATURE_TYPE } from './simple-signing.ts';
export type { VerifyOptions } from './verify.ts';
export { signSimpleSigning } from './sign.ts';
export type { SignOptions } from './sign.ts';
