// `custody admin` commands for repositories, their permissions and organizations' defaults.
import { UsageError } from '../../core/errors.ts';
import { table } from '../output.ts';
import { cleared, fields, SHOW_JSON, type AdminCommand, type AdminInput, type AdminOutput } from './command-spec.ts';

const ROLES = ['read', 'write', 'admin'];

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

type AccessView = { entries: { principal: { kind: string; name: string | null }; role: string; sources: { via: string; role: string; team?: string }[] }[] };

export const REPOSITORY_COMMANDS: readonly AdminCommand[] = [
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

];
