// The catalog phase: creating repositories, then listing them all with GET /v2/_catalog.
import { runLoad, type LoadResult } from '../lib/load.ts';
import type { Settings } from '../settings.ts';
import { type Kind, type Target, rows, raw, log, loadRows, describeLoad, summarizeLoad } from '../lib/measure.ts';
import { type BaseImage, mountBase } from '../lib/base-image.ts';
import { measureListing } from '../lib/listing.ts';

export async function catalogPhase(settings: Settings, targets: readonly Target[], image: BaseImage): Promise<void> {
  const section = `catalog: ${settings.repoCount} repositories`;
  const extra = settings.repoCount - 1; // bench/base is one of them
  const setup: Partial<Record<Kind, LoadResult>> = {};
  for (const { server, client } of targets) {
    log(`catalog setup on ${server.label}: ${extra} repositories (2 mounts + manifest PUT each, concurrency 16)`);
    setup[server.kind] = await runLoad({
      concurrency: 16,
      count: extra,
      op: async (index) => {
        const repository = `catalog/repo-${String(index).padStart(5, '0')}`;
        await mountBase(client, repository, image);
        await client.putManifest(repository, 'latest', image.manifest);
      },
    });
    log(`  ${describeLoad(setup[server.kind]!)}`);
  }
  raw.catalogSetup = { distribution: summarizeLoad(setup.distribution!), custody: summarizeLoad(setup.custody!) };
  const results = await measureListing(settings, targets, 'catalog', settings.repoCount, 'repositories', async (client) => {
    const { repositories, requests } = await client.catalog(1000);
    return { count: repositories.length, requests };
  });
  loadRows(section, 'GET /v2/_catalog?n=1000 (all pages), c=1', 'req/s', results);
  rows.push({
    section,
    metric: 'setup: create repository (2 mounts + manifest PUT), c=16, single run',
    unit: 'repos/s',
    distribution: [setup.distribution!.rate],
    custody: [setup.custody!.rate],
    higherIsBetter: true,
  });
}
