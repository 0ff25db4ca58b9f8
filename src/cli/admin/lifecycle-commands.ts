// `custody admin` commands for lifecycle: immutability rules, time-machine windows, quotas.
import { UsageError } from '../../core/errors.ts';
import { formatBytes, parseSize } from '../../core/size.ts';
import { table } from '../output.ts';
import { fields, SHOW_JSON, type AdminCommand } from './command-spec.ts';

type Rule = { id: number; repository: string; tag: string; createdBy: string | null; createdAt: string };
type Quota = { namespace: string; warnBytes: number | null; rejectBytes: number | null; usedBytes: number; reclaimableBytes: number };

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
  { words: 'quota remove', args: ['namespace'], usage: 'NAMESPACE', operations: ['removeQuota'], print: { note: (_answer, { args }) => `${args.namespace} has no quota now` } },
];
