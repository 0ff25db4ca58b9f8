// Argument parsing the commands share: the containers/image-style global flags of the
// client commands (--registries-conf, --authfile, --cert-dir, --tls-verify, --creds) and
// boolean flag values. (The server commands' setting flags are in config-flags.ts.)
import { parseArgs } from 'node:util';
import { UsageError } from '../core/errors.ts';
import type { ClientOptions } from '../client/image-resolver.ts';
import { promptForCandidate } from './terminal.ts';

/** parseArgs option definitions for the global client flags. */
export const CLIENT_FLAGS = {
  'registries-conf': { type: 'string' },
  authfile: { type: 'string' },
  'cert-dir': { type: 'string' },
  'tls-verify': { type: 'string' },
  creds: { type: 'string' },
} as const;

/** `--tls-verify` alone means true; parseArgs wants a value for string options. */
export function normaliseBooleanFlags(args: readonly string[], names: readonly string[]): string[] {
  return args.map((arg) => (names.some((name) => arg === `--${name}`) ? `${arg}=true` : arg));
}

/** A flag's true/false value; `yes`/`no` and `1`/`0` are understood too. */
export function parseBooleanValue(flag: string, value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true' || value === 'yes' || value === '1') return true;
  if (value === 'false' || value === 'no' || value === '0') return false;
  throw new UsageError(`--${flag}: expected true or false, got "${value}"`);
}

/** ClientOptions from parsed CLIENT_FLAGS values. */
export function clientOptionsFrom(values: Record<string, unknown>): ClientOptions {
  const text = (name: string): string | undefined => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  const tlsVerify = parseBooleanValue('tls-verify', text('tls-verify'));
  const creds = text('creds');
  if (creds !== undefined && !creds.includes(':')) throw new UsageError('--creds: expected USERNAME:PASSWORD');
  return {
    prompt: promptForCandidate,
    ...(text('registries-conf') === undefined ? {} : { registriesConf: text('registries-conf') }),
    ...(text('authfile') === undefined ? {} : { authFile: text('authfile') }),
    ...(text('cert-dir') === undefined ? {} : { certDir: text('cert-dir') }),
    ...(tlsVerify === undefined ? {} : { tlsVerify }),
    ...(creds === undefined ? {} : { creds }),
  };
}

export const CLIENT_FLAGS_USAGE = [
  'Global options:',
  '  --registries-conf FILE   registries.conf to use alone (default: containers/image lookup)',
  '  --authfile FILE          credentials file (default: podman\'s lookup order)',
  '  --cert-dir DIR           CA certificates (*.crt) and client keys for the registry',
  '  --tls-verify=false       do not verify certificates; fall back to plain HTTP',
  '  --creds USER:PASSWORD    credentials to use instead of stored ones',
].join('\n');

/** Parses a client command's arguments: the global flags plus the command's own. */
export function parseClientArgs(
  args: readonly string[],
  own: Readonly<Record<string, { type: 'string' | 'boolean'; short?: string }>>,
  booleanValueFlags: readonly string[] = [],
): { values: Record<string, unknown>; positionals: string[]; client: ClientOptions } {
  const { values, positionals } = parseArgs({
    args: normaliseBooleanFlags(args, ['tls-verify', ...booleanValueFlags]),
    options: { ...CLIENT_FLAGS, ...own },
    allowPositionals: true,
    strict: true,
  });
  return { values: values as Record<string, unknown>, positionals, client: clientOptionsFrom(values as Record<string, unknown>) };
}
