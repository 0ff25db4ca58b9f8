// The big phase: one large blob pushed monolithically and chunked, then pulled.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { sha256Digest } from '../lib/oci-client.ts';
import { syncDisks } from '../lib/processes.ts';
import { formatBytes, mibPerSecond } from '../lib/stats.ts';
import type { Settings } from '../settings.ts';
import { type Kind, type Target, rows, raw, log, Meter, type Measured, describeCpu, alternate, perRound, cpuPerGiBRow } from '../lib/measure.ts';

export async function bigBlobPhase(settings: Settings, targets: readonly Target[], ceiling: number | null): Promise<void> {
  const section = `${formatBytes(settings.bigBlob)} blob`;
  const repository = 'bench/big';
  log(`generating ${formatBytes(settings.bigBlob)} of random content`);
  const data = randomBytes(settings.bigBlob);
  const push: Record<'monolithic' | 'chunked', Record<Kind, Measured<number>[]>> = {
    monolithic: { distribution: [], custody: [] },
    chunked: { distribution: [], custody: [] },
  };
  let lastDigest = '';
  for (let round = 0; round < settings.rounds; round++) {
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const mode of ['monolithic', 'chunked'] as const) {
      // A new digest every round and mode: nothing can be deduplicated.
      data.writeUInt32LE(round, 0);
      data.write(mode === 'monolithic' ? 'MONO' : 'CHNK', 4, 'latin1');
      const digest = sha256Digest(data);
      lastDigest = digest;
      for (const { server, client } of order) {
        syncDisks();
        const meter = new Meter(targets);
        if (mode === 'monolithic') await client.pushBlob(repository, data, digest);
        else await client.pushBlobChunked(repository, data, digest, settings.chunk);
        const cpu = meter.stop();
        const rate = mibPerSecond(data.length, cpu.wallSeconds);
        push[mode][server.kind].push({ value: rate, cpu });
        log(`push ${mode} round ${round + 1}/${settings.rounds} ${server.label}: ${rate.toFixed(0)} MiB/s (${cpu.wallSeconds.toFixed(2)} s); ${describeCpu(cpu, server.kind)}`);
      }
    }
  }
  raw.bigPush = push;
  syncDisks();
  const pulls = await alternate(
    'big pull',
    settings.rounds,
    targets,
    async ({ client }) => {
      const started = performance.now();
      const bytes = await client.pullBlob(repository, lastDigest);
      const seconds = (performance.now() - started) / 1000;
      if (bytes !== data.length) throw new Error(`pulled ${bytes} bytes, expected ${data.length}`);
      return mibPerSecond(bytes, seconds);
    },
    (rate) => `${rate.toFixed(0)} MiB/s`,
  );
  const mono = perRound(push.monolithic, (rate) => rate);
  const chunked = perRound(push.chunked, (rate) => rate);
  rows.push({ section, metric: 'push monolithic (POST + PUT with body)', unit: 'MiB/s', distribution: [mono.distribution], custody: [mono.custody], higherIsBetter: true });
  cpuPerGiBRow(section, 'push monolithic', push.monolithic, data.length);
  rows.push({ section, metric: `push chunked (${formatBytes(settings.chunk)} PATCHes + PUT)`, unit: 'MiB/s', distribution: [chunked.distribution], custody: [chunked.custody], higherIsBetter: true });
  cpuPerGiBRow(section, 'push chunked', push.chunked, data.length);
  if (ceiling !== null) {
    rows.push({
      section,
      metric: 'push monolithic as share of the sha256 ceiling',
      unit: '%',
      distribution: [(100 * mono.distribution) / ceiling],
      custody: [(100 * mono.custody) / ceiling],
      higherIsBetter: true,
    });
    rows.push({
      section,
      metric: 'push chunked as share of the sha256 ceiling',
      unit: '%',
      distribution: [(100 * chunked.distribution) / ceiling],
      custody: [(100 * chunked.custody) / ceiling],
      higherIsBetter: true,
    });
  }
  const pull = perRound(pulls, (rate) => rate);
  rows.push({ section, metric: 'pull (GET, body discarded)', unit: 'MiB/s', distribution: [pull.distribution], custody: [pull.custody], higherIsBetter: true });
  cpuPerGiBRow(section, 'pull', pulls, data.length);
}
