// The s3 phase: both registries on their S3 drivers against one S3-compatible server
// (s3rver, the tests' own, on loopback): manifests by tag and a large blob pushed
// (monolithic, chunked) and pulled through the registry. Then Custody alone, as replicas
// share it: PostgreSQL, the same s3rver and Redis, behind HAProxy (docs/haproxy.cfg):
// two replicas against one, and a replica with Redis's manifest cache against one without.
// s3rver is a Node process on the same two cores, so these rows say how the registries
// compare on one S3 server, not what S3 itself would allow.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startS3Server, S3_ACCESS_KEY, S3_SECRET_KEY } from '../../test/support/s3-server.ts';
import { createTestDatabase } from '../../test/support/postgres.ts';
import { makeBaseImage, pushBaseImage, BASE_REPO } from '../lib/base-image.ts';
import { log, problem, rows, raw, type Target } from '../lib/measure.ts';
import { runLoad, type LoadResult } from '../lib/load.ts';
import { OciClient } from '../lib/oci-client.ts';
import { freePort, REPO_ROOT, startCustody, startDistribution, type RegistryProcess } from '../lib/processes.ts';
import { median, MiB } from '../lib/stats.ts';
import type { Settings } from '../settings.ts';
import { manifestPhase } from './manifests.ts';
import { bigBlobPhase } from './big.ts';

const REDIS_URL = process.env.CUSTODY_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

export async function s3Phase(settings: Settings, parent: string): Promise<void> {
  const s3 = await startS3Server();
  try {
    try {
      await sideBySide(settings, parent, s3.endpoint, await s3.createBucket(), await s3.createBucket());
    } catch (error) {
      // Reported, and the replica rows below still run.
      problem(`s3 side by side: ${(error as Error).message.slice(0, 400)}`);
    }
    await replicas(settings, parent, s3.endpoint, await s3.createBucket());
  } finally {
    await s3.close();
  }
}

/** Distribution's s3 driver and Custody's on the same server: the usual phases, relabelled. */
async function sideBySide(settings: Settings, parent: string, endpoint: string, distributionBucket: string, custodyBucket: string): Promise<void> {
  const distribution = await startDistribution(parent, {
    name: 'distribution-s3',
    storage: [
      '  s3:',
      `    accesskey: ${S3_ACCESS_KEY}`,
      `    secretkey: ${S3_SECRET_KEY}`,
      '    region: us-east-1',
      `    regionendpoint: ${endpoint}`,
      `    bucket: ${distributionBucket}`,
      '    secure: false',
      '    v4auth: true',
      '    rootdirectory: /',
    ],
  });
  const custody = await startCustody(parent, 'custody-s3', REPO_ROOT, { ...custodyS3Env(endpoint, custodyBucket), CUSTODY_AUTH_ENABLED: 'false' });
  const targets: Target[] = [
    { server: distribution, client: new OciClient(distribution.url) },
    { server: custody, client: new OciClient(custody.url) },
  ];
  try {
    const image = makeBaseImage();
    for (const { client } of targets) await pushBaseImage(client, image);
    const first = rows.length;
    await manifestPhase({ ...settings, manifestConcurrency: [1, 16] }, targets, image);
    await bigBlobPhase({ ...settings, bigBlob: Math.min(settings.bigBlob, 64 * MiB) }, targets, null);
    for (let i = first; i < rows.length; i++) rows[i] = { ...rows[i]!, section: `S3 (s3rver): ${rows[i]!.section}` };
    rows.push({ section: 'S3 (s3rver): memory', metric: 'peak RSS (VmHWM) over the s3 rows', unit: 'MiB', distribution: [distribution.memory.peak() / MiB], custody: [custody.memory.peak() / MiB], higherIsBetter: false });
  } finally {
    for (const { server, client } of targets) {
      client.close();
      server.memory.stop();
      await server.stop();
    }
  }
}

function custodyS3Env(endpoint: string, bucket: string): Record<string, string> {
  return {
    CUSTODY_STORAGE_DRIVER: 's3',
    CUSTODY_STORAGE_S3_BUCKET: bucket,
    CUSTODY_STORAGE_S3_ENDPOINT: endpoint,
    CUSTODY_STORAGE_S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: S3_ACCESS_KEY,
    AWS_SECRET_ACCESS_KEY: S3_SECRET_KEY,
    AWS_REGION: 'us-east-1',
    CUSTODY_QUALITY_ENABLED: 'false',
  };
}

/** Manifest GETs by tag for `settings.manifestMs` at concurrency 16 against `url`, median of the rounds. */
async function manifestRate(settings: Settings, url: string): Promise<LoadResult[]> {
  const client = new OciClient(url);
  const results: LoadResult[] = [];
  try {
    for (let round = 0; round < settings.rounds; round++) {
      results.push(await runLoad({ concurrency: 16, durationMs: settings.manifestMs, warmupMs: settings.warmupMs, op: async () => void (await client.getManifest(BASE_REPO, 'latest')) }));
    }
  } finally {
    client.close();
  }
  return results;
}

