// `custody verify IMAGE --key PUBKEY`: exit 0 when at least one sigstore signature of the
// image's manifest digest verifies with the key and names the image; otherwise exit 1
// with one line saying what failed (no signatures, signed by another key, digest
// mismatch, identity mismatch). Signatures are read from the `.sig` tag and the
// referrers (or a dir: image's signature-N files). Identity: with --identity REF the
// signature must name REF; without it, the image's repository (and its tag when both
// name one). --format json prints the verified signatures.
import { readFile } from 'node:fs/promises';
import { UsageError } from '../core/errors.ts';
import { CLIENT_FLAGS_USAGE, parseClientArgs } from '../client/image-source.ts';
import { parseReference } from '../client/reference.ts';
import type { IdentityRequirement } from '../trust/sigstore/identity.ts';
import { readImageSignatures } from '../trust/sigstore/image-signatures.ts';
import { openSignableImage } from '../trust/sigstore/image-target.ts';
import { loadPublicKeys } from '../trust/sigstore/keys.ts';
import { requireVerified, verifySigstoreSignatures } from '../trust/sigstore/verify.ts';
import type { Command } from './main.ts';

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'verify an image\'s sigstore signatures with a public key (exit status tells)',
  usage: [
    'Usage: custody verify IMAGE --key PUBKEY [--identity REF] [--format json] [global options]',
    '',
    'IMAGE: docker://NAME (or a bare NAME) or dir:PATH. PUBKEY: a PEM file with one or more',
    'public keys (PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE blocks). Exit 0 when a signature',
    'verifies, 1 naming what failed otherwise.',
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
    let text: string;
    try {
      text = await readFile(keyFile, 'utf8');
    } catch (error) {
      throw new Error(`cannot read the public key ${keyFile}: ${(error as Error).message}`);
    }
    const keys = loadPublicKeys(text);

    const image = await openSignableImage(positionals[0]!, client, 'verify');
    try {
      let identity: IdentityRequirement | undefined;
      if (identityFlag !== undefined) identity = { reference: parseReference(identityFlag, { defaultTag: false }), explicit: true };
      else if (image.kind === 'docker') identity = { reference: image.reference, explicit: false };
      const digest = image.manifest.digest;
      const signatures = await readImageSignatures(image, digest);
      const verified = requireVerified(verifySigstoreSignatures(signatures, keys, digest, identity), digest);
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
