// `custody admin` commands for credentials: personal access tokens and login sessions (the
// refresh tokens docker, podman and skopeo keep after a login).
import { UsageError } from '../../core/errors.ts';
import { table } from '../output.ts';
import { fields, type AdminCommand, type AdminInput } from './command-spec.ts';

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

export const CREDENTIAL_COMMANDS: readonly AdminCommand[] = [
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
