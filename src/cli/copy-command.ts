// `custody copy SRC DST`: copies an image between docker://, dir:, oci:, oci-archive: and
// docker-archive: (like
// `skopeo copy`): one image or, with --all, an index and every instance; --format converts
// between Docker schema2 and OCI manifests. On a terminal (stderr), a progress line per
// blob redrawn in place (src/client/progress.ts) and a summary; nothing with --quiet.
// As skopeo: the source image is checked against the trust policy (containers-policy.json)
// before its blobs are read, its signatures travel with it (--remove-signatures drops
// them), and --sign-by / --sign-by-sigstore-private-key sign what is written.
import { UsageError } from '../core/errors.ts';
import { CLIENT_FLAGS_USAGE, parseClientArgs } from './arguments.ts';
import { POLICY_FLAGS_USAGE } from '../trust/policy/enforcement.ts';
import { SIGNING_FLAGS_USAGE } from '../trust/policy/copy-signing.ts';
import { copyOneImage } from './copy-image.ts';
import { COPY_BOOLEAN_VALUE_FLAGS, COPY_FLAGS, copySettings, copySide, manifestFormat } from './copy-flags.ts';
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
    const { values, positionals, client } = parseClientArgs(args, COPY_FLAGS, COPY_BOOLEAN_VALUE_FLAGS);
    if (positionals.length < 2) throw new UsageError(positionals.length === 0 ? 'missing SRC and DST' : 'missing DST');
    if (positionals.length > 2) throw new UsageError(`unexpected argument "${positionals[2]}"`);
    manifestFormat(values);
    const endpoints = { source: positionals[0]!, destination: positionals[1]!, sourceOptions: copySide(values, client, 'src'), destinationOptions: copySide(values, client, 'dest') };
    await copyOneImage(endpoints, await copySettings(values, 'custody copy'));
    return 0;
  },
};
