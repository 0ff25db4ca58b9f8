// The manifests phase: GET and HEAD of a small manifest by tag at several concurrencies.
import { runLoad } from '../lib/load.ts';
import type { Settings } from '../settings.ts';
import { type Target, problem, alternate, loadRows, describeLoad } from '../lib/measure.ts';
import { type BaseImage, BASE_REPO } from '../lib/base-image.ts';

export async function manifestPhase(settings: Settings, targets: readonly Target[], image: BaseImage): Promise<void> {
  const section = 'manifests by tag (small OCI image manifest)';
  for (const { server, client } of targets) {
    const got = await client.getManifest(BASE_REPO, 'latest');
    if (!got.body.equals(image.manifest)) problem(`${server.label} returned a different manifest body`);
  }
  for (const concurrency of settings.manifestConcurrency) {
    for (const method of ['GET', 'HEAD'] as const) {
      const results = await alternate(
        `manifest ${method} c=${concurrency}`,
        settings.rounds,
        targets,
        async ({ client }, _round, meter) =>
          runLoad({
            onStart: () => meter.start(),
            concurrency,
            durationMs: settings.manifestMs,
            warmupMs: settings.warmupMs,
            op: method === 'GET' ? async () => void (await client.getManifest(BASE_REPO, 'latest')) : async () => void (await client.headManifest(BASE_REPO, 'latest')),
          }),
        describeLoad,
      );
      loadRows(section, `manifest ${method} c=${concurrency}`, 'req/s', results);
    }
  }
}
