// The composition root's choice of how replicas coordinate:
// - SQLite: one process (custody serve refuses a second one): in-process locks, nobody
//   to broadcast to.
// - PostgreSQL: advisory locks and LISTEN/NOTIFY, enough for correctness.
// - Redis as well (redis.url): the shared manifest cache, and pub/sub for invalidations
//   beside NOTIFY; locks stay in PostgreSQL, which holds the truth they protect.
import { createHash } from 'node:crypto';
import type { Config } from '../config/config.ts';
import { NO_BROADCAST, type Broadcast, type NamedLocks } from '../core/coordination.ts';
import { LocalLocks } from '../cluster/local-coordination.ts';
import type { RepositoryCache } from '../metadata/repository-cache.ts';

export interface OpenedCoordination {
  readonly locks: NamedLocks;
  readonly broadcast: Broadcast;
  /** The shared manifest cache, when Redis is configured. */
  readonly cache: RepositoryCache | undefined;
  close(): Promise<void>;
}

export async function openCoordination(config: Config, onError: (error: unknown) => void = () => {}): Promise<OpenedCoordination> {
  const closers: (() => Promise<void>)[] = [];
  let locks: NamedLocks = new LocalLocks();
  let broadcast: Broadcast = NO_BROADCAST;
  let cache: RepositoryCache | undefined;
  if (config.database.driver === 'postgres') {
    const { PostgresCoordination } = await import('../cluster/postgres-coordination.ts');
    const postgres = await PostgresCoordination.open({ url: config.database.url, onError });
    closers.push(() => postgres.close());
    locks = postgres;
    broadcast = postgres;
  }
  if (config.redis) {
    const { RedisCoordination } = await import('../cluster/redis-coordination.ts');
    let redis;
    try {
      redis = await RedisCoordination.open({ url: config.redis.url, namespace: databaseIdentity(config), onError });
    } catch (error) {
      for (const close of closers) await close();
      throw new Error(`cannot reach Redis at redis.url: ${(error as Error).message}`, { cause: error });
    }
    closers.push(() => redis.close());
    // Both channels when both are there: PostgreSQL's keeps invalidations flowing while
    // Redis is down; a message heard twice only makes a cache forget twice.
    broadcast = broadcast === NO_BROADCAST ? redis : bothChannels(broadcast, redis);
    cache = redis;
  }
  return {
    locks,
    broadcast,
    cache,
    async close() {
      for (const close of closers.reverse()) await close();
    },
  };
}

function bothChannels(first: Broadcast, second: Broadcast): Broadcast {
  return {
    async publish(topic, message) {
      const results = await Promise.allSettled([first.publish(topic, message), second.publish(topic, message)]);
      const failed = results.filter((result) => result.status === 'rejected');
      if (failed.length === results.length) throw (failed[0] as PromiseRejectedResult).reason;
    },
    subscribe(topic, handler) {
      first.subscribe(topic, handler);
      second.subscribe(topic, handler);
    },
  };
}

/**
 * What replicas of one registry share and other registries on the same Redis do not: the
 * database (host, port, name, schema), never its credentials.
 */
function databaseIdentity(config: Config): string {
  if (config.database.driver === 'sqlite') return `sqlite:${config.database.path}`;
  const url = new URL(config.database.url);
  return createHash('sha256').update(`${url.hostname}:${url.port}${url.pathname}?${url.searchParams.get('options') ?? ''}`).digest('hex');
}
