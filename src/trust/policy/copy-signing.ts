// `custody copy`'s signing flags, as skopeo copy spells them: --sign-by FINGERPRINT (GPG
// simple signing through gpg), --sign-by-sigstore-private-key FILE (a cosign key), with
// --sign-passphrase-file FILE and --sign-identity REF. Keys are loaded before the copy
// starts, so a wrong passphrase fails before any blob moves.
import { readFile } from 'node:fs/promises';
import { UsageError } from '../../core/errors.ts';
import { parseReference } from '../../client/reference.ts';
import { VERSION } from '../../core/version.ts';
import type { SigningRequest } from './signature-transfer.ts';

export const SIGNING_FLAGS = {
  'sign-by': { type: 'string' },
  'sign-by-sigstore-private-key': { type: 'string' },
  'sign-passphrase-file': { type: 'string' },
  'sign-identity': { type: 'string' },
  'remove-signatures': { type: 'boolean' },
} as const;

export const SIGNING_FLAGS_USAGE = [
  '  --remove-signatures      do not copy the source\'s signatures (needed to convert a signed image with --format)',
  '  --sign-by FINGERPRINT    sign the copied manifests with this GPG key (simple signing)',
  '  --sign-by-sigstore-private-key FILE  sign the copied manifests with this cosign private key',
  '  --sign-passphrase-file FILE  the signing key\'s passphrase (first line); else asked on a terminal',
  '  --sign-identity REF      the Docker reference the signatures claim (default: the destination\'s)',
].join('\n');

/** First line of a passphrase file, as skopeo reads it. */
async function passphraseFrom(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`--sign-passphrase-file: ${error.code === 'ENOENT' ? `${file}: no such file` : error.message}`);
  });
  return text.split(/\r?\n/)[0] ?? '';
}

export interface SigningPrompts {
  /**
   * Asks for a sigstore key's passphrase (without echo); absent when nobody can be asked
   * (no terminal). The CLI owns the terminal, so it passes this in.
   */
  readonly askPassphrase?: ((question: string) => Promise<string>) | undefined;
}

/** The signing the flags ask for, keys loaded; undefined when none. */
export async function signingFromFlags(values: Readonly<Record<string, unknown>>, prompts: SigningPrompts = {}): Promise<SigningRequest | undefined> {
  const gpgKey = values['sign-by'] as string | undefined;
  const sigstoreKeyFile = values['sign-by-sigstore-private-key'] as string | undefined;
  const passphraseFile = values['sign-passphrase-file'] as string | undefined;
  const identity = values['sign-identity'] as string | undefined;
  if (gpgKey === undefined && sigstoreKeyFile === undefined) {
    if (passphraseFile !== undefined || identity !== undefined) throw new UsageError('--sign-passphrase-file and --sign-identity need --sign-by or --sign-by-sigstore-private-key');
    return undefined;
  }
  if (gpgKey !== undefined && sigstoreKeyFile !== undefined) throw new UsageError('--sign-by and --sign-by-sigstore-private-key: give one (as skopeo, one signature per copy)');
  if (identity !== undefined) {
    const parsed = parseReference(identity, { defaultTag: false });
    if (parsed.tag === undefined && parsed.digest === undefined) throw new UsageError(`--sign-identity: "${identity}" has neither a tag nor a digest`);
  }
  if (gpgKey !== undefined) {
    const gpg = import('../gpg/openpgp.ts');
    return {
      identity,
      gpgSign: (dockerReference, manifestDigest) =>
        gpg.then(({ signSimpleSigning, buildSimpleSigningPayload }) =>
          signSimpleSigning(buildSimpleSigningPayload(dockerReference, manifestDigest, { creator: `custody ${VERSION}` }), gpgKey, { passphraseFile }),
        ),
    };
  }
  const pem = await readFile(sigstoreKeyFile!, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`--sign-by-sigstore-private-key: ${error.code === 'ENOENT' ? `${sigstoreKeyFile}: no such file` : error.message}`);
  });
  let passphrase: string;
  if (passphraseFile !== undefined) passphrase = await passphraseFrom(passphraseFile);
  else if (prompts.askPassphrase !== undefined) passphrase = await prompts.askPassphrase(`Passphrase for key ${sigstoreKeyFile}: `);
  else passphrase = ''; // cosign keys may have an empty passphrase; a wrong one fails just below
  try {
    const { loadPrivateKey } = await import('../sigstore/keys.ts');
    return { identity, sigstoreKey: await loadPrivateKey(pem, Buffer.from(passphrase, 'utf8')) };
  } catch (error) {
    const hint = passphraseFile === undefined ? ' (give --sign-passphrase-file)' : '';
    throw new Error(`--sign-by-sigstore-private-key ${sigstoreKeyFile}: ${(error as Error).message}${hint}`, { cause: error });
  }
}
