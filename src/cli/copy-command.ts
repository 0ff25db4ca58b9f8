// `custody copy SRC DST`: copies an image between docker://, dir:, oci:, oci-archive: and
// docker-archive: (like
// `skopeo copy`): one image or, with --all, an index and every instance; --format converts
// between Docker schema2 and OCI manifests. On a terminal (stderr), a progress line per
// blob redrawn in place (src/client/progress.ts) and a summary; nothing with --quiet.
// As skopeo: the source image is checked against the trust policy (containers-policy.json)
// before its blobs are read, its signatures travel with it (--remove-signatures drops
// them), and --sign-by / --sign-by-sigstore-private-key sign what is written.
import { UsageError } from '../core/errors.ts';
import { type ClientOptions } from '../client/image-resolver.ts';
import type { ManifestFormat } from '../client/copy.ts';
import { CLIENT_FLAGS_USAGE, parseBooleanValue, parseClientArgs } from './arguments.ts';
import { POLICY_FLAGS, POLICY_FLAGS_USAGE, policyFromFlags } from '../trust/policy/enforcement.ts';
import { SIGNING_FLAGS, SIGNING_FLAGS_USAGE, signingFromFlags } from '../trust/policy/copy-signing.ts';
import { askHidden } from './password-input.ts';
import { copyOneImage } from './copy-image.ts';
import type { Command } from './main.ts';

export const copyCommand: Command = {
  name: 'copy',
  summary: 'copy an image between docker://, dir:, oci:, oci-archive: and docker-archive: locations',
  usage: [
    'Usage: custody copy SRC DST [--all] [--format oci|v2s2] [--override-os OS] [--override-arch ARCH]',
    '                    [--override-variant V] [--src-tls-verify=false] [--dest-tls-verify=false]',
    '                    [--src-creds USER:PASSWORD] [--dest-creds USER:PASSWORD] [--quiet]',
    '                    [--policy FILE | --insecure-policy] [--remove-signatures] [--sign-by FINGERPRINT |',
    '                    --sign-by-sigstore-private-key FILE] [--sign-passphrase-file FILE] [--sign-identity REF] [global options]',
    '',
    'SRC and DST: docker://NAME, dir:PATH, oci:PATH[:REF], oci-archive:PATH[:REF],',
    'docker-archive:PATH[:REF] (REF: name:tag; reading also @N). An archive destination is',
    'created or replaced when the copy completes; docker-archive: holds a single image.',
    '--all copies an index with every instance; without it, the instance for the current',
    'platform (or --override-os/--override-arch). --format converts the manifests.',
    'The source image must be allowed by the trust policy; its signatures are copied with it.',
    '',
    POLICY_FLAGS_USAGE,
    SIGNING_FLAGS_USAGE,
    CLIENT_FLAGS_USAGE,
  ].join('\n'),
  async run(args) {
    const { values, positionals, client } = parseClientArgs(
      args,
      {
        all: { type: 'boolean', short: 'a' },
        format: { type: 'string', short: 'f' },
        'override-os': { type: 'string' },
        'override-arch': { type: 'string' },
        'override-variant': { type: 'string' },
        'src-tls-verify': { type: 'string' },
        'dest-tls-verify': { type: 'string' },
        'src-creds': { type: 'string' },
        'dest-creds': { type: 'string' },
        'src-cert-dir': { type: 'string' },
        'dest-cert-dir': { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
        ...POLICY_FLAGS,
        ...SIGNING_FLAGS,
      },
      ['src-tls-verify', 'dest-tls-verify'],
    );
    if (positionals.length < 2) throw new UsageError(positionals.length === 0 ? 'missing SRC and DST' : 'missing DST');
    if (positionals.length > 2) throw new UsageError(`unexpected argument "${positionals[2]}"`);
    const format = values.format as string | undefined;
    if (format !== undefined && format !== 'oci' && format !== 'v2s2') throw new UsageError(`--format: expected "oci" or "v2s2", got "${format}"`);
    const side = (prefix: 'src' | 'dest'): ClientOptions => {
      const tlsVerify = parseBooleanValue(`${prefix}-tls-verify`, values[`${prefix}-tls-verify`] as string | undefined);
      const creds = values[`${prefix}-creds`] as string | undefined;
      if (creds !== undefined && !creds.includes(':')) throw new UsageError(`--${prefix}-creds: expected USERNAME:PASSWORD`);
      const certDir = values[`${prefix}-cert-dir`] as string | undefined;
      return { ...client, ...(tlsVerify === undefined ? {} : { tlsVerify }), ...(creds === undefined ? {} : { creds }), ...(certDir === undefined ? {} : { certDir }) };
    };
    const policy = policyFromFlags(values);
    const terminal = process.stdin.isTTY === true && process.stderr.isTTY === true;
    const signing = await signingFromFlags(values, { askPassphrase: terminal ? askHidden : undefined });
    await copyOneImage(
      { source: positionals[0]!, destination: positionals[1]!, sourceOptions: side('src'), destinationOptions: side('dest') },
      {
        all: values.all === true,
        format: format as ManifestFormat | undefined,
        platform: platformFromFlags(values),
        policy,
        signing,
        removeSignatures: values['remove-signatures'] === true,
        quiet: values.quiet === true,
        command: 'custody copy',
      },
    );
    return 0;
  },
};

/** --override-os/--override-arch/--override-variant as a platform to choose. */
export function platformFromFlags(values: Readonly<Record<string, unknown>>): { os?: string; architecture?: string; variant?: string } {
  return {
    ...(values['override-os'] === undefined ? {} : { os: values['override-os'] as string }),
    ...(values['override-arch'] === undefined ? {} : { architecture: values['override-arch'] as string }),
    ...(values['override-variant'] === undefined ? {} : { variant: values['override-variant'] as string }),
  };
}
