// Redis as the replicas' shared hot cache and pub/sub (src/cluster/redis-coordination.ts),
// on the machine's Redis (127.0.0.1:6379, or CUSTODY_TEST_REDIS_URL; failing loudly when
// it is not there). The metadata contract runs through CachedMetadataStore on PostgreSQL,
// so the cache changes no answer; then what the cache is for: a second replica's lookup
// is served from Redis, a write through one replica is seen at once by the other, a fill
// that raced a write cannot put the old value back, a Redis that goes away costs nothing
// but speed, and a broadcast crosses over to the other replica.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createConnection } from 'node:net';
import { migrate } from '../src/metadata/migrations.ts';
import { SqlMetadataStore } from '../src/metadata/sql-metadata-store.ts';
import { CachedMetadataStore } from '../src/metadata/cached-metadata-store.ts';
import { RedisCoordination } from '../src/cluster/redis-coordination.ts';
import type { MetadataStore } from '../src/metadata/metadata-store.ts';
import type { PostgresClient } from '../src/metadata/postgres-client.ts';
import { createTestDatabase, openSchemaClient, type TestDatabase } from './support/postgres.ts';
import { metadataSuite, manifest, blobDigest } from './suites/metadata-suite.ts';
import { SQL_STORES } from './support/sql-stores.ts';

const REDIS_URL = process.env.CUSTODY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const T0 = 1_700_000_000_000;

async function requireRedis(): Promise<void> {
  const url = new URL(REDIS_URL);
  await new Promise<void>((resolve, reject) => {
    const socket = createConnection(Number(url.port || 6379), url.hostname, () => {
      socket.end();
      resolve();
    });
    socket.once('error', (error) => reject(new Error(`Redis is required for this test and is not reachable at ${REDIS_URL} (${error.message}); start it (see .ci/run) or set CUSTODY_TEST_REDIS_URL`)));
  });
}

/** Counts lookups that reached the database. */
class CountingStore extends SqlMetadataStore {
  lookups = 0;
  override async getManifestByTag(repository: string, tag: string) {
    this.lookups++;
    return super.getManifestByTag(repository, tag);
  }
  override async getManifestByDigest(repository: string, digest: Parameters<SqlMetadataStore['getManifestByDigest']>[1]) {
    this.lookups++;
    return super.getManifestByDigest(repository, digest);
  }
}

describe('the metadata contract through the Redis cache', () => {
  let database: TestDatabase;
  const opened: RedisCoordination[] = [];
  const hits = { count: 0 };
  before(async () => {
    await requireRedis();
    database = await createTestDatabase();
  });
  after(async () => {
    for (const redis of opened) await redis.close();
    await database?.drop();
  });
  // Store factories are synchronous: the connection is opened lazily by ioredis' first command.
  metadataSuite('postgres, through CachedMetadataStore on Redis', async () => (await openSchemaClient(database.url)).client, {
    ...SQL_STORES,
    metadata: (sql) => {
      const redis = RedisCoordination.openLazily({ url: REDIS_URL, namespace: randomBytes(8).toString('hex') });
      opened.push(redis);
      // The first lookups may come before the connection is up: they go to the database.
      const counted = { get: async (repository: string, field: string) => {
        const found = await redis.get(repository, field);
        if (found.value) hits.count++;
        return found;
      }, fill: redis.fill.bind(redis), invalidate: redis.invalidate.bind(redis) };
      return new CachedMetadataStore(SQL_STORES.metadata(sql), counted);
    },
  });
  it('the suite was answered from the cache', () => {
    // The suite rarely reads a manifest twice; the replica tests below measure hits on purpose.
    assert.ok(hits.count > 0, `${hits.count} hits`);
  });
});

