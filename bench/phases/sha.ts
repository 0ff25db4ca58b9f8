// The sha phase: single-core sha256, the ceiling for a push the registry verifies.
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { formatBytes, MiB, mibPerSecond } from '../lib/stats.ts';
import type { Settings } from '../settings.ts';
import { rows, raw, log } from '../lib/measure.ts';

function shaCeiling(settings: Settings): { node: number; openssl: number | null } {
  const block = randomBytes(MiB);
  const runs: number[] = [];
  for (let run = 0; run < 3; run++) {
    const hash = createHash('sha256');
    const started = performance.now();
    for (let offset = 0; offset < settings.shaBytes; offset += MiB) hash.update(block);
    hash.digest();
    runs.push(mibPerSecond(settings.shaBytes, (performance.now() - started) / 1000));
  }
  // The best run: a ceiling is what the core can do when nothing else disturbs it.
  const node = Math.max(...runs);
  log(`sha256 Node crypto: ${node.toFixed(0)} MiB/s (best of runs ${runs.map((value) => value.toFixed(0)).join(', ')})`);
  let openssl: number | null = null;
  const seconds = settings.opensslSeconds;
  const result = spawnSync('openssl', ['speed', '-evp', 'sha256', '-bytes', '16384', '-seconds', String(seconds)], { encoding: 'utf8', timeout: 30_000 });
  const match = /^sha256\s+([\d.]+)k/m.exec(result.stdout ?? '');
  if (match) {
    openssl = (Number(match[1]) * 1000) / MiB;
    log(`sha256 openssl speed: ${openssl.toFixed(0)} MiB/s`);
  } else {
    log('openssl speed unavailable');
  }
  raw.sha256 = { nodeRuns: runs, node, openssl };
  return { node, openssl };
}

/** Measures the ceiling and adds its rows; Node's MiB/s is what the big phase's pushes are shown against. */
export function shaPhase(settings: Settings): number {
  const sha = shaCeiling(settings);
  const section = 'sha256 single core (the ceiling for a verified push)';
  rows.push({ section, metric: `Node crypto, ${formatBytes(settings.shaBytes)} in 1 MiB updates, best of 3`, unit: 'MiB/s', distribution: [], custody: [sha.node], higherIsBetter: null });
  if (sha.openssl !== null) rows.push({ section, metric: 'openssl speed -evp sha256 -bytes 16384', unit: 'MiB/s', distribution: [], custody: [sha.openssl], higherIsBetter: null });
  return sha.node;
}
