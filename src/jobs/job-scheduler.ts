// One scheduler for every periodic task (GC, upload expiry, log purges, re-grades, and
// retention, tag expiry, mirror syncs, webhook retries, feed updates). Features register
// jobs; the composition root owns the one scheduler and starts and stops it.
export interface JobContext {
  /** Aborted when the scheduler stops: long jobs check it between steps. */
  readonly signal: AbortSignal;
}

export interface JobDefinition {
  /** Unique, stable name: also the lease key, so one replica runs it at a time. */
  readonly name: string;
  /** Milliseconds between the end of one run and the start of the next. */
  readonly intervalMs: number;
  /** Delay before the first run (defaults to `intervalMs`). */
  readonly initialDelayMs?: number;
  /** False for jobs every replica runs for itself (local caches); true (default) for shared work. */
  readonly exclusive?: boolean;
  run(context: JobContext): Promise<void>;
}

export interface JobScheduler {
  register(job: JobDefinition): void;
  /** Runs a registered job now (tests, manual triggers); resolves when it finished. */
  runNow(name: string): Promise<void>;
  start(): void;
  stop(): Promise<void>;
}
