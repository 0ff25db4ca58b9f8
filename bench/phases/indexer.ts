// The index phase: the image indexer's throughput and memory.
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildIndexBenchImage, gzipBaselineSeconds, layoutLayers, runIndexer, type IndexRun } from '../lib/index-image.ts';
import { formatBytes, median, MiB } from '../lib/stats.ts';
import type { Settings } from '../settings.ts';
import { rows, raw, log, problem } from '../lib/measure.ts';

/**
 * The image indexer (src/scan/indexer) on the shared bookworm-curl image and a
 * generated multi-layer gzip image: compressed input per second against plain `gzip -dc`
 * of the same layer blobs in the same run (rounds alternate the order), and the
 * indexer's peak RSS, measured in a child process of its own.
 */
export async function indexPhase(settings: Settings, parent: string, custodyDir: string): Promise<void> {
  const work = join(parent, 'index');
  mkdirSync(work, { recursive: true });
  const shared = resolve(custodyDir, '..', 'shared', 'images', 'debian-oci');
  log(`generating a ${formatBytes(settings.indexImage)} 4-layer gzip image for indexing (not timed)`);
  const generated = await buildIndexBenchImage(work, settings.indexImage);
  log(`generated: ${generated.files} files, ${formatBytes(generated.compressedBytes)} compressed, ${generated.packages} dpkg packages`);
  const curl = layoutLayers(shared, 'bookworm-curl');
  const images = [
    { name: 'bookworm-curl (shared, 2 layers)', ref: `${shared}:bookworm-curl`, paths: curl.paths, bytes: curl.bytes, packages: 106 },
    { name: `generated ${formatBytes(settings.indexImage)}, 4 layers`, ref: generated.ref, paths: generated.layerPaths, bytes: generated.compressedBytes, packages: generated.packages },
  ];
  const section = 'image indexing (compressed input; baseline: gzip -dc of the same layers)';
  const summary: Record<string, unknown> = {};
  try {
    for (const image of images) {
      const gzipRates: number[] = [];
      const variants = [
        { label: 'all analyzers (packages, language packages, secrets)', databasesOnly: false, rates: [] as number[], peaks: [] as number[] },
        { label: 'package databases only (dpkg, apk, rpm)', databasesOnly: true, rates: [] as number[], peaks: [] as number[] },
      ];
      for (let round = 0; round < settings.rounds; round++) {
        const measureGzip = (): void => {
          const seconds = gzipBaselineSeconds(image.paths);
          if (seconds === null) throw new Error('gzip -dc failed (is gzip installed?)');
          gzipRates.push(image.bytes / 1e6 / seconds);
        };
        const measureIndex = (): void => {
          for (const variant of variants) {
            const run: IndexRun = runIndexer(image.ref, { databasesOnly: variant.databasesOnly });
            if (run.packages < image.packages) problem(`indexing ${image.name} found ${run.packages} packages, expected at least ${image.packages}`);
            variant.rates.push(image.bytes / 1e6 / run.seconds);
            variant.peaks.push(run.peakRssBytes);
          }
        };
        if (round % 2 === 0) {
          measureGzip();
          measureIndex();
        } else {
          measureIndex();
          measureGzip();
        }
      }
      const gzip = median(gzipRates);
      const figures: Record<string, unknown> = { bytes: image.bytes, gzipMBps: gzipRates };
      for (const variant of variants) {
        const index = median(variant.rates);
        const peak = Math.max(...variant.peaks);
        const ratio = index / gzip;
        const ratioPass = ratio >= settings.indexGzipRatioTarget;
        const rssPass = peak < settings.indexRssTargetBytes;
        rows.push({
          section,
          metric: `${image.name}, ${(image.bytes / 1e6).toFixed(1)} MB of layers: ${variant.label}`,
          unit: 'MB/s',
          baseline: 'gzip -dc',
          distribution: [gzip],
          custody: [index],
          higherIsBetter: true,
          note: `target ≥ ${settings.indexGzipRatioTarget} × gzip -dc: ${ratioPass ? 'PASS' : 'FAIL'} (${ratio.toFixed(2)})`,
        });
        rows.push({
          section,
          metric: `${image.name}: ${variant.label}: peak RSS (VmHWM, own process)`,
          unit: 'MiB',
          distribution: [],
          custody: [peak / MiB],
          higherIsBetter: null,
          note: `target < ${settings.indexRssTargetBytes / MiB} MiB: ${rssPass ? 'PASS' : 'FAIL'}`,
        });
        figures[variant.databasesOnly ? 'databasesOnly' : 'allAnalyzers'] = { indexMBps: variant.rates, peakRss: variant.peaks, ratio, ratioPass, rssPass };
        log(`${image.name}, ${variant.label}: gzip -dc ${gzip.toFixed(0)} MB/s, indexer ${index.toFixed(0)} MB/s (×${ratio.toFixed(2)}), peak RSS ${(peak / MiB).toFixed(0)} MiB`);
        if (!ratioPass) problem(`indexing ${image.name} (${variant.label}) ran at ${ratio.toFixed(2)} × gzip -dc, under the ${settings.indexGzipRatioTarget} target`);
        if (!rssPass) problem(`indexing ${image.name} (${variant.label}) peaked at ${(peak / MiB).toFixed(0)} MiB RSS, over the ${settings.indexRssTargetBytes / MiB} MiB target`);
      }
      summary[image.name] = figures;
    }
    raw.index = summary;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
