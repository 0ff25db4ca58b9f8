// `custody verify-attestation IMAGE --type TYPE (--key PUBKEY | keyless flags)`, as cosign
// names it: the image's sigstore bundles whose DSSE envelope carries an in-toto statement
// of that predicate type about its manifest digest, verified; each verified statement is
// printed on standard output (one JSON line each). Exit 1 naming what failed otherwise.
import { UsageError } from '../core/errors.ts';
import { CLIENT_FLAGS_USAGE, parseClientArgs } from './arguments.ts';
import { readBundles } from '../trust/bundle/bundle-attachments.ts';
import { PREDICATE_TYPES, predicateTypeOf } from '../trust/bundle/bundle-types.ts';
import { describeSigner } from '../trust/bundle/image-verify.ts';
import { BundleVerificationError, statementNames, verifyBundle } from '../trust/bundle/verify-bundle.ts';
import { openSignableImage } from '../trust/sigstore/image-target.ts';
import type { Command } from './main.ts';
import { trustFromFlags, VERIFY_FLAGS } from './verify-flags.ts';

export const verifyAttestationCommand: Command = {
  name: 'verify-attestation',
  summary: 'verify an image\'s in-toto attestations (sigstore bundles, key or keyless)',
  usage: [
    'Usage: custody verify-attestation IMAGE --type TYPE --key PUBKEY [global options]',
    '       custody verify-attestation IMAGE --type TYPE --certificate-identity[-regexp] ID',
    '                                  --certificate-oidc-issuer[-regexp] ISSUER [--trusted-root FILE]',
    '',
    `TYPE: ${Object.keys(PREDICATE_TYPES).join(', ')}, or a predicate type URI (default custom).`,
    'Prints each verified in-toto statement as one JSON line; exit 1 naming what failed.',
    '',
    CLIENT_FLAGS_USAGE,
  ].join('\n'),
  async run(args) {
    const { values, positionals, client } = parseClientArgs(args, { ...VERIFY_FLAGS, type: { type: 'string' } });
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing IMAGE' : `unexpected argument "${positionals[1]}"`);
    const type = (values.type as string | undefined) ?? 'custom';
    const predicateType = predicateTypeOf(type);
    if (predicateType === undefined) throw new UsageError(`--type: expected ${Object.keys(PREDICATE_TYPES).join(', ')} or a predicate type URI, got "${type}"`);
    const trust = await trustFromFlags(values);
    if (trust.kind !== 'sigstore') throw new UsageError('attestations are sigstore bundles: give --key PUBKEY (PEM) or the certificate flags');
    const image = await openSignableImage(positionals[0]!, client, 'verify');
    try {
      if (image.kind !== 'docker') throw new UsageError('attestations are registry referrers: give a docker:// image');
      const digest = image.manifest.digest;
      const bundles = (await readBundles(image.target, digest)).filter((bundle) => bundle.annotations['dev.sigstore.bundle.predicateType'] === undefined || bundle.annotations['dev.sigstore.bundle.predicateType'] === predicateType);
      if (bundles.length === 0) throw new Error(`no attestations: no ${predicateType} attestation found for ${digest}`);
      const reasons: string[] = [];
      let count = 0;
      for (const stored of bundles) {
        try {
          const verified = await verifyBundle(JSON.parse(stored.bytes.toString('utf8')), trust.sigstore);
          const statement = verified.statement;
          if (statement === undefined) throw new BundleVerificationError('a message signature, not an attestation');
          // The annotation is the uploader's word; the signed statement is what counts.
          if (statement.predicateType !== predicateType) throw new BundleVerificationError(`an attestation of type ${statement.predicateType}`);
          if (!statementNames(statement, digest)) throw new BundleVerificationError(`digest mismatch: the statement is not about ${digest}`);
          process.stdout.write(`${JSON.stringify(statement)}\n`);
          process.stderr.write(`Verified ${digest}: ${predicateType} attestation by ${describeSigner(verified.signer)}\n`);
          count++;
        } catch (error) {
          if (error instanceof SyntaxError) reasons.push(`bundle ${stored.manifest} is not JSON`);
          else if (error instanceof BundleVerificationError) reasons.push(`bundle ${stored.manifest}: ${error.message}`);
          else throw error;
        }
      }
      if (count === 0) throw new Error(`${digest}: no ${predicateType} attestation verified: ${reasons.join('; ')}`);
      return 0;
    } finally {
      image.close();
    }
  },
};
