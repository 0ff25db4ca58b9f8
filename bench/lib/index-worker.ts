// Child process of the bench's index phase: indexes one `DIR:TAG` OCI layout image and
// prints {seconds, peakRssBytes, packages, os} as JSON. Its own process, so the peak RSS
// (VmHWM) is the indexer's alone, not the benchmark runner's. `--databases-only` runs the
// operating-system package analyzers alone (no language packages, no secret scanning).
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { OciLayoutSource } from '../../src/image/transports/index.ts';
import { indexImage } from '../../src/scan/indexer/index-image.ts';
import { apkAnalyzer } from '../../src/scan/packages/apk.ts';
import { dpkgAnalyzer } from '../../src/scan/packages/dpkg.ts';
import { rpmAnalyzer } from '../../src/scan/packages/rpm-analyzer.ts';

const [ref, ...flags] = process.argv.slice(2) as [string, ...string[]];
const source = new OciLayoutSource(ref);
const started = performance.now();
const index = await indexImage(source, {
  verifyDigests: !flags.includes('--no-verify'),
  ...(flags.includes('--databases-only') ? { analyzers: [dpkgAnalyzer(), apkAnalyzer(), rpmAnalyzer] } : {}),
});
const seconds = (performance.now() - started) / 1000;
await source.close();
const status = readFileSync('/proc/self/status', 'utf8');
const peakKiB = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN);
process.stdout.write(JSON.stringify({ seconds, peakRssBytes: peakKiB * 1024, packages: index.packages.length, os: index.os?.id ?? null }));
