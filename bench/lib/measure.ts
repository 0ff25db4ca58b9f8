// Bookkeeping shared by the phases: the table's rows, problems and raw numbers, the
// progress log, and measurements alternating between the two registries with CPU
// accounting (the registries', the client's and everyone else's).
import { performance } from 'node:perf_hooks';
import type { LoadResult } from './load.ts';
import type { OciClient } from './oci-client.ts';
import { processCpuSeconds, systemCpu, type RegistryProcess } from './processes.ts';
import type { Row } from './report.ts';
import { GiB, median } from './stats.ts';

export type Kind = RegistryProcess['kind'];

export interface Target {
  readonly server: RegistryProcess;
  readonly client: OciClient;
}

export const rows: Row[] = [];
export const problems: string[] = [];
export const raw: Record<string, unknown> = {};
export const runStarted = performance.now();

export function log(message: string): void {
  const seconds = ((performance.now() - runStarted) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[${seconds}s] ${message}\n`);
}

export function problem(message: string): void {
  if (problems.includes(message)) return;
  problems.push(message);
  log(`PROBLEM: ${message}`);
}

export interface CpuSample {
  readonly wallSeconds: number;
  /** CPU seconds each registry used during the measurement. */
  readonly servers: Record<Kind, number>;
  /** CPU seconds the benchmark client (this process) used. */
  readonly client: number;
  /** Cores busy with anything else on the machine (other processes), on average. */
  readonly backgroundCores: number;
  /** Cores stolen by the hypervisor, on average. */
  readonly stealCores: number;
}

export const backgroundSamples: number[] = [];
export const stealSamples: number[] = [];

/** CPU accounting around one measurement: the registries', the client's and everyone else's. */
export class Meter {
  private readonly targets: readonly Target[];
  private wall = 0;
  private servers: Record<Kind, number> = { distribution: 0, custody: 0 };
  private client = 0;
  private system = { busy: 0, steal: 0 };

  constructor(targets: readonly Target[]) {
    this.targets = targets;
    this.start();
  }

  start(): void {
    this.wall = performance.now();
    for (const { server } of this.targets) this.servers[server.kind] = processCpuSeconds(server.pid);
    const usage = process.cpuUsage();
    this.client = (usage.user + usage.system) / 1e6;
    this.system = systemCpu();
  }

  stop(): CpuSample {
    const wallSeconds = (performance.now() - this.wall) / 1000;
    const servers: Record<Kind, number> = { distribution: 0, custody: 0 };
    for (const { server } of this.targets) servers[server.kind] = processCpuSeconds(server.pid) - this.servers[server.kind];
    const usage = process.cpuUsage();
    const client = (usage.user + usage.system) / 1e6 - this.client;
    const system = systemCpu();
    const busy = system.busy - this.system.busy;
    const steal = system.steal - this.system.steal;
    const ours = client + servers.distribution + servers.custody;
    const sample = { wallSeconds, servers, client, backgroundCores: Math.max(0, (busy - steal - ours) / wallSeconds), stealCores: steal / wallSeconds };
    backgroundSamples.push(sample.backgroundCores);
    stealSamples.push(sample.stealCores);
    return sample;
  }
}

export interface Measured<T> {
  readonly value: T;
  readonly cpu: CpuSample;
}

export function describeCpu(cpu: CpuSample, kind: Kind): string {
  return `server CPU ${cpu.servers[kind].toFixed(2)} s, client ${cpu.client.toFixed(2)} s, other load ${cpu.backgroundCores.toFixed(2)} cores`;
}

/**
 * Runs `measure` against both registries, `rounds` times, alternating which goes first.
 * `meter.start()` may be called again when the timed part begins (after a warm-up).
 */
export async function alternate<T>(
  label: string,
  rounds: number,
  targets: readonly Target[],
  measure: (target: Target, round: number, meter: Meter) => Promise<T>,
  describe: (value: T) => string,
): Promise<Record<Kind, Measured<T>[]>> {
  const results: Record<Kind, Measured<T>[]> = { distribution: [], custody: [] };
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const target of order) {
      const meter = new Meter(targets);
      const value = await measure(target, round, meter);
      const cpu = meter.stop();
      results[target.server.kind].push({ value, cpu });
      log(`${label} round ${round + 1}/${rounds} ${target.server.label}: ${describe(value)}; ${describeCpu(cpu, target.server.kind)}`);
    }
  }
  raw[label] = results;
  return results;
}

export function perRound<T>(results: Record<Kind, Measured<T>[]>, pick: (value: T, cpu: number) => number): { distribution: number; custody: number } {
  return {
    distribution: median(results.distribution.map((entry) => pick(entry.value, entry.cpu.servers.distribution))),
    custody: median(results.custody.map((entry) => pick(entry.value, entry.cpu.servers.custody))),
  };
}

/** Adds the rate row, the p50/p99 latency row and the server-CPU-per-operation row for a load measurement. */
export function loadRows(section: string, metric: string, unit: string, results: Record<Kind, Measured<LoadResult>[]>, note?: string): void {
  const rate = perRound(results, (result) => result.rate);
  const p50 = perRound(results, (result) => result.p50Ms);
  const p99 = perRound(results, (result) => result.p99Ms);
  const cpu = perRound(results, (result, seconds) => (seconds * 1e6) / result.ops);
  rows.push({ section, metric, unit, distribution: [rate.distribution], custody: [rate.custody], higherIsBetter: true, ...(note ? { note } : {}) });
  rows.push({ section, metric: `${metric} latency`, unit: 'ms p50 / p99', distribution: [p50.distribution, p99.distribution], custody: [p50.custody, p99.custody], higherIsBetter: false });
  rows.push({ section, metric: `${metric} server CPU`, unit: 'CPU µs/op', distribution: [cpu.distribution], custody: [cpu.custody], higherIsBetter: false });
}

/** Server CPU seconds per GiB moved, as a row. */
export function cpuPerGiBRow(section: string, metric: string, results: Record<Kind, Measured<unknown>[]>, bytes: number): void {
  const cpu = perRound(results, (_value, seconds) => seconds / (bytes / GiB));
  rows.push({ section, metric: `${metric} server CPU`, unit: 'CPU s/GiB', distribution: [cpu.distribution], custody: [cpu.custody], higherIsBetter: false });
}

export function describeLoad(result: LoadResult): string {
  return `${result.rate.toFixed(0)}/s over ${result.ops} ops, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms`;
}

export function summarizeLoad(result: LoadResult): Record<string, number> {
  return { ops: result.ops, seconds: result.seconds, rate: result.rate, p50Ms: result.p50Ms, p90Ms: result.p90Ms, p99Ms: result.p99Ms, maxMs: result.maxMs, meanMs: result.meanMs };
}
