// Redis, when configured (redis.url): the manifest and tag cache every replica shares
// (RepositoryCache: one hash per repository, dropped as a whole on a write) and pub/sub
// for invalidations (Broadcast). Nothing correctness needs lives only here: PostgreSQL
// holds the truth and the locks; a lost Redis costs speed, and a lost pub/sub message is
// bounded by the caches' short lives (subscribers drop everything on a reconnect).
//
// The client is ioredis: it re-subscribes by itself after a reconnect and tells us so
// ('ready'), pipelines commands on one connection, runs Lua scripts by SHA (EVALSHA with
// a fallback), and brings five small dependencies.
import { createHash, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Broadcast, BroadcastTopic } from '../core/coordination.ts';
import type { CacheLookup, RepositoryCache } from '../metadata/repository-cache.ts';

export interface RedisCoordinationOptions {
  readonly url: string;
  /**
   * Separates registries sharing one Redis: every key and channel starts with it. The
   * composition root derives it from the database, so replicas of one registry agree.
   */
  readonly namespace: string;
  /** How long a repository's cached entries may live at most (writes that bypass the cache). */
  readonly ttlMs?: number;
  readonly onError?: (error: unknown) => void;
}

const GENERATION = '_g';

// Fill only while the repository's generation is the one the reader saw ('' for none),
// and give a new hash its time to live once (fills never extend it).
const FILL = `
local g = redis.call('HGET', KEYS[1], '${GENERATION}')
if (g == false and ARGV[3] == '') or g == ARGV[3] then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
end
return 0`;

export class RedisCoordination implements Broadcast, RepositoryCache {
  private readonly commands: Redis;
  private readonly subscriber: Redis;
  private readonly prefix: string;
  private readonly ttlMs: number;
  private readonly origin = randomUUID();
  private readonly handlers = new Map<BroadcastTopic, ((message: string | null) => void)[]>();
  private readyOnce = false;

  private constructor(options: RedisCoordinationOptions) {
    this.prefix = `custody:${createHash('sha256').update(options.namespace).digest('hex').slice(0, 16)}:`;
    this.ttlMs = options.ttlMs ?? 60_000;
    const onError = options.onError ?? (() => {});
    // Fail fast instead of queueing forever while Redis is down: callers fall back.
    const settings = { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000 };
    this.commands = new Redis(options.url, settings);
    this.subscriber = new Redis(options.url, { ...settings, enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.commands.on('error', onError);
    this.subscriber.on('error', onError);
    this.commands.defineCommand('custodyFill', { numberOfKeys: 1, lua: FILL });
    this.subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => this.deliver(channel.toString(), message.toString()));
    this.subscriber.on('ready', () => {
      // After a reconnect, messages may have been missed: every subscriber drops its state.
      if (this.readyOnce) for (const list of this.handlers.values()) for (const handler of list) handler(null);
      this.readyOnce = true;
    });
  }

  static async open(options: RedisCoordinationOptions): Promise<RedisCoordination> {
    const coordination = new RedisCoordination(options);
    await Promise.all([coordination.commands.connect(), coordination.subscriber.connect()]);
    return coordination;
  }

  /** Connects in the background: until Redis answers, lookups fall back to the database. */
  static openLazily(options: RedisCoordinationOptions): RedisCoordination {
    const coordination = new RedisCoordination(options);
    const onError = options.onError ?? (() => {});
    coordination.commands.connect().catch(onError);
    coordination.subscriber.connect().catch(onError);
    return coordination;
  }

  // ---- RepositoryCache ---------------------------------------------------------------

  async get(repository: string, field: string): Promise<CacheLookup> {
    const [generation, value] = await this.commands.hmgetBuffer(this.key(repository), GENERATION, field);
    return { value: value ?? null, generation: generation?.toString() ?? '' };
  }

  async fill(repository: string, field: string, value: Buffer, generation: string): Promise<void> {
    await (this.commands as Redis & { custodyFill(key: string, field: string, value: Buffer, generation: string, ttl: number): Promise<number> }).custodyFill(this.key(repository), field, value, generation, this.ttlMs);
  }

  async invalidate(repository: string): Promise<void> {
    const key = this.key(repository);
    // A new generation, so a reader that missed before this write cannot fill after it.
    await this.commands.multi().del(key).hset(key, GENERATION, randomUUID()).pexpire(key, this.ttlMs).exec();
  }

  // ---- Broadcast ---------------------------------------------------------------------

  async publish(topic: BroadcastTopic, message: string): Promise<void> {
    await this.commands.publish(this.channel(topic), `${this.origin} ${message}`);
  }

  subscribe(topic: BroadcastTopic, handler: (message: string | null) => void): void {
    const list = this.handlers.get(topic) ?? [];
    list.push(handler);
    this.handlers.set(topic, list);
    if (list.length === 1) void this.subscriber.subscribe(this.channel(topic)).catch(() => {});
  }

  /** Round trip time, for /healthz-style checks and the bench. */
  async ping(): Promise<void> {
    await this.commands.ping();
  }

  async close(): Promise<void> {
    this.commands.disconnect();
    this.subscriber.disconnect();
  }

  private deliver(channel: string, payload: string): void {
    const space = payload.indexOf(' ');
    if (payload.slice(0, space) === this.origin) return;
    for (const [topic, list] of this.handlers) {
      if (this.channel(topic) !== channel) continue;
      for (const handler of list) handler(payload.slice(space + 1));
    }
  }

  private key(repository: string): string {
    return `${this.prefix}repo:${repository}`;
  }

  private channel(topic: BroadcastTopic): string {
    return `${this.prefix}${topic}`;
  }
}
