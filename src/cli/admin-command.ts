// `custody admin ...`: users, organizations, teams, robots, repositories, permissions,
// personal access tokens and login sessions, through the management API (/api/v1) of a
// running registry. The commands are data (admin-commands.ts, a projection of the
// management route table); this file reads the command line, calls the operation the
// table names with the method and path template from src/management/routes.ts, and
// prints the answer as the command says. The help is generated from the same table.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../core/errors.ts';
import { MANAGEMENT_ROUTES, PATH_PARAMETERS, type ManagementRoute } from '../management/routes.ts';
import { apiRequest, openApiSession, type ApiSession } from './api-session.ts';
import { ADMIN_COMMANDS } from './admin/commands.ts';
import type { AdminCall, AdminCommand, AdminFlags, AdminInput } from './admin/command-spec.ts';
import type { Command } from './main.ts';

const OPTIONS = [
  '  --registry URL        the registry (default: $CUSTODY_REGISTRY); host[:port] means https://',
  '  --token TOKEN         a personal access token (default: $CUSTODY_TOKEN)',
  '  --username USER       log in as USER; the password comes from --password-stdin or $CUSTODY_PASSWORD',
  '  --password-stdin      read the password from stdin (with a subcommand that takes a password too,',
  '                        the first line is yours and the second the new one)',
  '                        without any of these, the credentials saved by `custody login` (auth.json) are used',
  '  --json                print JSON instead of a table or a plain value',
  '  -h, --help            show this help',
];

function helpLine(command: AdminCommand): string {
  const line = [command.words, command.usage, command.options].filter((part) => part !== undefined && part !== '').join(' ');
  return `  ${line}${command.remark ? `   (${command.remark})` : ''}`;
}

const USAGE = ['Usage: custody admin <subcommand> [arguments] [options]', '', 'Subcommands:', ...ADMIN_COMMANDS.map(helpLine), '', 'Options:', ...OPTIONS].join('\n');

const FLAG_OPTIONS = {
  registry: { type: 'string' },
  token: { type: 'string' },
  username: { type: 'string', short: 'u' },
  'password-stdin': { type: 'boolean' },
  json: { type: 'boolean' },
  email: { type: 'string' },
  superuser: { type: 'string' },
  disabled: { type: 'string' },
  description: { type: 'string' },
  role: { type: 'string' },
  'ldap-group': { type: 'string' },
  visibility: { type: 'string' },
  user: { type: 'string' },
  robot: { type: 'string' },
  team: { type: 'string' },
  direct: { type: 'boolean' },
  expires: { type: 'string' },
  all: { type: 'boolean' },
  namespace: { type: 'string' },
  repository: { type: 'string' },
  format: { type: 'string' },
  events: { type: 'string' },
  secret: { type: 'string' },
  name: { type: 'string' },
  warn: { type: 'string' },
  reject: { type: 'string' },
  'keep-last': { type: 'string' },
  'keep-pushed': { type: 'string' },
  'keep-pulled': { type: 'string' },
  include: { type: 'string' },
  exclude: { type: 'string' },
  'dry-run': { type: 'boolean' },
  interval: { type: 'string' },
  'remote-user': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

type Values = AdminFlags & { readonly registry?: string; readonly token?: string; readonly username?: string; readonly 'password-stdin'?: boolean };

/** Flags every command takes: where the registry is, who calls, and --json. */
const CONNECTION: readonly string[] = ['registry', 'token', 'username', 'password-stdin', 'json'];

const ROUTES = new Map<string, ManagementRoute>(MANAGEMENT_ROUTES.map((route) => [route.operationId, route]));

/** A path parameter that spans path segments (a repository, a grantee): each segment is encoded, its slashes stay. */
function spansSegments(name: string): boolean {
  return new RegExp(`^(?:${PATH_PARAMETERS[name]!.pattern})$`).test('a/b');
}

/** The route's path with its parameters filled in. */
export function routePath(route: ManagementRoute, params: Readonly<Record<string, string>>): string {
  return route.path.replace(/\{(\w+)\}/g, (_whole, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`${route.operationId}: no value for {${name}}`);
    return spansSegments(name) ? value.split('/').map(encodeURIComponent).join('/') : encodeURIComponent(value);
  });
}

