// The action log over HTTP:
//   GET /api/v1/logs          one page, newest first: {"entries":[…],"next":cursor|null}
//   GET /api/v1/logs/export   every matching entry as JSON Lines (application/x-ndjson)
// Filters (query parameters): namespace, repository, actor, kind (repeatable or
// comma-separated), result, since (inclusive), until (exclusive) as ISO 8601 or epoch
// milliseconds, limit (1..1000, default 100; /logs only), cursor.
//
// Superusers see everything. Anyone else must narrow the query to something they
// administer: a namespace (their own user namespace, or an organization whose admin team
// they belong to), a repository where their role is admin, or their own actions (actor =
// their name). They see only what happened since the account they rely on was created:
// a name taken again after its account was deleted shows nothing of the old account.
import { sendJson } from './json-response.ts';
import { RegistryError } from '../core/errors.ts';
import type { Account, Principal } from '../core/identity.ts';
import type { ActionLog } from '../audit/action-log.ts';
import { actionJson, decodeCursor, CursorError, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type ActionFilter } from '../audit/action-log-store.ts';
import { ACTION_KINDS, ACTION_RESULTS, isActionKind, isActionResult } from '../audit/sanitize.ts';
import type { ActionKind } from '../audit/action.ts';
import { namespaceOf } from '../core/names.ts';
import { routeTable, type RouteCall, type RouteMatch, type RouteTable } from './route-table.ts';
import type { HttpRequest, HttpResponse } from './http-types.ts';
import { apiPrincipal } from './request-auth.ts';
import type { SecurityServices } from './security.ts';

const KNOWN_PARAMETERS = new Set(['namespace', 'repository', 'actor', 'kind', 'result', 'since', 'until', 'limit', 'cursor']);
/** Bytes gathered before one write of the export stream. */
const EXPORT_CHUNK_BYTES = 64 * 1024;

export class ActionLogApi implements RouteTable {
  readonly area = 'logs';
  private readonly log: ActionLog;
  private readonly security: SecurityServices;
  private readonly table: RouteTable;

  constructor(log: ActionLog, security: SecurityServices) {
    this.log = log;
    this.security = security;
    // A trailing slash names the same resource.
    this.table = routeTable(this.area, [
      { name: 'api-logs', path: /^\/api\/v1\/logs\/?$/, methods: { GET: (call) => this.serve(call, false) } },
      { name: 'api-logs-export', path: /^\/api\/v1\/logs\/export\/?$/, methods: { GET: (call) => this.serve(call, true) } },
    ]);
  }

  match(request: HttpRequest, response: HttpResponse, path: string, query: URLSearchParams): RouteMatch | null {
    return this.table.match(request, response, path, query);
  }

  private async serve({ request, response, query }: RouteCall, exporting: boolean): Promise<void> {
    const principal = await apiPrincipal(this.security, request);
    if (principal.kind === 'anonymous') throw new RegistryError('UNAUTHORIZED', 'the action log requires authentication');
    const filter = await this.authorize(principal, parseFilter(query, exporting));
    if (exporting) await this.streamExport(request, response, filter);
    else await this.sendPage(response, filter);
  }

  /** The filter the caller may run: as asked, from the creation of the account that grants it on. */
  private async authorize(principal: Principal & { kind: 'account' }, filter: ActionFilter): Promise<ActionFilter> {
    const account = principal.account;
    if (account.disabled) throw new RegistryError('DENIED', 'the account is disabled');
    if (account.superuser) return filter;
    if (filter.actor !== undefined && filter.actor === account.name) return from(filter, account.createdAt);
    if (filter.namespace !== undefined && (await this.administersNamespace(account, filter.namespace))) return from(filter, await this.ownerSince(filter.namespace));
    if (filter.repository !== undefined) {
      const access = await this.security.access.access(principal, filter.repository);
      const namespace = namespaceOf(filter.repository);
      if (access.exists && access.role === 'admin') return from(filter, namespace === null ? 0 : await this.ownerSince(namespace));
      // A repository that no longer exists: its namespace's administrators may still read its history.
      if (!access.exists && namespace !== null && (await this.administersNamespace(account, namespace))) return from(filter, await this.ownerSince(namespace));
    }
    if (filter.namespace === undefined && filter.repository === undefined && filter.actor === undefined) {
      throw new RegistryError('DENIED', 'only superusers may read the whole action log: filter by a namespace or repository you administer, or actor=<your name>');
    }
    throw new RegistryError('DENIED', 'you may read the action log only of namespaces and repositories you administer, and your own actions');
  }

  /** When the account owning a namespace was created (0 when none owns it). */
  private async ownerSince(namespace: string): Promise<number> {
    return (await this.security.identity.findAccount(namespace))?.createdAt ?? 0;
  }

  private async administersNamespace(account: Account, namespace: string): Promise<boolean> {
    if (account.kind === 'user' && account.name === namespace) return true;
    if (account.kind === 'organization') return false;
    const teams = await this.security.identity.teamsOf(account.id);
    return teams.some((team) => team.organization === namespace && team.role === 'admin');
  }

