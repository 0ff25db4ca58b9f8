// The management API through curl, the way an operator scripts it: one process per call,
// credentials as `-u`, a JSON body when there is one. Returns the status and the body.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool, run } from './tools.ts';

export interface CurlResult {
  readonly status: number;
  readonly text: string;
  json<T = unknown>(): T | undefined;
}

export interface CurlOptions {
  readonly method?: string;
  readonly user?: { readonly username: string; readonly secret: string } | null;
  /** Sent as JSON. */
  readonly json?: unknown;
  /** Sent as bytes, as `contentType` (default application/octet-stream). */
  readonly bytes?: Buffer;
  readonly contentType?: string;
}

const STATUS_MARK = '\n--custody-status:';

export async function curl(url: string, options: CurlOptions = {}): Promise<CurlResult> {
  const method = options.method ?? 'GET';
  const args = ['--silent', '--show-error', '--globoff', ...(method === 'HEAD' ? ['--head', '--output', '/dev/null'] : ['--request', method]), '--write-out', `${STATUS_MARK}%{http_code}`];
  if (options.user) args.push('--user', `${options.user.username}:${options.user.secret}`);
  let scratch: string | undefined;
  if (options.json !== undefined) {
    args.push('--header', 'Content-Type: application/json', '--data-binary', JSON.stringify(options.json));
  } else if (options.bytes !== undefined) {
    scratch = await mkdtemp(join(tmpdir(), 'custody-curl-'));
    await writeFile(join(scratch, 'body'), options.bytes);
    args.push('--header', `Content-Type: ${options.contentType ?? 'application/octet-stream'}`, '--data-binary', `@${join(scratch, 'body')}`);
  } else if (method !== 'GET' && method !== 'HEAD') {
    // A state-changing call without a body still says what it speaks.
    args.push('--header', 'Content-Type: application/json');
  }
  args.push(url);
  try {
    const result = await run(requireTool('curl'), args, { timeoutMs: 60_000 });
    if (result.code !== 0) throw new Error(`curl ${method} ${url} failed (${result.code}): ${result.stderr.trim()}`);
    const mark = result.stdout.lastIndexOf(STATUS_MARK);
    const text = result.stdout.slice(0, mark);
    return {
      status: Number(result.stdout.slice(mark + STATUS_MARK.length)),
      text,
      json<T>() {
        try {
          return JSON.parse(text) as T;
        } catch {
          return undefined;
        }
      },
    };
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}
