// The proxy phase: Custody as a pull-through cache side by side with Distribution run as one
// (`proxy.remoteurl`), both in front of the same upstream (a third, plain Distribution).
// Every round pushes a new image and a new blob to the upstream, so the caches start cold:
// - a cold pull of the image (manifest, then config and layers at once) through each cache,
//   and the same pull straight from the upstream (the reference: at most 1.1x it);
// - the warm pull of the same image again;
// - time to the first byte of a cold blob;
// - 32 concurrent pulls of one cold blob.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { request as httpRequest, Agent } from 'node:http';
import { newAgent, OciClient, sha256Digest } from '../lib/oci-client.ts';
import { removeTempDir, startCustody, startDistribution, syncDisks, type RegistryProcess } from '../lib/processes.ts';
import { formatBytes, median, mibPerSecond } from '../lib/stats.ts';
import type { Settings } from '../settings.ts';
import { log, problem, raw, rows } from '../lib/measure.ts';

const NAMESPACE = 'cache/up';
const LAYERS = 4;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

interface Image {
  readonly repository: string;
  readonly manifest: Buffer;
  readonly blobs: readonly { digest: string; size: number }[];
}

async function pushImage(upstream: OciClient, repository: string, bytes: number): Promise<Image> {
  const blobs: { digest: string; size: number }[] = [];
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, salt: randomBytes(8).toString('hex') }));
  const layers = Array.from({ length: LAYERS }, (_, index) => randomBytes(Math.max(1, Math.round((bytes * (LAYERS - index)) / ((LAYERS * (LAYERS + 1)) / 2)))));
  for (const data of [config, ...layers]) {
    const digest = sha256Digest(data);
    await upstream.pushBlob(repository, data, digest);
    blobs.push({ digest, size: data.length });
  }
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...blobs[0]! },
      layers: blobs.slice(1).map((blob) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...blob })),
    }),
  );
  await upstream.putManifest(repository, 'v1', manifest);
  return { repository, manifest, blobs };
}

/** Pulls an image like a client: the manifest by tag, then every blob at once; seconds. */
async function pullImage(client: OciClient, repository: string, image: Image): Promise<number> {
  const started = performance.now();
  const manifest = await client.getManifest(repository, 'v1');
  if (manifest.status !== 200) throw new Error(`GET ${repository}:v1 answered ${manifest.status}`);
  const sizes = await Promise.all(image.blobs.map((blob) => client.pullBlob(repository, blob.digest)));
  const seconds = (performance.now() - started) / 1000;
  image.blobs.forEach((blob, index) => {
    if (sizes[index] !== blob.size) throw new Error(`${repository}: ${blob.digest} came with ${sizes[index]} bytes, not ${blob.size}`);
  });
  return seconds;
}

/** Milliseconds to the first body byte of a blob GET (the rest is read and dropped). */
function firstByteMs(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = httpRequest(url, { agent: false }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`GET ${url} answered ${res.statusCode}`));
      let first = 0;
      res.on('data', () => {
        first ||= performance.now() - started;
      });
      res.on('end', () => resolve(first));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

interface Round {
  readonly direct: number;
  readonly cold: number;
  readonly warm: number;
  readonly firstByteMs: number;
  readonly fanoutSeconds: number;
}

