// `custody admin ...`: users, organizations, teams, robots, repositories, permissions,
// personal access tokens and login sessions, through the management API (/api/v1) of a
// running registry.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../core/errors.ts';
import { apiRequest, openApiSession, type ApiSession } from './api-session.ts';
import type { Command } from './main.ts';
import { table as layOut } from './output.ts';
import { runSessionCommand, SESSION_USAGE } from './admin-sessions.ts';

const USAGE = [
  'Usage: custody admin <subcommand> [arguments] [options]',
  '',
  'Subcommands:',
  '  whoami',
  '  user create NAME [--email E] [--password-stdin] [--superuser]   (no password: one is generated and printed once)',
  '  user list | user get NAME | user delete NAME   (deletes its robots and repositories too)',
  '  user update NAME [--email E] [--password-stdin] [--superuser true|false] [--disabled true|false]',
  '  org create NAME [--email E] [--description D] | org list | org get ORG',
  '  org delete ORG   (deletes its teams, robots and repositories too)',
  '  team create ORG TEAM [--role member|creator|admin] [--description D] [--ldap-group G]',
  '  team update ORG TEAM [--role R] [--description D] [--ldap-group G]',
  '  team list ORG | team get ORG TEAM | team delete ORG TEAM | team members ORG TEAM',
  '  team add-member ORG TEAM ACCOUNT | team remove-member ORG TEAM ACCOUNT',
  '  robot create OWNER SHORT [--description D]   (prints the token, once)',
  '  robot list OWNER | robot get OWNER+SHORT | robot delete OWNER+SHORT | robot regenerate OWNER+SHORT',
  '  repo create NAME [--visibility public|private] [--description D]',
  '  repo list | repo get NAME | repo set-visibility NAME public|private | repo set-description NAME TEXT',
  '  permission set REPO (--user U | --robot R | --team ORG/TEAM) read|write|admin',
  '  permission remove REPO (--user U | --robot R | --team ORG/TEAM)',
  '  permission list REPO [--direct]   (who can do what, and where each role comes from)',
  '  default-permission set ORG (--user U | --robot R | --team TEAM) read|write|admin',
  '  default-permission remove ORG (--user U | --robot R | --team TEAM) | default-permission list ORG',
  '  token create NAME [--expires 30d|12h|DATE]   (prints the token, once) | token list | token revoke ID',
  ...SESSION_USAGE,
  '',
  'Options:',
  '  --registry URL        the registry (default: $CUSTODY_REGISTRY); host[:port] means https://',
  '  --token TOKEN         a personal access token (default: $CUSTODY_TOKEN)',
  '  --username USER       log in as USER; the password comes from --password-stdin or $CUSTODY_PASSWORD',
  '  --password-stdin      read the password from stdin (with a subcommand that takes a password too,',
  '                        the first line is yours and the second the new one)',
  '                        without any of these, the credentials saved by `custody login` (auth.json) are used',
  '  --json                print JSON instead of a table or a plain value',
  '  -h, --help            show this help',
].join('\n');

const GLOBAL_OPTIONS = {
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
} as const satisfies ParseArgsConfig['options'];

type Values = { [K in keyof typeof GLOBAL_OPTIONS]?: (typeof GLOBAL_OPTIONS)[K]['type'] extends 'string' ? string : boolean };

/** Options each subcommand accepts beyond the connection and output ones. */
const ALLOWED: Readonly<Record<string, readonly (keyof Values)[]>> = {
  'user create': ['email', 'superuser'],
  'user update': ['email', 'superuser', 'disabled'],
  'org create': ['email', 'description'],
  'team create': ['role', 'description', 'ldap-group'],
  'team update': ['role', 'description', 'ldap-group'],
  'robot create': ['description'],
  'repo create': ['visibility', 'description'],
  'permission set': ['user', 'robot', 'team'],
  'permission remove': ['user', 'robot', 'team'],
  'permission list': ['direct'],
  'default-permission set': ['user', 'robot', 'team'],
  'default-permission remove': ['user', 'robot', 'team'],
  'token create': ['expires'],
  'session list': ['user', 'robot'],
  'session revoke': ['user', 'robot', 'all'],
};
const CONNECTION: readonly (keyof Values)[] = ['registry', 'token', 'username', 'password-stdin', 'json'];

