// `custody verify IMAGE --key PUBKEY | keyless flags | --notation-trust-policy FILE`: exit 0
// when at least one signature of the image's manifest digest verifies and names the image;
// otherwise exit 1 with one line saying what failed (no signatures, signed by another key,
// digest mismatch, identity mismatch, certificate identity, log proof...). Sigstore
// signatures are read from the `.sig` tag, the cosign referrers and sigstore bundles (or a
// dir: image's signature-N files). Identity: with --identity REF a legacy signature must
// name REF; without it, the image's repository (and its tag when both name one); bundles
// name the digest only. --format json prints the verified signatures.
import { UsageError } from '../core/errors.ts';
import { CLIENT_FLAGS_USAGE, parseClientArgs } from './arguments.ts';
import { parseReference } from '../client/reference.ts';
import type { IdentityRequirement } from '../trust/sigstore/identity.ts';
import { readImageSignatures } from '../trust/sigstore/image-signatures.ts';
import { openSignableImage } from '../trust/sigstore/image-target.ts';
import { readBundles } from '../trust/bundle/bundle-attachments.ts';
import { ImageVerificationError, verifyImage } from '../trust/bundle/image-verify.ts';
import { trustFromFlags, VERIFY_FLAGS } from './verify-flags.ts';
import type { Command } from './main.ts';
import type { VerifiedSignature } from '../core/signatures.ts';
import { identityMatches } from '../trust/sigstore/identity.ts';
import type { SignableImage } from '../trust/sigstore/image-target.ts';
import { parseKeyring, SignatureVerificationError as GpgVerificationError, verifySimpleSigning } from '../trust/gpg/openpgp.ts';
import { readGpgSignatures } from '../trust/gpg/signature-io.ts';
import { loadRegistriesD, registriesDirPath } from '../trust/lookaside/registries-d.ts';

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'verify an image\'s signatures: sigstore (key, keyless, bundles), GPG or notation (exit status tells)',
  usage: [
    'Usage: custody verify IMAGE --key PUBKEY [--identity REF] [--format json] [global options]',
    '       custody verify IMAGE --certificate-identity[-regexp] ID --certificate-oidc-issuer[-regexp] ISSUER',
    '                            [--trusted-root FILE] [--identity REF]',
    '       custody verify IMAGE --notation-trust-policy FILE [--trust-store DIR]',
    '',
    'IMAGE: docker://NAME (or a bare NAME) or dir:PATH. PUBKEY: a PEM file with one or more',
    'public keys (PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE blocks) for sigstore signatures, or',
    'an OpenPGP keyring (gpg --export, armored or binary) for GPG simple-signing signatures.',
    'Sigstore signatures are read from the .sig tag, cosign referrers and sigstore bundles',
    '(v0.1-v0.3, OCI referrers as cosign v3 writes them). Keyless signatures (a Fulcio',
    'certificate and a Rekor entry) verify offline against a trusted root (sigstore\'s',
    'trusted_root.json: --trusted-root, else CUSTODY_TRUSTED_ROOT, else',
    '~/.config/custody/trusted_root.json) and must name the certificate identity and issuer',
    '(exact, or an unanchored regular expression with -regexp, as cosign). Notation signatures',
    'verify against notation\'s trustpolicy.json and trust store (default',
    '~/.config/notation/truststore). Exit 0 when a signature verifies, 1 naming what failed.',
    '',
    CLIENT_FLAGS_USAGE,
  ].join('\n'),
  async run(args) {
    const { values, positionals, client } = parseClientArgs(args, { ...VERIFY_FLAGS, identity: { type: 'string' }, format: { type: 'string' } });
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing IMAGE' : `unexpected argument "${positionals[1]}"`);
    const format = values.format as string | undefined;
    if (format !== undefined && format !== 'json') throw new UsageError(`--format: expected json, got "${format}"`);
    const trust = await trustFromFlags(values);
    const identityFlag = values.identity as string | undefined;

    const image = await openSignableImage(positionals[0]!, client, 'verify');
    try {
      let identity: IdentityRequirement | undefined;
      if (identityFlag !== undefined) identity = { reference: parseReference(identityFlag, { defaultTag: false }), explicit: true };
      else if (image.kind === 'docker') identity = { reference: image.reference, explicit: false };
      const digest = image.manifest.digest;
      if (trust.kind === 'gpg') {
        const verified = await verifyGpg(image, trust.keyring, digest, identity);
        if (format === 'json') process.stdout.write(`${JSON.stringify(verified.map((entry) => ({ ...entry })), null, 2)}\n`);
        else for (const entry of verified) process.stderr.write(`Verified ${digest}: signed for ${entry.payload.critical.identity['docker-reference']} by key ${entry.keyId}\n`);
        return 0;
      }
      if (trust.kind === 'notation') {
        const { verifyNotationImage } = await import('../trust/notation/image-notation.ts');
        const verified = await verifyNotationImage(image, trust.policy, trust.trustStore);
        if (format === 'json') process.stdout.write(`${JSON.stringify(verified, null, 2)}\n`);
        else for (const entry of verified) process.stderr.write(`Verified ${digest}: notation signature by "${entry.signer}" (trust policy ${entry.policy})\n`);
        return 0;
      }
      const signatures = await readImageSignatures(image, digest);
      const bundles = image.kind === 'docker' ? await readBundles(image.target, digest) : [];
      let verified;
      try {
        verified = await verifyImage(image.manifest, signatures, bundles, trust.sigstore, identity);
      } catch (error) {
        if (error instanceof ImageVerificationError) throw new Error(error.message);
        throw error;
      }
      if (format === 'json') {
        process.stdout.write(`${JSON.stringify(verified.map((entry) => (entry.format === 'legacy' && entry.bundle === undefined ? { ...entry.signature } : { format: entry.format === 'legacy' ? 'sigstore' : 'sigstore-bundle', signer: entry.signer, ...(entry.signature ? { payload: entry.signature.payload } : {}), ...entry.bundle })), null, 2)}\n`);
      } else {
        for (const entry of verified) {
          const what = entry.format === 'bundle' ? `bundle (${entry.bundle!.content}${entry.bundle!.loggedAt === undefined ? '' : `, logged ${new Date(entry.bundle!.loggedAt).toISOString()}`})` : `signed for ${entry.reference}`;
          process.stderr.write(`Verified ${digest}: ${what} by ${entry.signer}\n`);
        }
      }
      return 0;
    } finally {
      image.close();
    }
  },
};