  private async sendPage(response: HttpResponse, filter: ActionFilter): Promise<void> {
    const page = await this.log.query(filter);
    sendJson(response, 'GET', 200, { entries: page.entries.map(actionJson), next: page.next }, { cacheControl: 'no-store' });
  }

  private async streamExport(request: HttpRequest, response: HttpResponse, filter: ActionFilter): Promise<void> {
    const entries = this.log.export(filter)[Symbol.asyncIterator]();
    // The first page is read before the status is sent: a database failure is still a clean 500.
    const first = await entries.next();
    response.statusCode = 200;
    response.setHeader('Content-Type', 'application/x-ndjson');
    response.setHeader('Cache-Control', 'no-store');
    response.setHeader('Content-Disposition', 'attachment; filename="custody-actions.jsonl"');
    let gone = false;
    const onClose = (): void => {
      gone = true;
    };
    response.on('close', onClose);
    request.on('close', onClose);
    try {
      let chunk = '';
      for (let next = first; !next.done; next = await entries.next()) {
        chunk += `${JSON.stringify(actionJson(next.value))}\n`;
        if (chunk.length < EXPORT_CHUNK_BYTES) continue;
        if (gone) break;
        const ok = response.write(chunk);
        chunk = '';
        if (!ok) await drained(response);
        if (gone) break;
      }
      if (gone) {
        await entries.return?.();
        return;
      }
      response.end(chunk === '' ? undefined : chunk);
    } catch (error) {
      await entries.return?.().catch(() => {});
      // Headers are out: the error handler cuts the connection rather than end a short body.
      throw error;
    } finally {
      response.off('close', onClose);
      request.off('close', onClose);
    }
  }
}

/** The filter narrowed to entries at or after `time`. */
function from(filter: ActionFilter, time: number): ActionFilter {
  return filter.since !== undefined && filter.since >= time ? filter : { ...filter, since: time };
}

function drained(response: HttpResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}

function invalid(message: string): RegistryError {
  return new RegistryError('INVALID_REQUEST', message);
}

function single(query: URLSearchParams, name: string, maxLength = 512): string | undefined {
  const values = query.getAll(name);
  if (values.length === 0) return undefined;
  if (values.length > 1) throw invalid(`${name}: give it once`);
  const value = values[0]!.trim();
  if (value === '') throw invalid(`${name}: must not be empty`);
  if (value.length > maxLength) throw invalid(`${name}: longer than ${maxLength} characters`);
  return value;
}

/** ISO 8601 (a date, or a date and time) or epoch milliseconds. */
export function parseTime(name: string, value: string): number {
  if (/^\d{1,15}$/.test(value)) return Number(value);
  if (/^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/.test(value)) {
    const time = Date.parse(value.replace(' ', 'T'));
    if (Number.isFinite(time)) return time;
  }
  throw invalid(`${name}: expected an ISO 8601 time (2026-11-22T10:00:00Z) or epoch milliseconds, got "${value.slice(0, 40)}"`);
}

export function parseFilter(query: URLSearchParams, exporting: boolean): ActionFilter {
  for (const name of query.keys()) {
    if (!KNOWN_PARAMETERS.has(name)) throw invalid(`unknown parameter "${name.slice(0, 40)}"; expected one of ${[...KNOWN_PARAMETERS].join(', ')}`);
  }
  const kinds: ActionKind[] = [];
  for (const value of query.getAll('kind')) {
    for (const part of value.split(',')) {
      const kind = part.trim();
      if (kind === '') continue;
      if (!isActionKind(kind)) throw invalid(`kind: unknown kind "${kind.slice(0, 40)}"; expected one of ${ACTION_KINDS.join(', ')}`);
      kinds.push(kind);
    }
  }
  const result = single(query, 'result');
  if (result !== undefined && !isActionResult(result)) throw invalid(`result: expected one of ${ACTION_RESULTS.join(', ')}`);
  const sinceText = single(query, 'since', 64);
  const untilText = single(query, 'until', 64);
  const since = sinceText === undefined ? undefined : parseTime('since', sinceText);
  const until = untilText === undefined ? undefined : parseTime('until', untilText);
  if (since !== undefined && until !== undefined && since >= until) throw invalid('since must be before until');
  const limitText = single(query, 'limit', 16);
  let limit = DEFAULT_PAGE_SIZE;
  if (limitText !== undefined) {
    if (exporting) throw invalid('limit: not accepted by the export, which returns every matching entry');
    if (!/^\d+$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > MAX_PAGE_SIZE) throw invalid(`limit: expected an integer from 1 to ${MAX_PAGE_SIZE}`);
    limit = Number(limitText);
  }
  const cursor = single(query, 'cursor', 128);
  if (cursor !== undefined) {
    try {
      decodeCursor(cursor);
    } catch (error) {
      if (error instanceof CursorError) throw invalid('cursor: not a cursor this API returned');
      throw error;
    }
  }
  return {
    namespace: single(query, 'namespace', 256),
    repository: single(query, 'repository'),
    actor: single(query, 'actor', 256),
    kinds: kinds.length > 0 ? kinds : undefined,
    result: result as ActionFilter['result'],
    since,
    until,
    limit,
    cursor,
  };
}
