// `custody verify IMAGE --key PUBKEY`: exit 0 when at least one sigstore signature of the
// image's manifest digest verifies with the key and names the image; otherwise exit 1
// with one line saying what failed (no signatures, signed by another key, digest
// mismatch, identity mismatch). Signatures are read from the `.sig` tag and the
// referrers (or a dir: image's signature-N files). Identity: with --identity REF the
// signature must name REF; without it, the image's repository (and its tag when both
// name one). --format json prints the verified signatures.
import { readFile } from 'node:fs/promises';
import { UsageError } from '../core/errors.ts';
import { CLIENT_FLAGS_USAGE, parseClientArgs } from './arguments.ts';
import { parseReference } from '../client/reference.ts';
import type { IdentityRequirement } from '../trust/sigstore/identity.ts';
import { readImageSignatures } from '../trust/sigstore/image-signatures.ts';
import { openSignableImage } from '../trust/sigstore/image-target.ts';
import { loadPublicKeys } from '../trust/sigstore/keys.ts';
import { requireVerified, verifySigstoreSignatures } from '../trust/sigstore/verify.ts';
import type { Command } from './main.ts';
import type { VerifiedSignature } from '../core/signatures.ts';
import { identityMatches } from '../trust/sigstore/identity.ts';
import type { SignableImage } from '../trust/sigstore/image-target.ts';
import { parseKeyring, SignatureVerificationError as GpgVerificationError, verifySimpleSigning } from '../trust/gpg/openpgp.ts';
import { readGpgSignatures } from '../trust/gpg/signature-io.ts';
import { loadRegistriesD, registriesDirPath } from '../trust/lookaside/registries-d.ts';

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'verify an image\'s sigstore or GPG signatures with a public key (exit status tells)',
  usage: [
    'Usage: custody verify IMAGE --key PUBKEY [--identity REF] [--format json] [global options]',
    '',
    'IMAGE: docker://NAME (or a bare NAME) or dir:PATH. PUBKEY: a PEM file with one or more',
    'public keys (PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE blocks) for sigstore signatures, or',
    'an OpenPGP keyring (gpg --export, armored or binary) for GPG simple-signing signatures.',
    'Exit 0 when a signature verifies, 1 naming what failed otherwise.',
    '',
    CLIENT_FLAGS_USAGE,
  ].join('\n'),
  async run(args) {
    const { values, positionals, client } = parseClientArgs(args, {
      key: { type: 'string' },
      identity: { type: 'string' },
      format: { type: 'string' },
    });
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing IMAGE' : `unexpected argument "${positionals[1]}"`);
    const keyFile = values.key as string | undefined;
    if (keyFile === undefined) throw new UsageError('missing --key PUBKEY');
    const format = values.format as string | undefined;
    if (format !== undefined && format !== 'json') throw new UsageError(`--format: expected json, got "${format}"`);
    const identityFlag = values.identity as string | undefined;
    let raw: Buffer;
    try {
      raw = await readFile(keyFile);
    } catch (error) {
      throw new Error(`cannot read the public key ${keyFile}: ${(error as Error).message}`);
    }
    // An OpenPGP key (armored, or a binary keyring: its first octet has bit 7 set) selects
    // GPG simple-signing signatures; a PEM key, sigstore ones.
    const gpg = raw.toString('latin1').includes('-----BEGIN PGP PUBLIC KEY BLOCK-----') || (raw.length > 0 && (raw[0]! & 0x80) !== 0);
    const keys = gpg ? [] : loadPublicKeys(raw.toString('utf8'));

    const image = await openSignableImage(positionals[0]!, client, 'verify');
    try {
      let identity: IdentityRequirement | undefined;
      if (identityFlag !== undefined) identity = { reference: parseReference(identityFlag, { defaultTag: false }), explicit: true };
      else if (image.kind === 'docker') identity = { reference: image.reference, explicit: false };
      const digest = image.manifest.digest;
      const verified = gpg ? await verifyGpg(image, raw, digest, identity) : requireVerified(verifySigstoreSignatures(await readImageSignatures(image, digest), keys, digest, identity), digest);
      if (format === 'json') {
        process.stdout.write(`${JSON.stringify(verified.map((entry) => ({ ...entry })), null, 2)}\n`);
      } else {
        for (const entry of verified) {
          process.stderr.write(`Verified ${digest}: signed for ${entry.payload.critical.identity['docker-reference']} by key ${entry.keyId}\n`);
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
