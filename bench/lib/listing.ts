// A listing (catalog or tags/list) checked for completeness, then measured at concurrency 1.
import { runLoad, type LoadResult } from './load.ts';
import type { OciClient } from './oci-client.ts';
import type { Settings } from '../settings.ts';
import { type Kind, type Target, raw, log, problem, type Measured, alternate, describeLoad } from './measure.ts';

/**
 * Lists once per server (checking every entry comes back, however many pages it takes),
 * then measures the listing at concurrency 1, alternating servers.
 */
export async function measureListing(
  settings: Settings,
  targets: readonly Target[],
  phase: 'catalog' | 'tags',
  expected: number,
  what: string,
  list: (client: OciClient) => Promise<{ count: number; requests: number }>,
): Promise<Record<Kind, Measured<LoadResult>[]>> {
  const endpoint = phase === 'catalog' ? 'catalog' : 'tags/list';
  const check = (label: string, count: number): void => {
    if (count !== expected) problem(`${label} ${endpoint} returned ${count} ${what}, expected ${expected}`);
  };
  for (const { server, client } of targets) {
    const { count, requests } = await list(client);
    log(`${endpoint} on ${server.label}: ${count} ${what} in ${requests} request(s)`);
    check(server.label, count);
    raw[`${phase === 'catalog' ? 'catalog' : 'tag'}Requests.${server.kind}`] = requests;
  }
  return alternate(
    phase,
    settings.rounds,
    targets,
    async ({ server, client }, _round, meter) =>
      runLoad({
        onStart: () => meter.start(),
        concurrency: 1,
        durationMs: settings.listMs,
        minCount: settings.listMinRequests,
        warmupMs: settings.warmupMs,
        op: async () => check(server.label, (await list(client)).count),
      }),
    describeLoad,
  );
}
