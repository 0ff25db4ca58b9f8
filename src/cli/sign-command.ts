// `custody sign IMAGE --key FILE`: signs an image's manifest digest with a cosign key and
// stores the signature beside the image: in a registry as cosign does (the
// `sha256-<hex>.sig` tag, read by cosign and by skopeo with use-sigstore-attachments, and
// an OCI 1.1 referrer), in a dir: image as containers/image does (`signature-N`).
// An index is signed as a whole; --recursive also signs each platform manifest (cosign's
// flag and default: containers/image verifies a platform through the signed index, and
// cosign verifies a platform digest only with its own signature).
// The identity (critical.identity.docker-reference) defaults to the reference as given,
// fully qualified (with its tag, as skopeo writes it; a digest reference signs the
// repository, as cosign does); --identity overrides it.
import { readFile } from 'node:fs/promises';
import { UsageError } from '../core/errors.ts';
import { type ClientOptions } from '../client/image-resolver.ts';
import { CLIENT_FLAGS_USAGE, parseClientArgs } from './arguments.ts';
import { parseReference } from '../client/reference.ts';
import type { AttachmentMode } from '../trust/sigstore/attachments.ts';
import { descriptorOf, indexChildren, openSignableImage, type ManifestInfo, type SignableImage } from '../trust/sigstore/image-target.ts';
import { hasReferrersApi, writeBundle } from '../trust/bundle/bundle-attachments.ts';
import { COSIGN_SIGN_PREDICATE_TYPE } from '../trust/bundle/bundle-types.ts';
import { createDsseBundle, statementFor } from '../trust/bundle/sign-bundle.ts';
import { writeImageSignature } from '../trust/sigstore/image-signatures.ts';
import { KeyError, loadPrivateKey } from '../trust/sigstore/keys.ts';
import { readPassword } from './password-input.ts';
import { createSigstoreSignature } from '../trust/sigstore/sign.ts';
import type { Command } from './main.ts';
import { signSimpleSigning } from '../trust/gpg/sign.ts';
import { buildSimpleSigningPayload } from '../trust/gpg/simple-signing.ts';
import { writeGpgSignature, type GpgSignatureLocation } from '../trust/gpg/signature-io.ts';
import { loadRegistriesD, registriesDirPath } from '../trust/lookaside/registries-d.ts';

const MODES: Readonly<Record<string, AttachmentMode>> = { legacy: 'tag', 'oci-1-1': 'referrer', both: 'both' };

