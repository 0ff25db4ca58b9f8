// FeedSourceStore over the SqlClient seam (migration 11), one code path for SQLite and PostgreSQL.
import type { SqlClient } from './sql-client.ts';
import type { FeedSourceState, FeedSourceStore, HttpValidators } from './feed-source-store.ts';

interface SourceRow {
  readonly name: string;
  readonly base_url: string;
  readonly validators: string;
  readonly cursor: string | null;
  readonly last_attempt: number | null;
  readonly last_success: number | null;
  readonly last_error: string | null;
  readonly documents: number;
}

function nullableNumber(value: number | string | null): number | null {
  return value === null ? null : Number(value);
}

function toState(row: SourceRow): FeedSourceState {
  return {
    name: row.name,
    baseUrl: row.base_url,
    validators: JSON.parse(row.validators) as Record<string, HttpValidators>,
    cursor: row.cursor,
    lastAttempt: nullableNumber(row.last_attempt),
    lastSuccess: nullableNumber(row.last_success),
    lastError: row.last_error,
    documents: Number(row.documents),
  };
}

export class SqlFeedSourceStore implements FeedSourceStore {
  private readonly sql: SqlClient;

  constructor(sql: SqlClient) {
    this.sql = sql;
  }

  async get(name: string): Promise<FeedSourceState | null> {
    const rows = await this.sql.query<SourceRow>('SELECT * FROM vulndb_sources WHERE name = ?', [name]);
    return rows[0] ? toState(rows[0]) : null;
  }

  async list(): Promise<FeedSourceState[]> {
    return (await this.sql.query<SourceRow>('SELECT * FROM vulndb_sources ORDER BY name')).map(toState);
  }

  async save(state: FeedSourceState): Promise<void> {
    await this.sql.run(
      `INSERT INTO vulndb_sources (name, base_url, validators, cursor, last_attempt, last_success, last_error, documents)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET base_url = excluded.base_url, validators = excluded.validators, cursor = excluded.cursor,
         last_attempt = excluded.last_attempt, last_success = excluded.last_success, last_error = excluded.last_error, documents = excluded.documents`,
      [state.name, state.baseUrl, JSON.stringify(state.validators), state.cursor, state.lastAttempt, state.lastSuccess, state.lastError, state.documents],
    );
  }
}
