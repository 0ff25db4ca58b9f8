// `custody admin` commands for accounts: whoami, users, organizations, teams and robots.
import { UsageError } from '../../core/errors.ts';
import { parseBooleanValue } from '../arguments.ts';
import { table } from '../output.ts';
import { cleared, fields, SHOW_JSON, type AdminCall, type AdminCommand } from './command-spec.ts';

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


export const ACCOUNT_COMMANDS: readonly AdminCommand[] = [
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

];
