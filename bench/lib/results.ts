// The end of a run: the environment it ran in, the table on stdout with its heading (and
// the problems), and bench/results/latest.md and latest.json.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { distributionVersion, REPO_ROOT } from './processes.ts';
import { renderMarkdown, renderText, ratios, verdict } from './report.ts';
import { GiB, median } from './stats.ts';
import { backgroundSamples, log, problems, raw, rows, runStarted, stealSamples } from './measure.ts';
import type { Args } from '../settings.ts';

export function environment(args: Args): Record<string, unknown> {
  const cpuList = cpus();
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: args.custodyDir, encoding: 'utf8' });
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src', 'bin'], { cwd: args.custodyDir, encoding: 'utf8' });
  const revision = git.status === 0 ? ` (${git.stdout.trim()}${dirty.status === 0 && dirty.stdout.trim() !== '' ? ' + uncommitted changes in src/bin' : ''})` : '';
  const pkg = JSON.parse(readFileSync(join(args.custodyDir, 'package.json'), 'utf8')) as { version: string };
  return {
    date: new Date().toISOString(),
    cpu: cpuList[0]?.model ?? 'unknown',
    cores: cpuList.length,
    memoryGiB: Math.round((totalmem() / GiB) * 10) / 10,
    kernel: release(),
    node: process.version,
    distribution: distributionVersion(),
    custody: `${pkg.version}${revision}`,
    mode: args.quick ? 'quick' : 'default',
    rounds: args.settings.rounds,
    distributionCache: args.distributionCache,
    custodyDir: args.custodyDir,
  };
}

/** Prints the table with its heading and the problems; writes latest.md and latest.json unless --no-write. */
export function report(args: Args, env: Record<string, unknown>): void {
  const elapsed = (performance.now() - runStarted) / 1000;
  env.durationSeconds = Math.round(elapsed);
  const mean = (values: readonly number[]): number => (values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length);
  const background = {
    meanCores: mean(backgroundSamples),
    maxCores: backgroundSamples.length === 0 ? 0 : Math.max(...backgroundSamples),
    medianCores: median(backgroundSamples),
    stealMeanCores: mean(stealSamples),
  };
  env.otherLoad = background;
  const loadLine = `other load on the machine during measurements (CPU not used by the client or the registries): mean ${background.meanCores.toFixed(2)} cores, median ${(Number.isFinite(background.medianCores) ? background.medianCores : 0).toFixed(2)}, max ${background.maxCores.toFixed(2)}; hypervisor steal mean ${background.stealMeanCores.toFixed(2)} cores`;
  const noisy = background.meanCores > 0.2 || background.stealMeanCores > 0.1;
  const noiseWarning = noisy ? 'WARNING: the machine was busy with other work during this run; expect noise, compare CPU-per-op rows rather than rates.' : '';
  const text = renderText(rows);
  const heading = [
    `Custody vs CNCF Distribution — ${env.date}`,
    `machine: ${env.cpu}, ${env.cores} cores, ${env.memoryGiB} GiB RAM, Linux ${env.kernel}`,
    `Node ${env.node}; ${env.distribution}; Custody ${env.custody}${args.custodyDir === REPO_ROOT ? '' : ` from ${args.custodyDir}`}`,
    `mode: ${env.mode}, ${args.settings.rounds} round(s) per measurement (median reported), order alternating per round; run took ${env.durationSeconds} s`,
    loadLine,
    ...(noiseWarning ? [noiseWarning] : []),
  ];
  const ratioNote = 'ratio = Custody/Distribution; for rates > 1 means Custody is faster, for latencies, times and memory < 1 means Custody is better; "≈" is within ±5%.';
  process.stdout.write(`\n${heading.join('\n')}\n${ratioNote}\n\n${text}\n`);
  if (problems.length > 0) process.stdout.write(`\nPROBLEMS:\n${problems.map((entry) => `- ${entry.split('\n')[0]}`).join('\n')}\n`);

  if (args.output) {
    const directory = join(REPO_ROOT, 'bench', 'results');
    mkdirSync(directory, { recursive: true });
    const markdown = [
      '# Custody vs CNCF Distribution',
      '',
      `- date: ${env.date}`,
      `- machine: ${env.cpu}, ${env.cores} cores, ${env.memoryGiB} GiB RAM, Linux ${env.kernel}`,
      `- Node ${env.node}; ${env.distribution}; Custody ${env.custody}`,
      `- mode: ${env.mode}, ${args.settings.rounds} round(s) per measurement, median reported, order alternating per round; run took ${env.durationSeconds} s`,
      `- ${loadLine}`,
      ...(noiseWarning ? [`- **${noiseWarning}**`] : []),
      `- ${ratioNote}`,
      '',
      renderMarkdown(rows),
      '',
      ...(problems.length > 0 ? ['## Problems', '', ...problems.map((entry) => `- ${entry.split('\n')[0]}`), ''] : []),
    ].join('\n');
    writeFileSync(join(directory, 'latest.md'), markdown);
    const json = {
      environment: env,
      settings: args.settings,
      rows: rows.map((row) => ({ ...row, ratio: ratios(row), verdict: verdict(row) })),
      problems,
      raw,
    };
    writeFileSync(join(directory, 'latest.json'), `${JSON.stringify(json, jsonReplacer, 2)}\n`);
    log(`wrote bench/results/latest.md and bench/results/latest.json`);
  }
}

/** JSON without histograms' bucket arrays, and NaN as null. */
function jsonReplacer(key: string, value: unknown): unknown {
  if (key === 'histogram') return undefined;
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  return value;
}
