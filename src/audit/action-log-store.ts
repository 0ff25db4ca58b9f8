// The action log store seam: entries as stored, written in batches, read newest first
// with keyset pagination on (occurred_at, id) (the cursor), and deleted by retention in
// bounded chunks so it never holds a long lock. SQL implementation (SQLite and
// PostgreSQL): sql-action-log-store.ts.
import type { AuthMethod } from '../core/identity.ts';
import type { ActionKind, ActionResult, Actor } from './action.ts';

/** An entry as stored (and as read back): sanitised, with its namespace derived. */
export interface ActionRow {
  readonly occurredAt: number;
  readonly kind: ActionKind;
  readonly result: ActionResult;
  readonly actor: Actor;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly namespace: string | null;
  readonly repository: string | null;
  readonly tag: string | null;
  readonly digest: string | null;
  readonly detail: Record<string, unknown> | null;
}

export interface StoredAction extends ActionRow {
  readonly id: number;
}

export interface ActionFilter {
  readonly namespace?: string | undefined;
  readonly repository?: string | undefined;
  /** The actor's name (user or robot). */
  readonly actor?: string | undefined;
  readonly kinds?: readonly ActionKind[] | undefined;
  readonly result?: ActionResult | undefined;
  /** Inclusive lower bound, epoch milliseconds. */
  readonly since?: number | undefined;
  /** Exclusive upper bound, epoch milliseconds. */
  readonly until?: number | undefined;
  /** Page size; 100 when absent. */
  readonly limit?: number | undefined;
  /** The `next` of a previous page. */
  readonly cursor?: string | undefined;
}

export interface ActionPage {
  readonly entries: StoredAction[];
  /** The cursor of the next page, or null when this page is the last. */
  readonly next: string | null;
}

/** The entry's JSON form: the API's, the export's and the forwarders'. */
export interface ActionJson {
  readonly id: number;
  readonly time: string;
  readonly kind: ActionKind;
  readonly result: ActionResult;
  readonly actor: { readonly kind: Actor['kind']; readonly name: string | null; readonly via: AuthMethod | null };
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly namespace: string | null;
  readonly repository: string | null;
  readonly tag: string | null;
  readonly digest: string | null;
  readonly detail: Record<string, unknown> | null;
}

export function actionJson(entry: StoredAction): ActionJson {
  return {
    id: entry.id,
    time: new Date(entry.occurredAt).toISOString(),
    kind: entry.kind,
    result: entry.result,
    actor: { kind: entry.actor.kind, name: entry.actor.name ?? null, via: entry.actor.via ?? null },
    ip: entry.ip,
    userAgent: entry.userAgent,
    namespace: entry.namespace,
    repository: entry.repository,
    tag: entry.tag,
    digest: entry.digest,
    detail: entry.detail,
  };
}

export class CursorError extends Error {
  constructor() {
    super('invalid cursor');
    this.name = 'CursorError';
  }
}

export function encodeCursor(entry: { readonly occurredAt: number; readonly id: number }): string {
  return Buffer.from(`${entry.occurredAt}.${entry.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): { occurredAt: number; id: number } {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cursor)) throw new CursorError();
  const match = /^(-?\d{1,16})\.(\d{1,19})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw new CursorError();
  const occurredAt = Number(match[1]);
  const id = Number(match[2]);
  if (!Number.isSafeInteger(occurredAt) || !Number.isSafeInteger(id)) throw new CursorError();
  return { occurredAt, id };
}

export const MAX_PAGE_SIZE = 1000;
export const DEFAULT_PAGE_SIZE = 100;
/** Rows per retention DELETE: each statement is short, so it never blocks writers long. */
export const PURGE_CHUNK_ROWS = 5000;

export interface PurgeOptions {
  /** Rows per chunk (PURGE_CHUNK_ROWS). */
  readonly chunkRows?: number | undefined;
  /** Asked between chunks: true ends the purge early (at shutdown). */
  readonly shouldStop?: (() => boolean) | undefined;
}

export interface ActionLogStore {
  /** Stores `rows` in one commit and returns them with their ids, in order. */
  insert(rows: readonly ActionRow[]): Promise<StoredAction[]>;
  /** One page of entries matching `filter`, newest first. Throws CursorError for a bad cursor. */
  query(filter: ActionFilter): Promise<ActionPage>;
  /** Deletes entries older than `cutoff` in short chunks, letting other writers in between. Returns how many. */
  purge(cutoff: number, options?: PurgeOptions): Promise<number>;
}
