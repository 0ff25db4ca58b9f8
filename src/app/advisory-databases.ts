// Where advisory databases live, chosen here and nowhere else: the client's scans read
// SQLite files (loaded on demand, so only scans pay for the engine), and `custody vulndb`
// opens a file, a PostgreSQL database by URL, or a server configuration's database.
import type { AdvisoryDatabase, AdvisoryDatabaseDriver } from '../scan/advisory-database.ts';
import type { Config } from '../config/config.ts';

/** The client's advisory databases: SQLite files, or an empty one in memory. */
export const SQLITE_ADVISORIES: AdvisoryDatabaseDriver = {
  async openFile(path) {
    const { SqliteClient } = await import('../metadata/sqlite-client.ts');
    const { SqlAdvisoryStore } = await import('../metadata/sql-advisory-store.ts');
    const sql = new SqliteClient(path);
    return { store: new SqlAdvisoryStore(sql), close: () => sql.close() };
  },
  async openEmpty() {
    const { SqliteClient } = await import('../metadata/sqlite-client.ts');
    const { migrate } = await import('../metadata/migrations.ts');
    const { SqlAdvisoryStore } = await import('../metadata/sql-advisory-store.ts');
    const sql = new SqliteClient(':memory:');
    await migrate(sql);
    return { store: new SqlAdvisoryStore(sql), close: () => sql.close() };
  },
};

/** Which advisory database `custody vulndb` works on. */
export type AdvisoryDatabaseLocation =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string }
  | { readonly kind: 'server'; readonly config: Config };

export interface OpenedAdvisoryDatabase extends AdvisoryDatabase {
  /** How the database is named to the user. */
  readonly where: string;
}

/** Opens (and migrates) the advisory database at `location`. */
export async function openAdvisoryDatabase(location: AdvisoryDatabaseLocation): Promise<OpenedAdvisoryDatabase> {
  const { SqliteClient } = await import('../metadata/sqlite-client.ts');
  const { PostgresClient } = await import('../metadata/postgres-client.ts');
  const { migrate } = await import('../metadata/migrations.ts');
  const { SqlAdvisoryStore } = await import('../metadata/sql-advisory-store.ts');
  let sql;
  let where: string;
  if (location.kind === 'postgres') {
    sql = new PostgresClient({ url: location.url, maxConnections: 2 });
    where = new URL(location.url).pathname.slice(1) || 'postgres';
  } else if (location.kind === 'server') {
    const database = location.config.database;
    sql = database.driver === 'postgres' ? new PostgresClient({ url: database.url, maxConnections: 2 }) : new SqliteClient(database.path);
    where = database.driver === 'postgres' ? 'the server\'s PostgreSQL database' : database.path;
  } else {
    where = location.path;
    sql = new SqliteClient(where);
  }
  try {
    await migrate(sql);
  } catch (error) {
    await sql.close().catch(() => {});
    throw new Error(`cannot open the advisory database ${where}: ${(error as Error).message}`, { cause: error });
  }
  return { store: new SqlAdvisoryStore(sql), where, close: () => sql.close() };
}
