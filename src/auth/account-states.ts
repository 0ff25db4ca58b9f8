// Recent account state by name, for the checks that run on every request: a registry
// token or a remembered login is good only while the account exists, is enabled and
// still has the security stamp it was issued under. Reading the account for each request
// would cost a query per blob; entries live ACCOUNT_STATE_TTL_MS instead. A change made in
// this process calls forget(), so here a revocation takes effect at once; other replicas
// sharing the database see it within ACCOUNT_STATE_TTL_MS.
import type { Account } from '../core/identity.ts';
import type { AccountStore } from '../metadata/identity-store.ts';

export const ACCOUNT_STATE_TTL_MS = 2_000;
const LIMIT = 10_000;

export class AccountStates {
  private readonly store: AccountStore;
  private readonly ttlMs: number;
  private readonly entries = new Map<string, { readonly account: Account | null; readonly until: number }>();
  /** Lookups in flight, shared by concurrent requests for the same name. */
  private readonly pending = new Map<string, Promise<Account | null>>();
  /** Bumped by forget(): a lookup started before it does not refill the cache with old state. */
  private generation = 0;

  constructor(store: AccountStore, ttlMs = ACCOUNT_STATE_TTL_MS) {
    this.store = store;
    this.ttlMs = ttlMs;
  }

  /** The account as stored at most ttlMs ago (null: it does not exist). */
  async current(name: string, now = Date.now()): Promise<Account | null> {
    const entry = this.entries.get(name);
    if (entry && entry.until > now) return entry.account;
    let lookup = this.pending.get(name);
    if (!lookup) {
      const generation = this.generation;
      lookup = this.store.findAccount(name).then(
        (account) => {
          this.pending.delete(name);
          if (generation === this.generation) {
            if (this.entries.size >= LIMIT) this.entries.clear();
            this.entries.set(name, { account, until: Date.now() + this.ttlMs });
          }
          return account;
        },
        (error: unknown) => {
          this.pending.delete(name);
          throw error;
        },
      );
      this.pending.set(name, lookup);
    }
    return lookup;
  }

  /** Forgets everything: the next check reads the database. */
  forget(): void {
    this.generation++;
    this.entries.clear();
    this.pending.clear();
  }
}
