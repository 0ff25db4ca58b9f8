// The fanout phase: many concurrent pulls of one blob.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { newAgent, sha256Digest } from '../lib/oci-client.ts';
import { syncDisks } from '../lib/processes.ts';
import { formatBytes, mibPerSecond } from '../lib/stats.ts';
import type { Settings } from '../settings.ts';
import { type Target, rows, alternate, perRound, cpuPerGiBRow } from '../lib/measure.ts';

export async function fanoutPhase(settings: Settings, targets: readonly Target[]): Promise<void> {
  const section = `${settings.fanoutConcurrency} concurrent pulls of one ${formatBytes(settings.fanoutBlob)} blob`;
  const repository = 'bench/fanout';
  const data = randomBytes(settings.fanoutBlob);
  const digest = sha256Digest(data);
  for (const { client } of targets) await client.pushBlob(repository, data, digest);
  syncDisks();
  const results = await alternate(
    'fanout',
    settings.rounds,
    targets,
    async ({ client }) => {
      const agent = newAgent(settings.fanoutConcurrency);
      try {
        const started = performance.now();
        const sizes = await Promise.all(Array.from({ length: settings.fanoutConcurrency }, () => client.pullBlob(repository, digest, { agent })));
        const seconds = (performance.now() - started) / 1000;
        for (const size of sizes) if (size !== data.length) throw new Error(`pulled ${size} bytes, expected ${data.length}`);
        return { seconds, rate: mibPerSecond(data.length * settings.fanoutConcurrency, seconds) };
      } finally {
        agent.destroy();
      }
    },
    (value) => `${value.rate.toFixed(0)} MiB/s aggregate, ${value.seconds.toFixed(2)} s wall`,
  );
  const rate = perRound(results, (value) => value.rate);
  const wall = perRound(results, (value) => value.seconds);
  rows.push({ section, metric: 'aggregate throughput', unit: 'MiB/s', distribution: [rate.distribution], custody: [rate.custody], higherIsBetter: true });
  rows.push({ section, metric: 'wall time', unit: 's', distribution: [wall.distribution], custody: [wall.custody], higherIsBetter: false });
  cpuPerGiBRow(section, 'pulls', results, data.length * settings.fanoutConcurrency);
}
