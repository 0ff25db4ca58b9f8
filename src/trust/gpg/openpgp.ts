// Public entry points for GPG simple signing (containers-signature(5)).
//
// Signing shells out to the real `gpg` with the user's keyring, as containers/image does
// through gpgme: private keys, agents and smartcards are gpg's business. Verification is
// OpenPGP.js (the audited `openpgp` library, loaded on first use; see library.ts and
// verify.ts), so neither the registry nor the client needs gpg installed to check a
// signature, and keys of both RFC 4880 (v4, what gpg makes) and RFC 9580 (v6) are read.
export type { PublicKeyring, PublicKey } from './keys.ts';
export { parseKeyring, readKeyringFile, mergeKeyrings, keyringFingerprints, KeyringError } from './keys.ts';
export { verifySimpleSigning, verifyOpenPgpMessage, readUnverifiedMessage, SignatureVerificationError } from './verify.ts';
export type { VerifiedMessage, UnverifiedMessage } from './verify.ts';
export { buildSimpleSigningPayload, parseSimpleSigningPayload, ATOMIC_SIGNATURE_TYPE } from './simple-signing.ts';
export type { VerifyOptions } from './verify.ts';
export { signSimpleSigning } from './sign.ts';
export type { SignOptions } from './sign.ts';
