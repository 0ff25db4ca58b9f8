// The job lease seam: which process runs a scheduled job across replicas that share the
// database. The scheduler (src/jobs/timer-scheduler.ts) takes a lease before each run of
// an exclusive job; whoever holds an unexpired lease keeps it (renewing extends it), and
// anyone may take a lease whose time has run out. SQL implementation: sql-job-lease-store.ts.

export interface JobLease {
  readonly name: string;
  readonly holder: string;
  readonly expiresAt: number;
}

export interface JobLeaseStore {
  /** True when `holder` now holds `name` until now + ttlMs: it was free, expired, or already its own. */
  acquire(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up (only when `holder` holds it), so another replica may run the job at once. */
  release(name: string, holder: string): Promise<void>;
  /** The current lease on `name`, expired or not; null when none was ever taken or it was released. */
  current(name: string): Promise<JobLease | null>;
}