/** Custody replicas on PostgreSQL, s3rver and Redis: two against one behind HAProxy, and Redis's cache against none. */
async function replicas(settings: Settings, parent: string, endpoint: string, bucket: string): Promise<void> {
  const database = await createTestDatabase();
  const env = { ...custodyS3Env(endpoint, bucket), CUSTODY_AUTH_ENABLED: 'false', CUSTODY_DATABASE_URL: database.url };
  const started: RegistryProcess[] = [];
  try {
    const withRedis = await startCustody(parent, 'replica-1', REPO_ROOT, { ...env, CUSTODY_REDIS_URL: REDIS_URL });
    started.push(withRedis);
    const second = await startCustody(parent, 'replica-2', REPO_ROOT, { ...env, CUSTODY_REDIS_URL: REDIS_URL });
    started.push(second);
    const withoutRedis = await startCustody(parent, 'replica-plain', REPO_ROOT, env);
    started.push(withoutRedis);
    const seed = new OciClient(withRedis.url);
    await pushBaseImage(seed, makeBaseImage());
    seed.close();

    const section = 'replicas: PostgreSQL, s3rver, Redis (manifest GET by tag, c=16)';
    // Redis's manifest cache: the same replica setup with and without it, alternating.
    const plain: LoadResult[] = [];
    const cached: LoadResult[] = [];
    for (let round = 0; round < settings.rounds; round++) {
      const order = round % 2 === 0 ? [false, true] : [true, false];
      for (const redis of order) (redis ? cached : plain).push(...(await manifestRate({ ...settings, rounds: 1 }, (redis ? withRedis : withoutRedis).url)));
    }
    log(`manifest GET c=16: without Redis ${plain.map((result) => result.rate.toFixed(0)).join(', ')} req/s; with Redis ${cached.map((result) => result.rate.toFixed(0)).join(', ')} req/s`);
    rows.push({ section, metric: 'one replica, Redis cache on (baseline: off)', unit: 'req/s', distribution: [median(plain.map((result) => result.rate))], custody: [median(cached.map((result) => result.rate))], higherIsBetter: true, baseline: 'no Redis' });
    rows.push({ section, metric: 'one replica, Redis cache on (baseline: off): p50, p99', unit: 'ms', distribution: [median(plain.map((result) => result.p50Ms)), median(plain.map((result) => result.p99Ms))], custody: [median(cached.map((result) => result.p50Ms)), median(cached.map((result) => result.p99Ms))], higherIsBetter: false, baseline: 'no Redis' });

    // Two replicas against one, both behind the same HAProxy configuration (for one
    // replica, both server lines name it), so the balancer's cost is on both sides.
    const one = await behindHaproxy(parent, [withRedis, withRedis], (url) => manifestRate(settings, url));
    const two = await behindHaproxy(parent, [withRedis, second], (url) => manifestRate(settings, url));
    raw.replicas = { plain, cached, one, two };
    log(`through HAProxy: one replica ${one.map((result) => result.rate.toFixed(0)).join(', ')} req/s; two ${two.map((result) => result.rate.toFixed(0)).join(', ')} req/s`);
    rows.push({ section, metric: 'two replicas behind HAProxy (baseline: one), 2 cores shared with HAProxy, PostgreSQL, Redis, s3rver and the client', unit: 'req/s', distribution: [median(one.map((result) => result.rate))], custody: [median(two.map((result) => result.rate))], higherIsBetter: true, baseline: 'one replica' });
    rows.push({ section, metric: 'peak RSS per replica (VmHWM)', unit: 'MiB', distribution: [withRedis.memory.peak() / MiB], custody: [second.memory.peak() / MiB], higherIsBetter: null, baseline: 'replica 1', note: 'replica 1 also served the single-replica rows' });
  } finally {
    for (const server of started) {
      server.memory.stop();
      await server.stop();
    }
    await database.drop();
  }
}

async function behindHaproxy<T>(parent: string, servers: readonly [RegistryProcess, RegistryProcess], work: (url: string) => Promise<T>): Promise<T> {
  const port = await freePort();
  const host = (server: RegistryProcess): string => new URL(server.url).host;
  const child = spawn('haproxy', ['-f', join(REPO_ROOT, 'docs', 'haproxy.cfg'), '-db'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, CUSTODY_LB_BIND: `127.0.0.1:${port}`, CUSTODY_REPLICA_1: host(servers[0]), CUSTODY_REPLICA_2: host(servers[1]), CUSTODY_LB_STATE: parent },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 15_000;
    // Both servers up (rise 2 × 1 s) before measuring.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    for (;;) {
      const ok = await fetch(`${url}/v2/`).then((response) => response.ok, () => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error('HAProxy did not come up');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return await work(url);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}
