// `custody admin` commands for lifecycle: immutability rules, time-machine windows, quotas.
import { UsageError } from '../../core/errors.ts';
import { formatBytes, parseSize } from '../../core/size.ts';
import { table } from '../output.ts';
import { fields, SHOW_JSON, type AdminCommand } from './command-spec.ts';

type Rule = { id: number; repository: string; tag: string; createdBy: string | null; createdAt: string };
type Quota = { namespace: string; warnBytes: number | null; rejectBytes: number | null; usedBytes: number; reclaimableBytes: number };

type Report = { scope: string; dryRun: boolean; repositories: number; tagsJudged: number; removed: { repository: string; tag: string; digest: string; skipped?: string }[]; durationMs: number };

/** TARGET: `*` is the registry default, NAMESPACE/REPO a repository, NAMESPACE a namespace. */
function retentionTarget(target: string): { suffix: 'Registry' | 'Repository' | 'Namespace'; params: Record<string, string> } {
  if (target === '*') return { suffix: 'Registry', params: {} };
  if (target.includes('/')) return { suffix: 'Repository', params: { repository: target } };
  return { suffix: 'Namespace', params: { namespace: target } };
}

function retentionCommand(verb: 'get' | 'set' | 'remove' | 'run', rest: Partial<AdminCommand> & Pick<AdminCommand, 'print'>): AdminCommand {
  const operation = verb === 'remove' ? 'remove' : verb;
  return {
    words: `retention ${verb}`,
    args: ['target'],
    usage: 'NAMESPACE|NAMESPACE/REPO|*',
    operations: ['Registry', 'Repository', 'Namespace'].map((suffix) => `${operation}${suffix}Retention`),
    route: ({ args }) => `${operation}${retentionTarget(args.target!).suffix}Retention`,
    params: ({ args }) => retentionTarget(args.target!).params,
    ...rest,
  };
}

const reportLines = (report: Report): string =>
  table([
    ['REPOSITORY', 'TAG', 'DIGEST', report.dryRun ? 'WOULD GO' : 'RESULT'],
    ...report.removed.map((entry) => [entry.repository, entry.tag, entry.digest, entry.skipped ?? (report.dryRun ? 'yes' : 'removed')]),
  ]);

const limit = (bytes: number | null): string => (bytes === null ? 'none' : formatBytes(bytes, { limit: true }));

function checkSize(value: string | undefined, flag: string): void {
  if (value !== undefined && value !== 'none' && parseSize(value) === null) throw new UsageError(`--${flag}: a size in bytes or with a unit (500MiB, 2GiB), or none`);
}

