// `custody admin` as a projection of the management route table (src/management/routes.ts):
// for each command, its words, its positional arguments, the flags it takes, which
// operation of the table it calls (by operationId; the method and path come from there),
// what it sends and how it prints the answer. admin-command.ts interprets these entries
// and generates the help from them; a new operation gets a command by adding an entry.
//
// Arguments named like a path parameter of the route (`name`, `org`, `team`, `account`,
// `robot`, `repository`, `id`) fill it; `params` adds what comes from flags instead.
import { UsageError } from '../core/errors.ts';
import { parseBooleanValue } from './arguments.ts';
import { table } from './output.ts';

export interface AdminFlags {
  readonly email?: string;
  readonly superuser?: string;
  readonly disabled?: string;
  readonly description?: string;
  readonly role?: string;
  readonly 'ldap-group'?: string;
  readonly visibility?: string;
  readonly user?: string;
  readonly robot?: string;
  readonly team?: string;
  readonly direct?: boolean;
  readonly expires?: string;
  readonly all?: boolean;
  readonly json?: boolean;
}

/** What a command works from: its arguments by name, the flags, and the new password (read from stdin). */
export interface AdminInput {
  readonly args: Readonly<Record<string, string>>;
  readonly operands: readonly string[];
  readonly flags: AdminFlags;
  /** The second stdin line when the command takes a password and --password-stdin is given. */
  newPassword(): string | undefined;
}

/** Calls an operation of the route table (for commands that look something up first). */
export type AdminCall = <T>(operationId: string, params?: Readonly<Record<string, string>>) => Promise<T>;

export interface AdminOutput {
  /** Whether --json prints the answer as JSON instead of the notes and text (default true). */
  readonly json?: boolean;
  /** Lines for standard error, each as `custody admin: LINE`. */
  readonly note?: (answer: any, input: AdminInput) => string | readonly string[];
  /** The text for standard output: a table, a value, a token shown once. */
  readonly out?: (answer: any, input: AdminInput) => string | undefined;
}

export interface AdminCommand {
  /** The words after `custody admin`. */
  readonly words: string;
  /** Positional arguments by name, in order. */
  readonly args: readonly string[];
  /** The arguments as the help and usage errors show them (default: none). */
  readonly usage?: string;
  /** Optional flags as the help shows them. */
  readonly options?: string;
  /** A remark at the end of the help line. */
  readonly remark?: string;
  /** Flags the command takes beyond the connection ones (--registry, --token, --username, --password-stdin, --json). */
  readonly flags?: readonly (keyof AdminFlags)[];
  /** Reads a new password from stdin with --password-stdin (its second line when --username is given too). */
  readonly newPassword?: boolean;
  /** Every operation the command may call; `route` chooses among them when there are several. */
  readonly operations: readonly string[];
  readonly route?: (input: AdminInput, call: AdminCall) => string | Promise<string>;
  /** Checks the positional arguments instead of counting them against `args`. */
  readonly arity?: (input: AdminInput) => void;
  /** Checks argument values before anything is sent. */
  readonly check?: (input: AdminInput) => void;
  /** Path parameters that do not come from an argument of the same name. */
  readonly params?: (input: AdminInput) => Readonly<Record<string, string>>;
  readonly body?: (input: AdminInput) => unknown;
  /** The answer is a page of this list: ask with n=1000 and follow `next` to the end. */
  readonly pages?: string;
  readonly print: AdminOutput;
}

const json = (value: unknown): string => JSON.stringify(value, null, 2);
const SHOW_JSON: AdminOutput = { out: json };
const ROLES = ['read', 'write', 'admin'];

/** `--flag` given: its value, empty becoming null (clears the field). */
function cleared(value: string | undefined): string | null | undefined {
  return value === undefined ? undefined : value === '' ? null : value;
}

function fields(entries: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined));
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