function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function note(text: string): void {
  process.stderr.write(`custody admin: ${text}\n`);
}

export const adminCommand: Command = {
  name: 'admin',
  summary: 'manage users, organizations, teams, robots, permissions, tokens, sessions and webhooks',
  usage: USAGE,
  async run(args) {
    const { values, positionals } = parseArgs({ args, options: FLAG_OPTIONS, allowPositionals: true, strict: true });
    const flags = values as Values;
    const [group, action] = positionals;
    if (group === undefined) throw new UsageError('missing subcommand; run `custody admin --help`');
    const name = group === 'whoami' ? 'whoami' : `${group} ${action ?? ''}`.trim();
    const command = ADMIN_COMMANDS.find((candidate) => candidate.words === name);
    const allowed = new Set<string>([...CONNECTION, ...(command?.flags ?? [])]);
    for (const key of Object.keys(values)) if (!allowed.has(key)) throw new UsageError(`--${key} does not apply to \`${name}\``);

    const newPasswordWanted = command?.newPassword === true && flags['password-stdin'] === true;
    const session = await openApiSession({ registry: flags.registry, token: flags.token, username: flags.username, passwordStdin: flags['password-stdin'], extraPasswordLine: newPasswordWanted });
    if (command === undefined) throw new UsageError(`unknown subcommand "${name}"; run \`custody admin --help\``);

    const operands = positionals.slice(command.words.split(' ').length);
    const input: AdminInput = {
      args: Object.fromEntries(command.args.flatMap((arg, index) => (operands[index] === undefined ? [] : [[arg, operands[index]]]))),
      operands,
      flags,
      newPassword: () => {
        if (!newPasswordWanted) return undefined;
        const line = session.stdinLines.shift();
        if (line === undefined || line === '') throw new UsageError('no password on stdin');
        return line;
      },
    };
    if (command.arity) command.arity(input);
    else if (operands.length !== command.args.length) throw new UsageError(`usage: custody admin ${name}${command.usage ? ` ${command.usage}` : ''}`);
    command.check?.(input);
    return runCommand(command, input, session);
  },
};

async function runCommand(command: AdminCommand, input: AdminInput, session: ApiSession): Promise<number> {
  const request = async <T>(route: ManagementRoute, path: string, body?: unknown): Promise<T> => {
    const response = await apiRequest(session, route.method, path, { body, userAgent: 'custody-admin' });
    const text = await response.text();
    return (text === '' ? undefined : JSON.parse(text)) as T;
  };
  const routeOf = (operationId: string): ManagementRoute => {
    const route = ROUTES.get(operationId);
    if (!route || !command.operations.includes(operationId)) throw new Error(`\`${command.words}\`: operation ${operationId} is not among its operations`);
    return route;
  };
  const call: AdminCall = (operationId, params = {}) => {
    const route = ROUTES.get(operationId);
    if (!route) throw new Error(`no operation ${operationId}`);
    return request(route, routePath(route, params));
  };

  const route = routeOf(command.route ? await command.route(input, call) : command.operations[0]!);
  const query = new URLSearchParams(command.query?.(input) ?? {}).toString();
  const path = `${routePath(route, { ...input.args, ...command.params?.(input) })}${query === '' ? '' : `?${query}`}`;
  const body = command.body?.(input);
  let answer: unknown;
  if (command.pages !== undefined) {
    const items: unknown[] = [];
    let last: string | null = null;
    do {
      const page: Record<string, unknown> & { next: string | null } = await request(route, `${path}?n=1000${last === null ? '' : `&last=${encodeURIComponent(last)}`}`);
      items.push(...(page[command.pages] as unknown[]));
      last = page.next;
    } while (last !== null);
    answer = items;
  } else {
    answer = await request(route, path, body);
  }

  if (input.flags.json === true && command.print.json !== false) {
    out(JSON.stringify(answer, null, 2));
    return 0;
  }
  const notes = command.print.note?.(answer, input) ?? [];
  for (const line of typeof notes === 'string' ? [notes] : notes) note(line);
  const text = command.print.out?.(answer, input);
  if (text !== undefined) out(text);
  return 0;
}