export const signCommand: Command = {
  name: 'sign',
  summary: 'sign an image (sigstore/cosign key, or GPG with --sign-by)',
  usage: [
    'Usage: custody sign IMAGE --key FILE [--password-stdin] [--identity REF] [--annotation KEY=VALUE]...',
    '                   [--recursive] [--registry-referrers-mode both|legacy|oci-1-1] [--bundle] [global options]',
    '       custody sign IMAGE --sign-by FINGERPRINT [--identity REF]',
    '',
    'IMAGE: docker://NAME (or a bare NAME) or dir:PATH. The private key is cosign\'s',
    'encrypted format; its password comes from --password-stdin, COSIGN_PASSWORD or a',
    'prompt. --identity sets the signed docker-reference (default: IMAGE fully qualified;',
    'required for dir:). --annotation adds to the payload\'s optional section (cosign -a).',
    '--recursive also signs every manifest of an index. Signatures go to the',
    'sha256-<hex>.sig tag (legacy) and as OCI 1.1 referrers (oci-1-1); both by default.',
    '--bundle writes a sigstore bundle instead (v0.3, a DSSE in-toto statement as cosign v3',
    'signs) as an OCI referrer where the registry has the referrers API; elsewhere (and for',
    'dir:) the legacy .sig signature, which every tool reads.',
    '',
    CLIENT_FLAGS_USAGE,
  ].join('\n'),
  async run(args) {
    const { values, positionals, client } = parseClientArgs(args, {
      key: { type: 'string' },
      'password-stdin': { type: 'boolean' },
      identity: { type: 'string' },
      annotation: { type: 'string', short: 'a', multiple: true } as { type: 'string' },
      recursive: { type: 'boolean', short: 'r' },
      'registry-referrers-mode': { type: 'string' },
      'sign-by': { type: 'string' },
      bundle: { type: 'boolean' },
    });
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing IMAGE' : `unexpected argument "${positionals[1]}"`);
    const keyFile = values.key as string | undefined;
    const signBy = values['sign-by'] as string | undefined;
    if ((keyFile === undefined) === (signBy === undefined)) throw new UsageError('give one of --key FILE (sigstore) or --sign-by FINGERPRINT (GPG)');
    if (signBy !== undefined) return signWithGpg(positionals[0]!, client, signBy, values.identity as string | undefined, values.recursive === true);
    const modeName = (values['registry-referrers-mode'] as string | undefined) ?? 'both';
    const mode = MODES[modeName];
    if (mode === undefined) throw new UsageError(`--registry-referrers-mode: expected both, legacy or oci-1-1, got "${modeName}"`);
    const optional = parseAnnotations((values.annotation as unknown as string[] | undefined) ?? []);
    const identityFlag = values.identity as string | undefined;
    if (identityFlag !== undefined) parseReference(identityFlag, { defaultTag: false });

    let pem: string;
    try {
      pem = await readFile(keyFile!, 'utf8');
    } catch (error) {
      throw new Error(`cannot read the private key ${keyFile}: ${(error as Error).message}`);
    }
    const password = await readPassword({ passwordStdin: values['password-stdin'] === true });
    const privateKey = await loadPrivateKey(pem, password).catch((error: unknown) => {
      throw error instanceof KeyError ? new Error(`${keyFile}: ${error.message}`) : error;
    });

    const image = await openSignableImage(positionals[0]!, client, 'sign');
    try {
      const identity = identityFlag ?? defaultIdentity(image);
      const manifests: ManifestInfo[] = [image.manifest];
      if (values.recursive === true) {
        for (const child of indexChildren(image.manifest)) manifests.push(await image.child(child.digest));
      }
      for (const manifest of manifests) {
        if (values.bundle === true && image.kind === 'docker' && (await hasReferrersApi(image.target, manifest.digest))) {
          const bundle = await createDsseBundle(privateKey, statementFor(manifest.digest, COSIGN_SIGN_PREDICATE_TYPE, {}, optional));
          await writeBundle(image.target, descriptorOf(manifest), bundle, COSIGN_SIGN_PREDICATE_TYPE);
          process.stderr.write(`Signed ${manifest.digest} (sigstore bundle)\n`);
          continue;
        }
        if (values.bundle === true) process.stderr.write(`${image.kind === 'dir' ? 'dir:' : 'the registry'} has no referrers API: writing the legacy .sig signature\n`);
        const signature = createSigstoreSignature(privateKey, { identity, manifestDigest: manifest.digest, optional });
        await writeImageSignature(image, manifest, signature, values.bundle === true ? 'tag' : mode);
        process.stderr.write(`Signed ${manifest.digest} as ${identity}\n`);
      }
      return 0;
    } finally {
      image.close();
    }
  },
};

/**
 * GPG simple signing (containers-signature(5)): gpg signs the payload with the user's
 * keyring; the signature goes to the registry's signature extension (or the registries.d
 * lookaside when the registry has none), or to `signature-N` files for dir:.
 */
async function signWithGpg(input: string, client: ClientOptions, fingerprint: string, identityFlag: string | undefined, recursive: boolean): Promise<number> {
  if (identityFlag !== undefined) parseReference(identityFlag, { defaultTag: false });
  const image = await openSignableImage(input, client, 'sign');
  try {
    const identity = identityFlag ?? defaultIdentity(image);
    const manifests: ManifestInfo[] = [image.manifest];
    if (recursive) for (const child of indexChildren(image.manifest)) manifests.push(await image.child(child.digest));
    const registriesD = image.kind === 'docker' ? await loadRegistriesD(await registriesDirPath()) : undefined;
    for (const manifest of manifests) {
      const message = await signSimpleSigning(buildSimpleSigningPayload(identity, manifest.digest), fingerprint);
      const location: GpgSignatureLocation =
        image.kind === 'dir'
          ? { kind: 'dir', path: image.path, instance: manifest !== image.manifest }
          : { kind: 'docker', reference: { registry: image.reference.registry, repository: image.target.repository, digest: manifest.digest }, client: image.target.client, registriesD };
      await writeGpgSignature(location, manifest.digest, message);
      process.stderr.write(`Signed ${manifest.digest} as ${identity} (GPG ${fingerprint})\n`);
    }
    return 0;
  } finally {
    image.close();
  }
}

function defaultIdentity(image: SignableImage): string {
  if (image.kind === 'dir') throw new UsageError('a dir: image has no registry name: give --identity REF');
  const reference = image.reference;
  return reference.tag === undefined ? reference.name : `${reference.name}:${reference.tag}`;
}

function parseAnnotations(entries: readonly string[]): Record<string, string> | null {
  if (entries.length === 0) return null;
  const optional: Record<string, string> = {};
  for (const entry of entries) {
    const equals = entry.indexOf('=');
    if (equals <= 0) throw new UsageError(`--annotation: expected KEY=VALUE, got "${entry}"`);
    optional[entry.slice(0, equals)] = entry.slice(equals + 1);
  }
  return optional;
}
