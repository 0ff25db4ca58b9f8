// Failed-login throttling per account and per source address. After a few failures
// inside the window, further attempts are refused until a lockout passes; the lockout
// doubles with every failure beyond the limit, up to a ceiling. The counts live in the
// database (LoginAttemptStore), so every replica counts the same failures: an attacker
// spreading guesses over replicas gets no more than one replica would give.
import type { LoginAttemptStore } from '../metadata/login-attempt-store.ts';

export interface LoginThrottleOptions {
  readonly maxFailures: number;
  readonly windowMs: number;
  readonly maxLockoutMs: number;
}

/** Failures between prunes of records that neither count nor lock any more. */
const PRUNE_EVERY = 1000;

export class LoginThrottle {
  private readonly store: LoginAttemptStore;
  private readonly options: LoginThrottleOptions;
  private failuresSincePrune = 0;

  constructor(store: LoginAttemptStore, options: LoginThrottleOptions) {
    this.store = store;
    this.options = options;
  }

  /** Milliseconds the caller must still wait, or 0 when an attempt may go ahead. */
  async retryAfter(account: string, address: string | undefined, now = Date.now()): Promise<number> {
    return Math.max(0, (await this.store.lockedUntil(this.keys(account, address))) - now);
  }

  async failed(account: string, address: string | undefined, now = Date.now()): Promise<void> {
    for (const key of this.keys(account, address)) {
      const failures = await this.store.recordFailure(key, now, this.options.windowMs);
      // Addresses are shared (NAT, CI runners): they get a larger allowance than one account.
      const limit = key.startsWith('ip:') ? this.options.maxFailures * 4 : this.options.maxFailures;
      if (failures >= limit) {
        const lockout = Math.min(this.options.maxLockoutMs, 1000 * 2 ** Math.min(20, failures - limit));
        await this.store.lockUntil(key, now + lockout);
      }
    }
    if (++this.failuresSincePrune >= PRUNE_EVERY) {
      this.failuresSincePrune = 0;
      await this.store.prune(now, now - this.options.windowMs);
    }
  }

  async succeeded(account: string): Promise<void> {
    await this.store.clear(this.keys(account, undefined)[0]!);
  }

  private keys(account: string, address: string | undefined): string[] {
    // A name no account can have (a NUL in it) still counts as a failure, under a key
    // the database can store: such names fail as a wrong password does, never as a 400.
    const name = account.replace(/\0/g, '\uFFFD');
    return address ? [`account:${name}`, `ip:${address}`] : [`account:${name}`];
  }
}