class AdminClient {
  private readonly session: ApiSession;

  constructor(session: ApiSession) {
    this.session = session;
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await apiRequest(this.session, method, path, { body, userAgent: 'custody-admin' });
    const text = await response.text();
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }
}

function segment(value: string): string {
  return encodeURIComponent(value);
}

/** A repository name in a path: its slashes stay, every component is encoded. */
function repositoryPath(name: string): string {
  return name.split('/').map(segment).join('/');
}

/** "30d", "12h", "90m" or an RFC 3339 date: the expiry as an ISO string. */
export function parseExpiry(value: string, now = Date.now()): string {
  const relative = /^(\d{1,6})([mhdw])$/.exec(value);
  if (relative) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[relative[2] as 'm' | 'h' | 'd' | 'w'];
    return new Date(now + Number(relative[1]) * unit).toISOString();
  }
  const at = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || !Number.isFinite(at)) throw new UsageError(`invalid --expires "${value}": use 30d, 12h, 90m, 2w or a date like 2027-01-31`);
  return new Date(at).toISOString();
}

function booleanOption(name: string, value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true' || value === 'yes') return true;
  if (value === 'false' || value === 'no') return false;
  throw new UsageError(`--${name} takes true or false`);
}

function table(rows: readonly (readonly string[])[], headings: readonly string[]): string {
  return layOut([headings, ...rows]);
}

function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function note(text: string): void {
  process.stderr.write(`custody admin: ${text}\n`);
}

function granteeOf(values: Values, orgRelative: boolean): { kind: 'user' | 'robot' | 'team'; name: string } {
  const given = (['user', 'robot', 'team'] as const).filter((kind) => values[kind] !== undefined);
  if (given.length !== 1) throw new UsageError(`give exactly one of --user, --robot or --team${orgRelative ? '' : ' (ORG/TEAM)'}`);
  const kind = given[0]!;
  return { kind, name: values[kind] as string };
}

function granteePath(grantee: { kind: string; name: string }): string {
  return `${grantee.kind}/${grantee.name.split('/').map(segment).join('/')}`;
}

const ROLES = ['read', 'write', 'admin'];

