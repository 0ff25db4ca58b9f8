// `npm run bench`: CNCF Distribution (docker-registry) and Custody side by side on
// loopback, each with filesystem storage in a temporary directory, the same workload
// against both, alternating the order round by round; medians of the rounds go into a
// table (stdout, bench/results/latest.md, bench/results/latest.json). See bench/README.md.
//
// This file runs the phases (bench/phases/<phase>.ts) the command line selects: the sha
// ceiling, then the phases that need both registries running, then those that start what
// they measure themselves. lib/measure.ts collects the rows; lib/results.ts reports them.
import { performance } from 'node:perf_hooks';
import { makeBaseImage, pushBaseImage, type BaseImage } from './lib/base-image.ts';
import { log, problem, problems, raw, rows, type Target } from './lib/measure.ts';
import { OciClient } from './lib/oci-client.ts';
import { cleanupSync, installCleanupHandlers, makeTempDir, startCustody, startDistribution, type RegistryProcess } from './lib/processes.ts';
import { environment, report } from './lib/results.ts';
import { MiB } from './lib/stats.ts';
import { parseArgs, type Args, type Phase, type Settings } from './settings.ts';
import { authPhase } from './phases/auth.ts';
import { bigBlobPhase } from './phases/big.ts';
import { catalogPhase } from './phases/catalog.ts';
import { clientPhase } from './phases/client.ts';
import { syncPhase } from './phases/sync.ts';
import { fanoutPhase } from './phases/fanout.ts';
import { indexPhase } from './phases/indexer.ts';
import { manifestPhase } from './phases/manifests.ts';
import { matchPhase } from './phases/match.ts';
import { rssPhase } from './phases/rss.ts';
import { proxyPhase } from './phases/proxy.ts';
import { shaPhase } from './phases/sha.ts';
import { signaturesPhase } from './phases/signatures.ts';
import { smallBlobPhase } from './phases/small.ts';
import { tagsPhase } from './phases/tags.ts';
import { s3Phase } from './phases/s3.ts';
import { webhooksPhase } from './phases/webhooks.ts';
import { uiPhase } from './phases/ui.ts';
import { vulndbPhase } from './phases/vulndb.ts';

/** What the phases against both running registries work with. */
interface ServerPhaseContext {
  readonly settings: Settings;
  readonly targets: readonly Target[];
  readonly custody: RegistryProcess;
  readonly image: BaseImage;
  readonly parent: string;
  readonly custodyDir: string;
  /** Node's sha256 MiB/s when the sha phase ran. */
  readonly ceiling: number | null;
}

/** In this order. Catalog first: it needs exactly repoCount repositories, before other phases add theirs. */
const SERVER_PHASES: readonly (readonly [Phase, (context: ServerPhaseContext) => Promise<void>])[] = [
  ['catalog', (c) => catalogPhase(c.settings, c.targets, c.image)],
  ['tags', (c) => tagsPhase(c.settings, c.targets, c.image)],
  ['manifests', (c) => manifestPhase(c.settings, c.targets, c.image)],
  ['auth', (c) => authPhase(c.settings, c.custody, c.parent, c.custodyDir, c.image)],
  ['small', (c) => smallBlobPhase(c.settings, c.targets)],
  ['big', (c) => bigBlobPhase(c.settings, c.targets, c.ceiling)],
  ['fanout', (c) => fanoutPhase(c.settings, c.targets)],
  ['client', (c) => clientPhase(c.settings, c.custody, c.parent, c.custodyDir)],
  ['sync', (c) => syncPhase(c.settings, c.custody, c.parent, c.custodyDir)],
];

/** Phases that start (or need) no shared registry. */
const OWN_PHASES: readonly (readonly [Phase, (args: Args, parent: string) => Promise<void>])[] = [
  ['rss', (args, parent) => rssPhase(args.settings, parent, args.custodyDir)],
  ['index', (args, parent) => indexPhase(args.settings, parent, args.custodyDir)],
  ['match', (args, parent) => matchPhase(args.quick, args.settings.rounds, parent)],
  ['signatures', (args, parent) => signaturesPhase(args.settings.rounds, parent, args.custodyDir)],
  ['s3', (args, parent) => s3Phase(args.settings, parent)],
  ['webhooks', (args, parent) => webhooksPhase(args.quick, parent)],
  ['ui', (args, parent) => uiPhase(args.settings, parent, args.custodyDir)],
  ['vulndb', (args, parent) => vulndbPhase(args.quick, parent)],
  ['proxy', (args, parent) => proxyPhase(args.settings, parent, args.custodyDir)],
];

