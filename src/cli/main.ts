// The `custody` command: subcommands, one line of error and a non-zero exit on failure.
import { parseArgs } from 'node:util';
import { UsageError } from '../core/errors.ts';
import { ConfigError } from '../config/config.ts';
import { serveCommand } from './serve-command.ts';
import { gcCommand } from './gc-command.ts';
import { fsckCommand } from './fsck-command.ts';
import { loginCommand } from './login-command.ts';
import { logoutCommand } from './logout-command.ts';
import { inspectCommand } from './inspect-command.ts';
import { listTagsCommand } from './list-tags-command.ts';
import { deleteCommand } from './delete-command.ts';
import { copyCommand } from './copy-command.ts';
import { pullCommand } from './pull-command.ts';
import { imagesCommand } from './images-command.ts';
import { rmiCommand } from './rmi-command.ts';
import { unpackCommand } from './unpack-command.ts';
import { VERSION } from './version.ts';

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  run(args: string[]): Promise<number>;
}

const COMMANDS: readonly Command[] = [serveCommand, gcCommand, fsckCommand, loginCommand, logoutCommand, inspectCommand, listTagsCommand, deleteCommand, copyCommand, pullCommand, imagesCommand, rmiCommand, unpackCommand];

function usage(): string {
  return [
    'custody: a container image registry with trust built in',
    '',
    'Usage: custody <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(10)} ${command.summary}`),
    `  ${'version'.padEnd(10)} print the version`,
    '',
    'Run `custody <command> --help` for a command\'s options.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === 'version' || name === '--version') {
    process.stdout.write(`custody ${VERSION}\n`);
    return 0;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    process.stderr.write(`custody: unknown command "${name}"; run \`custody --help\`\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    return reportFailure(name, error);
  }
}

export function reportFailure(name: string, error: unknown): number {
  if (error instanceof ConfigError) {
    for (const problem of error.problems) process.stderr.write(`custody ${name}: ${problem}\n`);
    return 2;
  }
  if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`custody ${name}: ${(error as Error).message.split('\n')[0]}\n`);
    return 2;
  }
  process.stderr.write(`custody ${name}: ${(error as Error).message?.split('\n')[0] ?? String(error)}\n`);
  if (process.env.CUSTODY_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
  return 1;
}

export { parseArgs };
