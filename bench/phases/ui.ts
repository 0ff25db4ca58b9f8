// The ui phase: the web catalog's server time against the JSON API calls that carry the
// same data (explore with a search, the repository page, the image page's packages tab),
// first contentful paint in Chromium on loopback, and what a page plus its critical
// assets weigh on the wire. Starts its own Custody (authentication off) with
// settings.uiRepoCount repositories and the shared bookworm-curl image (indexed).
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { Settings } from '../settings.ts';
import { rows, raw, log, problem } from '../lib/measure.ts';
import { startCustody } from '../lib/processes.ts';
import { OciClient } from '../lib/oci-client.ts';
import { makeBaseImage, pushBaseImage, BASE_REPO } from '../lib/base-image.ts';
import { runLoad } from '../lib/load.ts';
import { Histogram, median } from '../lib/stats.ts';

const CHROMIUM = '/usr/bin/chromium';

async function timed(url: string, count: number): Promise<{ p50: number; p99: number; bytes: number }> {
  const histogram = new Histogram();
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const response = await fetch(url);
    const body = await response.arrayBuffer();
    histogram.record(performance.now() - started);
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    bytes = body.byteLength;
  }
  const summary = histogram.summary();
  return { p50: summary.p50Ms, p99: summary.p99Ms, bytes };
}

export async function uiPhase(settings: Settings, parent: string, custodyDir: string): Promise<void> {
  const work = join(parent, 'ui');
  mkdirSync(work, { recursive: true });
  const custody = await startCustody(work, 'custody-ui', custodyDir);
  try {
    const client = new OciClient(custody.url);
    const image = makeBaseImage();
    await pushBaseImage(client, image);
    const repositories = settings.uiRepoCount;
    log(`ui setup: ${repositories} repositories (not timed)`);
    await runLoad({
      concurrency: 16,
      count: repositories,
      op: async (index) => {
        const repository = `ui/repo-${String(index).padStart(5, '0')}`;
        await client.mountBlob(repository, image.configDigest, BASE_REPO);
        await client.mountBlob(repository, image.layerDigest, BASE_REPO);
        await client.putManifest(repository, 'latest', image.manifest);
      },
    });
    const layout = resolve(custodyDir, '..', 'shared', 'images', 'debian-oci');
    const host = new URL(custody.url).host;
    execFileSync('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci:${layout}:bookworm-curl`, `docker://${host}/bench/debian:bookworm-curl`]);
    const head = await client.headManifest('bench/debian', 'bookworm-curl');
    const digest = String(head.headers['docker-content-digest']);
    const deadline = Date.now() + 120_000;
    for (;;) {
      const status = (await (await fetch(`${custody.url}/api/v1/repositories/bench/debian/-/manifests/${digest}/status`)).json()) as { status: string };
      if (status.status === 'indexed') break;
      if (Date.now() > deadline || status.status === 'failed') throw new Error(`bookworm-curl not indexed: ${status.status}`);
      await new Promise((done) => setTimeout(done, 200));
    }
    const count = Math.max(20, settings.rounds * 20);
    const section = `web catalog: ${repositories + 2} repositories, sequential requests (${count} each)`;
    const pairs: [string, string, string][] = [
      ['explore with a search (q=repo-00001)', `/?q=repo-00001`, `/api/v1/catalog/repositories?q=repo-00001`],
      // A filter and a sort over every repository (what the search index is for).
      ['explore with a filter, by last push (arch=amd64&sort=pushed&page=3)', `/?arch=amd64&sort=pushed&page=3`, `/api/v1/catalog/repositories?arch=amd64&sort=pushed&page=3`],
      ['repository page', `/r/bench/debian`, `/api/v1/catalog/repositories/bench/debian/-/tags`],
      ['image page, packages tab (106 packages)', `/r/bench/debian/-/image/bookworm-curl?tab=packages`, `/api/v1/repositories/bench/debian/-/manifests/${digest}/packages`],
    ];
    const measured: Record<string, unknown> = {};
    // The first search after start pays for whatever a search needs beyond SQL (an
    // in-memory catalog would summarise every repository here, and again when it expires).
    const first = await timed(`${custody.url}${pairs[1]![1]}`, 1);
    rows.push({ section, metric: 'explore with a filter: first request after start (cold caches)', unit: 'ms', distribution: [], custody: [first.p50], higherIsBetter: false });
    log(`explore with a filter, first request after start: ${first.p50.toFixed(1)} ms`);
    for (const [label, page, api] of pairs) {
      await timed(`${custody.url}${page}`, 3); // warm
      const html = await timed(`${custody.url}${page}`, count);
      const json = await timed(`${custody.url}${api}`, count);
      rows.push({ section, metric: `${label}: p50`, unit: 'ms', distribution: [json.p50], custody: [html.p50], higherIsBetter: false, baseline: 'JSON API' });
      rows.push({ section, metric: `${label}: p99`, unit: 'ms', distribution: [json.p99], custody: [html.p99], higherIsBetter: false, baseline: 'JSON API' });
      measured[label] = { html, json };
      log(`${label}: HTML p50 ${html.p50.toFixed(1)} ms p99 ${html.p99.toFixed(1)} ms; API p50 ${json.p50.toFixed(1)} ms p99 ${json.p99.toFixed(1)} ms`);
    }
    const browserRows = await measureInChromium(custody.url, ['/', '/r/bench/debian', '/r/bench/debian/-/image/bookworm-curl']);
    for (const row of browserRows) {
      rows.push({ section: 'web catalog in Chromium (loopback)', metric: `${row.path}: first contentful paint (median of 5, cold cache)`, unit: 'ms', distribution: [], custody: [row.fcp], higherIsBetter: false });
      rows.push({ section: 'web catalog in Chromium (loopback)', metric: `${row.path}: page + critical assets transferred`, unit: 'KiB', distribution: [], custody: [row.bytes / 1024], higherIsBetter: false });
    }
    raw.ui = { measured, browser: browserRows };
  } finally {
    await custody.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

async function measureInChromium(base: string, paths: readonly string[]): Promise<{ path: string; fcp: number; bytes: number }[]> {
  let chromium: typeof import('playwright-core').chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    problem('phase ui: playwright-core is not installed; no browser rows');
    return [];
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
  try {
    const out: { path: string; fcp: number; bytes: number }[] = [];
    for (const path of paths) {
      const fcps: number[] = [];
      let bytes = 0;
      for (let round = 0; round < 5; round++) {
        const context = await browser.newContext();
        const page = await context.newPage();
        await page.goto(`${base}${path}`, { waitUntil: 'load' });
        // The paint entry can land after 'load': wait for it (at most 5 s).
        const result = await page.evaluate(async () => {
          const perf = (globalThis as unknown as { performance: { getEntriesByName(n: string): { startTime: number }[]; getEntriesByType(t: string): { transferSize: number }[] } }).performance;
          const deadline = Date.now() + 5000;
          while (perf.getEntriesByName('first-contentful-paint').length === 0 && Date.now() < deadline) await new Promise((done) => setTimeout(done, 20));
          const fcp = perf.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN;
          const transferred = [...perf.getEntriesByType('navigation'), ...perf.getEntriesByType('resource')].reduce((sum, entry) => sum + entry.transferSize, 0);
          return { fcp, transferred };
        });
        fcps.push(result.fcp);
        bytes = result.transferred;
        await context.close();
      }
      out.push({ path, fcp: median(fcps), bytes });
      log(`chromium ${path}: FCP ${median(fcps).toFixed(0)} ms, ${(bytes / 1024).toFixed(1)} KiB`);
    }
    return out;
  } finally {
    await browser.close();
  }
}
