// Where advisory databases live, chosen here and nowhere else: the client's scans read
// SQLite files (loaded on demand, so only scans pay for the engine), and `custody vulndb`
// opens a file, a PostgreSQL database by URL, or a server configuration's database.
import type { AdvisoryDatabase, AdvisoryDatabaseDriver } from '../scan/advisory-database.ts';
import type { Config } from '../config/config.ts';
import type { FeedSourceStore } from '../metadata/feed-source-store.ts';
import type { Ecosystem, OsRelease } from '../core/quality.ts';

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
  /** The SQLite file, when the database is one (downloads in progress go beside it). */
  readonly file: string | null;
  /** The advisory updater's state per source, in the same database. */
  readonly feedSources: FeedSourceStore;
  /** A server's database: what its stored images need from advisory data (null for a client's file). */
  readonly imageNeeds: (() => Promise<{ readonly oses: OsRelease[]; readonly ecosystems: Ecosystem[] }>) | null;
}

/** Opens (and migrates) the advisory database at `location`. */
export async function openAdvisoryDatabase(location: AdvisoryDatabaseLocation): Promise<OpenedAdvisoryDatabase> {
  const { SqliteClient } = await import('../metadata/sqlite-client.ts');
  const { PostgresClient } = await import('../metadata/postgres-client.ts');
  const { migrate } = await import('../metadata/migrations.ts');
  const { SqlAdvisoryStore } = await import('../metadata/sql-advisory-store.ts');
  const { SqlFeedSourceStore } = await import('../metadata/sql-feed-source-store.ts');
  const { SqlQualityStore } = await import('../metadata/sql-quality-store.ts');
  let sql;
  let where: string;
  let file: string | null = null;
  if (location.kind === 'postgres') {
    sql = new PostgresClient({ url: location.url, maxConnections: 2 });
    where = new URL(location.url).pathname.slice(1) || 'postgres';
  } else if (location.kind === 'server') {
    const database = location.config.database;
    sql = database.driver === 'postgres' ? new PostgresClient({ url: database.url, maxConnections: 2 }) : new SqliteClient(database.path);
    where = database.driver === 'postgres' ? 'the server\'s PostgreSQL database' : database.path;
    file = database.driver === 'sqlite' ? database.path : null;
  } else {
    where = location.path;
    sql = new SqliteClient(where);
    file = where;
  }
  try {
    await migrate(sql);
  } catch (error) {
    await sql.close().catch(() => {});
    throw new Error(`cannot open the advisory database ${where}: ${(error as Error).message}`, { cause: error });
  }
  const images = location.kind === 'server' ? new SqlQualityStore(sql) : null;
  return { store: new SqlAdvisoryStore(sql), where, file, feedSources: new SqlFeedSourceStore(sql), imageNeeds: images && (() => images.storedNeeds()), close: () => sql.close() };
}
