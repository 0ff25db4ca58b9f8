// The connection of the API commands (`custody admin`, `custody logs`) to a registry's
// /api/v1: which registry, which credentials, and one request function that turns the
// error envelope into a one-line message.
import { UsageError } from '../core/errors.ts';
import { getCredentials } from '../client/config/auth-file.ts';
import { API_REQUEST_HEADER } from '../server/api-request-guard.ts';
import { readStdin } from './terminal.ts';

export interface ApiSessionOptions {
  readonly registry?: string | undefined;
  readonly token?: string | undefined;
  readonly username?: string | undefined;
  readonly passwordStdin?: boolean | undefined;
  /** The subcommand reads a second password from stdin (after the caller's own). */
  readonly extraPasswordLine?: boolean;
}

export interface ApiSession {
  readonly base: URL;
  readonly authorization: string | undefined;
  /** stdin lines not consumed by the caller's password. */
  readonly stdinLines: string[];
}

/** `--registry` or CUSTODY_REGISTRY; a bare host[:port] means https. */
export function registryUrl(value: string | undefined): URL {
  const text = (value ?? process.env.CUSTODY_REGISTRY ?? '').trim();
  if (text === '') throw new UsageError('no registry: give --registry URL or set CUSTODY_REGISTRY');
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`--registry: not a URL: "${text}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('--registry: expected an http:// or https:// URL');
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

/**
 * Credentials in this order: --username with a password (stdin or CUSTODY_PASSWORD),
 * --token or CUSTODY_TOKEN (a personal access token, sent as Bearer), else what
 * `custody login` or `podman login` saved for the registry's host.
 */
export async function openApiSession(options: ApiSessionOptions): Promise<ApiSession> {
  const base = registryUrl(options.registry);
  const stdinLines: string[] = [];
  if (options.passwordStdin) {
    stdinLines.push(...(await readStdin()).split(/\r?\n/));
    if (stdinLines.length > 0 && stdinLines[stdinLines.length - 1] === '') stdinLines.pop();
  }
  const token = options.token ?? process.env.CUSTODY_TOKEN;
  if (options.username !== undefined) {
    if (options.token !== undefined) throw new UsageError('--token and --username cannot be used together');
    let password = process.env.CUSTODY_PASSWORD;
    // With --username, stdin's first line is the caller's password (the second, if the
    // subcommand takes one, the new password).
    if (options.passwordStdin && (!options.extraPasswordLine || stdinLines.length >= 2 || password === undefined)) password = stdinLines.shift();
    if (password === undefined || password === '') throw new UsageError('--username needs a password: --password-stdin or CUSTODY_PASSWORD');
    return { base, authorization: `Basic ${Buffer.from(`${options.username}:${password}`).toString('base64')}`, stdinLines };
  }
  if (token !== undefined && token.trim() !== '') return { base, authorization: `Bearer ${token.trim()}`, stdinLines };
  if (options.passwordStdin && !options.extraPasswordLine) throw new UsageError('--password-stdin needs --username');
  const saved = await getCredentials(base.host, { env: process.env }).catch(() => undefined);
  if (saved && saved.password !== '' && saved.identityToken === undefined) {
    return { base, authorization: `Basic ${Buffer.from(`${saved.username}:${saved.password}`).toString('base64')}`, stdinLines };
  }
  return { base, authorization: undefined, stdinLines };
}

/** One API request; a non-2xx answer becomes an Error with the envelope's message. */
export async function apiRequest(session: ApiSession, method: string, path: string, options: { body?: unknown; userAgent?: string } = {}): Promise<Response> {
  const url = new URL(path.replace(/^\//, ''), session.base);
  // X-Custody-Request: state-changing API requests must carry it or be JSON (CSRF guard).
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': options.userAgent ?? 'custody', [API_REQUEST_HEADER]: '1' };
  if (session.authorization) headers.authorization = session.authorization;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(url, { method, headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) });
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    throw new Error(`cannot reach ${session.base.origin}: ${cause ?? (error as Error).message}`);
  }
  if (response.ok) return response;
  const text = await response.text().catch(() => '');
  let message = `${response.status} ${response.statusText}`;
  try {
    const envelope = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    const first = envelope.errors?.[0];
    if (first) message = `${first.code ?? response.status}: ${first.message ?? ''}`;
  } catch {
    // not the envelope: keep the status line
  }
  if (response.status === 401) message += ' (give --token, --username with --password-stdin, or log in with `custody login`)';
  throw new Error(message);
}