describe('two replicas sharing the Redis cache', () => {
  let database: TestDatabase;
  let sql: PostgresClient;
  let namespace: string;
  const redises: RedisCoordination[] = [];
  before(async () => {
    await requireRedis();
    database = await createTestDatabase();
    sql = (await openSchemaClient(database.url)).client;
    await migrate(sql);
    namespace = randomBytes(8).toString('hex');
  });
  after(async () => {
    for (const redis of redises) await redis.close();
    await sql?.close();
    await database?.drop();
  });

  async function replica(): Promise<{ store: MetadataStore; database: CountingStore; redis: RedisCoordination }> {
    const redis = await RedisCoordination.open({ url: REDIS_URL, namespace });
    redises.push(redis);
    const inner = new CountingStore(sql);
    return { store: new CachedMetadataStore(inner, redis), database: inner, redis };
  }

  it("serves one replica's lookups from what another cached; a write through either is seen at once by both", async () => {
    const a = await replica();
    const b = await replica();
    const layer = blobDigest('layer-1');
    await a.store.linkBlob('shared/app', layer, 10, T0);
    const first = manifest('shared/app', { blobs: [layer], tag: 'v1' });
    await a.store.putManifest(first);
    assert.equal((await a.store.getManifestByTag('shared/app', 'v1'))?.digest, first.digest);
    assert.equal(a.database.lookups, 1);
    // Replica b: from Redis, no query; HEAD too.
    assert.equal((await b.store.getManifestByTag('shared/app', 'v1'))?.digest, first.digest);
    assert.equal((await b.store.headManifestByTag('shared/app', 'v1'))?.digest, first.digest);
    assert.equal(b.database.lookups, 0);
    const cached = await b.store.getManifestByTag('shared/app', 'v1');
    assert.deepEqual(Buffer.from(cached!.content), Buffer.from(first.content));

    // The tag moves through b: a sees the new digest at once.
    const second = manifest('shared/app', { blobs: [layer], tag: 'v1', annotations: { moved: 'yes' } });
    await b.store.putManifest(second);
    assert.notEqual(second.digest, first.digest);
    assert.equal((await a.store.getManifestByTag('shared/app', 'v1'))?.digest, second.digest);
    assert.equal(await b.store.deleteTag('shared/app', 'v1', T0 + 1), true);
    assert.equal(await a.store.getManifestByTag('shared/app', 'v1'), null);
    assert.equal(await a.store.deleteManifest('shared/app', first.digest, T0 + 2), true);
    assert.equal(await b.store.getManifestByDigest('shared/app', first.digest), null);
  });

  it('a lookup that missed before a write cannot fill the old value after it', async () => {
    const a = await replica();
    const lookup = await a.redis.get('race/app', 't:v1');
    assert.equal(lookup.value, null);
    await a.redis.invalidate('race/app');
    await a.redis.fill('race/app', 't:v1', Buffer.from('stale'), lookup.generation);
    assert.equal((await a.redis.get('race/app', 't:v1')).value, null);
    // With the generation as it is now, a fill lands.
    const now = await a.redis.get('race/app', 't:v1');
    await a.redis.fill('race/app', 't:v1', Buffer.from('fresh'), now.generation);
    assert.equal((await a.redis.get('race/app', 't:v1')).value?.toString(), 'fresh');
  });

  it('a broadcast reaches the other replica through Redis, not the sender', async () => {
    const a = await replica();
    const b = await replica();
    const heardA: (string | null)[] = [];
    const heardB: (string | null)[] = [];
    a.redis.subscribe('credentials', (message) => heardA.push(message));
    b.redis.subscribe('credentials', (message) => heardB.push(message));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const sent = Date.now();
    await a.redis.publish('credentials', 'forget');
    while (heardB.length === 0 && Date.now() - sent < 2000) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.deepEqual(heardB, ['forget']);
    assert.ok(Date.now() - sent < 500);
    assert.deepEqual(heardA, []);
  });

  it('a Redis that cannot be reached costs speed, never an answer', async () => {
    const errors: unknown[] = [];
    const dead = RedisCoordination.openLazily({ url: 'redis://127.0.0.1:9', namespace, onError: (error) => errors.push(error) });
    redises.push(dead);
    const inner = new CountingStore(sql);
    const store = new CachedMetadataStore(inner, dead, { onError: (error) => errors.push(error) });
    const layer = blobDigest('layer-2');
    await store.linkBlob('down/app', layer, 10, T0);
    const entry = manifest('down/app', { blobs: [layer], tag: 'v1' });
    await store.putManifest(entry);
    assert.equal((await store.getManifestByTag('down/app', 'v1'))?.digest, entry.digest);
    assert.equal(inner.lookups, 1);
    assert.ok(errors.length > 0);
  });
});
