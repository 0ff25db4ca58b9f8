// Coordination between replicas through PostgreSQL alone: named locks are session
// advisory locks and broadcasts are LISTEN/NOTIFY, both on one dedicated connection per
// process. A process that dies (even by SIGKILL) loses its connection, and PostgreSQL
// releases its locks at once: a lock never outlives its holder.
//
// Locks are taken with pg_try_advisory_lock and retried after a short sleep, never with
// the blocking form, so the shared connection is never stuck behind one waiter. Inside
// the process a waiter first queues on a local lock, so only one asks PostgreSQL per name.
import { createHash, randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Broadcast, BroadcastTopic, LockOptions, NamedLocks } from '../core/coordination.ts';
import { LocalLocks } from './local-coordination.ts';

export interface PostgresCoordinationOptions {
  readonly url: string;
  /** Called when the connection fails (it is re-opened in the background). */
  readonly onError?: (error: unknown) => void;
}

const RETRY_MIN_MS = 10;
const RETRY_MAX_MS = 200;
const RECONNECT_MS = 500;

export class PostgresCoordination implements NamedLocks, Broadcast {
  private readonly options: PostgresCoordinationOptions;
  private readonly local = new LocalLocks();
  private readonly origin = randomUUID();
  private readonly handlers = new Map<BroadcastTopic, ((message: string | null) => void)[]>();
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  /** Locks and channels belong to the database's current schema (tests share databases). */
  private namespace = '';
  private closed = false;
  /** Set after the first connection: a later one is a reconnect, after which messages may have been missed. */
  private everConnected = false;

  private constructor(options: PostgresCoordinationOptions) {
    this.options = options;
  }

  static async open(options: PostgresCoordinationOptions): Promise<PostgresCoordination> {
    const coordination = new PostgresCoordination(options);
    await coordination.connection();
    return coordination;
  }

  async withLock<T>(name: string, work: () => Promise<T>, options: LockOptions = {}): Promise<T | null> {
    const key = this.lockKey(name);
    return this.local.withLock(
      name,
      async () => {
        let delay = RETRY_MIN_MS;
        for (;;) {
          const client = await this.connection();
          const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [key]);
          if (rows[0]!.ok) {
            try {
              return await work();
            } finally {
              // If the connection was lost meanwhile, PostgreSQL already released it.
              if (this.client === client) await client.query('SELECT pg_advisory_unlock($1::bigint)', [key]).catch(() => {});
            }
          }
          if (options.wait === false) return null;
          await sleep(delay);
          delay = Math.min(RETRY_MAX_MS, delay * 2);
        }
      },
      options,
    );
  }

  async publish(topic: BroadcastTopic, message: string): Promise<void> {
    const client = await this.connection();
    await client.query('SELECT pg_notify($1, $2)', [this.channel(topic), `${this.origin} ${message}`]);
  }

  subscribe(topic: BroadcastTopic, handler: (message: string | null) => void): void {
    const list = this.handlers.get(topic) ?? [];
    list.push(handler);
    this.handlers.set(topic, list);
    if (list.length === 1 && this.client) void this.client.query(`LISTEN ${this.channel(topic)}`).catch((error: unknown) => this.options.onError?.(error));
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private connection(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<pg.Client> {
    if (this.closed) throw new Error('coordination is closed');
    const client = new pg.Client({ connectionString: this.options.url });
    await client.connect();
    const { rows } = await client.query<{ schema: string }>('SELECT current_schema() AS schema');
    this.namespace = rows[0]!.schema;
    client.on('notification', (notification) => this.deliver(notification));
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('coordination connection ended')));
    for (const topic of this.handlers.keys()) await client.query(`LISTEN ${this.channel(topic)}`);
    const reconnected = this.client === undefined && this.everConnected;
    this.client = client;
    this.everConnected = true;
    // Messages sent while no connection listened are lost: everyone drops what they keep.
    if (reconnected) for (const list of this.handlers.values()) for (const handler of list) handler(null);
    return client;
  }

  private lost(client: pg.Client, error: unknown): void {
    if (this.client !== client) return;
    this.client = undefined;
    if (this.closed) return;
    this.options.onError?.(error);
    const retry = (): void => {
      if (this.closed || this.client) return;
      this.connection().catch((failure: unknown) => {
        this.options.onError?.(failure);
        setTimeout(retry, RECONNECT_MS).unref();
      });
    };
    setTimeout(retry, RECONNECT_MS).unref();
  }

  private deliver(notification: pg.Notification): void {
    const payload = notification.payload ?? '';
    const space = payload.indexOf(' ');
    if (payload.slice(0, space) === this.origin) return;
    for (const [topic, list] of this.handlers) {
      if (this.channel(topic) !== notification.channel) continue;
      for (const handler of list) handler(payload.slice(space + 1));
    }
  }

  private lockKey(name: string): string {
    return createHash('sha256').update(this.namespace).update('\0').update(name).digest().readBigInt64BE(0).toString();
  }

  private channel(topic: BroadcastTopic): string {
    return `custody_${topic}_${createHash('sha256').update(this.namespace).digest('hex').slice(0, 12)}`;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
