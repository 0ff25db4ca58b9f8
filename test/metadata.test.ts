// Runs the metadata and identity contracts (the composite and each facet) against SQLite
// (a temporary file) and PostgreSQL (a fresh database per suite, each test in its own
// schema), and the metadata contract once more through a pass-through decorator.
// PostgreSQL is required: when it is not reachable the PostgreSQL tests fail with
// createTestDatabase's message.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SqliteClient } from '../src/metadata/sqlite-client.ts';
import { migrate } from '../src/metadata/migrations.ts';
import { SqlMetadataStore } from '../src/metadata/sql-metadata-store.ts';
import type { SqlClient } from '../src/metadata/sql-client.ts';
import { createTestDatabase, openSchemaClient, type TestDatabase } from './support/postgres.ts';
import { metadataSuite, blobDigest } from './suites/metadata-suite.ts';
import { identitySuite } from './suites/identity-suite.ts';
import { identityFacetsSuite } from './suites/identity-facets-suite.ts';
import { SQL_STORES } from './support/sql-stores.ts';
import { PassThroughMetadataStore } from './support/pass-through-metadata-store.ts';

describe('sqlite', () => {
  let directory: string;
  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'custody-sqlite-'));
  });
  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  metadataSuite('sqlite', async () => new SqliteClient(join(directory, `${randomBytes(6).toString('hex')}`, 'custody.db')), SQL_STORES);
  identitySuite('sqlite', async () => new SqliteClient(join(directory, `${randomBytes(6).toString('hex')}`, 'custody.db')), SQL_STORES);
  identityFacetsSuite('sqlite', async () => new SqliteClient(join(directory, `${randomBytes(6).toString('hex')}`, 'custody.db')), SQL_STORES);

  // The same contract through a decorator: the suite takes factories, so a cache or a
  // policy layer in front of the SQL store is held to it too.
  const decorators: PassThroughMetadataStore[] = [];
  metadataSuite('sqlite, through a pass-through decorator', async () => new SqliteClient(join(directory, `${randomBytes(6).toString('hex')}`, 'custody.db')), {
    ...SQL_STORES,
    metadata: (sql) => {
      const decorator = new PassThroughMetadataStore(SQL_STORES.metadata(sql));
      decorators.push(decorator);
      return decorator;
    },
  });
  it('the decorated suite went through the decorator', () => {
    assert.ok(decorators.length > 10 && decorators.every((decorator) => decorator.calls > 0), `${decorators.length} decorators`);
  });

  it('runs in WAL mode with foreign keys on', async () => {
    const path = join(directory, 'wal', 'custody.db');
    const client = new SqliteClient(path);
    try {
      await migrate(client);
      const [mode] = await client.query<{ journal_mode: string }>('PRAGMA journal_mode');
      assert.equal(mode?.journal_mode, 'wal');
      const [keys] = await client.query<{ foreign_keys: number }>('PRAGMA foreign_keys');
      assert.equal(keys?.foreign_keys, 1);
      await new SqlMetadataStore(client).linkBlob('app', blobDigest('a'), 1, Date.now());
      assert.ok(existsSync(`${path}-wal`), 'the -wal file exists while the database is open');
    } finally {
      await client.close();
    }
  });

  it('a second client on the same file sees committed data', async () => {
    const path = join(directory, 'shared', 'custody.db');
    const first = new SqliteClient(path);
    const second = new SqliteClient(path);
    try {
      await migrate(first);
      assert.equal(await migrate(second), 0);
      await new SqlMetadataStore(first).linkBlob('app', blobDigest('a'), 3, Date.now());
      assert.equal((await new SqlMetadataStore(second).findRepositoryBlob('app', blobDigest('a')))?.size, 3);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('rolls back a transaction whose work throws', async () => {
    const client = new SqliteClient(join(directory, 'rollback', 'custody.db'));
    try {
      await migrate(client);
      await assert.rejects(
        client.transaction(async (tx) => {
          await tx.run('INSERT INTO uploads (id, repository, size, created_at, updated_at) VALUES (?, ?, 0, 0, 0)', ['u', 'r']);
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.deepEqual(await client.query('SELECT id FROM uploads'), []);
    } finally {
      await client.close();
    }
  });
});

/** A PostgreSQL database for one suite; every test gets its own schema in it. */
function postgresSuite(label: string, createDatabase: () => Promise<TestDatabase>): void {
  describe(label, () => {
    let database: TestDatabase | undefined;
    before(async () => {
      database = await createDatabase();
    });
    after(async () => {
      await database?.drop();
    });

    async function openClient(): Promise<SqlClient> {
      assert.ok(database, 'the PostgreSQL test database was not created');
      const { client, schema } = await openSchemaClient(database.url);
      // Really PostgreSQL, really that schema.
      const [row] = await client.query<{ version: string; schema: string }>('SELECT version() AS version, current_schema() AS schema');
      assert.match(row!.version, /^PostgreSQL /);
      assert.equal(row!.schema, schema);
      return client;
    }

    metadataSuite(label, openClient, SQL_STORES);
    identitySuite(label, openClient, SQL_STORES);
    identityFacetsSuite(label, openClient, SQL_STORES);

    it('name columns sort bytewise whatever the database locale (COLLATE "C")', async () => {
      const client = await openClient();
      try {
        await migrate(client);
        const rows = await client.query<{ table_name: string; column_name: string; collation_name: string | null }>(
          `SELECT table_name, column_name, collation_name FROM information_schema.columns
            WHERE table_schema = current_schema() AND ((table_name = 'repositories' AND column_name = 'name') OR (table_name = 'tags' AND column_name = 'name'))
            ORDER BY table_name`,
        );
        assert.deepEqual(rows.map((row) => [row.table_name, row.collation_name]), [['repositories', 'C'], ['tags', 'C']]);
      } finally {
        await client.close();
      }
    });
  });
}

postgresSuite('postgres', createTestDatabase);

// The same suite on a database whose default collation is a natural-language one
// (ICU en-US), where ORDER BY on an uncollated TEXT column is not bytewise: this is what
// catches a listing that forgot COLLATE "C".
postgresSuite('postgres (ICU en-US collation)', () => createTestDatabase({ naturalCollation: true }));
