// ActionLogStore over the SqlClient seam: SQLite and PostgreSQL share every statement.
// Writes are multi-row INSERTs, one per chunk of a batch; reads are newest first with
// keyset pagination on (occurred_at, id); retention deletes in bounded chunks.
import type { SqlClient, SqlExecutor, SqlValue } from '../metadata/sql-client.ts';
import type { AuthMethod } from '../core/identity.ts';
import type { ActionKind, ActionResult, Actor } from './action.ts';
import {
  decodeCursor,
  encodeCursor,
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  PURGE_CHUNK_ROWS,
  type ActionFilter,
  type ActionLogStore,
  type ActionPage,
  type ActionRow,
  type PurgeOptions,
  type StoredAction,
} from './action-log-store.ts';

const COLUMNS = ['occurred_at', 'kind', 'result', 'actor_kind', 'actor_name', 'actor_via', 'ip', 'user_agent', 'namespace', 'repository', 'tag', 'digest', 'detail'] as const;
const ROW_PLACEHOLDERS = `(${COLUMNS.map(() => '?').join(', ')})`;
/** Rows per INSERT: 500 × 13 = 6,500 parameters, under SQLite's 32,766 and PostgreSQL's 65,535. */
export const INSERT_CHUNK_ROWS = 500;

interface DbRow {
  id: number | string;
  occurred_at: number | string;
  kind: string;
  result: string;
  actor_kind: string;
  actor_name: string | null;
  actor_via: string | null;
  ip: string | null;
  user_agent: string | null;
  namespace: string | null;
  repository: string | null;
  tag: string | null;
  digest: string | null;
  detail: string | null;
}

function toRow(row: DbRow): StoredAction {
  let detail: Record<string, unknown> | null = null;
  if (row.detail !== null) {
    try {
      detail = JSON.parse(row.detail) as Record<string, unknown>;
    } catch {
      detail = { unreadable: true };
    }
  }
  const actor: Actor = {
    kind: row.actor_kind as Actor['kind'],
    ...(row.actor_name === null ? {} : { name: row.actor_name }),
    ...(row.actor_via === null ? {} : { via: row.actor_via as AuthMethod }),
  };
  return {
    id: Number(row.id),
    occurredAt: Number(row.occurred_at),
    kind: row.kind as ActionKind,
    result: row.result as ActionResult,
    actor,
    ip: row.ip,
    userAgent: row.user_agent,
    namespace: row.namespace,
    repository: row.repository,
    tag: row.tag,
    digest: row.digest,
    detail,
  };
}

/**
 * Inserts `rows` (one multi-row INSERT per chunk) and returns them with their ids, in
 * order. Run it inside a transaction for one commit per batch.
 */
export async function insertActions(sql: SqlExecutor, rows: readonly ActionRow[]): Promise<StoredAction[]> {
  const stored: StoredAction[] = [];
  for (let start = 0; start < rows.length; start += INSERT_CHUNK_ROWS) {
    const chunk = rows.slice(start, start + INSERT_CHUNK_ROWS);
    const params: SqlValue[] = [];
    for (const row of chunk) {
      params.push(
        row.occurredAt,
        row.kind,
        row.result,
        row.actor.kind,
        row.actor.name ?? null,
        row.actor.via ?? null,
        row.ip,
        row.userAgent,
        row.namespace,
        row.repository,
        row.tag,
        row.digest,
        row.detail === null ? null : JSON.stringify(row.detail),
      );
    }
    // Both engines return the ids of a multi-row INSERT in VALUES order (an identity /
    // rowid assigned row by row); sorted anyway, as the ids ascend with that order.
    const ids = await sql.query<{ id: number | string }>(`INSERT INTO action_log (${COLUMNS.join(', ')}) VALUES ${chunk.map(() => ROW_PLACEHOLDERS).join(', ')} RETURNING id`, params);
    const sorted = ids.map((row) => Number(row.id)).sort((a, b) => a - b);
    chunk.forEach((row, index) => stored.push({ ...row, id: sorted[index] ?? 0 }));
  }
  return stored;
}

/** One page of entries matching `filter`, newest first. Throws CursorError for a bad cursor. */
export async function queryActions(sql: SqlExecutor, filter: ActionFilter): Promise<ActionPage> {
  const limit = Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(filter.limit ?? DEFAULT_PAGE_SIZE)));
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (filter.namespace !== undefined) {
    where.push('namespace = ?');
    params.push(filter.namespace);
  }
  if (filter.repository !== undefined) {
    where.push('repository = ?');
    params.push(filter.repository);
  }
  if (filter.actor !== undefined) {
    where.push('actor_name = ?');
    params.push(filter.actor);
  }
  if (filter.kinds !== undefined && filter.kinds.length > 0) {
    const kinds = [...new Set(filter.kinds)];
    where.push(kinds.length === 1 ? 'kind = ?' : `kind IN (${kinds.map(() => '?').join(', ')})`);
    params.push(...kinds);
  }
  if (filter.result !== undefined) {
    where.push('result = ?');
    params.push(filter.result);
  }
  if (filter.since !== undefined) {
    where.push('occurred_at >= ?');
    params.push(Math.floor(filter.since));
  }
  if (filter.until !== undefined) {
    where.push('occurred_at < ?');
    params.push(Math.ceil(filter.until));
  }
  if (filter.cursor !== undefined) {
    const after = decodeCursor(filter.cursor);
    // Spelled out rather than a row comparison so both planners use the (…, occurred_at, id) indexes.
    where.push('(occurred_at < ? OR (occurred_at = ? AND id < ?))');
    params.push(after.occurredAt, after.occurredAt, after.id);
  }
  params.push(limit + 1);
  const rows = await sql.query<DbRow>(
    `SELECT id, ${COLUMNS.join(', ')} FROM action_log${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY occurred_at DESC, id DESC LIMIT ?`,
    params,
  );
  const entries = rows.slice(0, limit).map(toRow);
  const next = rows.length > limit ? encodeCursor(entries[entries.length - 1]!) : null;
  return { entries, next };
}

/**
 * Deletes entries older than `cutoff` in chunks of `chunkRows`, pausing between chunks so
 * other writers get the database. Returns how many were deleted.
 */
export async function purgeActions(sql: SqlExecutor, cutoff: number, chunkRows = PURGE_CHUNK_ROWS, shouldStop: () => boolean = () => false): Promise<number> {
  let total = 0;
  for (;;) {
    const { changes } = await sql.run(
      'DELETE FROM action_log WHERE id IN (SELECT id FROM action_log WHERE occurred_at < ? ORDER BY occurred_at LIMIT ?)',
      [cutoff, chunkRows],
    );
    total += changes;
    if (changes < chunkRows || shouldStop()) return total;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

export class SqlActionLogStore implements ActionLogStore {
  private readonly sql: SqlClient;

  constructor(sql: SqlClient) {
    this.sql = sql;
  }

  /** One transaction per batch: one commit, however many INSERT chunks. */
  insert(rows: readonly ActionRow[]): Promise<StoredAction[]> {
    return this.sql.transaction((tx) => insertActions(tx, rows));
  }

  query(filter: ActionFilter): Promise<ActionPage> {
    return queryActions(this.sql, filter);
  }

  purge(cutoff: number, options: PurgeOptions = {}): Promise<number> {
    return purgeActions(this.sql, cutoff, options.chunkRows, options.shouldStop);
  }
}
