// `custody tag history|restore|expire docker://REPO[:TAG]`: the time machine and tag
// expiry of a Custody registry, through its /api/v1 (the management route table's
// getTagHistory, restoreTag, setTagExpiry). The registry is the reference's host, over
// https unless --registry gives the URL.
import { parseArgs } from 'node:util';
import { UsageError } from '../core/errors.ts';
import { parseLifetime } from '../core/lifetime.ts';
import { isTag } from '../core/names.ts';
import type { Command } from './main.ts';
import { apiRequest, openApiSession } from './api-session.ts';
import { table } from './output.ts';

const USAGE = [
  'Usage: custody tag history docker://HOST/REPO[:TAG] [--json]',
  '       custody tag restore docker://HOST/REPO:TAG --digest DIGEST',
  '       custody tag expire docker://HOST/REPO:TAG --in DURATION | --at TIME | --never',
  '',
  'history lists the changes of a repository\'s tags (or one tag), newest first: when, the',
  'digest, who and how (push, delete, expire, restore). restore points a tag back at a digest',
  'it held within the namespace\'s time-machine window, even after it was deleted or expired.',
  'expire removes the tag after DURATION (3d, 12h, 2w, 90s) or at TIME (ISO 8601), or never.',
  '',
  'Options:',
  '  --registry URL       the registry\'s URL (default: https://HOST of the reference)',
  '  --username USER, --password-stdin, --token T   credentials (as `custody admin`)',
].join('\n');

interface Target {
  readonly host: string;
  readonly repository: string;
  readonly tag: string | undefined;
}

/** docker://HOST/REPO[:TAG]: the host is required (the registry whose API is called). */
export function parseTarget(text: string): Target {
  const rest = text.startsWith('docker://') ? text.slice('docker://'.length) : text;
  const slash = rest.indexOf('/');
  if (slash <= 0) throw new UsageError(`expected docker://HOST/REPOSITORY[:TAG], got "${text}"`);
  const host = rest.slice(0, slash);
  let path = rest.slice(slash + 1);
  let tag: string | undefined;
  const colon = path.lastIndexOf(':');
  if (colon > path.lastIndexOf('/')) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!isTag(tag)) throw new UsageError(`not a valid tag: "${tag}"`);
  }
  if (path === '' || path.includes('@')) throw new UsageError(`expected docker://HOST/REPOSITORY[:TAG], got "${text}"`);
  return { host, repository: path, tag };
}

type HistoryEntry = { tag: string; time: string; digest: string | null; previousDigest: string | null; how: string; who: string | null; restorable: boolean };

export const tagCommand: Command = {
  name: 'tag',
  summary: 'tag history, restore (time machine) and expiry on a Custody registry',
  usage: USAGE,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        registry: { type: 'string' },
        username: { type: 'string', short: 'u' },
        'password-stdin': { type: 'boolean' },
        token: { type: 'string' },
        json: { type: 'boolean' },
        digest: { type: 'string' },
        in: { type: 'string' },
        at: { type: 'string' },
        never: { type: 'boolean' },
      },
    });
    const [action, reference] = positionals;
    if (!action || !reference || positionals.length !== 2) throw new UsageError(USAGE.split('\n').slice(0, 3).join('\n'));
    const target = parseTarget(reference);
    const session = await openApiSession({ registry: values.registry ?? `https://${target.host}`, token: values.token, username: values.username, passwordStdin: values['password-stdin'] });
    const repositoryPath = target.repository.split('/').map(encodeURIComponent).join('/');
    const base = `api/v1/repositories/${repositoryPath}/-`;
    const needTag = (): string => {
      if (target.tag === undefined) throw new UsageError(`${action} needs a tag: docker://HOST/REPOSITORY:TAG`);
      return target.tag;
    };

    if (action === 'history') {
      const query = target.tag === undefined ? '' : `?tag=${encodeURIComponent(target.tag)}`;
      const entries = (await (await apiRequest(session, 'GET', `${base}/tag-history${query}`, { userAgent: 'custody-tag' })).json()) as HistoryEntry[];
      if (values.json) process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
      else {
        const rows = entries.map((e) => [e.time, e.tag, e.how, e.digest ?? '-', e.previousDigest ?? '-', e.who ?? '', e.restorable ? 'yes' : 'no']);
        process.stdout.write(`${table([['TIME', 'TAG', 'HOW', 'DIGEST', 'PREVIOUS', 'WHO', 'RESTORABLE'], ...rows])}\n`);
      }
      return 0;
    }
    if (action === 'restore') {
      const tag = needTag();
      if (!values.digest) throw new UsageError('restore needs --digest DIGEST (see `custody tag history`)');
      const answer = (await (await apiRequest(session, 'POST', `${base}/tags/${encodeURIComponent(tag)}/restore`, { body: { digest: values.digest }, userAgent: 'custody-tag' })).json()) as { changed: boolean; digest: string };
      process.stderr.write(answer.changed ? `${target.repository}:${tag} restored to ${answer.digest}\n` : `${target.repository}:${tag} already points at ${answer.digest}\n`);
      return 0;
    }
    if (action === 'expire') {
      const tag = needTag();
      const given = [values.in !== undefined, values.at !== undefined, values.never === true].filter(Boolean).length;
      if (given !== 1) throw new UsageError('expire needs exactly one of --in DURATION, --at TIME, --never');
      let body: { in: string } | { expiresAt: string | null };
      if (values.in !== undefined) {
        if (parseLifetime(values.in) === null) throw new UsageError(`--in: a duration such as 3d, 12h, 2w or 90s, got "${values.in}"`);
        body = { in: values.in };
      } else if (values.at !== undefined) {
        const at = Date.parse(values.at);
        if (!Number.isFinite(at)) throw new UsageError(`--at: an ISO 8601 time, got "${values.at}"`);
        body = { expiresAt: new Date(at).toISOString() };
      } else body = { expiresAt: null };
      const answer = (await (await apiRequest(session, 'PUT', `${base}/tags/${encodeURIComponent(tag)}/expiry`, { body, userAgent: 'custody-tag' })).json()) as { expiresAt: string | null; expiresIn: string | null };
      process.stderr.write(answer.expiresAt === null ? `${target.repository}:${tag} never expires\n` : `${target.repository}:${tag} expires ${answer.expiresIn} (${answer.expiresAt})\n`);
      return 0;
    }
    throw new UsageError(`unknown action "${action}": history, restore or expire`);
  },
};
