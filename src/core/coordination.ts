// What replicas of one registry coordinate through: named locks (one holder at a time
// across every process sharing the database) and broadcasts (a message every replica
// hears, for invalidating what each keeps in memory). The domain depends on these
// interfaces only; src/cluster holds the implementations (in-process for one SQLite
// process, PostgreSQL advisory locks and LISTEN/NOTIFY, Redis pub/sub).

export interface LockOptions {
  /**
   * false: give up at once when another holder has the lock (the work does not run and
   * `withLock` resolves to null). true (default): wait until the lock is free.
   */
  readonly wait?: boolean;
}

export interface NamedLocks {
  /** Runs `work` holding the lock `name`; null when `wait` is false and the lock is taken. */
  withLock<T>(name: string, work: () => Promise<T>, options?: LockOptions): Promise<T | null>;
}

/** Topics every replica listens on. */
export type BroadcastTopic = 'credentials' | 'metadata';

export interface Broadcast {
  /** Sends `message` to the handlers of `topic` in every other replica (best effort, fast). */
  publish(topic: BroadcastTopic, message: string): Promise<void>;
  /**
   * Runs `handler` for messages of `topic` from other replicas. `message` is null when
   * messages may have been missed (the connection to the hub was lost and is back): the
   * handler must then drop everything it keeps.
   */
  subscribe(topic: BroadcastTopic, handler: (message: string | null) => void): void;
}

/** One process alone (SQLite): nobody else to tell. */
export const NO_BROADCAST: Broadcast = {
  async publish() {},
  subscribe() {},
};
