// `custody login REGISTRY`: checks the credentials against the registry, then stores them
// where podman would (--authfile, REGISTRY_AUTH_FILE, ${XDG_RUNTIME_DIR}/containers/auth.json).
import { UsageError } from '../core/errors.ts';
import { storeCredentials, validateAuthKey } from '../client/config/auth-file.ts';
import { ImageResolver } from '../client/image-resolver.ts';
import { askHidden } from './password-input.ts';
import { CLIENT_FLAGS_USAGE, parseClientArgs } from './arguments.ts';
import { ask, readStdin } from './terminal.ts';
import { RegistryClientError } from '../client/registry-client/index.ts';
import type { Command } from './main.ts';

export const loginCommand: Command = {
  name: 'login',
  summary: 'log in to a registry (credentials checked before they are saved)',
  usage: [
    'Usage: custody login REGISTRY [--username USER] [--password-stdin | --password PASSWORD] [global options]',
    '',
    'REGISTRY is host[:port] or host[:port]/namespace. Without --username or a password,',
    'they are asked for on a terminal (the password without echo). The credentials are',
    'checked against the registry before they are written (mode 0600).',
    '',
    CLIENT_FLAGS_USAGE,
  ].join('\n'),
  async run(args) {
    const { values, positionals, client } = parseClientArgs(args, {
      username: { type: 'string', short: 'u' },
      password: { type: 'string', short: 'p' },
      'password-stdin': { type: 'boolean' },
    });
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing REGISTRY (usage: custody login REGISTRY)' : `unexpected argument "${positionals[1]}"`);
    const key = validateAuthKey(positionals[0]!.replace(/^docker:\/\//, ''));
    const host = key.split('/')[0]!;
    const passwordStdin = values['password-stdin'] === true;
    let password = typeof values.password === 'string' ? values.password : undefined;
    if (passwordStdin && password !== undefined) throw new UsageError('--password and --password-stdin cannot be used together');
    const isTTY = process.stdin.isTTY === true && process.stdout.isTTY === true;
    let username = typeof values.username === 'string' ? values.username : undefined;
    if (username === undefined) {
      if (passwordStdin) throw new UsageError('--password-stdin needs --username');
      if (!isTTY) throw new UsageError('no --username given and there is no terminal to ask on');
      username = (await ask('Username: ')).trim();
    }
    if (username === '') throw new UsageError('the username must not be empty');
    if (passwordStdin) {
      password = (await readStdin()).replace(/\r?\n$/, '');
    } else if (password !== undefined) {
      process.stderr.write('WARNING! Using --password via the command line is insecure: use --password-stdin\n');
    } else {
      if (!isTTY) throw new UsageError('no password given and there is no terminal to ask on; use --password-stdin');
      password = await askHidden('Password: ');
    }
    if (password === '') throw new UsageError('the password must not be empty');

    const resolver = new ImageResolver(client);
    try {
      try {
        const registry = await resolver.clientFor(host, { credentials: { username, password } });
        await registry.checkVersion();
      } catch (error) {
        if (error instanceof RegistryClientError && (error.status === 401 || error.code === 'UNAUTHORIZED')) {
          throw new Error(`login failed: invalid username or password for ${host}`);
        }
        throw error;
      }
      await storeCredentials(key, username, password, resolver.authFileOptions());
      process.stdout.write('Login Succeeded!\n');
      return 0;
    } finally {
      resolver.close();
    }
  },
};
