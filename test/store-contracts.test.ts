// Runs the contract suites of the stores beside the metadata and identity ones (those are
// in metadata.test.ts) against SQLite (a temporary file per test) and PostgreSQL (a fresh
// database per engine, each test in its own schema). On PostgreSQL a second client on the
// same schema plays a second replica: the job queue and the collector's batches are
// claimed from both sides. PostgreSQL is required: when it is not reachable these tests
// fail with createTestDatabase's message.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SqliteClient } from '../src/metadata/sqlite-client.ts';
import { PostgresClient } from '../src/metadata/postgres-client.ts';
import type { SqlClient } from '../src/metadata/sql-client.ts';
import { createTestDatabase, openSchemaClient, type TestDatabase } from './support/postgres.ts';
import { SQL_STORES, type StoreFactories } from './support/sql-stores.ts';
import { advisorySuite } from './suites/advisory-suite.ts';
import { feedSourceSuite } from './suites/feed-source-suite.ts';
import { qualityStoreSuite } from './suites/quality-store-suite.ts';
import { maintenanceSuite } from './suites/maintenance-suite.ts';
import { signingPolicySuite } from './suites/signing-policy-suite.ts';
import { signatureSuite } from './suites/signature-suite.ts';
import { actionLogStoreSuite } from './suites/action-log-store-suite.ts';
import { jobLeaseSuite } from './suites/job-lease-suite.ts';
import { loginAttemptSuite } from './suites/login-attempt-suite.ts';
import { webhookStoreSuite } from './suites/webhook-store-suite.ts';
import { webSessionSuite } from './suites/web-session-suite.ts';
import { oidcIdentitySuite } from './suites/oidc-identity-suite.ts';
import { cacheUsageSuite } from './suites/cache-usage-suite.ts';
import { lifecycleSuite } from './suites/lifecycle-suite.ts';
import { mirrorStoreSuite } from './suites/mirror-store-suite.ts';
import { catalogIndexSuite } from './suites/catalog-index-suite.ts';

interface Engine {
  readonly openClient: () => Promise<SqlClient>;
  /** Another client on the same database, where the engine serves several replicas. */
  readonly openReplica?: (first: SqlClient) => Promise<SqlClient>;
}

function contracts(label: string, engine: Engine, stores: StoreFactories): void {
  advisorySuite(label, engine.openClient, stores);
  feedSourceSuite(label, engine.openClient, stores);
  qualityStoreSuite(label, engine.openClient, stores, engine.openReplica ? { openReplica: engine.openReplica } : {});
  maintenanceSuite(label, engine.openClient, stores, engine.openReplica ? { openReplica: engine.openReplica } : {});
  signingPolicySuite(label, engine.openClient, stores);
  signatureSuite(label, engine.openClient, stores);
  actionLogStoreSuite(label, engine.openClient, stores);
  jobLeaseSuite(label, engine.openClient, stores, engine.openReplica ? { openReplica: engine.openReplica } : {});
  loginAttemptSuite(label, engine.openClient, stores, engine.openReplica ? { openReplica: engine.openReplica } : {});
  webhookStoreSuite(label, engine.openClient, stores);
  webSessionSuite(label, engine.openClient, stores);
  oidcIdentitySuite(label, engine.openClient, stores);
  cacheUsageSuite(label, engine.openClient, stores);
  lifecycleSuite(label, engine.openClient, stores, engine.openReplica ? { openReplica: engine.openReplica } : {});
  mirrorStoreSuite(label, engine.openClient, stores);
  catalogIndexSuite(label, engine.openClient, stores);
}

describe('sqlite', () => {
  let directory: string;
  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'custody-stores-'));
  });
  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });
  // One process per SQLite database (it serves one replica): no second client.
  contracts('sqlite', { openClient: async () => new SqliteClient(join(directory, randomBytes(6).toString('hex'), 'custody.db')) }, SQL_STORES);
});

describe('postgres', () => {
  let database: TestDatabase | undefined;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database?.drop();
  });

  async function openClient(): Promise<SqlClient> {
    assert.ok(database, 'the PostgreSQL test database was not created');
    return (await openSchemaClient(database.url)).client;
  }

  /** A second pool on the schema `first` uses: what another replica would open. */
  async function openReplica(first: SqlClient): Promise<SqlClient> {
    assert.ok(database, 'the PostgreSQL test database was not created');
    const [row] = await first.query<{ schema: string }>('SELECT current_schema() AS schema');
    const url = new URL(database.url);
    url.searchParams.set('options', `-c search_path=${row!.schema}`);
    const replica = new PostgresClient({ url: url.toString() });
    const [seen] = await replica.query<{ schema: string }>('SELECT current_schema() AS schema');
    assert.equal(seen!.schema, row!.schema);
    return replica;
  }

  contracts('postgres', { openClient, openReplica }, SQL_STORES);
});