export const adminCommand: Command = {
  name: 'admin',
  summary: 'manage users, organizations, teams, robots, permissions, tokens and sessions',
  usage: USAGE,
  async run(args) {
    const { values, positionals } = parseArgs({ args, options: GLOBAL_OPTIONS, allowPositionals: true, strict: true });
    const v = values as Values;
    const [group, action, ...rest] = positionals;
    if (group === undefined) throw new UsageError('missing subcommand; run `custody admin --help`');
    const name = group === 'whoami' ? 'whoami' : `${group} ${action ?? ''}`.trim();
    const allowed = new Set<string>([...CONNECTION, ...(ALLOWED[name] ?? [])]);
    for (const key of Object.keys(values)) if (!allowed.has(key)) throw new UsageError(`--${key} does not apply to \`${name}\``);
    const arity = (count: number, shape: string): string[] => {
      const operands = group === 'whoami' ? positionals.slice(1) : rest;
      if (operands.length !== count) throw new UsageError(`usage: custody admin ${name}${shape ? ` ${shape}` : ''}`);
      return operands;
    };

    const newPasswordWanted = (name === 'user create' || name === 'user update') && v['password-stdin'] === true;
    const session = await openSession(v, newPasswordWanted);
    const api = new AdminClient(session);
    const newPassword = (): string | undefined => {
      if (!newPasswordWanted) return undefined;
      const line = session.stdinLines.shift();
      if (line === undefined || line === '') throw new UsageError('no password on stdin');
      return line;
    };
    const json = v.json === true;
    const show = (value: unknown, render: () => string): void => out(json ? JSON.stringify(value, null, 2) : render());

    if (group === 'session') {
      return runSessionCommand(action, rest, { call: (method, path) => api.call(method, path), user: v.user, robot: v.robot, all: v.all === true, json, out, note, table });
    }
    switch (name) {
      case 'whoami': {
        arity(0, '');
        const me = await api.call<{ name: string; superuser?: boolean }>('GET', '/api/v1/user');
        show(me, () => `${me.name}${me.superuser ? ' (superuser)' : ''}`);
        return 0;
      }
      // ---- users
      case 'user create': {
        const [user] = arity(1, 'NAME');
        const password = newPassword();
        const superuser = v.superuser === undefined ? undefined : v.superuser === '' ? true : booleanOption('superuser', v.superuser);
        const created = await api.call<{ name: string; generatedPassword?: string }>('POST', '/api/v1/users', {
          name: user,
          ...(v.email === undefined ? {} : { email: v.email }),
          ...(password === undefined ? {} : { password }),
          ...(superuser === undefined ? {} : { superuser }),
        });
        if (json) return (out(JSON.stringify(created, null, 2)), 0);
        note(`created user ${created.name}`);
        if (created.generatedPassword) {
          note('its generated password follows; it is shown once');
          out(created.generatedPassword);
        }
        return 0;
      }
      case 'user list': {
        arity(0, '');
        const users = await api.call<{ name: string; email: string | null; superuser: boolean; disabled: boolean; ldap: boolean }[]>('GET', '/api/v1/users');
        show(users, () => table(users.map((u) => [u.name, u.email ?? '', u.superuser ? 'yes' : '', u.disabled ? 'yes' : '', u.ldap ? 'ldap' : 'local']), ['NAME', 'EMAIL', 'SUPERUSER', 'DISABLED', 'SOURCE']));
        return 0;
      }
      case 'user get': {
        const [user] = arity(1, 'NAME');
        const found = await api.call('GET', `/api/v1/users/${segment(user!)}`);
        out(JSON.stringify(found, null, 2));
        return 0;
      }
      case 'user update': {
        const [user] = arity(1, 'NAME');
        const password = newPassword();
        const changes = {
          ...(v.email === undefined ? {} : { email: v.email === '' ? null : v.email }),
          ...(password === undefined ? {} : { password }),
          ...(v.superuser === undefined ? {} : { superuser: booleanOption('superuser', v.superuser) }),
          ...(v.disabled === undefined ? {} : { disabled: booleanOption('disabled', v.disabled) }),
        };
        if (Object.keys(changes).length === 0) throw new UsageError('nothing to change: give --email, --password-stdin, --superuser or --disabled');
        const updated = await api.call('PATCH', `/api/v1/users/${segment(user!)}`, changes);
        if (json) out(JSON.stringify(updated, null, 2));
        else note(`updated user ${user}`);
        return 0;
      }
      case 'user delete': {
        const [user] = arity(1, 'NAME');
        await api.call('DELETE', `/api/v1/users/${segment(user!)}`);
        note(`deleted user ${user} with its robots and repositories`);
        return 0;
      }
      // ---- organizations
      case 'org create': {
        const [org] = arity(1, 'NAME');
        const created = await api.call('POST', '/api/v1/organizations', { name: org, ...(v.email === undefined ? {} : { email: v.email }), ...(v.description === undefined ? {} : { description: v.description }) });
        if (json) out(JSON.stringify(created, null, 2));
        else note(`created organization ${org}; you are in its owners team`);
        return 0;
      }
      case 'org list': {
        arity(0, '');
        const orgs = await api.call<{ name: string; email: string | null; description: string | null }[]>('GET', '/api/v1/organizations');
        show(orgs, () => table(orgs.map((o) => [o.name, o.email ?? '', o.description ?? '']), ['NAME', 'EMAIL', 'DESCRIPTION']));
        return 0;
      }
      case 'org get': {
        const [org] = arity(1, 'ORG');
        out(JSON.stringify(await api.call('GET', `/api/v1/organizations/${segment(org!)}`), null, 2));
        return 0;
      }
      case 'org delete': {
        const [org] = arity(1, 'ORG');
        await api.call('DELETE', `/api/v1/organizations/${segment(org!)}`);
        note(`deleted organization ${org} with its teams, robots and repositories`);
        return 0;
      }
      // ---- teams
      case 'team create': {
        const [org, team] = arity(2, 'ORG TEAM');
        const created = await api.call('POST', `/api/v1/organizations/${segment(org!)}/teams`, {
          name: team,
          ...(v.role === undefined ? {} : { role: v.role }),
          ...(v.description === undefined ? {} : { description: v.description }),
          ...(v['ldap-group'] === undefined ? {} : { ldapGroup: v['ldap-group'] }),
        });
        if (json) out(JSON.stringify(created, null, 2));
        else note(`created team ${org}/${team}`);
        return 0;
      }
      case 'team update': {
        const [org, team] = arity(2, 'ORG TEAM');
        const changes = {
          ...(v.role === undefined ? {} : { role: v.role }),
          ...(v.description === undefined ? {} : { description: v.description === '' ? null : v.description }),
          ...(v['ldap-group'] === undefined ? {} : { ldapGroup: v['ldap-group'] === '' ? null : v['ldap-group'] }),
        };
        if (Object.keys(changes).length === 0) throw new UsageError('nothing to change: give --role, --description or --ldap-group');
        const updated = await api.call('PATCH', `/api/v1/organizations/${segment(org!)}/teams/${segment(team!)}`, changes);
        if (json) out(JSON.stringify(updated, null, 2));
        else note(`updated team ${org}/${team}`);
        return 0;
      }
      case 'team list': {
        const [org] = arity(1, 'ORG');
        const teams = await api.call<{ name: string; role: string; ldapGroup: string | null; description: string | null }[]>('GET', `/api/v1/organizations/${segment(org!)}/teams`);
        show(teams, () => table(teams.map((t) => [t.name, t.role, t.ldapGroup ?? '', t.description ?? '']), ['TEAM', 'ROLE', 'LDAP GROUP', 'DESCRIPTION']));
        return 0;
      }
      case 'team get': {
        const [org, team] = arity(2, 'ORG TEAM');
        out(JSON.stringify(await api.call('GET', `/api/v1/organizations/${segment(org!)}/teams/${segment(team!)}`), null, 2));
        return 0;
      }
      case 'team delete': {
        const [org, team] = arity(2, 'ORG TEAM');
        await api.call('DELETE', `/api/v1/organizations/${segment(org!)}/teams/${segment(team!)}`);
        note(`deleted team ${org}/${team}`);
        return 0;
      }
      case 'team members': {
        const [org, team] = arity(2, 'ORG TEAM');
        const members = await api.call<{ name: string; kind: string; synced: boolean }[]>('GET', `/api/v1/organizations/${segment(org!)}/teams/${segment(team!)}/members`);
        show(members, () => table(members.map((m) => [m.name, m.kind, m.synced ? 'ldap' : '']), ['MEMBER', 'KIND', 'SYNCED']));
        return 0;
      }
      case 'team add-member':
      case 'team remove-member': {
        const [org, team, account] = arity(3, 'ORG TEAM ACCOUNT');
        const path = `/api/v1/organizations/${segment(org!)}/teams/${segment(team!)}/members/${segment(account!)}`;
        if (action === 'add-member') {
          await api.call('PUT', path);
          note(`${account} is a member of ${org}/${team}`);
        } else {
          await api.call('DELETE', path);
          note(`removed ${account} from ${org}/${team}`);
        }
        return 0;
      }
      // ---- robots
      case 'robot create': {
        const [owner, short] = arity(2, 'OWNER SHORT');
        const created = await createRobot(api, owner!, short!, v.description);
        if (json) return (out(JSON.stringify(created, null, 2)), 0);
        note(`created robot ${created.name}; its token follows and is shown once`);
        out(created.token);
        return 0;
      }
      case 'robot list': {
        const [owner] = arity(1, 'OWNER');
        const robots = await listRobots(api, owner!);
        show(robots, () => table(robots.map((r) => [r.name, r.lastUsedAt ?? 'never', r.description ?? '']), ['ROBOT', 'TOKEN LAST USED', 'DESCRIPTION']));
        return 0;
      }
      case 'robot get': {
        const [robot] = arity(1, 'OWNER+SHORT');
        out(JSON.stringify(await api.call('GET', `/api/v1/robots/${segment(robot!)}`), null, 2));
        return 0;
      }
      case 'robot delete': {
        const [robot] = arity(1, 'OWNER+SHORT');
        await api.call('DELETE', `/api/v1/robots/${segment(robot!)}`);
        note(`deleted robot ${robot}`);
        return 0;
      }
      case 'robot regenerate': {
        const [robot] = arity(1, 'OWNER+SHORT');
        const created = await api.call<{ name: string; token: string }>('POST', `/api/v1/robots/${segment(robot!)}/token`);
        if (json) return (out(JSON.stringify(created, null, 2)), 0);
        note(`new token for ${created.name} follows (the old one no longer works); it is shown once`);
        out(created.token);
        return 0;
      }
      // ---- repositories
      case 'repo create': {
        const [repo] = arity(1, 'NAME');
        const created = await api.call('POST', '/api/v1/repositories', { name: repo, ...(v.visibility === undefined ? {} : { visibility: v.visibility }), ...(v.description === undefined ? {} : { description: v.description }) });
        if (json) out(JSON.stringify(created, null, 2));
        else note(`created repository ${repo}`);
        return 0;
      }
      case 'repo list': {
        arity(0, '');
        const all: { name: string; visibility: string; role: string | null }[] = [];
        let last: string | null = null;
        do {
          const page: { repositories: { name: string; visibility: string; role: string | null }[]; next: string | null } = await api.call('GET', `/api/v1/repositories?n=1000${last === null ? '' : `&last=${encodeURIComponent(last)}`}`);
          all.push(...page.repositories);
          last = page.next;
        } while (last !== null);
        show(all, () => table(all.map((r) => [r.name, r.visibility, r.role ?? '']), ['REPOSITORY', 'VISIBILITY', 'YOUR ROLE']));
        return 0;
      }
      case 'repo get': {
        const [repo] = arity(1, 'NAME');
        out(JSON.stringify(await api.call('GET', `/api/v1/repositories/${repositoryPath(repo!)}`), null, 2));
        return 0;
      }
      case 'repo set-visibility': {
        const [repo, visibility] = arity(2, 'NAME public|private');
        if (visibility !== 'public' && visibility !== 'private') throw new UsageError('visibility is public or private');
        await api.call('PATCH', `/api/v1/repositories/${repositoryPath(repo!)}`, { visibility });
        note(`${repo} is ${visibility}`);
        return 0;
      }
      case 'repo set-description': {
        const [repo, description] = arity(2, 'NAME TEXT');
        await api.call('PATCH', `/api/v1/repositories/${repositoryPath(repo!)}`, { description: description === '' ? null : description });
        note(`updated the description of ${repo}`);
        return 0;
      }
      // ---- permissions
      case 'permission set':
      case 'default-permission set': {
        const org = group === 'default-permission';
        const [target, role] = arity(2, `${org ? 'ORG' : 'REPO'} (--user U | --robot R | --team ${org ? 'TEAM' : 'ORG/TEAM'}) read|write|admin`);
        if (!ROLES.includes(role!)) throw new UsageError('the role is read, write or admin');
        const grantee = granteeOf(v, org);
        const path = org ? `/api/v1/organizations/${segment(target!)}/default-permissions/${granteePath(grantee)}` : `/api/v1/repositories/${repositoryPath(target!)}/-/permissions/${granteePath(grantee)}`;
        const set = await api.call('PUT', path, { role });
        if (json) out(JSON.stringify(set, null, 2));
        else note(`${grantee.kind} ${grantee.name} has ${role} on ${org ? `every repository of ${target}` : target}`);
        return 0;
      }
      case 'permission remove':
      case 'default-permission remove': {
        const org = group === 'default-permission';
        const [target] = arity(1, `${org ? 'ORG' : 'REPO'} (--user U | --robot R | --team ${org ? 'TEAM' : 'ORG/TEAM'})`);
        const grantee = granteeOf(v, org);
        const path = org ? `/api/v1/organizations/${segment(target!)}/default-permissions/${granteePath(grantee)}` : `/api/v1/repositories/${repositoryPath(target!)}/-/permissions/${granteePath(grantee)}`;
        await api.call('DELETE', path);
        note(`removed the permission of ${grantee.kind} ${grantee.name} on ${target}`);
        return 0;
      }
      case 'default-permission list': {
        const [org] = arity(1, 'ORG');
        const permissions = await api.call<{ grantee: { kind: string; name: string }; role: string }[]>('GET', `/api/v1/organizations/${segment(org!)}/default-permissions`);
        show(permissions, () => table(permissions.map((p) => [p.grantee.name, p.grantee.kind, p.role]), ['GRANTEE', 'KIND', 'ROLE']));
        return 0;
      }
      case 'permission list': {
        const [repo] = arity(1, 'REPO');
        if (v.direct) {
          const permissions = await api.call<{ grantee: { kind: string; name: string }; role: string }[]>('GET', `/api/v1/repositories/${repositoryPath(repo!)}/-/permissions`);
          show(permissions, () => table(permissions.map((p) => [p.grantee.name, p.grantee.kind, p.role]), ['GRANTEE', 'KIND', 'ROLE']));
          return 0;
        }
        const access = await api.call<{ repository: string; visibility: string; entries: { principal: { kind: string; name: string | null }; role: string; sources: { via: string; role: string; team?: string }[] }[] }>(
          'GET',
          `/api/v1/repositories/${repositoryPath(repo!)}/-/access`,
        );
        show(access, () =>
          table(
            access.entries.map((entry) => [
              entry.principal.name ?? `(${entry.principal.kind})`,
              entry.principal.kind,
              entry.role,
              entry.sources.map((source) => `${source.via}${source.team ? ` ${source.team}` : ''}${source.role === entry.role ? '' : ` (${source.role})`}`).join(', '),
            ]),
            ['PRINCIPAL', 'KIND', 'ROLE', 'FROM'],
          ),
        );
        return 0;
      }
      // ---- tokens
      case 'token create': {
        const [tokenName] = arity(1, 'NAME');
        const created = await api.call<{ id: number; token: string; expiresAt: string | null }>('POST', '/api/v1/user/tokens', { name: tokenName, ...(v.expires === undefined ? {} : { expiresAt: parseExpiry(v.expires) }) });
        if (json) return (out(JSON.stringify(created, null, 2)), 0);
        note(`created token ${created.id}${created.expiresAt ? `, expiring ${created.expiresAt}` : ''}; it follows and is shown once`);
        out(created.token);
        return 0;
      }
      case 'token list': {
        arity(0, '');
        const tokens = await api.call<{ id: number; name: string; createdAt: string; expiresAt: string | null; lastUsedAt: string | null }[]>('GET', '/api/v1/user/tokens');
        show(tokens, () => table(tokens.map((t) => [String(t.id), t.name, t.createdAt, t.expiresAt ?? 'never', t.lastUsedAt ?? 'never']), ['ID', 'NAME', 'CREATED', 'EXPIRES', 'LAST USED']));
        return 0;
      }
      case 'token revoke': {
        const [id] = arity(1, 'ID');
        if (!/^[0-9]+$/.test(id!)) throw new UsageError('a token ID is a number (see `custody admin token list`)');
        await api.call('DELETE', `/api/v1/user/tokens/${id}`);
        note(`revoked token ${id}`);
        return 0;
      }
      default:
        throw new UsageError(`unknown subcommand "${name}"; run \`custody admin --help\``);
    }
  },
};

/** Robots live under /users/NAME or /organizations/NAME: try the organization first. */
async function ownerPath(api: AdminClient, owner: string): Promise<string> {
  try {
    await api.call('GET', `/api/v1/organizations/${segment(owner)}`);
    return `/api/v1/organizations/${segment(owner)}`;
  } catch (error) {
    if (/^NOT_FOUND/.test((error as Error).message)) return `/api/v1/users/${segment(owner)}`;
    throw error;
  }
}

async function createRobot(api: AdminClient, owner: string, short: string, description: string | undefined): Promise<{ name: string; token: string }> {
  return api.call('POST', `${await ownerPath(api, owner)}/robots`, { name: short, ...(description === undefined ? {} : { description }) });
}

async function listRobots(api: AdminClient, owner: string): Promise<{ name: string; lastUsedAt: string | null; description: string | null }[]> {
  return api.call('GET', `${await ownerPath(api, owner)}/robots`);
}

function openSession(values: Values, newPasswordWanted: boolean): Promise<ApiSession> {
  return openApiSession({ registry: values.registry, token: values.token, username: values.username, passwordStdin: values['password-stdin'], extraPasswordLine: newPasswordWanted });
}
