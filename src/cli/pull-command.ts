// `custody pull IMAGE`: copies an image from a registry (resolved as `custody copy
// docker://IMAGE` resolves it: short names, mirrors, credentials) into the local store,
// named by its full reference. The instance for the current platform is pulled from an index.
import { UsageError } from '../core/errors.ts';
import { CLIENT_FLAGS_USAGE, parseClientArgs, stripTransport } from '../client/image-source.ts';
import { copyImage, type CopyEvent } from '../client/copy.ts';
import { DockerImageSource } from '../client/transports/docker.ts';
import { defaultStoragePath, LocalStore, LocalStoreDestination } from '../client/local-store/index.ts';
import type { Command } from './main.ts';

export const STORAGE_USAGE = '  --storage DIR            the local image store (default $CUSTODY_STORAGE, else $XDG_DATA_HOME/custody/storage or ~/.local/share/custody/storage)';

export const pullCommand: Command = {
  name: 'pull',
  summary: 'pull an image from a registry into the local image store',
  usage: [
    'Usage: custody pull IMAGE [--storage DIR] [--override-os OS] [--override-arch ARCH] [--override-variant V] [--quiet] [global options]',
    '',
    'IMAGE: NAME[:TAG|@DIGEST] or docker://NAME. The image is stored under its full name',
    '(docker.io/library/alpine:latest); its digest is printed.',
    '',
    STORAGE_USAGE,
    CLIENT_FLAGS_USAGE,
  ].join('\n'),
  async run(args) {
    const { values, positionals, client } = parseClientArgs(args, {
      storage: { type: 'string' },
      'override-os': { type: 'string' },
      'override-arch': { type: 'string' },
      'override-variant': { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
    });
    if (positionals.length === 0) throw new UsageError('missing IMAGE');
    if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
    const name = stripTransport(positionals[0]!);
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
    try {
      const platform = {
        ...(values['override-os'] === undefined ? {} : { os: values['override-os'] as string }),
        ...(values['override-arch'] === undefined ? {} : { architecture: values['override-arch'] as string }),
        ...(values['override-variant'] === undefined ? {} : { variant: values['override-variant'] as string }),
      };
      const result = await copyImage(source, destination, { platform, onEvent });
      if (progress) process.stderr.write(`Stored ${source.endpoint?.requested.toString() ?? name}\n`);
      process.stdout.write(`${result.digest}\n`);
      return 0;
    } finally {
      await source.close();
      await destination.close();
    }
  },
};