/** The grantee of a permission command: exactly one of --user, --robot, --team. */
function grantee(input: AdminInput, orgRelative: boolean): { kind: string; grantee: string } {
  const given = (['user', 'robot', 'team'] as const).filter((kind) => input.flags[kind] !== undefined);
  if (given.length !== 1) throw new UsageError(`give exactly one of --user, --robot or --team${orgRelative ? '' : ' (ORG/TEAM)'}`);
  return { kind: given[0]!, grantee: input.flags[given[0]!]! };
}

function checkRole(input: AdminInput): void {
  if (!ROLES.includes(input.args.role!)) throw new UsageError('the role is read, write or admin');
}

type Grant = { grantee: { kind: string; name: string }; role: string };
const GRANTS: AdminOutput = { out: (grants: Grant[]) => table([['GRANTEE', 'KIND', 'ROLE'], ...grants.map((p) => [p.grantee.name, p.grantee.kind, p.role])]) };

/** Robots live under /users/NAME or /organizations/NAME: the organization's when there is one. */
async function robotOwnerRoute(call: AdminCall, owner: string, ofOrganization: string, ofUser: string): Promise<string> {
  try {
    await call('getOrganization', { org: owner });
    return ofOrganization;
  } catch (error) {
    if (/^NOT_FOUND/.test((error as Error).message)) return ofUser;
    throw error;
  }
}

/** Whose sessions: --user NAME, --robot OWNER+SHORT, or your own. */
function sessionOwner(input: AdminInput): { suffix: '' | 'User' | 'Robot'; whose: string } {
  if (input.flags.user !== undefined && input.flags.robot !== undefined) throw new UsageError('give --user or --robot, not both');
  if (input.flags.user !== undefined) return { suffix: 'User', whose: input.flags.user };
  if (input.flags.robot !== undefined) return { suffix: 'Robot', whose: input.flags.robot };
  return { suffix: '', whose: 'your' };
}
const SESSION_OWNER = ['user', 'robot'] as const;
const sessionParams = (input: AdminInput): Record<string, string> => fields({ name: input.flags.user, robot: input.flags.robot }) as Record<string, string>;
const SESSION_REVOKE_USAGE = 'usage: custody admin session revoke ID|--all [--user NAME | --robot OWNER+SHORT] (IDs: `custody admin session list`)';

type SessionRow = { id: number; createdAt: string; lastUsedAt: string | null; expiresAt: string | null; userAgent: string | null; ip: string | null; mintedFrom: string | null; fromTokenId: number | null };
type AccessView = { entries: { principal: { kind: string; name: string | null }; role: string; sources: { via: string; role: string; team?: string }[] }[] };

