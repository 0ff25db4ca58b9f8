// The rss phase: a fresh Custody's peak memory while a large blob streams through it.
import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { OciClient } from '../lib/oci-client.ts';
import { readMemory, removeTempDir, startCustody, syncDisks } from '../lib/processes.ts';
import { formatBytes, MiB, mibPerSecond } from '../lib/stats.ts';
import type { Settings } from '../settings.ts';
import { rows, raw, log, problem } from '../lib/measure.ts';
import { generatedChunks } from '../lib/base-image.ts';

export async function rssPhase(settings: Settings, parent: string, custodyDir: string): Promise<void> {
  const section = `Custody only: ${formatBytes(settings.rssBlob)} blob streamed through`;
  const repository = 'bench/huge';
  const block = randomBytes(MiB);
  const salt = 0x5eed;
  log(`hashing ${formatBytes(settings.rssBlob)} of generated content (client side, not timed)`);
  const hash = createHash('sha256');
  for (const chunk of generatedChunks(settings.rssBlob, block, salt, true)) hash.update(chunk);
  const digest = `sha256:${hash.digest('hex')}`;
  const server = await startCustody(parent, 'custody-rss', custodyDir);
  const client = new OciClient(server.url, 4);
  try {
    const baseline = readMemory(server.pid);
    syncDisks();
    let started = performance.now();
    await client.pushBlobStream(repository, generatedChunks(settings.rssBlob, block, salt, false), settings.rssBlob, digest);
    const pushSeconds = (performance.now() - started) / 1000;
    const afterPush = server.memory.peak();
    log(`pushed ${formatBytes(settings.rssBlob)} to a fresh Custody in ${pushSeconds.toFixed(1)} s; VmHWM ${(afterPush / MiB).toFixed(0)} MiB`);
    const verify = createHash('sha256');
    started = performance.now();
    const bytes = await client.pullBlob(repository, digest, { onData: (chunk) => verify.update(chunk) });
    const pullSeconds = (performance.now() - started) / 1000;
    if (bytes !== settings.rssBlob) problem(`Custody served ${bytes} bytes of the ${formatBytes(settings.rssBlob)} blob`);
    if (`sha256:${verify.digest('hex')}` !== digest) problem(`Custody served different content for the ${formatBytes(settings.rssBlob)} blob`);
    const peak = server.memory.peak();
    log(`pulled it back in ${pullSeconds.toFixed(1)} s (digest checked); VmHWM ${(peak / MiB).toFixed(0)} MiB`);
    const pass = peak < settings.rssTargetBytes;
    rows.push({ section, metric: 'RSS at start', unit: 'MiB', distribution: [], custody: [(baseline?.rss ?? Number.NaN) / MiB], higherIsBetter: null });
    rows.push({
      section,
      metric: 'peak RSS (VmHWM) during push + pull',
      unit: 'MiB',
      distribution: [],
      custody: [peak / MiB],
      higherIsBetter: null,
      note: `target < ${settings.rssTargetBytes / MiB} MiB: ${pass ? 'PASS' : 'FAIL'}`,
    });
    rows.push({ section, metric: 'push (monolithic, streamed from a generator)', unit: 'MiB/s', distribution: [], custody: [mibPerSecond(settings.rssBlob, pushSeconds)], higherIsBetter: null });
    rows.push({ section, metric: 'pull (client verifies the digest)', unit: 'MiB/s', distribution: [], custody: [mibPerSecond(settings.rssBlob, pullSeconds)], higherIsBetter: null });
    raw.rss = { baselineRss: baseline?.rss, peakAfterPush: afterPush, peak, pushSeconds, pullSeconds, pass };
    if (!pass) problem(`Custody peaked at ${(peak / MiB).toFixed(0)} MiB RSS streaming ${formatBytes(settings.rssBlob)}, over the ${settings.rssTargetBytes / MiB} MiB target`);
  } finally {
    client.close();
    server.memory.stop();
    await server.stop();
    removeTempDir(server.dataDir);
  }
}
