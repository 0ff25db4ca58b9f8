// The scheduler on timers in this process. A job never overlaps itself: the next run is
// planned when the previous one ends. Exclusive jobs take a lease first when a lease store
// is given, so that across replicas one runs each job at a time.
import type { JobDefinition, JobScheduler } from './job-scheduler.ts';

/** Leases keep one replica per exclusive job; without one, every process runs every job. */
export interface JobLeases {
  /** True when this holder got (or renewed) the lease on `name` for `ttlMs`. */
  acquire(name: string, holder: string, ttlMs: number): Promise<boolean>;
  release(name: string, holder: string): Promise<void>;
}

export interface TimerSchedulerOptions {
  readonly leases?: JobLeases | undefined;
  readonly holder?: string;
  readonly onError?: (job: string, error: unknown) => void;
}

interface Scheduled {
  readonly job: JobDefinition;
  timer?: NodeJS.Timeout | undefined;
  running?: Promise<void> | undefined;
}

export class TimerScheduler implements JobScheduler {
  private readonly jobs = new Map<string, Scheduled>();
  private readonly abort = new AbortController();
  private started = false;
  private readonly leases: JobLeases | undefined;
  private readonly holder: string;
  private readonly onError: (job: string, error: unknown) => void;
  /** Jobs whose lease this process took: given back at stop, so another replica takes over at once. */
  private readonly held = new Set<string>();

  constructor(options: TimerSchedulerOptions = {}) {
    this.leases = options.leases;
    this.holder = options.holder ?? `${process.pid}-${Math.random().toString(36).slice(2)}`;
    this.onError = options.onError ?? (() => {});
  }

  register(job: JobDefinition): void {
    if (this.jobs.has(job.name)) throw new Error(`job ${job.name} is already registered`);
    const scheduled: Scheduled = { job };
    this.jobs.set(job.name, scheduled);
    if (this.started) this.plan(scheduled, job.initialDelayMs ?? job.intervalMs);
  }

  async runNow(name: string): Promise<void> {
    const scheduled = this.jobs.get(name);
    if (!scheduled) throw new Error(`no job named ${name}`);
    await this.runOnce(scheduled);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const scheduled of this.jobs.values()) this.plan(scheduled, scheduled.job.initialDelayMs ?? scheduled.job.intervalMs);
  }

  async stop(): Promise<void> {
    this.started = false;
    this.abort.abort();
    for (const scheduled of this.jobs.values()) clearTimeout(scheduled.timer);
    await Promise.all([...this.jobs.values()].map((scheduled) => scheduled.running));
    const leases = this.leases;
    if (leases) await Promise.all([...this.held].map((name) => leases.release(name, this.holder).catch((error: unknown) => this.onError(name, error))));
    this.held.clear();
  }

  private plan(scheduled: Scheduled, delay: number): void {
    if (!this.started) return;
    scheduled.timer = setTimeout(() => {
      void this.runOnce(scheduled).finally(() => this.plan(scheduled, scheduled.job.intervalMs));
    }, Math.max(0, delay));
    scheduled.timer.unref();
  }

  private async runOnce(scheduled: Scheduled): Promise<void> {
    if (scheduled.running) return scheduled.running;
    scheduled.running = this.execute(scheduled.job).finally(() => (scheduled.running = undefined));
    return scheduled.running;
  }

  private async execute(job: JobDefinition): Promise<void> {
    const leased = job.exclusive !== false && this.leases !== undefined;
    try {
      // The lease outlives a run comfortably; a crashed holder's lease lapses after it.
      if (leased) {
        if (!(await this.leases!.acquire(job.name, this.holder, Math.max(job.intervalMs * 2, 60_000)))) return;
        this.held.add(job.name);
      }
      await job.run({ signal: this.abort.signal });
    } catch (error) {
      this.onError(job.name, error);
    }
  }
}
