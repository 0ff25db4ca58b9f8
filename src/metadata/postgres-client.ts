// PostgreSQL through `pg`, with a connection pool. Statements arrive with `?`
// placeholders and are numbered here ($1, $2...). BIGINT columns come back as numbers:
// every BIGINT we store (sizes, milliseconds) fits in a double exactly.
import { createRequire } from 'node:module';
import type pg from 'pg';
import { checkTextParams, type SqlClient, type SqlExecutor, type SqlRunResult, type SqlValue } from './sql-client.ts';

// Loaded on first use: a registry on SQLite never pays for the driver's memory.
let driver: typeof pg | undefined;
function postgresDriver(): typeof pg {
  if (!driver) {
    driver = createRequire(import.meta.url)('pg') as typeof pg;
    driver.types.setTypeParser(20, (value: string) => Number(value));
  }
  return driver;
}

export interface PostgresOptions {
  readonly url: string;
  readonly maxConnections?: number;
}

const numbered = new Map<string, string>();

function toPostgres(sql: string): string {
  let translated = numbered.get(sql);
  if (translated === undefined) {
    let index = 0;
    translated = sql.replace(/\?/g, () => `$${++index}`);
    if (numbered.size < 1024) numbered.set(sql, translated);
  }
  return translated;
}

function toParams(params: readonly SqlValue[]): unknown[] {
  checkTextParams(params);
  return params.map((value) => (value instanceof Uint8Array && !Buffer.isBuffer(value) ? Buffer.from(value) : value));
}

function executor(target: pg.Pool | pg.PoolClient): SqlExecutor {
  return {
    dialect: 'postgres',
    async query<Row extends object>(sql: string, params: readonly SqlValue[] = []): Promise<Row[]> {
      const result = await target.query(toPostgres(sql), toParams(params));
      return result.rows as Row[];
    },
    async run(sql: string, params: readonly SqlValue[] = []): Promise<SqlRunResult> {
      const result = await target.query(toPostgres(sql), toParams(params));
      return { changes: result.rowCount ?? 0 };
    },
  };
}

export class PostgresClient implements SqlClient {
  readonly dialect = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly direct: SqlExecutor;

  constructor(options: PostgresOptions) {
    this.pool = new (postgresDriver().Pool)({ connectionString: options.url, max: options.maxConnections ?? 20 });
    // An idle connection dropped by the server must not crash the process.
    this.pool.on('error', () => {});
    this.direct = executor(this.pool);
  }

  query<Row extends object>(sql: string, params?: readonly SqlValue[]): Promise<Row[]> {
    return this.direct.query<Row>(sql, params);
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<SqlRunResult> {
    return this.direct.run(sql, params);
  }

  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const connection = await this.pool.connect();
    try {
      await connection.query('BEGIN');
      const result = await work(executor(connection));
      await connection.query('COMMIT');
      return result;
    } catch (error) {
      await connection.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      connection.release();
    }
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
