// `custody logout REGISTRY | --all`: removes stored credentials from the write file.
import { UsageError } from '../core/errors.ts';
import { removeAllCredentials, removeCredentials, validateAuthKey } from '../client/config/auth-file.ts';
import { ImageResolver } from '../client/image-resolver.ts';
import { CLIENT_FLAGS_USAGE, parseClientArgs } from './arguments.ts';
import type { Command } from './main.ts';

export const logoutCommand: Command = {
  name: 'logout',
  summary: 'remove stored credentials for a registry',
  usage: ['Usage: custody logout REGISTRY | --all [--authfile FILE]', '', CLIENT_FLAGS_USAGE].join('\n'),
  async run(args) {
    const { values, positionals, client } = parseClientArgs(args, { all: { type: 'boolean', short: 'a' } });
    const resolver = new ImageResolver(client);
    if (values.all === true) {
      if (positionals.length > 0) throw new UsageError('--all takes no REGISTRY');
      removeAllCredentials(resolver.authFileOptions());
      process.stdout.write('Removed login credentials for all registries\n');
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing REGISTRY (or --all)' : `unexpected argument "${positionals[1]}"`);
    const key = validateAuthKey(positionals[0]!.replace(/^docker:\/\//, ''));
    if (!(await removeCredentials(key, resolver.authFileOptions()))) throw new Error(`not logged into ${key}`);
    process.stdout.write(`Removed login credentials for ${key}\n`);
    return 0;
  },
};
