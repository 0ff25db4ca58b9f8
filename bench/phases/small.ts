// The small phase: pushes and pulls of many small blobs at concurrency 16.
import { randomBytes } from 'node:crypto';
import { runLoad } from '../lib/load.ts';
import { sha256Digest } from '../lib/oci-client.ts';
import { syncDisks } from '../lib/processes.ts';
import { formatBytes } from '../lib/stats.ts';
import type { Settings } from '../settings.ts';
import { type Target, problem, alternate, loadRows, describeLoad } from '../lib/measure.ts';

export async function smallBlobPhase(settings: Settings, targets: readonly Target[]): Promise<void> {
  const section = `${formatBytes(settings.smallBlob)} blobs, concurrency ${settings.smallConcurrency}`;
  const repository = 'bench/small';
  const pools: Array<Array<{ data: Buffer; digest: string }>> = [];
  for (let round = 0; round < settings.rounds; round++) {
    pools.push(
      Array.from({ length: settings.smallPushCount }, () => {
        const data = randomBytes(settings.smallBlob);
        return { data, digest: sha256Digest(data) };
      }),
    );
  }
  const pushes = await alternate(
    'small push',
    settings.rounds,
    targets,
    async ({ client }, round, meter) => {
      const pool = pools[round]!;
      syncDisks();
      const result = await runLoad({ onStart: () => meter.start(), concurrency: settings.smallConcurrency, count: pool.length, op: async (index) => client.pushBlob(repository, pool[index]!.data, pool[index]!.digest) });
      return result;
    },
    describeLoad,
  );
  loadRows(section, `push (POST + PUT, distinct blobs) c=${settings.smallConcurrency}`, 'blobs/s', pushes);
  const pool = pools[0]!;
  for (const { server, client } of targets) {
    const body = await client.getBlob(repository, pool[0]!.digest);
    if (!body.equals(pool[0]!.data)) problem(`${server.label} returned different content for a small blob`);
  }
  const pulls = await alternate(
    'small pull',
    settings.rounds,
    targets,
    async ({ client }, _round, meter) =>
      runLoad({
        onStart: () => meter.start(),
        concurrency: settings.smallConcurrency,
        durationMs: settings.smallPullMs,
        warmupMs: settings.warmupMs,
        op: async (index) => {
          const entry = pool[((index % pool.length) + pool.length) % pool.length]!;
          const bytes = await client.pullBlob(repository, entry.digest);
          if (bytes !== settings.smallBlob) throw new Error(`pulled ${bytes} bytes, expected ${settings.smallBlob}`);
        },
      }),
    describeLoad,
  );
  loadRows(section, `pull (GET, distinct blobs) c=${settings.smallConcurrency}`, 'blobs/s', pulls);
}
