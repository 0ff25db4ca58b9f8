// SQLite through node:sqlite, in WAL mode. node:sqlite is synchronous; this wrapper gives
// it the async SqlClient shape and serialises transactions: while one is open, statements
// from other requests wait, so an `await` inside a transaction cannot let another
// request's statement slip into it.
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { checkTextParams, type SqlClient, type SqlExecutor, type SqlRunResult, type SqlValue } from './sql-client.ts';

const STATEMENT_CACHE_LIMIT = 512;

export class SqliteClient implements SqlClient {
  readonly dialect = 'sqlite' as const;
  private readonly db: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();
  private transactionTail: Promise<void> = Promise.resolve();
  private transactionActive = false;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.db = new DatabaseSync(path, { timeout: 10_000 });
    this.db.exec('PRAGMA journal_mode = WAL');
    // NORMAL in WAL mode: a commit survives a process crash (the case we guard against);
    // only an OS crash may lose the latest commits, never consistency.
    this.db.exec('PRAGMA synchronous = NORMAL');
    this.db.exec('PRAGMA foreign_keys = ON');
    this.db.exec('PRAGMA busy_timeout = 10000');
  }

  private prepare(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (!statement) {
      if (this.statements.size >= STATEMENT_CACHE_LIMIT) this.statements.clear();
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private querySync<Row extends object>(sql: string, params: readonly SqlValue[]): Row[] {
    checkTextParams(params);
    return this.prepare(sql).all(...(params as SqlValue[])) as Row[];
  }

  private runSync(sql: string, params: readonly SqlValue[]): SqlRunResult {
    checkTextParams(params);
    const result = this.prepare(sql).run(...(params as SqlValue[]));
    return { changes: Number(result.changes) };
  }

  async query<Row extends object>(sql: string, params: readonly SqlValue[] = []): Promise<Row[]> {
    while (this.transactionActive) await this.transactionTail;
    return this.querySync<Row>(sql, params);
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<SqlRunResult> {
    while (this.transactionActive) await this.transactionTail;
    return this.runSync(sql, params);
  }

  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const previous = this.transactionTail;
    let release!: () => void;
    this.transactionTail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    this.transactionActive = true;
    const tx: SqlExecutor = {
      dialect: 'sqlite',
      query: async <Row extends object>(sql: string, params: readonly SqlValue[] = []) => this.querySync<Row>(sql, params),
      run: async (sql: string, params: readonly SqlValue[] = []) => this.runSync(sql, params),
    };
    try {
      // IMMEDIATE takes the write lock up front: no deadlock upgrading a read lock
      // when several processes share the database file.
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await work(tx);
        this.db.exec('COMMIT');
        return result;
      } catch (error) {
        if (this.db.isTransaction) this.db.exec('ROLLBACK');
        throw error;
      }
    } finally {
      this.transactionActive = false;
      release();
    }
  }

  async exec(sql: string): Promise<void> {
    while (this.transactionActive) await this.transactionTail;
    this.db.exec(sql);
  }

  async close(): Promise<void> {
    await this.transactionTail;
    this.statements.clear();
    if (this.db.isOpen) this.db.close();
  }
}
