// A fresh PostgreSQL database per test, on the machine's server (127.0.0.1:5432, trust
// auth). Fails loudly when PostgreSQL is not there: never a silent skip.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PostgresClient } from '../../src/metadata/postgres-client.ts';

export const POSTGRES_ADMIN_URL = process.env.CUSTODY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

export interface TestDatabaseOptions {
  /**
   * Create the database with a natural-language default collation (ICU en-US), where an
   * uncollated ORDER BY is not bytewise: what catches a listing that forgot COLLATE "C".
   */
  readonly naturalCollation?: boolean;
}

export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const name = `custody_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL is required for this test and is not reachable at ${POSTGRES_ADMIN_URL} (${(error as Error).message}); ` +
        'start it (see .ci/run) or set CUSTODY_TEST_POSTGRES_URL',
    );
  }
  try {
    await admin.query(
      options.naturalCollation ? `CREATE DATABASE ${name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'` : `CREATE DATABASE ${name}`,
    );
  } finally {
    await admin.end();
  }
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  if (options.naturalCollation) {
    const probe = new pg.Client({ connectionString: url.toString() });
    await probe.connect();
    try {
      const { rows } = await probe.query<{ x: string }>("SELECT x FROM (VALUES ('B'), ('a')) v(x) ORDER BY x");
      // Guard for the guard: the default collation really is not bytewise there.
      if (rows.map((row) => row.x).join() !== 'a,B') throw new Error(`database ${name} sorts bytewise; the collation test would prove nothing`);
    } finally {
      await probe.end();
    }
  }
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A client on a fresh schema of the database, so tests sharing a database do not meet. */
export async function openSchemaClient(databaseUrl: string): Promise<{ client: PostgresClient; schema: string }> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new PostgresClient({ url: databaseUrl, maxConnections: 1 });
  try {
    await admin.exec(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.close();
  }
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { client: new PostgresClient({ url: url.toString() }), schema };
}
