// `custody attest IMAGE --predicate FILE --type TYPE --key FILE`: an in-toto statement
// about the image's manifest digest (the predicate read from FILE, its type from cosign's
// shorthands or a URI), signed as a DSSE envelope with the cosign key and attached as a
// sigstore bundle referrer, as `cosign attest` (v3) does. `custody verify-attestation`
// checks it.
import { readFile } from 'node:fs/promises';
import { UsageError } from '../core/errors.ts';
import { CLIENT_FLAGS_USAGE, parseClientArgs } from './arguments.ts';
import { writeBundle } from '../trust/bundle/bundle-attachments.ts';
import { PREDICATE_TYPES, predicateTypeOf } from '../trust/bundle/bundle-types.ts';
import { createDsseBundle, statementFor } from '../trust/bundle/sign-bundle.ts';
import { descriptorOf, openSignableImage } from '../trust/sigstore/image-target.ts';
import { KeyError, loadPrivateKey } from '../trust/sigstore/keys.ts';
import { readPassword } from './password-input.ts';
import type { Command } from './main.ts';

/** A predicate is a document, not a layer: 16 MiB is far above real SBOMs and provenance. */
const MAX_PREDICATE_BYTES = 16 * 1024 * 1024;

export const attestCommand: Command = {
  name: 'attest',
  summary: 'attach a signed in-toto attestation (SLSA provenance, SBOM, ...) to an image',
  usage: [
    'Usage: custody attest IMAGE --predicate FILE --type TYPE --key FILE [--password-stdin] [global options]',
    '',
    `TYPE: ${Object.keys(PREDICATE_TYPES).join(', ')}, or a predicate type URI.`,
    'The predicate (JSON) becomes an in-toto statement about the image\'s manifest digest,',
    'signed with the cosign key as a DSSE envelope in a sigstore bundle (v0.3) and attached',
    'as an OCI referrer (through the referrers tag schema on a registry without the API).',
    '',
    CLIENT_FLAGS_USAGE,
  ].join('\n'),
  async run(args) {
    const { values, positionals, client } = parseClientArgs(args, {
      predicate: { type: 'string' },
      type: { type: 'string' },
      key: { type: 'string' },
      'password-stdin': { type: 'boolean' },
    });
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing IMAGE' : `unexpected argument "${positionals[1]}"`);
    const predicateFile = values.predicate as string | undefined;
    const keyFile = values.key as string | undefined;
    const type = (values.type as string | undefined) ?? 'custom';
    if (predicateFile === undefined) throw new UsageError('missing --predicate FILE');
    if (keyFile === undefined) throw new UsageError('missing --key FILE (Custody signs attestations with a key; keyless signing needs Fulcio and Rekor online)');
    const predicateType = predicateTypeOf(type);
    if (predicateType === undefined) throw new UsageError(`--type: expected ${Object.keys(PREDICATE_TYPES).join(', ')} or a predicate type URI, got "${type}"`);
    let raw: Buffer;
    try {
      raw = await readFile(predicateFile);
    } catch (error) {
      throw new Error(`cannot read the predicate ${predicateFile}: ${(error as Error).message}`);
    }
    if (raw.length > MAX_PREDICATE_BYTES) throw new Error(`${predicateFile}: larger than ${MAX_PREDICATE_BYTES} bytes`);
    let predicate: unknown;
    try {
      predicate = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new Error(`${predicateFile}: the predicate must be JSON`);
    }
    let pem: string;
    try {
      pem = await readFile(keyFile, 'utf8');
    } catch (error) {
      throw new Error(`cannot read the private key ${keyFile}: ${(error as Error).message}`);
    }
    const password = await readPassword({ passwordStdin: values['password-stdin'] === true });
    const privateKey = await loadPrivateKey(pem, password).catch((error: unknown) => {
      throw error instanceof KeyError ? new Error(`${keyFile}: ${error.message}`) : error;
    });
    const image = await openSignableImage(positionals[0]!, client, 'sign');
    try {
      if (image.kind !== 'docker') throw new UsageError('attestations are stored as registry referrers: give a docker:// image');
      const bundle = await createDsseBundle(privateKey, statementFor(image.manifest.digest, predicateType, predicate));
      const referrer = await writeBundle(image.target, descriptorOf(image.manifest), bundle, predicateType);
      process.stderr.write(`Attested ${image.manifest.digest}: ${predicateType} (bundle ${referrer})\n`);
      return 0;
    } finally {
      image.close();
    }
  },
};