export const ADMIN_COMMANDS: readonly AdminCommand[] = [
  { words: 'whoami', args: [], operations: ['getCurrentUser'], print: { out: (me: { name: string; superuser?: boolean }) => `${me.name}${me.superuser ? ' (superuser)' : ''}` } },

  // ---- users
  {
    words: 'user create',
    args: ['name'],
    usage: 'NAME',
    options: '[--email E] [--password-stdin] [--superuser]',
    remark: 'no password: one is generated and printed once',
    flags: ['email', 'superuser'],
    newPassword: true,
    operations: ['createUser'],
    body: (input) => {
      const password = input.newPassword();
      const { superuser } = input.flags;
      return fields({ name: input.args.name, email: input.flags.email, password, superuser: superuser === '' ? true : parseBooleanValue('superuser', superuser) });
    },
    print: {
      note: (created: { name: string; generatedPassword?: string }) => [`created user ${created.name}`, ...(created.generatedPassword ? ['its generated password follows; it is shown once'] : [])],
      out: (created: { generatedPassword?: string }) => created.generatedPassword,
    },
  },
  {
    words: 'user list',
    args: [],
    operations: ['listUsers'],
    print: {
      out: (users: { name: string; email: string | null; superuser: boolean; disabled: boolean; ldap: boolean }[]) =>
        table([['NAME', 'EMAIL', 'SUPERUSER', 'DISABLED', 'SOURCE'], ...users.map((u) => [u.name, u.email ?? '', u.superuser ? 'yes' : '', u.disabled ? 'yes' : '', u.ldap ? 'ldap' : 'local'])]),
    },
  },
  { words: 'user get', args: ['name'], usage: 'NAME', operations: ['getUser'], print: SHOW_JSON },
  {
    words: 'user update',
    args: ['name'],
    usage: 'NAME',
    options: '[--email E] [--password-stdin] [--superuser true|false] [--disabled true|false]',
    flags: ['email', 'superuser', 'disabled'],
    newPassword: true,
    operations: ['updateUser'],
    body: (input) => {
      const password = input.newPassword();
      const changes = fields({
        email: cleared(input.flags.email),
        password,
        superuser: parseBooleanValue('superuser', input.flags.superuser),
        disabled: parseBooleanValue('disabled', input.flags.disabled),
      });
      if (Object.keys(changes).length === 0) throw new UsageError('nothing to change: give --email, --password-stdin, --superuser or --disabled');
      return changes;
    },
    print: { note: (_user, input) => `updated user ${input.args.name}` },
  },
  { words: 'user delete', args: ['name'], usage: 'NAME', remark: 'deletes its robots and repositories too', operations: ['deleteUser'], print: { json: false, note: (_none, input) => `deleted user ${input.args.name} with its robots and repositories` } },

  // ---- organizations
  {
    words: 'org create',
    args: ['name'],
    usage: 'NAME',
    options: '[--email E] [--description D]',
    flags: ['email', 'description'],
    operations: ['createOrganization'],
    body: (input) => fields({ name: input.args.name, email: input.flags.email, description: input.flags.description }),
    print: { note: (_org, input) => `created organization ${input.args.name}; you are in its owners team` },
  },
  {
    words: 'org list',
    args: [],
    operations: ['listOrganizations'],
    print: { out: (orgs: { name: string; email: string | null; description: string | null }[]) => table([['NAME', 'EMAIL', 'DESCRIPTION'], ...orgs.map((o) => [o.name, o.email ?? '', o.description ?? ''])]) },
  },
  { words: 'org get', args: ['org'], usage: 'ORG', operations: ['getOrganization'], print: SHOW_JSON },
  { words: 'org delete', args: ['org'], usage: 'ORG', remark: 'deletes its teams, robots and repositories too', operations: ['deleteOrganization'], print: { json: false, note: (_none, input) => `deleted organization ${input.args.org} with its teams, robots and repositories` } },

  // ---- teams
  {
    words: 'team create',
    args: ['org', 'name'],
    usage: 'ORG TEAM',
    options: '[--role member|creator|admin] [--description D] [--ldap-group G]',
    flags: ['role', 'description', 'ldap-group'],
    operations: ['createTeam'],
    body: (input) => fields({ name: input.args.name, role: input.flags.role, description: input.flags.description, ldapGroup: input.flags['ldap-group'] }),
    print: { note: (_team, input) => `created team ${input.args.org}/${input.args.name}` },
  },
  {
    words: 'team update',
    args: ['org', 'team'],
    usage: 'ORG TEAM',
    options: '[--role R] [--description D] [--ldap-group G]',
    flags: ['role', 'description', 'ldap-group'],
    operations: ['updateTeam'],
    body: (input) => {
      const changes = fields({ role: input.flags.role, description: cleared(input.flags.description), ldapGroup: cleared(input.flags['ldap-group']) });
      if (Object.keys(changes).length === 0) throw new UsageError('nothing to change: give --role, --description or --ldap-group');
      return changes;
    },
    print: { note: (_team, input) => `updated team ${input.args.org}/${input.args.team}` },
  },
  {
    words: 'team list',
    args: ['org'],
    usage: 'ORG',
    operations: ['listTeams'],
    print: { out: (teams: { name: string; role: string; ldapGroup: string | null; description: string | null }[]) => table([['TEAM', 'ROLE', 'LDAP GROUP', 'DESCRIPTION'], ...teams.map((t) => [t.name, t.role, t.ldapGroup ?? '', t.description ?? ''])]) },
  },
  { words: 'team get', args: ['org', 'team'], usage: 'ORG TEAM', operations: ['getTeam'], print: SHOW_JSON },
  { words: 'team delete', args: ['org', 'team'], usage: 'ORG TEAM', operations: ['deleteTeam'], print: { json: false, note: (_none, input) => `deleted team ${input.args.org}/${input.args.team}` } },
  {
    words: 'team members',
    args: ['org', 'team'],
    usage: 'ORG TEAM',
    operations: ['listTeamMembers'],
    print: { out: (members: { name: string; kind: string; synced: boolean }[]) => table([['MEMBER', 'KIND', 'SYNCED'], ...members.map((m) => [m.name, m.kind, m.synced ? 'ldap' : ''])]) },
  },
  { words: 'team add-member', args: ['org', 'team', 'account'], usage: 'ORG TEAM ACCOUNT', operations: ['addTeamMember'], print: { json: false, note: (_member, { args }) => `${args.account} is a member of ${args.org}/${args.team}` } },
  { words: 'team remove-member', args: ['org', 'team', 'account'], usage: 'ORG TEAM ACCOUNT', operations: ['removeTeamMember'], print: { json: false, note: (_none, { args }) => `removed ${args.account} from ${args.org}/${args.team}` } },

  // ---- robots
  {
    words: 'robot create',
    args: ['owner', 'short'],
    usage: 'OWNER SHORT',
    options: '[--description D]',
    remark: 'prints the token, once',
    flags: ['description'],
    operations: ['createOrganizationRobot', 'createUserRobot'],
    route: (input, call) => robotOwnerRoute(call, input.args.owner!, 'createOrganizationRobot', 'createUserRobot'),
    params: (input) => ({ org: input.args.owner!, name: input.args.owner! }),
    body: (input) => fields({ name: input.args.short, description: input.flags.description }),
    print: { note: (created: { name: string }) => `created robot ${created.name}; its token follows and is shown once`, out: (created: { token: string }) => created.token },
  },
  {
    words: 'robot list',
    args: ['owner'],
    usage: 'OWNER',
    operations: ['listOrganizationRobots', 'listUserRobots'],
    route: (input, call) => robotOwnerRoute(call, input.args.owner!, 'listOrganizationRobots', 'listUserRobots'),
    params: (input) => ({ org: input.args.owner!, name: input.args.owner! }),
    print: { out: (robots: { name: string; lastUsedAt: string | null; description: string | null }[]) => table([['ROBOT', 'TOKEN LAST USED', 'DESCRIPTION'], ...robots.map((r) => [r.name, r.lastUsedAt ?? 'never', r.description ?? ''])]) },
  },
  { words: 'robot get', args: ['robot'], usage: 'OWNER+SHORT', operations: ['getRobot'], print: SHOW_JSON },
  { words: 'robot delete', args: ['robot'], usage: 'OWNER+SHORT', operations: ['deleteRobot'], print: { json: false, note: (_none, input) => `deleted robot ${input.args.robot}` } },
  {
    words: 'robot regenerate',
    args: ['robot'],
    usage: 'OWNER+SHORT',
    operations: ['regenerateRobotToken'],
    print: { note: (created: { name: string }) => `new token for ${created.name} follows (the old one no longer works); it is shown once`, out: (created: { token: string }) => created.token },
  },

  // ---- repositories
  {
    words: 'repo create',
    args: ['name'],
    usage: 'NAME',
    options: '[--visibility public|private] [--description D]',
    flags: ['visibility', 'description'],
    operations: ['createRepository'],
    body: (input) => fields({ name: input.args.name, visibility: input.flags.visibility, description: input.flags.description }),
    print: { note: (_repo, input) => `created repository ${input.args.name}` },
  },
  {
    words: 'repo list',
    args: [],
    operations: ['listRepositories'],
    pages: 'repositories',
    print: { out: (repositories: { name: string; visibility: string; role: string | null }[]) => table([['REPOSITORY', 'VISIBILITY', 'YOUR ROLE'], ...repositories.map((r) => [r.name, r.visibility, r.role ?? ''])]) },
  },
  { words: 'repo get', args: ['repository'], usage: 'NAME', operations: ['getRepository'], print: SHOW_JSON },
  {
    words: 'repo set-visibility',
    args: ['repository', 'visibility'],
    usage: 'NAME public|private',
    operations: ['updateRepository'],
    check: ({ args }) => {
      if (args.visibility !== 'public' && args.visibility !== 'private') throw new UsageError('visibility is public or private');
    },
    body: ({ args }) => ({ visibility: args.visibility }),
    print: { json: false, note: (_repo, { args }) => `${args.repository} is ${args.visibility}` },
  },
  {
    words: 'repo set-description',
    args: ['repository', 'description'],
    usage: 'NAME TEXT',
    operations: ['updateRepository'],
    body: ({ args }) => ({ description: cleared(args.description) }),
    print: { json: false, note: (_repo, { args }) => `updated the description of ${args.repository}` },
  },

  // ---- permissions
  {
    words: 'permission set',
    args: ['repository', 'role'],
    usage: 'REPO (--user U | --robot R | --team ORG/TEAM) read|write|admin',
    flags: ['user', 'robot', 'team'],
    operations: ['setPermission'],
    check: checkRole,
    params: (input) => grantee(input, false),
    body: ({ args }) => ({ role: args.role }),
    print: { note: (_set, input) => `${grantee(input, false).kind} ${grantee(input, false).grantee} has ${input.args.role} on ${input.args.repository}` },
  },
  {
    words: 'permission remove',
    args: ['repository'],
    usage: 'REPO (--user U | --robot R | --team ORG/TEAM)',
    flags: ['user', 'robot', 'team'],
    operations: ['deletePermission'],
    params: (input) => grantee(input, false),
    print: { json: false, note: (_none, input) => `removed the permission of ${grantee(input, false).kind} ${grantee(input, false).grantee} on ${input.args.repository}` },
  },
  {
    words: 'permission list',
    args: ['repository'],
    usage: 'REPO',
    options: '[--direct]',
    remark: 'who can do what, and where each role comes from',
    flags: ['direct'],
    operations: ['getRepositoryAccess', 'listPermissions'],
    route: (input) => (input.flags.direct ? 'listPermissions' : 'getRepositoryAccess'),
    print: {
      out: (answer: Grant[] | AccessView, input) =>
        input.flags.direct
          ? GRANTS.out!(answer, input)
          : table([
              ['PRINCIPAL', 'KIND', 'ROLE', 'FROM'],
              ...(answer as AccessView).entries.map((entry) => [
                entry.principal.name ?? `(${entry.principal.kind})`,
                entry.principal.kind,
                entry.role,
                entry.sources.map((source) => `${source.via}${source.team ? ` ${source.team}` : ''}${source.role === entry.role ? '' : ` (${source.role})`}`).join(', '),
              ]),
            ]),
    },
  },
  {
    words: 'default-permission set',
    args: ['org', 'role'],
    usage: 'ORG (--user U | --robot R | --team TEAM) read|write|admin',
    flags: ['user', 'robot', 'team'],
    operations: ['setDefaultPermission'],
    check: checkRole,
    params: (input) => grantee(input, true),
    body: ({ args }) => ({ role: args.role }),
    print: { note: (_set, input) => `${grantee(input, true).kind} ${grantee(input, true).grantee} has ${input.args.role} on every repository of ${input.args.org}` },
  },
  {
    words: 'default-permission remove',
    args: ['org'],
    usage: 'ORG (--user U | --robot R | --team TEAM)',
    flags: ['user', 'robot', 'team'],
    operations: ['deleteDefaultPermission'],
    params: (input) => grantee(input, true),
    print: { json: false, note: (_none, input) => `removed the permission of ${grantee(input, true).kind} ${grantee(input, true).grantee} on ${input.args.org}` },
  },
  { words: 'default-permission list', args: ['org'], usage: 'ORG', operations: ['listDefaultPermissions'], print: GRANTS },

  // ---- personal access tokens
  {
    words: 'token create',
    args: ['name'],
    usage: 'NAME',
    options: '[--expires 30d|12h|DATE]',
    remark: 'prints the token, once',
    flags: ['expires'],
    operations: ['createToken'],
    body: (input) => fields({ name: input.args.name, expiresAt: input.flags.expires === undefined ? undefined : parseExpiry(input.flags.expires) }),
    print: {
      note: (created: { id: number; expiresAt: string | null }) => `created token ${created.id}${created.expiresAt ? `, expiring ${created.expiresAt}` : ''}; it follows and is shown once`,
      out: (created: { token: string }) => created.token,
    },
  },
  {
    words: 'token list',
    args: [],
    operations: ['listTokens'],
    print: {
      out: (tokens: { id: number; name: string; createdAt: string; expiresAt: string | null; lastUsedAt: string | null }[]) =>
        table([['ID', 'NAME', 'CREATED', 'EXPIRES', 'LAST USED'], ...tokens.map((t) => [String(t.id), t.name, t.createdAt, t.expiresAt ?? 'never', t.lastUsedAt ?? 'never'])]),
    },
  },
  {
    words: 'token revoke',
    args: ['id'],
    usage: 'ID',
    operations: ['revokeToken'],
    check: ({ args }) => {
      if (!/^[0-9]+$/.test(args.id!)) throw new UsageError('a token ID is a number (see `custody admin token list`)');
    },
    print: { json: false, note: (_none, { args }) => `revoked token ${args.id}` },
  },

  // ---- login sessions (the refresh tokens docker, podman and skopeo keep after a login)
  {
    words: 'session list',
    args: [],
    usage: '[--user NAME | --robot OWNER+SHORT]',
    remark: 'login sessions: refresh tokens and what minted them',
    flags: SESSION_OWNER,
    operations: ['listSessions', 'listUserSessions', 'listRobotSessions'],
    arity: (input) => {
      sessionOwner(input);
      if (input.operands.length !== 0) throw new UsageError('usage: custody admin session list [--user NAME | --robot OWNER+SHORT]');
    },
    route: (input) => `list${sessionOwner(input).suffix}Sessions`,
    params: sessionParams,
    print: {
      out: (sessions: SessionRow[]) =>
        table([
          ['ID', 'FROM', 'CLIENT', 'ADDRESS', 'CREATED', 'LAST USED', 'EXPIRES'],
          ...sessions.map((s) => [String(s.id), `${s.mintedFrom ?? '?'}${s.fromTokenId === null ? '' : ` #${s.fromTokenId}`}`, s.userAgent ?? '', s.ip ?? '', s.createdAt, s.lastUsedAt ?? 'never', s.expiresAt ?? 'never']),
        ]),
    },
  },
  {
    words: 'session revoke',
    args: ['id'],
    usage: 'ID|--all [--user NAME | --robot OWNER+SHORT]',
    flags: [...SESSION_OWNER, 'all'],
    operations: ['revokeSession', 'revokeUserSession', 'revokeRobotSession', 'revokeAllSessions', 'revokeAllUserSessions', 'revokeAllRobotSessions'],
    arity: (input) => {
      sessionOwner(input);
      if (input.flags.all) {
        if (input.operands.length !== 0) throw new UsageError('give a session ID or --all, not both');
      } else if (input.operands.length !== 1 || !/^[0-9]+$/.test(input.operands[0]!)) {
        throw new UsageError(SESSION_REVOKE_USAGE);
      }
    },
    route: (input) => (input.flags.all ? `revokeAll${sessionOwner(input).suffix}Sessions` : `revoke${sessionOwner(input).suffix}Session`),
    params: sessionParams,
    print: {
      json: false,
      note: (answer: { revoked: number } | undefined, input) => {
        if (!input.flags.all) return `ended session ${input.args.id}`;
        const { whose } = sessionOwner(input);
        return `ended ${answer!.revoked} session${answer!.revoked === 1 ? '' : 's'} of ${whose === 'your' ? 'yours' : whose}`;
      },
    },
  },
];

/** Operations of the route table that `custody admin` leaves to the API (or to other commands). */
export const API_ONLY_OPERATIONS: readonly string[] = ['getOpenApi', 'updateCurrentUser', 'updateOrganization'];