export async function proxyPhase(settings: Settings, parent: string, custodyDir: string): Promise<void> {
  const section = `pull-through cache: ${formatBytes(settings.proxyImage)} image in ${LAYERS} layers, ${formatBytes(settings.proxyBlob)} cold blob`;
  const upstream = await startDistribution(parent, { name: 'proxy-upstream' });
  const servers: RegistryProcess[] = [upstream];
  try {
    const distribution = await startDistribution(parent, { name: 'proxy-distribution', proxyRemoteUrl: upstream.url });
    servers.push(distribution);
    const custody = await startCustody(parent, 'proxy-custody', custodyDir, { CUSTODY_AUTH_ENABLED: 'false', CUSTODY_PROXY_UPSTREAM: `${NAMESPACE}=${upstream.url}` });
    servers.push(custody);
    log(`upstream ${upstream.url}, Distribution proxy ${distribution.url}, Custody cache ${custody.url}`);
    const upstreamClient = new OciClient(upstream.url);
    const caches = [
      { kind: 'distribution' as const, client: new OciClient(distribution.url), prefix: '' },
      { kind: 'custody' as const, client: new OciClient(custody.url), prefix: `${NAMESPACE}/` },
    ];
    const results: Record<'distribution' | 'custody', Round[]> = { distribution: [], custody: [] };
    for (let round = 0; round < settings.rounds; round++) {
      const order = round % 2 === 0 ? caches : [...caches].reverse();
      for (const cache of order) {
        const repository = `bench/proxy-${round}-${cache.kind}`;
        const image = await pushImage(upstreamClient, repository, settings.proxyImage);
        const blob = randomBytes(settings.proxyBlob);
        const blobDigest = sha256Digest(blob);
        await upstreamClient.pushBlob(repository, blob, blobDigest);
        const fan = randomBytes(settings.proxyBlob);
        const fanDigest = sha256Digest(fan);
        await upstreamClient.pushBlob(repository, fan, fanDigest);
        syncDisks();
        // The upstream's own pull first: it also warms the upstream's page cache for the cache.
        const direct = await pullImage(upstreamClient, repository, image);
        const cold = await pullImage(cache.client, `${cache.prefix}${repository}`, image);
        const warm = await pullImage(cache.client, `${cache.prefix}${repository}`, image);
        const ttfb = await firstByteMs(`${cache.kind === 'custody' ? custody.url : distribution.url}/v2/${cache.prefix}${repository}/blobs/${blobDigest}`);
        const agent: Agent = newAgent(settings.fanoutConcurrency);
        const started = performance.now();
        const sizes = await Promise.all(Array.from({ length: settings.fanoutConcurrency }, () => cache.client.pullBlob(`${cache.prefix}${repository}`, fanDigest, { agent })));
        const fanoutSeconds = (performance.now() - started) / 1000;
        agent.destroy();
        if (sizes.some((size) => size !== fan.length)) problem(`${cache.kind}: a fan-out pull came short`);
        const entry = { direct, cold, warm, firstByteMs: ttfb, fanoutSeconds };
        results[cache.kind].push(entry);
        log(`proxy round ${round + 1}/${settings.rounds} ${cache.kind}: direct ${direct.toFixed(2)} s, cold ${cold.toFixed(2)} s, warm ${warm.toFixed(2)} s, first byte ${ttfb.toFixed(0)} ms, ${settings.fanoutConcurrency} cold pulls ${fanoutSeconds.toFixed(2)} s`);
      }
    }
    for (const cache of caches) cache.client.close();
    upstreamClient.close();
    raw.proxy = results;
    const pick = (kind: 'distribution' | 'custody', field: keyof Round): number => median(results[kind].map((entry) => entry[field]));
    const row = (metric: string, unit: string, field: keyof Round, higherIsBetter: boolean, scale = (value: number) => value, note?: string): void => {
      rows.push({ section, metric, unit, distribution: [scale(pick('distribution', field))], custody: [scale(pick('custody', field))], higherIsBetter, ...(note ? { note } : {}) });
    };
    const toRate = (seconds: number): number => mibPerSecond(settings.proxyImage, seconds);
    const directMedian = median([...results.distribution, ...results.custody].map((entry) => entry.direct));
    const coldRatio = pick('custody', 'cold') / directMedian;
    row('cold pull through the cache', 'MiB/s', 'cold', true, toRate, `Custody ${coldRatio.toFixed(2)}x the direct pull's time (target ≤ 1.1x); Distribution ${(pick('distribution', 'cold') / directMedian).toFixed(2)}x`);
    rows.push({ section, metric: 'direct pull from the upstream (reference)', unit: 'MiB/s', distribution: [toRate(directMedian)], custody: [toRate(directMedian)], higherIsBetter: null, baseline: 'upstream' });
    row('warm pull', 'MiB/s', 'warm', true, toRate);
    row('time to the first byte of a cold blob', 'ms', 'firstByteMs', false);
    row(`${settings.fanoutConcurrency} concurrent pulls of one cold blob`, 's wall', 'fanoutSeconds', false);
    if (coldRatio > 1.1) problem(`Custody's cold pull through the cache took ${coldRatio.toFixed(2)}x the direct pull (target 1.1x)`);
  } finally {
    for (const server of servers.reverse()) {
      server.memory.stop();
      await server.stop();
      removeTempDir(server.dataDir);
    }
  }
}
