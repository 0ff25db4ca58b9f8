// The tags phase: one manifest under thousands of tags, then listing them all.
import { runLoad, type LoadResult } from '../lib/load.ts';
import type { Settings } from '../settings.ts';
import { type Kind, type Target, rows, raw, log, loadRows, describeLoad, summarizeLoad } from '../lib/measure.ts';
import { type BaseImage, mountBase } from '../lib/base-image.ts';
import { measureListing } from '../lib/listing.ts';

export async function tagsPhase(settings: Settings, targets: readonly Target[], image: BaseImage): Promise<void> {
  const section = `tags: ${settings.tagCount} tags in one repository`;
  const repository = 'bench/tags';
  const setup: Partial<Record<Kind, LoadResult>> = {};
  for (const { server, client } of targets) {
    await mountBase(client, repository, image);
    log(`tags setup on ${server.label}: PUT the manifest under ${settings.tagCount} tags (concurrency 16)`);
    setup[server.kind] = await runLoad({
      concurrency: 16,
      count: settings.tagCount,
      op: async (index) => {
        await client.putManifest(repository, `t${String(index).padStart(5, '0')}`, image.manifest);
      },
    });
    log(`  ${describeLoad(setup[server.kind]!)}`);
  }
  raw.tagSetup = { distribution: summarizeLoad(setup.distribution!), custody: summarizeLoad(setup.custody!) };
  const results = await measureListing(settings, targets, 'tags', settings.tagCount, 'tags', async (client) => {
    const { tags, requests } = await client.listTags(repository);
    return { count: tags.length, requests };
  });
  loadRows(section, 'GET tags/list (all pages), c=1', 'req/s', results);
  rows.push({
    section,
    metric: 'setup: manifest PUT by tag, c=16, single run',
    unit: 'ops/s',
    distribution: [setup.distribution!.rate],
    custody: [setup.custody!.rate],
    higherIsBetter: true,
  });
  rows.push({
    section,
    metric: 'setup: manifest PUT by tag latency',
    unit: 'ms p50 / p99',
    distribution: [setup.distribution!.p50Ms, setup.distribution!.p99Ms],
    custody: [setup.custody!.p50Ms, setup.custody!.p99Ms],
    higherIsBetter: false,
  });
}