export const LIFECYCLE_COMMANDS: readonly AdminCommand[] = [
  {
    words: 'immutability add',
    args: ['namespace', 'pattern'],
    usage: 'NAMESPACE TAG_PATTERN',
    options: '[--repository PATTERN]',
    remark: '(patterns: * within a path component, ** across; default repository NAMESPACE/**)',
    flags: ['repository'],
    operations: ['addImmutabilityRule'],
    body: (input) => fields({ tag: input.args.pattern, repository: input.flags.repository }),
    print: { note: (rule: Rule) => `rule ${rule.id}: tags ${rule.tag} of ${rule.repository} are immutable` },
  },
  {
    words: 'immutability list',
    args: ['namespace'],
    usage: 'NAMESPACE',
    operations: ['listImmutabilityRules'],
    print: { out: (rules: Rule[]) => table([['ID', 'REPOSITORY', 'TAG', 'CREATED BY', 'CREATED'], ...rules.map((r) => [String(r.id), r.repository, r.tag, r.createdBy ?? '', r.createdAt])]) },
  },
  {
    words: 'immutability remove',
    args: ['namespace', 'id'],
    usage: 'NAMESPACE RULE_ID',
    operations: ['removeImmutabilityRule'],
    check: ({ args }) => {
      if (!/^[0-9]+$/.test(args.id!)) throw new UsageError('RULE_ID is the number `immutability list` shows');
    },
    print: { note: (_answer, { args }) => `removed rule ${args.id}` },
  },
  { words: 'time-machine get', args: ['namespace'], usage: 'NAMESPACE', operations: ['getTimeMachine'], print: SHOW_JSON },
  {
    words: 'time-machine set',
    args: ['namespace', 'window'],
    usage: 'NAMESPACE WINDOW',
    remark: '(0s, 1d, 1w, 2w, 4w, any duration; default: the registry default)',
    operations: ['setTimeMachine'],
    body: ({ args }) => ({ window: args.window === 'default' ? null : args.window }),
    print: { json: false, note: (answer: { namespace: string; window: string }) => `${answer.namespace}: deleted and moved tags can be restored for ${answer.window}` },
  },
  {
    words: 'quota set',
    args: ['namespace'],
    usage: 'NAMESPACE',
    options: '[--warn SIZE] [--reject SIZE]',
    flags: ['warn', 'reject'],
    operations: ['setQuota'],
    check: ({ flags }) => {
      if (flags.warn === undefined && flags.reject === undefined) throw new UsageError('give --warn SIZE, --reject SIZE or both');
      checkSize(flags.warn, 'warn');
      checkSize(flags.reject, 'reject');
    },
    body: ({ flags }) => ({ warn: flags.warn === 'none' ? null : (flags.warn ?? null), reject: flags.reject === 'none' ? null : (flags.reject ?? null) }),
    print: { note: (q: Quota) => `${q.namespace}: warn at ${limit(q.warnBytes)}, reject past ${limit(q.rejectBytes)}; ${formatBytes(q.usedBytes)} used` },
  },
  {
    words: 'quota get',
    args: ['namespace'],
    usage: 'NAMESPACE',
    operations: ['getQuota'],
    print: {
      out: (q: Quota) =>
        table([
          ['NAMESPACE', 'USED', 'WARN', 'REJECT', 'RECLAIMABLE'],
          [q.namespace, formatBytes(q.usedBytes), limit(q.warnBytes), limit(q.rejectBytes), formatBytes(q.reclaimableBytes)],
        ]),
    },
  },
  retentionCommand('set', {
    options: '[--keep-last N] [--keep-pushed DURATION] [--keep-pulled DURATION] [--include PATTERNS] [--exclude PATTERNS]',
    remark: '(PATTERNS: tag globs, comma-separated; signed tags and what kept indexes reference always stay)',
    flags: ['keep-last', 'keep-pushed', 'keep-pulled', 'include', 'exclude'],
    check: ({ flags }) => {
      if (flags['keep-last'] !== undefined && !/^[0-9]{1,9}$/.test(flags['keep-last'])) throw new UsageError('--keep-last: a whole number of tags');
    },
    body: ({ flags }) =>
      fields({
        keepLast: flags['keep-last'] === undefined ? undefined : Number(flags['keep-last']),
        keepPushedWithin: flags['keep-pushed'],
        keepPulledWithin: flags['keep-pulled'],
        include: flags.include?.split(',').filter((part) => part !== ''),
        exclude: flags.exclude?.split(',').filter((part) => part !== ''),
      }),
    print: SHOW_JSON,
  }),
  retentionCommand('get', { print: SHOW_JSON }),
  retentionCommand('remove', { print: { note: (_answer, { args }) => `removed the retention policy of ${args.target}` } }),
  retentionCommand('run', {
    options: '[--dry-run]',
    flags: ['dry-run'],
    body: ({ flags }) => ({ dryRun: flags['dry-run'] === true }),
    print: {
      note: (report: Report) => `${report.dryRun ? 'dry run: ' : ''}${report.removed.filter((entry) => !entry.skipped).length} of ${report.tagsJudged} tags in ${report.repositories} repositories ${report.dryRun ? 'would go' : 'removed'}`,
      out: (report: Report) => (report.removed.length === 0 ? undefined : reportLines(report)),
    },
  }),
  { words: 'quota remove', args: ['namespace'], usage: 'NAMESPACE', operations: ['removeQuota'], print: { note: (_answer, { args }) => `${args.namespace} has no quota now` } },
];
