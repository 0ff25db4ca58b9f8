// The webhooks phase: events published on the bus at a steady rate (1,000/s) reach a local
// receiver through the whole durable path (the subscriber persists each delivery in SQL,
// the dispatcher sends it, signed, and records the attempt). Reported: deliveries per
// second and the latency from the event to its arrival at the receiver (p50, p99), with
// the events spread over 16 repositories and all in one repository (whose deliveries go
// one at a time, in order). SQLite, in this process; the receiver shares the process.
// Distribution has no equivalent measurement, so the rows are Custody's only. Then the
// cost of a webhook to the writes themselves: manifest PUT + DELETE through the registry
// with a hook hearing every event, against the same without events (alternating runs).
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { InProcessEventBus } from '../../src/events/in-process-event-bus.ts';
import { TimerScheduler } from '../../src/jobs/timer-scheduler.ts';
import { SqliteClient } from '../../src/metadata/sqlite-client.ts';
import { migrate } from '../../src/metadata/migrations.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import type { Config } from '../../src/config/config.ts';
import { installWebhooks } from '../../src/app/install-webhooks.ts';
import { Readable } from 'node:stream';
import { digestOf } from '../../src/core/digest.ts';
import { MediaType } from '../../src/core/media-types.ts';
import { FilesystemBlobStore } from '../../src/storage/filesystem-blob-store.ts';
import { SqlMetadataStore } from '../../src/metadata/sql-metadata-store.ts';
import { CoreRegistry } from '../../src/registry/registry.ts';
import { Histogram } from '../lib/stats.ts';
import { rows, raw, log } from '../lib/measure.ts';

interface Scenario {
  readonly label: string;
  readonly repositories: number;
}

const RATE = 1000;

export async function webhooksPhase(quick: boolean, parent: string): Promise<void> {
  const seconds = quick ? 2 : 10;
  const section = `webhook delivery (${RATE} events/s for ${seconds} s, SQLite, signed CloudEvents to a local receiver)`;
  const results: Record<string, unknown> = {};
  for (const scenario of [{ label: '16 repositories', repositories: 16 }, { label: 'one repository (in order, one at a time)', repositories: 1 }] satisfies Scenario[]) {
    const result = await runScenario(scenario, seconds, parent);
    results[scenario.label] = result;
    rows.push({ section, metric: `${scenario.label}: deliveries per second`, unit: '/s', distribution: [], custody: [result.perSecond], higherIsBetter: null });
    rows.push({ section, metric: `${scenario.label}: event → delivery latency p50, p99`, unit: 'ms', distribution: [], custody: [result.p50Ms, result.p99Ms], higherIsBetter: null });
    rows.push({ section, metric: `${scenario.label}: CPU per event (persist, send, record, and the receiver)`, unit: 'ms', distribution: [], custody: [result.cpuMsPerEvent], higherIsBetter: null });
    log(`webhooks, ${scenario.label}: ${result.delivered}/${result.published} delivered, ${result.perSecond.toFixed(0)}/s, p50 ${result.p50Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms, CPU ${result.cpuMsPerEvent.toFixed(2)} ms/event`);
  }
  const writes = await writeOverhead(quick ? 1000 : 4000, parent);
  results.writes = writes;
  const writeSection = 'manifest writes with one webhook on (in process, SQLite; baseline: the same registry without events)';
  rows.push({ section: writeSection, metric: 'manifest PUT + tag DELETE pairs per second', unit: '/s', distribution: [writes.withoutPerSecond], custody: [writes.withPerSecond], higherIsBetter: true, baseline: 'no webhook' });
  log(`manifest PUT+DELETE: ${writes.withoutPerSecond.toFixed(0)}/s without webhooks, ${writes.withPerSecond.toFixed(0)}/s with one (${(writes.withPerSecond / writes.withoutPerSecond).toFixed(2)}x), all ${writes.delivered} events delivered`);
  raw.webhooks = results;
}

