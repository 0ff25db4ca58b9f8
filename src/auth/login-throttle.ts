// Failed-login throttling per account and per source address. After a few failures
// inside the window, further attempts are refused until a lockout passes; the lockout
// doubles with every failure beyond the limit, up to a ceiling. In memory per replica:
// an attacker spreading guesses over replicas gets at most replicas × the limit.
export interface LoginThrottleOptions {
  readonly maxFailures: number;
  readonly windowMs: number;
  readonly maxLockoutMs: number;
}

interface Record {
  failures: number;
  firstAt: number;
  lockedUntil: number;
}

const MAX_TRACKED = 100_000;

export class LoginThrottle {
  private readonly options: LoginThrottleOptions;
  private readonly records = new Map<string, Record>();

  constructor(options: LoginThrottleOptions) {
    this.options = options;
  }

  /** Milliseconds the caller must still wait, or 0 when an attempt may go ahead. */
  retryAfter(account: string, address: string | undefined, now = Date.now()): number {
    let wait = 0;
    for (const key of this.keys(account, address)) {
      const record = this.records.get(key);
      if (record && record.lockedUntil > now) wait = Math.max(wait, record.lockedUntil - now);
    }
    return wait;
  }

  failed(account: string, address: string | undefined, now = Date.now()): void {
    for (const key of this.keys(account, address)) {
      let record = this.records.get(key);
      if (!record || now - record.firstAt > this.options.windowMs) {
        record = { failures: 0, firstAt: now, lockedUntil: 0 };
        if (this.records.size >= MAX_TRACKED) this.prune(now);
        this.records.set(key, record);
      }
      record.failures++;
      // Addresses are shared (NAT, CI runners): they get a larger allowance than one account.
      const limit = key.startsWith('ip:') ? this.options.maxFailures * 4 : this.options.maxFailures;
      if (record.failures >= limit) {
        const lockout = Math.min(this.options.maxLockoutMs, 1000 * 2 ** Math.min(20, record.failures - limit));
        record.lockedUntil = now + lockout;
      }
    }
  }

  succeeded(account: string): void {
    this.records.delete(`account:${account}`);
  }

  private keys(account: string, address: string | undefined): string[] {
    return address ? [`account:${account}`, `ip:${address}`] : [`account:${account}`];
  }

  private prune(now: number): void {
    for (const [key, record] of this.records) {
      if (record.lockedUntil <= now && now - record.firstAt > this.options.windowMs) this.records.delete(key);
    }
    if (this.records.size >= MAX_TRACKED) this.records.clear();
  }
}