interface PhasePeak {
  readonly phase: Phase;
  readonly distribution: number;
  readonly custody: number;
  readonly exact: boolean;
}

/** Starts both registries, runs the selected server phases with each one's peak RSS, then the memory rows. */
async function runServerPhases(args: Args, parent: string, ceiling: number | null): Promise<void> {
  const distribution = await startDistribution(parent, { cache: args.distributionCache });
  const custody = await startCustody(parent, 'custody', args.custodyDir);
  log(`Distribution at ${distribution.url} (pid ${distribution.pid}), Custody at ${custody.url} (pid ${custody.pid})`);
  const targets: Target[] = [
    { server: distribution, client: new OciClient(distribution.url) },
    { server: custody, client: new OciClient(custody.url) },
  ];
  const image = makeBaseImage();
  for (const { client } of targets) await pushBaseImage(client, image);
  const context: ServerPhaseContext = { settings: args.settings, targets, custody, image, parent, custodyDir: args.custodyDir, ceiling };
  const phasePeaks: PhasePeak[] = [];
  for (const [phase, body] of SERVER_PHASES) {
    if (!args.phases.has(phase)) continue;
    const started = performance.now();
    log(`== ${phase}`);
    for (const { server } of targets) server.memory.beginPhase();
    try {
      await body(context);
    } catch (error) {
      problem(`phase ${phase} failed: ${(error as Error).stack ?? String(error)}`);
      for (const { server } of targets) {
        const tail = server.output().trim();
        if (tail) log(`${server.label} output (tail):\n${tail.slice(-2000)}`);
      }
    }
    const distributionPeak = distribution.memory.endPhase();
    const custodyPeak = custody.memory.endPhase();
    phasePeaks.push({ phase, distribution: distributionPeak.peak, custody: custodyPeak.peak, exact: distributionPeak.exact && custodyPeak.exact });
    log(`== ${phase} took ${((performance.now() - started) / 1000).toFixed(1)} s; peak RSS Distribution ${(distributionPeak.peak / MiB).toFixed(0)} MiB, Custody ${(custodyPeak.peak / MiB).toFixed(0)} MiB`);
  }
  memoryRows(distribution, custody, phasePeaks);
  for (const { server, client } of targets) {
    client.close();
    server.memory.stop();
    await server.stop();
  }
}

function memoryRows(distribution: RegistryProcess, custody: RegistryProcess, phasePeaks: readonly PhasePeak[]): void {
  const peaks = { distribution: distribution.memory.peak(), custody: custody.memory.peak() };
  raw.peakRss = { ...peaks, phases: phasePeaks };
  const row = (metric: string, distributionBytes: number, custodyBytes: number): void => {
    rows.push({ section: 'memory', metric, unit: 'MiB', distribution: [distributionBytes / MiB], custody: [custodyBytes / MiB], higherIsBetter: false });
  };
  row('RSS just after startup', distribution.memory.startRss, custody.memory.startRss);
  row('of which anonymous (RssAnon: heaps and buffers, not the executable)', distribution.memory.startRssAnon, custody.memory.startRssAnon);
  for (const entry of phasePeaks) row(`peak RSS during the ${entry.phase} phase${entry.exact ? '' : ' (VmHWM not resettable: cumulative)'}`, entry.distribution, entry.custody);
  row('peak RSS (VmHWM) over the whole run', peaks.distribution, peaks.custody);
}

async function main(): Promise<void> {
  installCleanupHandlers();
  const args = parseArgs(process.argv.slice(2));
  const env = environment(args);
  log(`custody bench (${env.mode}, ${args.settings.rounds} round(s)); phases: ${[...args.phases].join(', ')}`);
  const parent = makeTempDir('custody-bench-');

  const ceiling = args.phases.has('sha') ? shaPhase(args.settings) : null;
  if (SERVER_PHASES.some(([phase]) => args.phases.has(phase))) await runServerPhases(args, parent, ceiling);
  for (const [phase, body] of OWN_PHASES) {
    if (!args.phases.has(phase)) continue;
    log(`== ${phase}`);
    try {
      await body(args, parent);
    } catch (error) {
      problem(`phase ${phase} failed: ${(error as Error).stack ?? String(error)}`);
    }
  }

  report(args, env);
  cleanupSync();
  process.exitCode = problems.length > 0 ? 1 : 0;
}

await main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
  cleanupSync();
  process.exitCode = 1;
});
