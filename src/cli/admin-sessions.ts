// `custody admin session ...`: login sessions (the refresh tokens docker, podman and skopeo
// keep after a login), your own or, with --user or --robot, another account's.
import { UsageError } from '../core/errors.ts';

export const SESSION_USAGE = [
  '  session list [--user NAME | --robot OWNER+SHORT]   (login sessions: refresh tokens and what minted them)',
  '  session revoke ID [--user NAME | --robot OWNER+SHORT] | session revoke --all [--user NAME | --robot OWNER+SHORT]',
];

interface SessionView {
  readonly id: number;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  readonly expiresAt: string | null;
  readonly userAgent: string | null;
  readonly ip: string | null;
  readonly mintedFrom: string | null;
  readonly fromTokenId: number | null;
}

export interface SessionCommandContext {
  readonly call: <T>(method: string, path: string) => Promise<T>;
  readonly user: string | undefined;
  readonly robot: string | undefined;
  readonly all: boolean;
  readonly json: boolean;
  readonly out: (text: string) => void;
  readonly note: (text: string) => void;
  readonly table: (rows: readonly (readonly string[])[], headings: readonly string[]) => string;
}

/** Runs `session list` or `session revoke`; operands are what follows the action. */
export async function runSessionCommand(action: string | undefined, operands: readonly string[], context: SessionCommandContext): Promise<number> {
  if (context.user !== undefined && context.robot !== undefined) throw new UsageError('give --user or --robot, not both');
  const base =
    context.user !== undefined ? `/api/v1/users/${encodeURIComponent(context.user)}/sessions` : context.robot !== undefined ? `/api/v1/robots/${encodeURIComponent(context.robot)}/sessions` : '/api/v1/user/sessions';
  const whose = context.user ?? context.robot ?? 'your';
  if (action === 'list') {
    if (context.all || operands.length !== 0) throw new UsageError('usage: custody admin session list [--user NAME | --robot OWNER+SHORT]');
    const sessions = await context.call<SessionView[]>('GET', base);
    if (context.json) context.out(JSON.stringify(sessions, null, 2));
    else {
      const rows = sessions.map((s) => [String(s.id), `${s.mintedFrom ?? '?'}${s.fromTokenId === null ? '' : ` #${s.fromTokenId}`}`, s.userAgent ?? '', s.ip ?? '', s.createdAt, s.lastUsedAt ?? 'never', s.expiresAt ?? 'never']);
      context.out(context.table(rows, ['ID', 'FROM', 'CLIENT', 'ADDRESS', 'CREATED', 'LAST USED', 'EXPIRES']));
    }
    return 0;
  }
  if (action === 'revoke') {
    if (context.all) {
      if (operands.length !== 0) throw new UsageError('give a session ID or --all, not both');
      const { revoked } = await context.call<{ revoked: number }>('DELETE', base);
      context.note(`ended ${revoked} session${revoked === 1 ? '' : 's'} of ${whose === 'your' ? 'yours' : whose}`);
      return 0;
    }
    const [id] = operands;
    if (operands.length !== 1 || !/^[0-9]+$/.test(id!)) throw new UsageError('usage: custody admin session revoke ID|--all [--user NAME | --robot OWNER+SHORT] (IDs: `custody admin session list`)');
    await context.call('DELETE', `${base}/${id}`);
    context.note(`ended session ${id}`);
    return 0;
  }
  throw new UsageError(`unknown subcommand "session ${action ?? ''}"; run \`custody admin --help\``);
}
