// `npm run bench`: CNCF Distribution (docker-registry) and Custody side by side on
// loopback, each with filesystem storage in a temporary directory, the same workload
// against both, alternating the order round by round; medians of the rounds go into a
// table (stdout, bench/results/latest.md, bench/results/latest.json). See bench/README.md.
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { runLoad, type LoadResult } from './lib/load.ts';
import { buildClientImage, checkLayout, runTool, skopeoVersion, type ToolRun } from './lib/client-copy.ts';
import { buildIndexBenchImage, gzipBaselineSeconds, layoutLayers, runIndexer, type IndexRun } from './lib/index-image.ts';
import { generateAdvisoryDatabase, timeAffectedLookup, timeFullMatch } from './lib/match-db.ts';
import { haveGpg, prepareSignatureFixture, runCryptoWorker, timeVerifyCommands, type WorkerResult } from './lib/signature-crypto.ts';
import { SqliteClient } from '../src/metadata/sqlite-client.ts';
import { newAgent, OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, OciClient, sha256Digest } from './lib/oci-client.ts';
import {
  cleanupSync,
  distributionVersion,
  installCleanupHandlers,
  makeTempDir,
  processCpuSeconds,
  readMemory,
  REPO_ROOT,
  removeTempDir,
  startCustody,
  startDistribution,
  syncDisks,
  systemCpu,
  type RegistryProcess,
} from './lib/processes.ts';
import { renderMarkdown, renderText, ratios, verdict, type Row } from './lib/report.ts';
import { formatBytes, GiB, KiB, median, MiB, mibPerSecond } from './lib/stats.ts';

// ---- settings --------------------------------------------------------------------------

interface Settings {
  readonly rounds: number;
  readonly shaBytes: number;
  readonly opensslSeconds: number;
  readonly bigBlob: number;
  readonly chunk: number;
  readonly smallBlob: number;
  readonly smallConcurrency: number;
  readonly smallPushCount: number;
  readonly smallPullMs: number;
  readonly manifestConcurrency: readonly number[];
  readonly manifestMs: number;
  readonly warmupMs: number;
  readonly tagCount: number;
  readonly repoCount: number;
  readonly listMs: number;
  readonly listMinRequests: number;
  readonly fanoutBlob: number;
  readonly fanoutConcurrency: number;
  readonly rssBlob: number;
  readonly rssTargetBytes: number;
  /** Total layer bytes of the client phase's 5-layer image. */
  readonly clientImage: number;
  /** Uncompressed tar bytes of the index phase's generated multi-layer gzip image. */
  readonly indexImage: number;
  readonly indexRssTargetBytes: number;
  /** The indexer's compressed-input throughput must reach this fraction of `gzip -dc`'s. */
  readonly indexGzipRatioTarget: number;
}

const DEFAULTS: Settings = {
  rounds: 3,
  shaBytes: 256 * MiB,
  opensslSeconds: 3,
  bigBlob: 256 * MiB,
  chunk: 8 * MiB,
  smallBlob: 4 * KiB,
  smallConcurrency: 16,
  smallPushCount: 1500,
  smallPullMs: 2000,
  manifestConcurrency: [1, 16, 64],
  manifestMs: 2000,
  warmupMs: 300,
  tagCount: 5000,
  repoCount: 1000,
  listMs: 2000,
  listMinRequests: 5,
  fanoutBlob: 64 * MiB,
  fanoutConcurrency: 32,
  rssBlob: 2 * GiB,
  rssTargetBytes: 200 * MiB,
  clientImage: 256 * MiB,
  indexImage: GiB,
  indexRssTargetBytes: 256 * MiB,
  indexGzipRatioTarget: 0.7,
};

const QUICK: Settings = {
  ...DEFAULTS,
  rounds: 1,
  shaBytes: 64 * MiB,
  opensslSeconds: 1,
  bigBlob: 32 * MiB,
  smallPushCount: 200,
  smallPullMs: 500,
  manifestMs: 500,
  warmupMs: 100,
  tagCount: 500,
  repoCount: 100,
  listMs: 500,
  listMinRequests: 3,
  fanoutBlob: 8 * MiB,
  rssBlob: 256 * MiB,
  clientImage: 32 * MiB,
  indexImage: 128 * MiB,
};

const PHASES = ['sha', 'catalog', 'tags', 'manifests', 'auth', 'small', 'big', 'fanout', 'client', 'rss', 'index', 'match', 'signatures'] as const;
type Phase = (typeof PHASES)[number];

interface Args {
  readonly settings: Settings;
  readonly quick: boolean;
  readonly phases: ReadonlySet<Phase>;
  readonly distributionCache: boolean;
  readonly output: boolean;
  /** The Custody checkout to run (bin/custody.js under it): for A/B runs of a patch. */
  readonly custodyDir: string;
}

const USAGE = `Usage: npm run bench -- [options]

  --quick            fast smoke run: small sizes, one round
  --rounds N         rounds per measurement (default ${DEFAULTS.rounds}; --quick: ${QUICK.rounds})
  --only LIST        comma-separated phases: ${PHASES.join(', ')}
  --skip LIST        phases to leave out
  --dist-cache       give Distribution its in-memory blob descriptor cache (off by default)
  --custody-dir DIR  run the Custody in DIR (a checkout with bin/ and src/) instead of this one
  --no-write         do not write bench/results/latest.{md,json}
  --help             this text
`;

function parseArgs(argv: readonly string[]): Args {
  let quick = false;
  let rounds: number | undefined;
  let only: Phase[] | undefined;
  let skip: Phase[] = [];
  let distributionCache = false;
  let output = true;
  let custodyDir = REPO_ROOT;
  const phaseList = (value: string | undefined, flag: string): Phase[] => {
    if (value === undefined) throw new Error(`${flag} needs a value`);
    const names = value.split(',').map((name) => name.trim()).filter(Boolean);
    for (const name of names) if (!(PHASES as readonly string[]).includes(name)) throw new Error(`unknown phase "${name}" (phases: ${PHASES.join(', ')})`);
    return names as Phase[];
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--quick':
        quick = true;
        break;
      case '--rounds': {
        const text = value();
        rounds = Number(text);
        if (!Number.isSafeInteger(rounds) || rounds < 1) throw new Error(`--rounds needs a positive integer, got "${text}"`);
        break;
      }
      case '--only':
        only = phaseList(value(), '--only');
        break;
      case '--skip':
        skip = phaseList(value(), '--skip');
        break;
      case '--dist-cache':
        distributionCache = true;
        break;
      case '--no-write':
        output = false;
        break;
      case '--custody-dir': {
        const text = value();
        if (text === undefined) throw new Error('--custody-dir needs a directory');
        custodyDir = resolve(text);
        break;
      }
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option "${arg}"\n\n${USAGE}`);
    }
  }
  const base = quick ? QUICK : DEFAULTS;
  const phases = new Set<Phase>((only ?? [...PHASES]).filter((phase) => !skip.includes(phase)));
  return { settings: { ...base, rounds: rounds ?? base.rounds }, quick, phases, distributionCache, output, custodyDir };
}

// ---- bookkeeping -----------------------------------------------------------------------

type Kind = RegistryProcess['kind'];

interface Target {
  readonly server: RegistryProcess;
  readonly client: OciClient;
}

const rows: Row[] = [];
const problems: string[] = [];
const raw: Record<string, unknown> = {};
const runStarted = performance.now();

function log(message: string): void {
  const seconds = ((performance.now() - runStarted) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[${seconds}s] ${message}\n`);
}

