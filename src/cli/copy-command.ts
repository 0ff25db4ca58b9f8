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
import { CLIENT_FLAGS_USAGE, parseBooleanValue, parseClientArgs } from './arguments.ts';
import { copyImage, type ManifestFormat } from '../client/copy.ts';
import { ProgressRenderer } from '../client/progress.ts';
import { DockerImageDestination, openDestination, openSource } from '../client/transports/index.ts';
import { DirImageDestination, DirImageSource, DockerArchiveDestination, DockerArchiveSource, OciArchiveDestination, OciLayoutDestination } from '../image/transports/index.ts';
import { POLICY_FLAGS, POLICY_FLAGS_USAGE, evaluateSource, policyFromFlags } from '../trust/policy/enforcement.ts';
import { SourceSignatures } from '../trust/policy/source-signatures.ts';
import { gpgWriterFor, readGpgFromSource } from '../trust/policy/gpg-storage.ts';
import { SignatureTransfer } from '../trust/policy/signature-transfer.ts';
import { SIGNING_FLAGS, SIGNING_FLAGS_USAGE, signingFromFlags } from '../trust/policy/copy-signing.ts';
import { askHidden } from './password-input.ts';
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
    const destinationOptions = side('dest');
    const source = openSource(positionals[0]!, side('src'));
    const destination = openDestination(positionals[1]!, destinationOptions);
    if (source instanceof DirImageSource && destination instanceof DirImageDestination && source.path === destination.path) {
      throw new UsageError(`${positionals[0]}: source and destination are the same directory`);
    }
    if (destination instanceof DockerArchiveDestination && values.all === true) {
      throw new UsageError(`${positionals[1]}: a docker-archive holds a single image; copy without --all`);
    }
    // A docker-archive's manifest is made up: Docker schema2 unless --format oci asks
    // otherwise or (as containers/image does) the destination holds OCI manifests only.
    if (source instanceof DockerArchiveSource && (format === 'oci' || (format === undefined && (destination instanceof OciLayoutDestination || destination instanceof OciArchiveDestination)))) {
      source.manifestFormat = 'oci';
    }
    // containers/image labels a docker-archive's uncompressed layers `.tar.gzip`, and skopeo
    // gzips them on the way to a registry; Custody pushes them as they are, so it tells the
    // registry their real type (`...rootfs.diff.tar`).
    if (source instanceof DockerArchiveSource && destination instanceof DockerImageDestination) source.layerTypes = 'stored';
    const progress = new ProgressRenderer(process.stderr, { quiet: values.quiet === true });
    const signatures = new SourceSignatures(source, readGpgFromSource);
    try {
      const transfer = new SignatureTransfer({
        sourceSignatures: signatures,
        destination,
        remove: values['remove-signatures'] === true,
        writeGpg: gpgWriterFor(destination),
        ...(signing === undefined ? {} : { signing }),
        warn: (message) => process.stderr.write(`custody copy: warning: ${message}\n`),
      });
      const copying = transfer;
      const platform = {
        ...(values['override-os'] === undefined ? {} : { os: values['override-os'] as string }),
        ...(values['override-arch'] === undefined ? {} : { architecture: values['override-arch'] as string }),
        ...(values['override-variant'] === undefined ? {} : { variant: values['override-variant'] as string }),
      };
      const result = await copyImage(source, destination, {
        all: values.all === true,
        ...(format === undefined ? {} : { format: format as ManifestFormat }),
        platform,
        ...(progress.enabled ? { onEvent: progress.onEvent, onProgress: progress.onProgress } : {}),
        checkImage: async (step) => {
          copying.prefetch(step);
          if (policy !== undefined) await evaluateSource(policy, source, signatures, step, { enforce: true });
        },
        beforeManifest: (step, written) => copying.before(step, written),
        afterManifest: (step, written) => copying.after(step, written),
      });
      progress.finish(progress.summary(result.digest, result.blobsCopied, result.blobsSkipped));
      return 0;
    } finally {
      progress.finish();
      await source.close();
      await destination.close();
    }
  },
};