/** PUT then DELETE of a tagged manifest, `pairs` times, with and without a webhook hearing every event. */
async function writeOverhead(pairs: number, parent: string): Promise<{ withoutPerSecond: number; withPerSecond: number; delivered: number }> {
  let delivered = 0;
  const receiver = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      delivered++;
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const rates: number[] = [];
  let expected = 0;
  for (const withHook of [false, true, false, true]) {
    const work = mkdtempSync(join(parent, 'webhook-writes-'));
    const blobs = new FilesystemBlobStore(join(work, 'blobs'));
    await blobs.init();
    const sql = new SqliteClient(join(work, 'custody.db'));
    await migrate(sql);
    const bus = new InProcessEventBus();
    const scheduler = new TimerScheduler();
    const registry = new CoreRegistry(blobs, new SqlMetadataStore(sql), { maxManifestBytes: 1 << 20, maxPageSize: 100, automaticMount: false, ...(withHook ? { events: bus } : {}) });
    const installed = withHook
      ? await installWebhooks({ sql, events: bus, scheduler, logger: silentLogger, config: { webhooks: { dispatchIntervalMs: 1000, retryBaseMs: 1000, retryMaxMs: 60_000, giveUpAfterMs: 86_400_000, disableAfter: 50, timeoutMs: 10_000, concurrency: 16, publicUrl: 'http://registry.bench' }, quality: { notifyUrl: undefined } as Config['quality'] } })
      : undefined;
    await installed?.webhooks.create({ namespace: 'bench', url, secret: 'bench-secret-0123456789abcdef' }, 'bench');
    scheduler.start();
    const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
    const configDigest = digestOf(config);
    await registry.uploadMonolithic('bench/app', configDigest, Readable.from([config]), config.length);
    const started = performance.now();
    for (let index = 0; index < pairs; index++) {
      const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: { mediaType: MediaType.OciConfig, digest: configDigest, size: config.length }, layers: [], annotations: { n: String(index) } }));
      await registry.putManifest('bench/app', `t${index}`, MediaType.OciManifest, manifest);
      await registry.deleteManifest('bench/app', `t${index}`);
    }
    rates.push(pairs / ((performance.now() - started) / 1000));
    if (installed) {
      // manifest.pushed, tag.moved, tag.deleted per pair, and the config blob's upload.
      expected += pairs * 3 + 1;
      const deadline = Date.now() + 60_000;
      while (delivered < expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await scheduler.stop();
    await bus.drain();
    await installed?.close();
    await sql.close();
    rmSync(work, { recursive: true, force: true });
  }
  receiver.closeAllConnections();
  receiver.close();
  return { withoutPerSecond: (rates[0]! + rates[2]!) / 2, withPerSecond: (rates[1]! + rates[3]!) / 2, delivered };
}

async function runScenario(scenario: Scenario, seconds: number, parent: string) {
  const work = mkdtempSync(join(parent, 'webhooks-'));
  const latency = new Histogram();
  let delivered = 0;
  let lastArrival = 0;
  const receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const now = Date.now();
      const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { time: string };
      latency.record(now - Date.parse(event.time));
      delivered++;
      lastArrival = now;
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const sql = new SqliteClient(join(work, 'custody.db'));
  await migrate(sql);
  const bus = new InProcessEventBus();
  const scheduler = new TimerScheduler();
  const config: Pick<Config, 'webhooks' | 'quality'> = {
    webhooks: { dispatchIntervalMs: 1000, retryBaseMs: 1000, retryMaxMs: 60_000, giveUpAfterMs: 86_400_000, disableAfter: 50, timeoutMs: 10_000, concurrency: 16, publicUrl: 'http://registry.bench' },
    quality: { notifyUrl: undefined } as Config['quality'],
  };
  const installed = await installWebhooks({ sql, events: bus, scheduler, logger: silentLogger, config });
  await installed.webhooks.create({ namespace: 'bench', url, events: ['manifest.pushed'], secret: 'bench-secret-0123456789abcdef' }, 'bench');
  scheduler.start();

  const total = RATE * seconds;
  const cpuBefore = process.cpuUsage();
  const started = Date.now();
  const digest = `sha256:${'b'.repeat(64)}`;
  for (let index = 0; index < total; index++) {
    // Metered in 10 ms steps: 10 events each.
    if (index % 10 === 0) {
      const due = started + (index / RATE) * 1000;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    bus.publish('manifest.pushed', { repository: `bench/repo-${index % scenario.repositories}`, digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 1000, tag: `t${index}` });
  }
  const deadline = Date.now() + 120_000;
  while (delivered < total && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  const elapsed = ((lastArrival || Date.now()) - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  await scheduler.stop();
  await bus.drain();
  await installed.close();
  await sql.close();
  receiver.closeAllConnections();
  receiver.close();
  rmSync(work, { recursive: true, force: true });
  const summary = latency.summary();
  const cpuMsPerEvent = (cpu.user + cpu.system) / 1000 / total;
  return { published: total, delivered, perSecond: delivered / elapsed, p50Ms: summary.p50Ms, p99Ms: summary.p99Ms, maxMs: summary.maxMs, cpuMsPerEvent };
}