function problem(message: string): void {
  if (problems.includes(message)) return;
  problems.push(message);
  log(`PROBLEM: ${message}`);
}

interface CpuSample {
  readonly wallSeconds: number;
  /** CPU seconds each registry used during the measurement. */
  readonly servers: Record<Kind, number>;
  /** CPU seconds the benchmark client (this process) used. */
  readonly client: number;
  /** Cores busy with anything else on the machine (other processes), on average. */
  readonly backgroundCores: number;
  /** Cores stolen by the hypervisor, on average. */
  readonly stealCores: number;
}

const backgroundSamples: number[] = [];
const stealSamples: number[] = [];

/** CPU accounting around one measurement: the registries', the client's and everyone else's. */
class Meter {
  private readonly targets: readonly Target[];
  private wall = 0;
  private servers: Record<Kind, number> = { distribution: 0, custody: 0 };
  private client = 0;
  private system = { busy: 0, steal: 0 };

  constructor(targets: readonly Target[]) {
    this.targets = targets;
    this.start();
  }

  start(): void {
    this.wall = performance.now();
    for (const { server } of this.targets) this.servers[server.kind] = processCpuSeconds(server.pid);
    const usage = process.cpuUsage();
    this.client = (usage.user + usage.system) / 1e6;
    this.system = systemCpu();
  }

  stop(): CpuSample {
    const wallSeconds = (performance.now() - this.wall) / 1000;
    const servers: Record<Kind, number> = { distribution: 0, custody: 0 };
    for (const { server } of this.targets) servers[server.kind] = processCpuSeconds(server.pid) - this.servers[server.kind];
    const usage = process.cpuUsage();
    const client = (usage.user + usage.system) / 1e6 - this.client;
    const system = systemCpu();
    const busy = system.busy - this.system.busy;
    const steal = system.steal - this.system.steal;
    const ours = client + servers.distribution + servers.custody;
    const sample = { wallSeconds, servers, client, backgroundCores: Math.max(0, (busy - steal - ours) / wallSeconds), stealCores: steal / wallSeconds };
    backgroundSamples.push(sample.backgroundCores);
    stealSamples.push(sample.stealCores);
    return sample;
  }
}

interface Measured<T> {
  readonly value: T;
  readonly cpu: CpuSample;
}

function describeCpu(cpu: CpuSample, kind: Kind): string {
  return `server CPU ${cpu.servers[kind].toFixed(2)} s, client ${cpu.client.toFixed(2)} s, other load ${cpu.backgroundCores.toFixed(2)} cores`;
}

/**
 * Runs `measure` against both registries, `rounds` times, alternating which goes first.
 * `meter.start()` may be called again when the timed part begins (after a warm-up).
 */
async function alternate<T>(
  label: string,
  rounds: number,
  targets: readonly Target[],
  measure: (target: Target, round: number, meter: Meter) => Promise<T>,
  describe: (value: T) => string,
): Promise<Record<Kind, Measured<T>[]>> {
  const results: Record<Kind, Measured<T>[]> = { distribution: [], custody: [] };
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const target of order) {
      const meter = new Meter(targets);
      const value = await measure(target, round, meter);
      const cpu = meter.stop();
      results[target.server.kind].push({ value, cpu });
      log(`${label} round ${round + 1}/${rounds} ${target.server.label}: ${describe(value)}; ${describeCpu(cpu, target.server.kind)}`);
    }
  }
  raw[label] = results;
  return results;
}

function perRound<T>(results: Record<Kind, Measured<T>[]>, pick: (value: T, cpu: number) => number): { distribution: number; custody: number } {
  return {
    distribution: median(results.distribution.map((entry) => pick(entry.value, entry.cpu.servers.distribution))),
    custody: median(results.custody.map((entry) => pick(entry.value, entry.cpu.servers.custody))),
  };
}

/** Adds the rate row, the p50/p99 latency row and the server-CPU-per-operation row for a load measurement. */
function loadRows(section: string, metric: string, unit: string, results: Record<Kind, Measured<LoadResult>[]>, note?: string): void {
  const rate = perRound(results, (result) => result.rate);
  const p50 = perRound(results, (result) => result.p50Ms);
  const p99 = perRound(results, (result) => result.p99Ms);
  const cpu = perRound(results, (result, seconds) => (seconds * 1e6) / result.ops);
  rows.push({ section, metric, unit, distribution: [rate.distribution], custody: [rate.custody], higherIsBetter: true, ...(note ? { note } : {}) });
  rows.push({ section, metric: `${metric} latency`, unit: 'ms p50 / p99', distribution: [p50.distribution, p99.distribution], custody: [p50.custody, p99.custody], higherIsBetter: false });
  rows.push({ section, metric: `${metric} server CPU`, unit: 'CPU µs/op', distribution: [cpu.distribution], custody: [cpu.custody], higherIsBetter: false });
}

/** Server CPU seconds per GiB moved, as a row. */
function cpuPerGiBRow(section: string, metric: string, results: Record<Kind, Measured<unknown>[]>, bytes: number): void {
  const cpu = perRound(results, (_value, seconds) => seconds / (bytes / GiB));
  rows.push({ section, metric: `${metric} server CPU`, unit: 'CPU s/GiB', distribution: [cpu.distribution], custody: [cpu.custody], higherIsBetter: false });
}

function describeLoad(result: LoadResult): string {
  return `${result.rate.toFixed(0)}/s over ${result.ops} ops, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms`;
}

function summarizeLoad(result: LoadResult): Record<string, number> {
  return { ops: result.ops, seconds: result.seconds, rate: result.rate, p50Ms: result.p50Ms, p90Ms: result.p90Ms, p99Ms: result.p99Ms, maxMs: result.maxMs, meanMs: result.meanMs };
}

// ---- content ---------------------------------------------------------------------------

interface BaseImage {
  readonly config: Buffer;
  readonly configDigest: string;
  readonly layer: Buffer;
  readonly layerDigest: string;
  readonly manifest: Buffer;
  readonly manifestDigest: string;
}

const BASE_REPO = 'bench/base';

function makeBaseImage(): BaseImage {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha256Digest(Buffer.from('bench'))] } }));
  const layer = randomBytes(32 * KiB);
  const configDigest = sha256Digest(config);
  const layerDigest = sha256Digest(layer);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.length },
      layers: [{ mediaType: OCI_LAYER, digest: layerDigest, size: layer.length }],
      annotations: { 'org.opencontainers.image.title': 'custody bench' },
    }),
  );
  return { config, configDigest, layer, layerDigest, manifest, manifestDigest: sha256Digest(manifest) };
}

async function pushBaseImage(client: OciClient, image: BaseImage): Promise<void> {
  await client.pushBlob(BASE_REPO, image.config, image.configDigest);
  await client.pushBlob(BASE_REPO, image.layer, image.layerDigest);
  const digest = await client.putManifest(BASE_REPO, 'latest', image.manifest);
  if (digest !== '' && digest !== image.manifestDigest) throw new Error(`manifest stored as ${digest}, expected ${image.manifestDigest}`);
}

/** Gives `repository` the base image's blobs by cross-repository mount (pushing them if a mount is refused). */
async function mountBase(client: OciClient, repository: string, image: BaseImage): Promise<void> {
  for (const [digest, content] of [
    [image.configDigest, image.config],
    [image.layerDigest, image.layer],
  ] as const) {
    if (!(await client.mountBlob(repository, digest, BASE_REPO))) await client.pushBlob(repository, content, digest);
  }
}

