// `custody logs`: reads the action log through the management API (/api/v1/logs): a table
// by default, a JSON array with --json, every matching entry as JSON Lines with --jsonl
// (streamed from /api/v1/logs/export).
import { parseArgs } from 'node:util';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UsageError } from '../core/errors.ts';
import type { Command } from './main.ts';
import { apiRequest, openApiSession } from './api-session.ts';
import { table } from './output.ts';

const USAGE = [
  'Usage: custody logs [--registry URL] [filters] [--limit N] [--json | --jsonl] [credentials]',
  '',
  'Shows the action log, newest first: who pushed, pulled, deleted, logged in, changed',
  'permissions... Superusers see everything; others must filter by a namespace or',
  'repository they administer (or --actor with their own name).',
  '',
  'Filters:',
  '  --namespace N        entries for repositories under namespace N',
  '  --repository R       entries for repository R (namespace/name)',
  '  --actor A            entries by user or robot A',
  '  --kind K             pull, push, delete, tag, mount, login, token, robot_token, account,',
  '                       team, membership, permission, repository, credential',
  '                       (repeat the flag or separate with commas)',
  '  --result R           success, denied or failure',
  '  --since T            from T: a duration back from now (7d, 12h, 30m) or an ISO 8601 time',
  '  --until T            before T (same forms)',
  '',
  'Output:',
  '  --limit N            at most N entries (default 50; table and --json)',
  '  --json               a JSON array of entries',
  '  --jsonl              every matching entry, one JSON object a line (for archiving)',
  '',
  'Connection and credentials:',
  '  --registry URL       the Custody server (default $CUSTODY_REGISTRY);',
  '                       host[:port] alone means https',
  '  --username U --password-stdin',
  '                       log in with a password (or a personal access token) read from stdin',
  '  --token T            a personal access token (default $CUSTODY_TOKEN)',
].join('\n');

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** A duration back from `now` (7d) to an ISO time; ISO times and epoch milliseconds pass through. */
export function resolveTime(flag: string, value: string, now = Date.now()): string {
  const text = value.trim();
  const duration = DURATION.exec(text);
  if (duration) return new Date(now - Math.round(Number(duration[1]) * UNIT_MS[duration[2]!]!)).toISOString();
  if (/^\d{1,15}$/.test(text)) return text;
  if (/^\d{4}-\d{2}-\d{2}/.test(text) && Number.isFinite(Date.parse(text))) return text;
  throw new UsageError(`--${flag}: expected a duration (7d, 12h, 30m) or an ISO 8601 time, got "${value}"`);
}

interface EntryJson {
  id: number;
  time: string;
  kind: string;
  result: string;
  actor: { kind: string; name: string | null; via: string | null };
  ip: string | null;
  userAgent: string | null;
  namespace: string | null;
  repository: string | null;
  tag: string | null;
  digest: string | null;
  detail: Record<string, unknown> | null;
}

export const logsCommand: Command = {
  name: 'logs',
  summary: 'show the action log (who pushed, pulled, logged in, changed what)',
  usage: USAGE,
  run: (args) => runLogs(args, process.stdout),
};

/** The command, writing to `out` (process.stdout for the CLI). */
export async function runLogs(args: string[], out: NodeJS.WritableStream): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      registry: { type: 'string' },
      namespace: { type: 'string' },
      repository: { type: 'string' },
      actor: { type: 'string' },
      kind: { type: 'string', multiple: true },
      result: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
      jsonl: { type: 'boolean' },
      username: { type: 'string', short: 'u' },
      'password-stdin': { type: 'boolean' },
      token: { type: 'string' },
    },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (values.json && values.jsonl) throw new UsageError('--json and --jsonl cannot be used together');
  if (values.jsonl && values.limit !== undefined) throw new UsageError('--limit does not apply to --jsonl, which exports every matching entry');
  let limit = 50;
  if (values.limit !== undefined) {
    if (!/^\d+$/.test(values.limit) || Number(values.limit) < 1) throw new UsageError('--limit: expected a positive integer');
    limit = Number(values.limit);
  }

  const query = new URLSearchParams();
  for (const name of ['namespace', 'repository', 'actor', 'result'] as const) {
    const value = values[name];
    if (value !== undefined) query.set(name, value);
  }
  const kinds = (values.kind ?? []).flatMap((value) => value.split(',')).map((kind) => kind.trim()).filter((kind) => kind !== '');
  if (kinds.length > 0) query.set('kind', kinds.join(','));
  if (values.since !== undefined) query.set('since', resolveTime('since', values.since));
  if (values.until !== undefined) query.set('until', resolveTime('until', values.until));

  const session = await openApiSession({ registry: values.registry, token: values.token, username: values.username, passwordStdin: values['password-stdin'] });
  const request = (path: string): Promise<Response> => apiRequest(session, 'GET', path, { userAgent: 'custody-logs' });

  if (values.jsonl) {
    const response = await request(`api/v1/logs/export?${query}`);
    if (!response.body) return 0;
    await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>), out, { end: false });
    return 0;
  }

  const entries: EntryJson[] = [];
  let cursor: string | null = null;
  do {
    const pageQuery = new URLSearchParams(query);
    pageQuery.set('limit', String(Math.min(1000, limit - entries.length)));
    if (cursor !== null) pageQuery.set('cursor', cursor);
    const response = await request(`api/v1/logs?${pageQuery}`);
    const page = (await response.json()) as { entries: EntryJson[]; next: string | null };
    entries.push(...page.entries);
    cursor = page.next;
  } while (cursor !== null && entries.length < limit);

  if (values.json) out.write(`${JSON.stringify(entries, null, 2)}\n`);
  else out.write(formatTable(entries));
  return 0;
}

function describeActor(actor: EntryJson['actor']): string {
  if (actor.kind === 'anonymous') return '(anonymous)';
  return actor.name ?? `(${actor.kind})`;
}

function describeTarget(entry: EntryJson): string {
  if (entry.repository === null) {
    if (entry.detail === null) return '';
    return Object.entries(entry.detail)
      .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
      .join(' ');
  }
  let target = entry.repository;
  if (entry.tag !== null) target += `:${entry.tag}`;
  if (entry.digest !== null) target += `@${entry.digest.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]*$/, '$1')}`;
  return target;
}

export function formatTable(entries: readonly EntryJson[]): string {
  if (entries.length === 0) return 'no entries\n';
  const rows = entries.map((entry) => [entry.time.replace(/\.\d{3}Z$/, 'Z'), entry.kind, entry.result, describeActor(entry.actor), entry.ip ?? '', describeTarget(entry)]);
  return `${table([['TIME', 'KIND', 'RESULT', 'ACTOR', 'IP', 'TARGET'], ...rows], { maxColumnWidth: 40 })}\n`;
}
