// `custody pull IMAGE`: copies an image from a registry (resolved as `custody copy
// docker://IMAGE` resolves it: short names, mirrors, credentials) into the local store,
// named by its full reference. The instance for the current platform (or the one
// --platform, --os/--arch/--variant or skopeo's --override-* ask for) is pulled from an
// index; with --all, the index and every instance (like `skopeo copy --all`). The image
// must be allowed by the trust policy (containers-policy.json), checked before its blobs
// are read, as podman pull does.
import { UsageError } from '../core/errors.ts';
import { stripTransport } from '../client/image-resolver.ts';
import { CLIENT_FLAGS_USAGE, parseClientArgs } from './arguments.ts';
import { copyImage, type CopyEvent, type ManifestStep } from '../client/copy.ts';
import type { Platform } from '../image/platform.ts';
import { DockerImageSource } from '../client/transports/docker.ts';
import { defaultStoragePath, LocalStore, LocalStoreDestination } from '../client/local-store/index.ts';
import { POLICY_FLAGS, POLICY_FLAGS_USAGE, evaluateSource, policyFromFlags } from '../trust/policy/enforcement.ts';
import { SourceSignatures } from '../trust/policy/source-signatures.ts';
import { readGpgFromSource } from '../trust/policy/gpg-storage.ts';
import type { Command } from './main.ts';

export const STORAGE_USAGE = '  --storage DIR            the local image store (default $CUSTODY_STORAGE, else $XDG_DATA_HOME/custody/storage or ~/.local/share/custody/storage)';

export const pullCommand: Command = {
  name: 'pull',
  summary: 'pull an image from a registry into the local image store',
  usage: [
    'Usage: custody pull IMAGE [--storage DIR] [--all] [--platform OS/ARCH[/VARIANT]] [--os OS] [--arch ARCH]',
    '                    [--variant V] [--quiet] [--policy FILE | --insecure-policy] [global options]',
    '',
    'IMAGE: NAME[:TAG|@DIGEST] or docker://NAME. The image is stored under its full name',
    '(docker.io/library/alpine:latest); its digest is printed. From a multi-platform index,',
    'the current platform\'s image, or the one --platform (or --os, --arch, --variant; also',
    'spelt --override-os, --override-arch, --override-variant) names; with --all, the index',
    'and the images of every platform.',
    '',
    STORAGE_USAGE,
    POLICY_FLAGS_USAGE,
    CLIENT_FLAGS_USAGE,
  ].join('\n'),
  async run(args) {
    const { values, positionals, client } = parseClientArgs(args, {
      storage: { type: 'string' },
      all: { type: 'boolean', short: 'a' },
      platform: { type: 'string' },
      os: { type: 'string' },
      arch: { type: 'string' },
      variant: { type: 'string' },
      'override-os': { type: 'string' },
      'override-arch': { type: 'string' },
      'override-variant': { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      ...POLICY_FLAGS,
    });
    if (positionals.length === 0) throw new UsageError('missing IMAGE');
    if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
    const platform = pullPlatform(values as Record<string, unknown>);
    if (values.all === true && Object.keys(platform).length > 0) throw new UsageError('--all pulls every platform: give no --platform, --os, --arch or --variant with it');
    const name = stripTransport(positionals[0]!);
    const policy = policyFromFlags(values);
    const store = new LocalStore(defaultStoragePath(values.storage as string | undefined));
    const source = new DockerImageSource(name, client);
    const destination = new LocalStoreDestination(store, () => {
      const endpoint = source.endpoint;
      if (endpoint === undefined) throw new Error(`${source.name}: the image was not resolved`);
      return endpoint.requested.toString();
    });
    const progress = values.quiet !== true && process.stderr.isTTY === true;
    const onEvent = (event: CopyEvent): void => {
      if (!progress) return;
      if (event.kind === 'blob-start') process.stderr.write(`Copying blob ${event.blob.digest.slice(0, 19)}\n`);
      else if (event.kind === 'blob-skipped') process.stderr.write(`Copying blob ${event.blob.digest.slice(0, 19)} skipped: already exists\n`);
      else if (event.kind === 'manifest') process.stderr.write(`Writing manifest ${event.digest.slice(0, 19)}\n`);
    };
    const signatures = new SourceSignatures(source, readGpgFromSource);
    const checkImage = policy === undefined ? undefined : async (step: ManifestStep): Promise<void> => {
      await evaluateSource(policy, source, signatures, step, { enforce: true });
    };
    try {
      const result = await copyImage(source, destination, { all: values.all === true, platform, onEvent, ...(checkImage === undefined ? {} : { checkImage }) });
      if (progress) process.stderr.write(`Stored ${source.endpoint?.requested.toString() ?? name}\n`);
      process.stdout.write(`${result.digest}\n`);
      return 0;
    } finally {
      await source.close();
      await destination.close();
    }
  },
};

/** The platform asked for: --platform OS/ARCH[/VARIANT], or --os, --arch, --variant (or their --override-* spellings). */
export function pullPlatform(values: Readonly<Record<string, unknown>>): Partial<Platform> {
  const pick = (...names: string[]): string | undefined => {
    const given = names.filter((name) => values[name] !== undefined);
    if (given.length > 1) throw new UsageError(`--${given[0]} and --${given[1]} say the same thing: give one`);
    const value = given.length === 0 ? undefined : (values[given[0]!] as string);
    if (value === '') throw new UsageError(`--${given[0]}: empty value`);
    return value;
  };
  let os = pick('os', 'override-os');
  let architecture = pick('arch', 'override-arch');
  let variant = pick('variant', 'override-variant');
  const spec = values.platform as string | undefined;
  if (spec !== undefined) {
    if (os !== undefined || architecture !== undefined || variant !== undefined) throw new UsageError('--platform cannot be combined with --os, --arch or --variant');
    const parts = spec.split('/');
    if (parts.length < 2 || parts.length > 3 || parts.some((part) => part === '')) throw new UsageError(`--platform: expected OS/ARCH[/VARIANT] (e.g. linux/arm64/v8), got "${spec}"`);
    [os, architecture, variant] = parts as [string, string, string | undefined];
  }
  return {
    ...(os === undefined ? {} : { os }),
    ...(architecture === undefined ? {} : { architecture }),
    ...(variant === undefined ? {} : { variant }),
  };
}
