// `custody admin mirror ...`: repository mirrors (superusers). REMOTE is
// `[http(s)://]host[:port]/repository`; the remote password or token comes from standard
// input (its second line when the caller also logs in with --password-stdin).
import { UsageError } from '../../core/errors.ts';
import { formatBytes } from '../../core/size.ts';
import { table } from '../output.ts';
import { fields, SHOW_JSON, type AdminCommand, type AdminInput } from './command-spec.ts';

/** `http://host:port/a/b` → the registry part and the repository part. */
export function parseRemote(remote: string): { remoteRegistry: string; remoteRepository: string } {
  const scheme = /^(https?:\/\/)/.exec(remote)?.[1] ?? '';
  const rest = remote.slice(scheme.length);
  const slash = rest.indexOf('/');
  if (slash <= 0 || slash === rest.length - 1) throw new UsageError(`REMOTE: expected [http(s)://]host[:port]/repository, got "${remote}"`);
  return { remoteRegistry: `${scheme}${rest.slice(0, slash)}`, remoteRepository: rest.slice(slash + 1) };
}

const globs = (value: string | undefined): string[] | undefined => (value === undefined ? undefined : value.split(',').map((glob) => glob.trim()).filter((glob) => glob !== ''));

function interval(input: AdminInput): number | undefined {
  const raw = input.flags.interval;
  if (raw === undefined) return undefined;
  if (!/^[0-9]{1,7}$/.test(raw) || Number(raw) < 1) throw new UsageError('--interval: a whole number of seconds, at least 1');
  return Number(raw) * 1000;
}

type MirrorView = { repository: string; remoteRegistry: string; remoteRepository: string; enabled: boolean; lastRunAt: string | null; lastStatus: string | null };
type RunView = { id: number; startedAt: string; finishedAt: string | null; status: string; tagsCopied: number; bytes: number; error: string | null };

const runRow = (run: RunView): string[] => [String(run.id), run.startedAt, run.finishedAt ?? '', run.status, String(run.tagsCopied), formatBytes(run.bytes), run.error ?? ''];
const RUN_HEADER = ['RUN', 'STARTED', 'FINISHED', 'STATUS', 'TAGS', 'BYTES', 'ERROR'];

export const MIRROR_COMMANDS: readonly AdminCommand[] = [
  {
    words: 'mirror create',
    args: ['repository', 'remote'],
    usage: 'REPOSITORY REMOTE',
    options: '[--include GLOBS] [--exclude GLOBS] [--interval SECONDS] [--remote-user USER]',
    remark: 'the remote password or token from stdin with --remote-user',
    flags: ['include', 'exclude', 'interval', 'remote-user'],
    newPassword: true,
    operations: ['createMirror'],
    body: (input) => {
      const user = input.flags['remote-user'];
      const password = user === undefined ? undefined : input.newPassword();
      if (user !== undefined && password === undefined) throw new UsageError('--remote-user: give its password or token on stdin with --password-stdin');
      return fields({
        repository: input.args.repository,
        ...parseRemote(input.args.remote!),
        include: globs(input.flags.include),
        exclude: globs(input.flags.exclude),
        intervalMs: interval(input),
        username: user,
        password,
      });
    },
    print: { note: (mirror: MirrorView) => `${mirror.repository} mirrors ${mirror.remoteRegistry}/${mirror.remoteRepository} (read-only to users)` },
  },
  {
    words: 'mirror list',
    args: [],
    operations: ['listMirrors'],
    print: { out: (mirrors: MirrorView[]) => table([['REPOSITORY', 'REMOTE', 'ENABLED', 'LAST RUN', 'STATUS'], ...mirrors.map((m) => [m.repository, `${m.remoteRegistry}/${m.remoteRepository}`, String(m.enabled), m.lastRunAt ?? '', m.lastStatus ?? ''])]) },
  },
  { words: 'mirror get', args: ['repository'], usage: 'REPOSITORY', operations: ['getMirror'], print: SHOW_JSON },
  { words: 'mirror delete', args: ['repository'], usage: 'REPOSITORY', operations: ['deleteMirror'], print: { note: (_answer, { args }) => `${args.repository} is no longer a mirror` } },
  { words: 'mirror sync', args: ['repository'], usage: 'REPOSITORY', operations: ['syncMirror'], print: { out: (run: RunView) => table([RUN_HEADER, runRow(run)]) } },
  { words: 'mirror runs', args: ['repository'], usage: 'REPOSITORY', operations: ['listMirrorRuns'], print: { out: (runs: RunView[]) => table([RUN_HEADER, ...runs.map(runRow)]) } },
];
