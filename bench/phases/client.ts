// The client phase: `custody copy` against `skopeo copy` of the same image, pulled from and
// pushed to the Custody registry (see bench/README.md, "The client phase").
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildClientImage, checkLayout, runTool, skopeoVersion, type ToolRun } from '../lib/client-copy.ts';
import { OciClient } from '../lib/oci-client.ts';
import { processCpuSeconds, syncDisks, systemCpu, type RegistryProcess } from '../lib/processes.ts';
import { formatBytes, median, MiB, mibPerSecond } from '../lib/stats.ts';
import type { Settings } from '../settings.ts';
import { rows, raw, log, problem, backgroundSamples, stealSamples } from '../lib/measure.ts';


const CLIENT_REPO = 'bench/client';
type Tool = 'skopeo' | 'custody';
const TOOLS: readonly Tool[] = ['skopeo', 'custody'];

export async function clientPhase(settings: Settings, server: RegistryProcess, parent: string, custodyDir: string): Promise<void> {
  const skopeo = skopeoVersion();
  if (skopeo === null) {
    problem('phase client: skopeo is not installed (it is the baseline); skipped');
    return;
  }
  const work = join(parent, 'client');
  mkdirSync(work, { recursive: true });
  const registry = new URL(server.url).host;
  const client = new OciClient(server.url, 4);
  try {
    const source = join(work, 'source');
    log(`building a ${formatBytes(settings.clientImage)} 5-layer image; writing it as an OCI layout and pushing it to Custody (not timed)`);
    const image = await buildClientImage(settings.clientImage, source, client, CLIENT_REPO);
    log(`image ${image.manifestDigest}: layers ${image.layers.map((layer) => formatBytes(layer.size)).join(', ')}; ${skopeo}`);
    const section = `client: custody copy vs ${skopeo.replace(/ version /, ' ')}, ${formatBytes(image.totalBytes)} in 5 gzip layers, Custody registry ⇄ oci:`;

    // One run of one tool. skopeo gets a fresh blob-info cache each run (its default, as root,
    // is /var/lib/containers/cache, shared between runs): otherwise it would remember where it
    // saw each blob and mount instead of pushing.
    let runs = 0;
    type MeteredRun = ToolRun & { readonly serverCpu: number; readonly background: number };
    const copy = async (tool: Tool, src: string, dst: string, tls: readonly string[]): Promise<MeteredRun> => {
      const scratch = join(work, `scratch-${runs++}`);
      mkdirSync(scratch, { recursive: true });
      try {
        syncDisks();
        const before = { system: systemCpu(), server: processCpuSeconds(server.pid), bench: process.cpuUsage(), wall: performance.now() };
        const run = await runOne(tool, src, dst, tls, scratch);
        const wall = (performance.now() - before.wall) / 1000;
        const system = systemCpu();
        const usage = process.cpuUsage(before.bench);
        const serverCpu = processCpuSeconds(server.pid) - before.server;
        const ours = serverCpu + (usage.user + usage.system) / 1e6 + (Number.isFinite(run.cpuSeconds) ? run.cpuSeconds : 0);
        const steal = system.steal - before.system.steal;
        const background = Math.max(0, (system.busy - before.system.busy - steal - ours) / wall);
        backgroundSamples.push(background);
        stealSamples.push(steal / wall);
        return { ...run, serverCpu, background };
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    };
    const runOne = async (tool: Tool, src: string, dst: string, tls: readonly string[], scratch: string): Promise<ToolRun> => {
      {
        if (tool === 'custody') return await runTool(process.execPath, [join(custodyDir, 'bin', 'custody.js'), 'copy', src, dst, ...tls, '--quiet'], process.env, scratch);
        // As root, containers/image ignores XDG_DATA_HOME unless it is told it runs rootless.
        const env = { ...process.env, XDG_DATA_HOME: scratch, ...(process.getuid?.() === 0 ? { _CONTAINERS_ROOTLESS_UID: '65534' } : {}) };
        return await runTool('skopeo', ['--insecure-policy', 'copy', '--quiet', ...tls, src, dst], env, scratch);
      }
    };
    const describe = (run: MeteredRun): string =>
      `${run.seconds.toFixed(2)} s (${mibPerSecond(image.totalBytes, run.seconds).toFixed(0)} MiB/s), peak RSS ${(run.peakRss / MiB).toFixed(0)} MiB, client CPU ${run.cpuSeconds.toFixed(2)} s, registry CPU ${run.serverCpu.toFixed(2)} s, other load ${run.background.toFixed(2)} cores`;

    // Start-up alone (`copy --help`: the copy command loaded, nothing copied): the fixed cost
    // in every wall time below, and the RSS a copy starts from. (`custody --version` loads no
    // command, so it would understate both.)
    const startups: Record<Tool, ToolRun[]> = { skopeo: [], custody: [] };
    for (let round = 0; round < Math.max(3, settings.rounds); round++) {
      startups.custody.push(await runTool(process.execPath, [join(custodyDir, 'bin', 'custody.js'), 'copy', '--help'], process.env, work));
      startups.skopeo.push(await runTool('skopeo', ['copy', '--help'], process.env, work));
    }
    const startupRss = median(startups.custody.map((run) => run.peakRss));
    const largestLayer = Math.max(...image.layers.map((layer) => layer.size));

    const pulls: Record<Tool, MeteredRun[]> = { skopeo: [], custody: [] };
    const pushes: Record<Tool, MeteredRun[]> = { skopeo: [], custody: [] };
    for (let round = 0; round < settings.rounds; round++) {
      const order = round % 2 === 0 ? TOOLS : [...TOOLS].reverse();
      for (const tool of order) {
        const destination = join(work, `pull-${tool}-${round}`);
        const run = await copy(tool, `docker://${registry}/${CLIENT_REPO}:latest`, `oci:${destination}:latest`, ['--src-tls-verify=false']);
        const wrong = checkLayout(destination, image);
        if (wrong !== null) problem(`client pull with ${tool}: ${wrong}`);
        rmSync(destination, { recursive: true, force: true });
        pulls[tool].push(run);
        log(`client pull round ${round + 1}/${settings.rounds} ${tool}: ${describe(run)}`);
      }
    }
    for (let round = 0; round < settings.rounds; round++) {
      const order = round % 2 === 0 ? TOOLS : [...TOOLS].reverse();
      for (const tool of order) {
        // A repository of its own per run: the blobs are not in it, so every layer is uploaded.
        const repository = `bench/client-push-${tool}-${round}`;
        const run = await copy(tool, `oci:${source}:latest`, `docker://${registry}/${repository}:latest`, ['--dest-tls-verify=false']);
        const pushed = await client.getManifest(repository, 'latest');
        const digest = `sha256:${createHash('sha256').update(pushed.body).digest('hex')}`;
        if (digest !== image.manifestDigest) problem(`client push with ${tool}: ${repository}:latest is ${digest}, expected ${image.manifestDigest}`);
        pushes[tool].push(run);
        log(`client push round ${round + 1}/${settings.rounds} ${tool}: ${describe(run)}`);
      }
    }
    raw.client = { skopeo, image: { manifestDigest: image.manifestDigest, layers: image.layers }, startups, pulls, pushes };
    const startWall = { skopeo: median(startups.skopeo.map((run) => run.seconds)), custody: median(startups.custody.map((run) => run.seconds)) };
    const baseline = 'skopeo';
    rows.push({ section, metric: 'start-up only (copy --help) wall time', unit: 's', distribution: [startWall.skopeo], custody: [startWall.custody], higherIsBetter: false, baseline });
    rows.push({ section, metric: 'start-up only (copy --help) peak RSS', unit: 'MiB', distribution: [median(startups.skopeo.map((run) => run.peakRss / MiB))], custody: [startupRss / MiB], higherIsBetter: false, baseline });

    const med = (runs: Record<Tool, MeteredRun[]>, pick: (run: MeteredRun) => number): Record<Tool, number> => ({
      skopeo: median(runs.skopeo.map(pick)),
      custody: median(runs.custody.map(pick)),
    });
    for (const [name, runs] of [
      ['pull: registry → oci:', pulls],
      ['push: oci: → registry (new repository)', pushes],
    ] as const) {
      const wall = med(runs, (run) => run.seconds);
      const rss = med(runs, (run) => run.peakRss / MiB);
      const cpu = med(runs, (run) => run.cpuSeconds);
      const ratio = wall.custody / wall.skopeo;
      // Bounded: what a copy adds to custody's start-up RSS stays under the largest layer (a
      // buffered layer would add at least all of it). Judged only when the largest layer is
      // big enough (64 MiB+) to stand out from the runtime's own growth (V8 heap, buffers:
      // about 70-85 MiB whatever the layer size; see README).
      const maxRss = Math.max(...runs.custody.map((run) => run.peakRss));
      const growth = maxRss - startupRss;
      const judged = largestLayer >= 64 * MiB;
      const rssPass = growth < largestLayer;
      rows.push({ section, metric: `${name} wall time`, unit: 's', distribution: [wall.skopeo], custody: [wall.custody], higherIsBetter: false, baseline, note: `target ratio ≤ 1.0: ${ratio <= 1 ? 'PASS' : 'FAIL'}` });
      rows.push({
        section,
        metric: `${name} throughput`,
        unit: 'MiB/s',
        distribution: [mibPerSecond(image.totalBytes, wall.skopeo)],
        custody: [mibPerSecond(image.totalBytes, wall.custody)],
        higherIsBetter: true,
        baseline,
      });
      rows.push({
        section,
        metric: `${name} peak RSS`,
        unit: 'MiB',
        distribution: [rss.skopeo],
        custody: [rss.custody],
        higherIsBetter: false,
        baseline,
        note: `custody start-up + ${(growth / MiB).toFixed(0)} MiB; target < start-up + largest layer (${(largestLayer / MiB).toFixed(0)} MiB): ${judged ? (rssPass ? 'PASS' : 'FAIL') : 'not judged (layers < 64 MiB)'}`,
      });
      rows.push({ section, metric: `${name} client CPU (user + sys)`, unit: 's', distribution: [cpu.skopeo], custody: [cpu.custody], higherIsBetter: false, baseline });
      const serverCpu = med(runs, (run) => run.serverCpu);
      rows.push({ section, metric: `${name} registry (Custody server) CPU`, unit: 's', distribution: [serverCpu.skopeo], custody: [serverCpu.custody], higherIsBetter: false, baseline });
      if (judged && !rssPass) problem(`custody copy (${name}) peaked at ${(maxRss / MiB).toFixed(0)} MiB RSS, ${(growth / MiB).toFixed(0)} MiB over its start-up: a layer may be buffered`);
    }
  } finally {
    client.close();
    rmSync(work, { recursive: true, force: true });
  }
}