/** Deterministic incompressible-enough stream: a random 1 MiB block, each copy stamped with its index and a salt. */
function* generatedChunks(size: number, block: Buffer, salt: number, reuse: boolean): Generator<Buffer> {
  // Reusing one buffer is only safe when the consumer is done with a chunk before the
  // next is made (hashing); a socket write keeps a reference, so sending gets fresh ones.
  const scratch = reuse ? Buffer.allocUnsafe(block.length) : null;
  for (let offset = 0, index = 0; offset < size; offset += block.length, index++) {
    const length = Math.min(block.length, size - offset);
    const chunk = scratch ?? Buffer.allocUnsafe(block.length);
    block.copy(chunk);
    chunk.writeUInt32LE(index, 0);
    chunk.writeUInt32LE(salt, 4);
    yield length === chunk.length ? chunk : chunk.subarray(0, length);
  }
}

// ---- phases ----------------------------------------------------------------------------

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

async function catalogPhase(settings: Settings, targets: readonly Target[], image: BaseImage): Promise<void> {
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

/**
 * Lists once per server (checking every entry comes back, however many pages it takes),
 * then measures the listing at concurrency 1, alternating servers.
 */
async function measureListing(
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

async function tagsPhase(settings: Settings, targets: readonly Target[], image: BaseImage): Promise<void> {
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

async function manifestPhase(settings: Settings, targets: readonly Target[], image: BaseImage): Promise<void> {
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

/**
 * The cost of authentication: manifest GETs against a second Custody with token auth on
 * (bearer token; basic credentials on every request), next to the same load on the
 * Custody without auth, alternating round by round; and token issue requests/s.
 */
async function authPhase(settings: Settings, plain: RegistryProcess, parent: string, custodyDir: string, image: BaseImage): Promise<void> {
  const password = 'bench-admin-password';
  const secured = await startCustody(parent, 'custody-auth', custodyDir, { CUSTODY_AUTH_ENABLED: 'true', CUSTODY_ADMIN_PASSWORD: password });
  const basic = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
  const clients: OciClient[] = [];
  try {
    const admin = new OciClient(secured.url, 128, { authorization: basic });
    clients.push(admin);
    await pushBaseImage(admin, image);
    const tokenUrl = `${secured.url}/auth/token?service=custody&scope=${encodeURIComponent(`repository:${BASE_REPO}:pull`)}`;
    const tokenResponse = await fetch(tokenUrl, { headers: { authorization: basic } });
    if (tokenResponse.status !== 200) throw new Error(`token endpoint answered ${tokenResponse.status}`);
    const { token } = (await tokenResponse.json()) as { token: string };
    const bearer = new OciClient(secured.url, 128, { authorization: `Bearer ${token}` });
    const open = new OciClient(plain.url);
    clients.push(bearer, open);
    const section = 'authentication (Custody with token auth; baseline: Custody with auth off)';
    const concurrency = 16;
    const variants = [
      { metric: `manifest GET c=${concurrency}, bearer token`, client: bearer },
      { metric: `manifest GET c=${concurrency}, basic auth on every request`, client: admin },
    ];
    const measure = (client: OciClient): Promise<LoadResult> =>
      runLoad({ concurrency, durationMs: settings.manifestMs, warmupMs: settings.warmupMs, op: async () => void (await client.getManifest(BASE_REPO, 'latest')) });
    for (const variant of variants) {
      const off: number[] = [];
      const on: number[] = [];
      for (let round = 0; round < settings.rounds; round++) {
        // Alternate which goes first, as the side-by-side rows do.
        const order = round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const);
        for (const which of order) {
          const result = await measure(which === 'off' ? open : variant.client);
          (which === 'off' ? off : on).push(result.rate);
          log(`${variant.metric} round ${round + 1}/${settings.rounds} auth ${which}: ${describeLoad(result)}`);
        }
      }
      rows.push({ section, metric: variant.metric, unit: 'req/s', distribution: [median(off)], custody: [median(on)], higherIsBetter: true, baseline: 'Custody, auth off', note: 'target: overhead ≤ 10% (ratio ≥ 0.90) for bearer tokens' });
      raw[`auth ${variant.metric}`] = { off, on };
    }
    const issued: number[] = [];
    for (let round = 0; round < settings.rounds; round++) {
      const result = await runLoad({
        concurrency,
        durationMs: settings.manifestMs,
        warmupMs: settings.warmupMs,
        op: async () => {
          const response = await fetch(tokenUrl, { headers: { authorization: basic } });
          if (response.status !== 200) throw new Error(`token endpoint answered ${response.status}`);
          await response.arrayBuffer();
        },
      });
      issued.push(result.rate);
      log(`token issue c=${concurrency} round ${round + 1}/${settings.rounds}: ${describeLoad(result)}`);
    }
    rows.push({ section, metric: `token issue c=${concurrency} (GET /auth/token, basic, one scope)`, unit: 'req/s', distribution: [], custody: [median(issued)], higherIsBetter: null });
    raw['auth token issue'] = issued;
  } finally {
    for (const client of clients) client.close();
    await secured.stop();
  }
}

async function smallBlobPhase(settings: Settings, targets: readonly Target[]): Promise<void> {
  const section = `${formatBytes(settings.smallBlob)} blobs, concurrency ${settings.smallConcurrency}`;
  const repository = 'bench/small';
  const pools: Array<Array<{ data: Buffer; digest: string }>> = [];
  for (let round = 0; round < settings.rounds; round++) {
    pools.push(
      Array.from({ length: settings.smallPushCount }, () => {
        const data = randomBytes(settings.smallBlob);
        return { data, digest: sha256Digest(data) };
      }),
    );
  }
  const pushes = await alternate(
    'small push',
    settings.rounds,
    targets,
    async ({ client }, round, meter) => {
      const pool = pools[round]!;
      syncDisks();
      const result = await runLoad({ onStart: () => meter.start(), concurrency: settings.smallConcurrency, count: pool.length, op: async (index) => client.pushBlob(repository, pool[index]!.data, pool[index]!.digest) });
      return result;
    },
    describeLoad,
  );
  loadRows(section, `push (POST + PUT, distinct blobs) c=${settings.smallConcurrency}`, 'blobs/s', pushes);
  const pool = pools[0]!;
  for (const { server, client } of targets) {
    const body = await client.getBlob(repository, pool[0]!.digest);
    if (!body.equals(pool[0]!.data)) problem(`${server.label} returned different content for a small blob`);
  }
  const pulls = await alternate(
    'small pull',
    settings.rounds,
    targets,
    async ({ client }, _round, meter) =>
      runLoad({
        onStart: () => meter.start(),
        concurrency: settings.smallConcurrency,
        durationMs: settings.smallPullMs,
        warmupMs: settings.warmupMs,
        op: async (index) => {
          const entry = pool[((index % pool.length) + pool.length) % pool.length]!;
          const bytes = await client.pullBlob(repository, entry.digest);
          if (bytes !== settings.smallBlob) throw new Error(`pulled ${bytes} bytes, expected ${settings.smallBlob}`);
        },
      }),
    describeLoad,
  );
  loadRows(section, `pull (GET, distinct blobs) c=${settings.smallConcurrency}`, 'blobs/s', pulls);
}

async function bigBlobPhase(settings: Settings, targets: readonly Target[], ceiling: number | null): Promise<void> {
  const section = `${formatBytes(settings.bigBlob)} blob`;
  const repository = 'bench/big';
  log(`generating ${formatBytes(settings.bigBlob)} of random content`);
  const data = randomBytes(settings.bigBlob);
  const push: Record<'monolithic' | 'chunked', Record<Kind, Measured<number>[]>> = {
    monolithic: { distribution: [], custody: [] },
    chunked: { distribution: [], custody: [] },
  };
  let lastDigest = '';
  for (let round = 0; round < settings.rounds; round++) {
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const mode of ['monolithic', 'chunked'] as const) {
      // A new digest every round and mode: nothing can be deduplicated.
      data.writeUInt32LE(round, 0);
      data.write(mode === 'monolithic' ? 'MONO' : 'CHNK', 4, 'latin1');
      const digest = sha256Digest(data);
      lastDigest = digest;
      for (const { server, client } of order) {
        syncDisks();
        const meter = new Meter(targets);
        if (mode === 'monolithic') await client.pushBlob(repository, data, digest);
        else await client.pushBlobChunked(repository, data, digest, settings.chunk);
        const cpu = meter.stop();
        const rate = mibPerSecond(data.length, cpu.wallSeconds);
        push[mode][server.kind].push({ value: rate, cpu });
        log(`push ${mode} round ${round + 1}/${settings.rounds} ${server.label}: ${rate.toFixed(0)} MiB/s (${cpu.wallSeconds.toFixed(2)} s); ${describeCpu(cpu, server.kind)}`);
      }
    }
  }
  raw.bigPush = push;
  syncDisks();
  const pulls = await alternate(
    'big pull',
    settings.rounds,
    targets,
    async ({ client }) => {
      const started = performance.now();
      const bytes = await client.pullBlob(repository, lastDigest);
      const seconds = (performance.now() - started) / 1000;
      if (bytes !== data.length) throw new Error(`pulled ${bytes} bytes, expected ${data.length}`);
      return mibPerSecond(bytes, seconds);
    },
    (rate) => `${rate.toFixed(0)} MiB/s`,
  );
  const mono = perRound(push.monolithic, (rate) => rate);
  const chunked = perRound(push.chunked, (rate) => rate);
  rows.push({ section, metric: 'push monolithic (POST + PUT with body)', unit: 'MiB/s', distribution: [mono.distribution], custody: [mono.custody], higherIsBetter: true });
  cpuPerGiBRow(section, 'push monolithic', push.monolithic, data.length);
  rows.push({ section, metric: `push chunked (${formatBytes(settings.chunk)} PATCHes + PUT)`, unit: 'MiB/s', distribution: [chunked.distribution], custody: [chunked.custody], higherIsBetter: true });
  cpuPerGiBRow(section, 'push chunked', push.chunked, data.length);
  if (ceiling !== null) {
    rows.push({
      section,
      metric: 'push monolithic as share of the sha256 ceiling',
      unit: '%',
      distribution: [(100 * mono.distribution) / ceiling],
      custody: [(100 * mono.custody) / ceiling],
      higherIsBetter: true,
    });
    rows.push({
      section,
      metric: 'push chunked as share of the sha256 ceiling',
      unit: '%',
      distribution: [(100 * chunked.distribution) / ceiling],
      custody: [(100 * chunked.custody) / ceiling],
      higherIsBetter: true,
    });
  }
  const pull = perRound(pulls, (rate) => rate);
  rows.push({ section, metric: 'pull (GET, body discarded)', unit: 'MiB/s', distribution: [pull.distribution], custody: [pull.custody], higherIsBetter: true });
  cpuPerGiBRow(section, 'pull', pulls, data.length);
}

async function fanoutPhase(settings: Settings, targets: readonly Target[]): Promise<void> {
  const section = `${settings.fanoutConcurrency} concurrent pulls of one ${formatBytes(settings.fanoutBlob)} blob`;
  const repository = 'bench/fanout';
  const data = randomBytes(settings.fanoutBlob);
  const digest = sha256Digest(data);
  for (const { client } of targets) await client.pushBlob(repository, data, digest);
  syncDisks();
  const results = await alternate(
    'fanout',
    settings.rounds,
    targets,
    async ({ client }) => {
      const agent = newAgent(settings.fanoutConcurrency);
      try {
        const started = performance.now();
        const sizes = await Promise.all(Array.from({ length: settings.fanoutConcurrency }, () => client.pullBlob(repository, digest, { agent })));
        const seconds = (performance.now() - started) / 1000;
        for (const size of sizes) if (size !== data.length) throw new Error(`pulled ${size} bytes, expected ${data.length}`);
        return { seconds, rate: mibPerSecond(data.length * settings.fanoutConcurrency, seconds) };
      } finally {
        agent.destroy();
      }
    },
    (value) => `${value.rate.toFixed(0)} MiB/s aggregate, ${value.seconds.toFixed(2)} s wall`,
  );
  const rate = perRound(results, (value) => value.rate);
  const wall = perRound(results, (value) => value.seconds);
  rows.push({ section, metric: 'aggregate throughput', unit: 'MiB/s', distribution: [rate.distribution], custody: [rate.custody], higherIsBetter: true });
  rows.push({ section, metric: 'wall time', unit: 's', distribution: [wall.distribution], custody: [wall.custody], higherIsBetter: false });
  cpuPerGiBRow(section, 'pulls', results, data.length * settings.fanoutConcurrency);
}

// ---- client: `custody copy` vs `skopeo copy` ---------------------------------------------

const CLIENT_REPO = 'bench/client';
type Tool = 'skopeo' | 'custody';
const TOOLS: readonly Tool[] = ['skopeo', 'custody'];

async function clientPhase(settings: Settings, server: RegistryProcess, parent: string, custodyDir: string): Promise<void> {
  const skopeo = skopeoVersion();
  if (skopeo === null) {
    problem('phase client: skopeo is not installed (it is the baseline); skipped');
    return;
  }
  const work = join(parent, 'client');
  mkdirSync(work, { recursive: true });
  const registry = new URL(server.url).host;
  const client = new OciClient(server.url, 4);
  try {
    const source = join(work, 'source');
    log(`building a ${formatBytes(settings.clientImage)} 5-layer image; writing it as an OCI layout and pushing it to Custody (not timed)`);
    const image = await buildClientImage(settings.clientImage, source, client, CLIENT_REPO);
    log(`image ${image.manifestDigest}: layers ${image.layers.map((layer) => formatBytes(layer.size)).join(', ')}; ${skopeo}`);
    const section = `client: custody copy vs ${skopeo.replace(/ version /, ' ')}, ${formatBytes(image.totalBytes)} in 5 gzip layers, Custody registry ⇄ oci:`;

    // One run of one tool. skopeo gets a fresh blob-info cache each run (its default, as root,
    // is /var/lib/containers/cache, shared between runs): otherwise it would remember where it
    // saw each blob and mount instead of pushing.
    let runs = 0;
    type MeteredRun = ToolRun & { readonly serverCpu: number; readonly background: number };
    const copy = async (tool: Tool, src: string, dst: string, tls: readonly string[]): Promise<MeteredRun> => {
      const scratch = join(work, `scratch-${runs++}`);
      mkdirSync(scratch, { recursive: true });
      try {
        syncDisks();
        const before = { system: systemCpu(), server: processCpuSeconds(server.pid), bench: process.cpuUsage(), wall: performance.now() };
        const run = await runOne(tool, src, dst, tls, scratch);
        const wall = (performance.now() - before.wall) / 1000;
        const system = systemCpu();
        const usage = process.cpuUsage(before.bench);
        const serverCpu = processCpuSeconds(server.pid) - before.server;
        const ours = serverCpu + (usage.user + usage.system) / 1e6 + (Number.isFinite(run.cpuSeconds) ? run.cpuSeconds : 0);
        const steal = system.steal - before.system.steal;
        const background = Math.max(0, (system.busy - before.system.busy - steal - ours) / wall);
        backgroundSamples.push(background);
        stealSamples.push(steal / wall);
        return { ...run, serverCpu, background };
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    };
    const runOne = async (tool: Tool, src: string, dst: string, tls: readonly string[], scratch: string): Promise<ToolRun> => {
      {
        if (tool === 'custody') return await runTool(process.execPath, [join(custodyDir, 'bin', 'custody.js'), 'copy', src, dst, ...tls, '--quiet'], process.env, scratch);
        // As root, containers/image ignores XDG_DATA_HOME unless it is told it runs rootless.
        const env = { ...process.env, XDG_DATA_HOME: scratch, ...(process.getuid?.() === 0 ? { _CONTAINERS_ROOTLESS_UID: '65534' } : {}) };
        return await runTool('skopeo', ['--insecure-policy', 'copy', '--quiet', ...tls, src, dst], env, scratch);
      }
    };
    const describe = (run: MeteredRun): string =>
      `${run.seconds.toFixed(2)} s (${mibPerSecond(image.totalBytes, run.seconds).toFixed(0)} MiB/s), peak RSS ${(run.peakRss / MiB).toFixed(0)} MiB, client CPU ${run.cpuSeconds.toFixed(2)} s, registry CPU ${run.serverCpu.toFixed(2)} s, other load ${run.background.toFixed(2)} cores`;

    // Start-up alone (`copy --help`: the copy command loaded, nothing copied): the fixed cost
    // in every wall time below, and the RSS a copy starts from. (`custody --version` loads no
    // command, so it would understate both.)
    const startups: Record<Tool, ToolRun[]> = { skopeo: [], custody: [] };
    for (let round = 0; round < Math.max(3, settings.rounds); round++) {
      startups.custody.push(await runTool(process.execPath, [join(custodyDir, 'bin', 'custody.js'), 'copy', '--help'], process.env, work));
      startups.skopeo.push(await runTool('skopeo', ['copy', '--help'], process.env, work));
    }
    const startupRss = median(startups.custody.map((run) => run.peakRss));
    const largestLayer = Math.max(...image.layers.map((layer) => layer.size));

    const pulls: Record<Tool, MeteredRun[]> = { skopeo: [], custody: [] };
    const pushes: Record<Tool, MeteredRun[]> = { skopeo: [], custody: [] };
    for (let round = 0; round < settings.rounds; round++) {
      const order = round % 2 === 0 ? TOOLS : [...TOOLS].reverse();
      for (const tool of order) {
        const destination = join(work, `pull-${tool}-${round}`);
        const run = await copy(tool, `docker://${registry}/${CLIENT_REPO}:latest`, `oci:${destination}:latest`, ['--src-tls-verify=false']);
        const wrong = checkLayout(destination, image);
        if (wrong !== null) problem(`client pull with ${tool}: ${wrong}`);
        rmSync(destination, { recursive: true, force: true });
        pulls[tool].push(run);
        log(`client pull round ${round + 1}/${settings.rounds} ${tool}: ${describe(run)}`);
      }
    }
    for (let round = 0; round < settings.rounds; round++) {
      const order = round % 2 === 0 ? TOOLS : [...TOOLS].reverse();
      for (const tool of order) {
        // A repository of its own per run: the blobs are not in it, so every layer is uploaded.
        const repository = `bench/client-push-${tool}-${round}`;
        const run = await copy(tool, `oci:${source}:latest`, `docker://${registry}/${repository}:latest`, ['--dest-tls-verify=false']);
        const pushed = await client.getManifest(repository, 'latest');
        const digest = `sha256:${createHash('sha256').update(pushed.body).digest('hex')}`;
        if (digest !== image.manifestDigest) problem(`client push with ${tool}: ${repository}:latest is ${digest}, expected ${image.manifestDigest}`);
        pushes[tool].push(run);
        log(`client push round ${round + 1}/${settings.rounds} ${tool}: ${describe(run)}`);
      }
    }
    raw.client = { skopeo, image: { manifestDigest: image.manifestDigest, layers: image.layers }, startups, pulls, pushes };
    const startWall = { skopeo: median(startups.skopeo.map((run) => run.seconds)), custody: median(startups.custody.map((run) => run.seconds)) };
    const baseline = 'skopeo';
    rows.push({ section, metric: 'start-up only (copy --help) wall time', unit: 's', distribution: [startWall.skopeo], custody: [startWall.custody], higherIsBetter: false, baseline });
    rows.push({ section, metric: 'start-up only (copy --help) peak RSS', unit: 'MiB', distribution: [median(startups.skopeo.map((run) => run.peakRss / MiB))], custody: [startupRss / MiB], higherIsBetter: false, baseline });

    const med = (runs: Record<Tool, MeteredRun[]>, pick: (run: MeteredRun) => number): Record<Tool, number> => ({
      skopeo: median(runs.skopeo.map(pick)),
      custody: median(runs.custody.map(pick)),
    });
    for (const [name, runs] of [
      ['pull: registry → oci:', pulls],
      ['push: oci: → registry (new repository)', pushes],
    ] as const) {
      const wall = med(runs, (run) => run.seconds);
      const rss = med(runs, (run) => run.peakRss / MiB);
      const cpu = med(runs, (run) => run.cpuSeconds);
      const ratio = wall.custody / wall.skopeo;
      // Bounded: what a copy adds to custody's start-up RSS stays under the largest layer (a
      // buffered layer would add at least all of it). Judged only when the largest layer is
      // big enough (64 MiB+) to stand out from the runtime's own growth (V8 heap, buffers:
      // about 70-85 MiB whatever the layer size; see README).
      const maxRss = Math.max(...runs.custody.map((run) => run.peakRss));
      const growth = maxRss - startupRss;
      const judged = largestLayer >= 64 * MiB;
      const rssPass = growth < largestLayer;
      rows.push({ section, metric: `${name} wall time`, unit: 's', distribution: [wall.skopeo], custody: [wall.custody], higherIsBetter: false, baseline, note: `target ratio ≤ 1.0: ${ratio <= 1 ? 'PASS' : 'FAIL'}` });
      rows.push({
        section,
        metric: `${name} throughput`,
        unit: 'MiB/s',
        distribution: [mibPerSecond(image.totalBytes, wall.skopeo)],
        custody: [mibPerSecond(image.totalBytes, wall.custody)],
        higherIsBetter: true,
        baseline,
      });
      rows.push({
        section,
        metric: `${name} peak RSS`,
        unit: 'MiB',
        distribution: [rss.skopeo],
        custody: [rss.custody],
        higherIsBetter: false,
        baseline,
        note: `custody start-up + ${(growth / MiB).toFixed(0)} MiB; target < start-up + largest layer (${(largestLayer / MiB).toFixed(0)} MiB): ${judged ? (rssPass ? 'PASS' : 'FAIL') : 'not judged (layers < 64 MiB)'}`,
      });
      rows.push({ section, metric: `${name} client CPU (user + sys)`, unit: 's', distribution: [cpu.skopeo], custody: [cpu.custody], higherIsBetter: false, baseline });
      const serverCpu = med(runs, (run) => run.serverCpu);
      rows.push({ section, metric: `${name} registry (Custody server) CPU`, unit: 's', distribution: [serverCpu.skopeo], custody: [serverCpu.custody], higherIsBetter: false, baseline });
      if (judged && !rssPass) problem(`custody copy (${name}) peaked at ${(maxRss / MiB).toFixed(0)} MiB RSS, ${(growth / MiB).toFixed(0)} MiB over its start-up: a layer may be buffered`);
    }
  } finally {
    client.close();
    rmSync(work, { recursive: true, force: true });
  }
}

async function rssPhase(settings: Settings, parent: string, custodyDir: string): Promise<void> {
  const section = `Custody only: ${formatBytes(settings.rssBlob)} blob streamed through`;
  const repository = 'bench/huge';
  const block = randomBytes(MiB);
  const salt = 0x5eed;
  log(`hashing ${formatBytes(settings.rssBlob)} of generated content (client side, not timed)`);
  const hash = createHash('sha256');
  for (const chunk of generatedChunks(settings.rssBlob, block, salt, true)) hash.update(chunk);
  const digest = `sha256:${hash.digest('hex')}`;
  const server = await startCustody(parent, 'custody-rss', custodyDir);
  const client = new OciClient(server.url, 4);
  try {
    const baseline = readMemory(server.pid);
    syncDisks();
    let started = performance.now();
    await client.pushBlobStream(repository, generatedChunks(settings.rssBlob, block, salt, false), settings.rssBlob, digest);
    const pushSeconds = (performance.now() - started) / 1000;
    const afterPush = server.memory.peak();
    log(`pushed ${formatBytes(settings.rssBlob)} to a fresh Custody in ${pushSeconds.toFixed(1)} s; VmHWM ${(afterPush / MiB).toFixed(0)} MiB`);
    const verify = createHash('sha256');
    started = performance.now();
    const bytes = await client.pullBlob(repository, digest, { onData: (chunk) => verify.update(chunk) });
    const pullSeconds = (performance.now() - started) / 1000;
    if (bytes !== settings.rssBlob) problem(`Custody served ${bytes} bytes of the ${formatBytes(settings.rssBlob)} blob`);
    if (`sha256:${verify.digest('hex')}` !== digest) problem(`Custody served different content for the ${formatBytes(settings.rssBlob)} blob`);
    const peak = server.memory.peak();
    log(`pulled it back in ${pullSeconds.toFixed(1)} s (digest checked); VmHWM ${(peak / MiB).toFixed(0)} MiB`);
    const pass = peak < settings.rssTargetBytes;
    rows.push({ section, metric: 'RSS at start', unit: 'MiB', distribution: [], custody: [(baseline?.rss ?? Number.NaN) / MiB], higherIsBetter: null });
    rows.push({
      section,
      metric: 'peak RSS (VmHWM) during push + pull',
      unit: 'MiB',
      distribution: [],
      custody: [peak / MiB],
      higherIsBetter: null,
      note: `target < ${settings.rssTargetBytes / MiB} MiB: ${pass ? 'PASS' : 'FAIL'}`,
    });
    rows.push({ section, metric: 'push (monolithic, streamed from a generator)', unit: 'MiB/s', distribution: [], custody: [mibPerSecond(settings.rssBlob, pushSeconds)], higherIsBetter: null });
    rows.push({ section, metric: 'pull (client verifies the digest)', unit: 'MiB/s', distribution: [], custody: [mibPerSecond(settings.rssBlob, pullSeconds)], higherIsBetter: null });
    raw.rss = { baselineRss: baseline?.rss, peakAfterPush: afterPush, peak, pushSeconds, pullSeconds, pass };
    if (!pass) problem(`Custody peaked at ${(peak / MiB).toFixed(0)} MiB RSS streaming ${formatBytes(settings.rssBlob)}, over the ${settings.rssTargetBytes / MiB} MiB target`);
  } finally {
    client.close();
    server.memory.stop();
    await server.stop();
    removeTempDir(server.dataDir);
  }
}

/**
 * The image indexer (src/scan/indexer) on the shared bookworm-curl image and a
 * generated multi-layer gzip image: compressed input per second against plain `gzip -dc`
 * of the same layer blobs in the same run (rounds alternate the order), and the
 * indexer's peak RSS, measured in a child process of its own.
 */
async function indexPhase(settings: Settings, parent: string, custodyDir: string): Promise<void> {
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

// The match phase: the advisory database's bulk lookup that the matcher makes per image,
// 1,000 package names against one million affected records in SQLite (target < 1 s).
const MATCH_RECORDS = { default: 1_000_000, quick: 100_000 } as const;
const MATCH_PACKAGES = 1000;
const MATCH_TARGET_SECONDS = 1;

async function matchPhase(quick: boolean, rounds: number, parent: string): Promise<void> {
  const work = join(parent, 'match');
  mkdirSync(work, { recursive: true });
  const records = quick ? MATCH_RECORDS.quick : MATCH_RECORDS.default;
  const sql = new SqliteClient(join(work, 'vulndb.sqlite'));
  try {
    log(`generating an advisory database of ${records} affected records (not timed)`);
    const started = performance.now();
    const database = await generateAdvisoryDatabase(sql, records);
    log(`generated ${database.records} records (${database.advisories} advisories) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    await timeAffectedLookup(database, MATCH_PACKAGES); // warm the page cache and statements
    const seconds: number[] = [];
    let hits = 0;
    for (let round = 0; round < Math.max(rounds, 3); round++) {
      const timing = await timeAffectedLookup(database, MATCH_PACKAGES);
      seconds.push(timing.seconds);
      hits = timing.hits;
    }
    const value = median(seconds);
    const pass = value < MATCH_TARGET_SECONDS;
    rows.push({
      section: 'advisory matching (SQLite)',
      metric: `lookup of ${MATCH_PACKAGES} package names against ${database.records} affected records (${hits} hits)`,
      unit: 'ms',
      distribution: [],
      custody: [value * 1000],
      higherIsBetter: null,
      note: `target < ${MATCH_TARGET_SECONDS * 1000} ms: ${pass ? 'PASS' : 'FAIL'}`,
    });
    // The whole match: lookup plus every version decision, as a push or `custody scan` does.
    await timeFullMatch(database, MATCH_PACKAGES);
    const full: number[] = [];
    let findings = 0;
    for (let round = 0; round < Math.max(rounds, 3); round++) {
      const timing = await timeFullMatch(database, MATCH_PACKAGES);
      full.push(timing.seconds);
      findings = timing.findings;
    }
    const fullValue = median(full);
    const fullPass = fullValue < MATCH_TARGET_SECONDS;
    rows.push({
      section: 'advisory matching (SQLite)',
      metric: `full match of an image of ${MATCH_PACKAGES} packages against ${database.records} affected records (${findings} findings)`,
      unit: 'ms',
      distribution: [],
      custody: [fullValue * 1000],
      higherIsBetter: null,
      note: `target < ${MATCH_TARGET_SECONDS * 1000} ms: ${fullPass ? 'PASS' : 'FAIL'}`,
    });
    if (!fullPass) problem(`matching an image of ${MATCH_PACKAGES} packages took ${fullValue.toFixed(2)} s, over the ${MATCH_TARGET_SECONDS} s target`);
    raw.match = { records: database.records, advisories: database.advisories, packages: MATCH_PACKAGES, hits, seconds, pass, full, fullPass, findings };
    log(`lookup of ${MATCH_PACKAGES} packages: ${(value * 1000).toFixed(1)} ms (${hits} hits)`);
    if (!pass) problem(`the advisory lookup of ${MATCH_PACKAGES} packages took ${value.toFixed(2)} s, over the ${MATCH_TARGET_SECONDS} s target`);
  } finally {
    await sql.close();
    rmSync(work, { recursive: true, force: true });
  }
}

// The signatures phase: the client's cost of checking GPG signatures and opening a cosign
// key (bench/lib/signature-crypto.ts). `gpg --verify` of the same signature is the
// baseline column of the whole-command row.
async function signaturesPhase(rounds: number, parent: string, custodyDir: string): Promise<void> {
  if (!haveGpg()) {
    problem('phase signatures: gpg is not installed; skipped');
    return;
  }
  const work = join(parent, 'signatures');
  mkdirSync(work, { recursive: true });
  try {
    const fixture = await prepareSignatureFixture(work, custodyDir);
    const section = 'signature checks (client, one process per command)';
    const commands = await timeVerifyCommands(fixture, custodyDir, Math.max(rounds, 3));
    rows.push({ section, metric: 'custody verify dir: --key ring.gpg (GPG simple signing), whole command', unit: 'ms', distribution: [commands.gpg], custody: [commands.custody], higherIsBetter: false, baseline: 'gpg --verify' });
    rows.push({ section, metric: 'the same, CPU time (user + system)', unit: 'ms', distribution: [commands.gpgCpu], custody: [commands.custodyCpu], higherIsBetter: false, baseline: 'gpg --verify' });
    rows.push({ section, metric: 'custody verify --help (the verify command\'s modules loaded, nothing run)', unit: 'ms', distribution: [], custody: [commands.help], higherIsBetter: null });
    rows.push({ section, metric: 'custody verify --help, CPU time', unit: 'ms', distribution: [], custody: [commands.helpCpu], higherIsBetter: null });
    rows.push({ section, metric: 'custody version (the CLI\'s start-up floor)', unit: 'ms', distribution: [], custody: [commands.version], higherIsBetter: null });
    rows.push({ section, metric: 'custody version, CPU time', unit: 'ms', distribution: [], custody: [commands.versionCpu], higherIsBetter: null });
    const workers: WorkerResult[] = [];
    for (let round = 0; round < Math.max(rounds, 3); round++) workers.push(runCryptoWorker(fixture, custodyDir));
    const pick = (value: (result: WorkerResult) => number): number[] => [median(workers.map(value))];
    const inProcess = 'signature checks (in process, medians)';
    rows.push({ section: inProcess, metric: 'load the GPG verifier module (src/trust/gpg/openpgp.ts)', unit: 'ms', distribution: [], custody: pick((r) => r.importMs), higherIsBetter: null });
    rows.push({ section: inProcess, metric: 'the same, CPU time', unit: 'ms', distribution: [], custody: pick((r) => r.importCpuMs), higherIsBetter: null });
    rows.push({ section: inProcess, metric: 'first verification in a process (keyring parse + verify, library loading included)', unit: 'ms', distribution: [], custody: pick((r) => r.firstVerifyMs), higherIsBetter: null });
    rows.push({ section: inProcess, metric: 'the same, CPU time', unit: 'ms', distribution: [], custody: pick((r) => r.firstVerifyCpuMs), higherIsBetter: null });
    rows.push({ section: inProcess, metric: 'parse a 3-key keyring', unit: 'ms', distribution: [], custody: pick((r) => r.keyringParseMs), higherIsBetter: null });
    for (const algorithm of Object.keys(workers[0]!.verifyMs)) {
      rows.push({ section: inProcess, metric: `verify one simple-signing signature, ${algorithm} (warm)`, unit: 'ms', distribution: [], custody: pick((r) => r.verifyMs[algorithm]!), higherIsBetter: null });
    }
    rows.push({ section: inProcess, metric: 'open a cosign key file (scrypt N=2^15 + XSalsa20-Poly1305)', unit: 'ms', distribution: [], custody: pick((r) => r.cosignOpenMs), higherIsBetter: null });
    rows.push({ section: inProcess, metric: 'XSalsa20-Poly1305 open of a 138-byte key alone', unit: 'µs', distribution: [], custody: pick((r) => r.secretboxOpenMicros), higherIsBetter: null });
    raw.signatures = { commands, workers };
    log(`custody verify ${commands.custody.toFixed(0)} ms (gpg --verify ${commands.gpg.toFixed(0)} ms); first verification ${median(workers.map((r) => r.firstVerifyMs)).toFixed(1)} ms`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// ---- main ------------------------------------------------------------------------------

function environment(args: Args): Record<string, unknown> {
  const cpuList = cpus();
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: args.custodyDir, encoding: 'utf8' });
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src', 'bin'], { cwd: args.custodyDir, encoding: 'utf8' });
  const revision = git.status === 0 ? ` (${git.stdout.trim()}${dirty.status === 0 && dirty.stdout.trim() !== '' ? ' + uncommitted changes in src/bin' : ''})` : '';
  const pkg = JSON.parse(readFileSync(join(args.custodyDir, 'package.json'), 'utf8')) as { version: string };
  return {
    date: new Date().toISOString(),
    cpu: cpuList[0]?.model ?? 'unknown',
    cores: cpuList.length,
    memoryGiB: Math.round((totalmem() / GiB) * 10) / 10,
    kernel: release(),
    node: process.version,
    distribution: distributionVersion(),
    custody: `${pkg.version}${revision}`,
    mode: args.quick ? 'quick' : 'default',
    rounds: args.settings.rounds,
    distributionCache: args.distributionCache,
    custodyDir: args.custodyDir,
  };
}

async function main(): Promise<void> {
  installCleanupHandlers();
  const args = parseArgs(process.argv.slice(2));
  const { settings, phases } = args;
  const env = environment(args);
  log(`custody bench (${env.mode}, ${settings.rounds} round(s)); phases: ${[...phases].join(', ')}`);
  const parent = makeTempDir('custody-bench-');

  let ceiling: number | null = null;
  if (phases.has('sha')) {
    const sha = shaCeiling(settings);
    ceiling = sha.node;
    const section = 'sha256 single core (the ceiling for a verified push)';
    rows.push({ section, metric: `Node crypto, ${formatBytes(settings.shaBytes)} in 1 MiB updates, best of 3`, unit: 'MiB/s', distribution: [], custody: [sha.node], higherIsBetter: null });
    if (sha.openssl !== null) rows.push({ section, metric: 'openssl speed -evp sha256 -bytes 16384', unit: 'MiB/s', distribution: [], custody: [sha.openssl], higherIsBetter: null });
  }

  const serverPhases: Phase[] = ['catalog', 'tags', 'manifests', 'auth', 'small', 'big', 'fanout', 'client'];
  if (serverPhases.some((phase) => phases.has(phase))) {
    const distribution = await startDistribution(parent, { cache: args.distributionCache });
    const custody = await startCustody(parent, 'custody', args.custodyDir);
    log(`Distribution at ${distribution.url} (pid ${distribution.pid}), Custody at ${custody.url} (pid ${custody.pid})`);
    const targets: Target[] = [
      { server: distribution, client: new OciClient(distribution.url) },
      { server: custody, client: new OciClient(custody.url) },
    ];
    const image = makeBaseImage();
    for (const { client } of targets) await pushBaseImage(client, image);
    const phasePeaks: Array<{ phase: Phase; distribution: number; custody: number; exact: boolean }> = [];
    const run = async (phase: Phase, body: () => Promise<void>): Promise<void> => {
      if (!phases.has(phase)) return;
      const started = performance.now();
      log(`== ${phase}`);
      for (const { server } of targets) server.memory.beginPhase();
      try {
        await body();
      } catch (error) {
        problem(`phase ${phase} failed: ${(error as Error).stack ?? String(error)}`);
        for (const { server } of targets) {
          const tail = server.output().trim();
          if (tail) log(`${server.label} output (tail):\n${tail.slice(-2000)}`);
        }
      }
      const distributionPeak = distribution.memory.endPhase();
      const custodyPeak = custody.memory.endPhase();
      phasePeaks.push({ phase, distribution: distributionPeak.peak, custody: custodyPeak.peak, exact: distributionPeak.exact && custodyPeak.exact });
      log(`== ${phase} took ${((performance.now() - started) / 1000).toFixed(1)} s; peak RSS Distribution ${(distributionPeak.peak / MiB).toFixed(0)} MiB, Custody ${(custodyPeak.peak / MiB).toFixed(0)} MiB`);
    };
    // Catalog first: it needs exactly repoCount repositories, before other phases add theirs.
    await run('catalog', () => catalogPhase(settings, targets, image));
    await run('tags', () => tagsPhase(settings, targets, image));
    await run('manifests', () => manifestPhase(settings, targets, image));
    await run('auth', () => authPhase(settings, custody, parent, args.custodyDir, image));
    await run('small', () => smallBlobPhase(settings, targets));
    await run('big', () => bigBlobPhase(settings, targets, ceiling));
    await run('fanout', () => fanoutPhase(settings, targets));
    await run('client', () => clientPhase(settings, custody, parent, args.custodyDir));

    const peaks = { distribution: distribution.memory.peak(), custody: custody.memory.peak() };
    raw.peakRss = { ...peaks, phases: phasePeaks };
    rows.push({
      section: 'memory',
      metric: 'RSS just after startup',
      unit: 'MiB',
      distribution: [distribution.memory.startRss / MiB],
      custody: [custody.memory.startRss / MiB],
      higherIsBetter: false,
    });
    rows.push({
      section: 'memory',
      metric: 'of which anonymous (RssAnon: heaps and buffers, not the executable)',
      unit: 'MiB',
      distribution: [distribution.memory.startRssAnon / MiB],
      custody: [custody.memory.startRssAnon / MiB],
      higherIsBetter: false,
    });
    for (const entry of phasePeaks) {
      rows.push({
        section: 'memory',
        metric: `peak RSS during the ${entry.phase} phase${entry.exact ? '' : ' (VmHWM not resettable: cumulative)'}`,
        unit: 'MiB',
        distribution: [entry.distribution / MiB],
        custody: [entry.custody / MiB],
        higherIsBetter: false,
      });
    }
    rows.push({
      section: 'memory',
      metric: 'peak RSS (VmHWM) over the whole run',
      unit: 'MiB',
      distribution: [peaks.distribution / MiB],
      custody: [peaks.custody / MiB],
      higherIsBetter: false,
    });
    for (const { server, client } of targets) {
      client.close();
      server.memory.stop();
      await server.stop();
    }
  }

  if (phases.has('rss')) {
    log('== rss');
    try {
      await rssPhase(settings, parent, args.custodyDir);
    } catch (error) {
      problem(`phase rss failed: ${(error as Error).stack ?? String(error)}`);
    }
  }

  if (phases.has('index')) {
    log('== index');
    try {
      await indexPhase(settings, parent, args.custodyDir);
    } catch (error) {
      problem(`phase index failed: ${(error as Error).stack ?? String(error)}`);
    }
  }

  if (phases.has('match')) {
    log('== match');
    try {
      await matchPhase(args.quick, settings.rounds, parent);
    } catch (error) {
      problem(`phase match failed: ${(error as Error).stack ?? String(error)}`);
    }
  }

  if (phases.has('signatures')) {
    log('== signatures');
    try {
      await signaturesPhase(settings.rounds, parent, args.custodyDir);
    } catch (error) {
      problem(`phase signatures failed: ${(error as Error).stack ?? String(error)}`);
    }
  }

  const elapsed = (performance.now() - runStarted) / 1000;
  env.durationSeconds = Math.round(elapsed);
  const mean = (values: readonly number[]): number => (values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length);
  const background = {
    meanCores: mean(backgroundSamples),
    maxCores: backgroundSamples.length === 0 ? 0 : Math.max(...backgroundSamples),
    medianCores: median(backgroundSamples),
    stealMeanCores: mean(stealSamples),
  };
  env.otherLoad = background;
  const loadLine = `other load on the machine during measurements (CPU not used by the client or the registries): mean ${background.meanCores.toFixed(2)} cores, median ${(Number.isFinite(background.medianCores) ? background.medianCores : 0).toFixed(2)}, max ${background.maxCores.toFixed(2)}; hypervisor steal mean ${background.stealMeanCores.toFixed(2)} cores`;
  const noisy = background.meanCores > 0.2 || background.stealMeanCores > 0.1;
  const noiseWarning = noisy ? 'WARNING: the machine was busy with other work during this run; expect noise, compare CPU-per-op rows rather than rates.' : '';
  const text = renderText(rows);
  const heading = [
    `Custody vs CNCF Distribution — ${env.date}`,
    `machine: ${env.cpu}, ${env.cores} cores, ${env.memoryGiB} GiB RAM, Linux ${env.kernel}`,
    `Node ${env.node}; ${env.distribution}; Custody ${env.custody}${args.custodyDir === REPO_ROOT ? '' : ` from ${args.custodyDir}`}`,
    `mode: ${env.mode}, ${settings.rounds} round(s) per measurement (median reported), order alternating per round; run took ${env.durationSeconds} s`,
    loadLine,
    ...(noiseWarning ? [noiseWarning] : []),
  ];
  const ratioNote = 'ratio = Custody/Distribution; for rates > 1 means Custody is faster, for latencies, times and memory < 1 means Custody is better; "≈" is within ±5%.';
  process.stdout.write(`\n${heading.join('\n')}\n${ratioNote}\n\n${text}\n`);
  if (problems.length > 0) process.stdout.write(`\nPROBLEMS:\n${problems.map((entry) => `- ${entry.split('\n')[0]}`).join('\n')}\n`);

  if (args.output) {
    const directory = join(REPO_ROOT, 'bench', 'results');
    mkdirSync(directory, { recursive: true });
    const markdown = [
      '# Custody vs CNCF Distribution',
      '',
      `- date: ${env.date}`,
      `- machine: ${env.cpu}, ${env.cores} cores, ${env.memoryGiB} GiB RAM, Linux ${env.kernel}`,
      `- Node ${env.node}; ${env.distribution}; Custody ${env.custody}`,
      `- mode: ${env.mode}, ${settings.rounds} round(s) per measurement, median reported, order alternating per round; run took ${env.durationSeconds} s`,
      `- ${loadLine}`,
      ...(noiseWarning ? [`- **${noiseWarning}**`] : []),
      `- ${ratioNote}`,
      '',
      renderMarkdown(rows),
      '',
      ...(problems.length > 0 ? ['## Problems', '', ...problems.map((entry) => `- ${entry.split('\n')[0]}`), ''] : []),
    ].join('\n');
    writeFileSync(join(directory, 'latest.md'), markdown);
    const json = {
      environment: env,
      settings,
      rows: rows.map((row) => ({ ...row, ratio: ratios(row), verdict: verdict(row) })),
      problems,
      raw,
    };
    writeFileSync(join(directory, 'latest.json'), `${JSON.stringify(json, jsonReplacer, 2)}\n`);
    log(`wrote bench/results/latest.md and bench/results/latest.json`);
  }
  cleanupSync();
  process.exitCode = problems.length > 0 ? 1 : 0;
}

/** JSON without histograms' bucket arrays, and NaN as null. */
function jsonReplacer(key: string, value: unknown): unknown {
  if (key === 'histogram') return undefined;
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  return value;
}

await main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
  cleanupSync();
  process.exitCode = 1;
});