/**
 * GPG simple signing: the image's signatures (the registry's signature extension or the
 * registries.d lookaside; signature-N files for dir:) verified against the keyring, then
 * the same digest and identity checks as for sigstore.
 */
async function verifyGpg(image: SignableImage, keyringBytes: Buffer, digest: string, identity: IdentityRequirement | undefined): Promise<VerifiedSignature[]> {
  const keyring = await parseKeyring(keyringBytes);
  const messages =
    image.kind === 'dir'
      ? await readGpgSignatures({ kind: 'dir', path: image.path }, digest)
      : await readGpgSignatures(
          { kind: 'docker', reference: { registry: image.reference.registry, repository: image.target.repository, digest }, client: image.target.client, registriesD: await loadRegistriesD(await registriesDirPath()) },
          digest,
        );
  if (messages.length === 0) throw new Error(`${digest}: no signatures`);
  const verified: VerifiedSignature[] = [];
  let failure = 'signed by another key (or the signed payload was changed)';
  for (const { message } of messages) {
    let signature: VerifiedSignature;
    try {
      signature = await verifySimpleSigning(message, keyring);
    } catch (error) {
      if (!(error instanceof GpgVerificationError)) throw error;
      continue;
    }
    if (signature.payload.critical.image['docker-manifest-digest'] !== digest) {
      failure = `digest mismatch: a signature is for ${signature.payload.critical.image['docker-manifest-digest']}`;
      continue;
    }
    if (identity !== undefined && !identityMatches(signature.payload.critical.identity['docker-reference'], identity)) {
      failure = `identity mismatch: a signature names ${signature.payload.critical.identity['docker-reference']}`;
      continue;
    }
    verified.push(signature);
  }
  if (verified.length === 0) throw new Error(`${digest}: ${failure}`);
  return verified;
}
