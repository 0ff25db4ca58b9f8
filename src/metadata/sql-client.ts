// The SQL seam: the few operations the metadata store needs, async for every engine so
// SQLite and PostgreSQL share one code path. Statements are written with `?`
// placeholders; each client translates to its engine's form.
export type SqlValue = string | number | bigint | null | Uint8Array;

export type SqlDialect = 'sqlite' | 'postgres';

export interface SqlRunResult {
  readonly changes: number;
}

export interface SqlExecutor {
  readonly dialect: SqlDialect;
  query<Row extends object>(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  run(sql: string, params?: readonly SqlValue[]): Promise<SqlRunResult>;
}

export interface SqlClient extends SqlExecutor {
  /** Runs `work` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Runs DDL (several statements) outside any transaction. */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}
