// Failed login attempts per throttled key, shared by every replica: the counts and
// lockouts behind LoginThrottle (src/auth). The policy (limits, how lockouts grow) is the
// throttle's; this store only counts atomically and remembers lockouts.
export interface LoginAttemptStore {
  /**
   * Counts one failure for `key` and returns the failures in its window; a window older
   * than `windowMs` starts again at 1. Atomic: concurrent failures on several replicas
   * are all counted.
   */
  recordFailure(key: string, now: number, windowMs: number): Promise<number>;
  /** Locks `key` out until `until`; never shortens a longer lockout. */
  lockUntil(key: string, until: number): Promise<void>;
  /** The latest lockout end among `keys` (0 when none is locked). */
  lockedUntil(keys: readonly string[]): Promise<number>;
  /** Forgets `key` (after a successful login). */
  clear(key: string): Promise<void>;
  /** Deletes records not locked at `now` whose window started before `before`; returns how many. */
  prune(now: number, before: number): Promise<number>;
}
