// A closed-loop load generator: `concurrency` workers each run one operation at a time,
// back to back, for a fixed number of operations or a fixed duration. Every operation's
// latency goes into a histogram; the rate is completed operations over wall time.
import { performance } from 'node:perf_hooks';
import { Histogram, type LatencySummary } from './stats.ts';

export interface LoadOptions {
  readonly concurrency: number;
  /** Stop after this many operations in total (exclusive with durationMs). */
  readonly count?: number;
  /** Stop starting new operations after this long. */
  readonly durationMs?: number;
  /** Untimed warm-up before measuring (same workers, results discarded). */
  readonly warmupMs?: number;
  /** At least this many measured operations, even if durationMs has passed. */
  readonly minCount?: number;
  /** Called when measuring starts (after the warm-up). */
  readonly onStart?: () => void;
  /** The operation; `index` counts up from 0 over the measured operations. */
  readonly op: (index: number) => Promise<void>;
}

export interface LoadResult extends LatencySummary {
  readonly ops: number;
  readonly seconds: number;
  /** Operations per second. */
  readonly rate: number;
  readonly histogram: Histogram;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  if (options.count === undefined && options.durationMs === undefined) throw new Error('runLoad needs count or durationMs');
  if (options.warmupMs && options.warmupMs > 0) {
    // Warm-up uses negative indexes so callers can tell them apart if they care.
    let warmIndex = -1;
    const until = performance.now() + options.warmupMs;
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (performance.now() < until) await options.op(warmIndex--);
      }),
    );
  }
  options.onStart?.();
  const histogram = new Histogram();
  let next = 0;
  let completed = 0;
  const started = performance.now();
  const deadline = options.durationMs === undefined ? Number.POSITIVE_INFINITY : started + options.durationMs;
  const minCount = options.minCount ?? 0;
  const more = (): boolean => {
    if (options.count !== undefined) return next < options.count;
    return performance.now() < deadline || next < minCount;
  };
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (more()) {
        const index = next++;
        const begin = performance.now();
        await options.op(index);
        histogram.record(performance.now() - begin);
        completed++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { ops: completed, seconds, rate: completed / seconds, histogram, ...histogram.summary() };
}
