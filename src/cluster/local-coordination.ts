// Coordination inside one process (SQLite's one-process deployment, tests): locks are
// queues of promises per name, and there is no other replica to broadcast to.
import type { LockOptions, NamedLocks } from '../core/coordination.ts';

export class LocalLocks implements NamedLocks {
  private readonly tails = new Map<string, Promise<void>>();

  async withLock<T>(name: string, work: () => Promise<T>, options: LockOptions = {}): Promise<T | null> {
    const previous = this.tails.get(name);
    if (previous && options.wait === false) return null;
    let release!: () => void;
    const tail = new Promise<void>((resolve) => (release = resolve));
    // Chained after whoever holds or waits for it: waiters run in arrival order.
    const mine = (previous ?? Promise.resolve()).then(() => tail);
    this.tails.set(name, mine);
    await previous;
    try {
      return await work();
    } finally {
      release();
      if (this.tails.get(name) === mine) this.tails.delete(name);
    }
  }
}
