// The client phase's pieces: a multi-layer test image (gzipped tar layers of random,
// incompressible content, a config whose rootfs.diff_ids match), written once as an OCI
// layout and pushed once to a registry; and running one copy tool (`custody copy` or
// `skopeo copy`) as a child process, measuring its wall time and peak RSS.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { performance } from 'node:perf_hooks';
import { OCI_CONFIG, OCI_MANIFEST, type OciClient } from './oci-client.ts';

export const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';

export interface ClientImageBlob {
  readonly digest: string;
  readonly size: number;
}

export interface ClientImage {
  readonly layers: readonly ClientImageBlob[];
  readonly config: ClientImageBlob;
  readonly manifest: Buffer;
  readonly manifestDigest: string;
  /** Sum of the layers' sizes. */
  readonly totalBytes: number;
}

/** A ustar header for one regular file (mode 0644, owner 0/0, mtime 0). */
function tarHeader(name: string, size: number): Buffer {
  const block = Buffer.alloc(512);
  const octal = (value: number, start: number, length: number): void => {
    block.write(`${value.toString(8).padStart(length - 1, '0')}\0`, start, length, 'latin1');
  };
  block.write(name, 0, 100, 'utf8');
  octal(0o644, 100, 8);
  octal(0, 108, 8);
  octal(0, 116, 8);
  octal(size, 124, 12);
  octal(0, 136, 12);
  block.fill(0x20, 148, 156); // checksum field counts as spaces
  block.write('0', 156, 1, 'latin1');
  block.write('ustar\0', 257, 6, 'latin1');
  block.write('00', 263, 2, 'latin1');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return block;
}

/** An uncompressed tar with one file of `size` random bytes (its digest is the diff_id). */
function randomLayer(name: string, size: number): Buffer {
  const padding = (512 - (size % 512)) % 512;
  return Buffer.concat([tarHeader(name, size), randomBytes(size), Buffer.alloc(padding + 1024)]);
}

function digestOf(data: Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Layer sizes: `total` split 6:4:3:2:1 (e.g. 96, 64, 48, 32 and 16 MiB of 256 MiB). */
export function layerSizes(total: number): number[] {
  const weights = [6, 4, 3, 2, 1];
  const sum = weights.reduce((a, b) => a + b, 0);
  return weights.map((weight) => Math.floor((total * weight) / sum));
}

/**
 * Builds the image (one layer in memory at a time), writes it as an OCI layout in
 * `layoutDir` (tag `latest`) and pushes it to `repository:latest` on `client`'s registry.
 */
export async function buildClientImage(total: number, layoutDir: string, client: OciClient, repository: string): Promise<ClientImage> {
  const blobsDir = join(layoutDir, 'blobs', 'sha256');
  mkdirSync(blobsDir, { recursive: true });
  const writeBlob = (data: Buffer): ClientImageBlob => {
    const digest = digestOf(data);
    writeFileSync(join(blobsDir, digest.slice('sha256:'.length)), data);
    return { digest, size: data.length };
  };
  const layers: ClientImageBlob[] = [];
  const diffIds: string[] = [];
  for (const [index, size] of layerSizes(total).entries()) {
    // gzip, not a plain tar: skopeo compresses uncompressed layers on the way to a registry
    // or an oci: layout, so plain tars would have it do different work (and change digests).
    const tar = randomLayer(`layer${index}.bin`, size);
    diffIds.push(digestOf(tar));
    const gzipped = gzipSync(tar, { level: 1 });
    const blob = writeBlob(gzipped);
    await client.pushBlob(repository, gzipped, blob.digest);
    layers.push(blob);
  }
  const configBytes = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: layers.map(() => ({ created_by: 'custody bench' })),
    }),
  );
  const config = writeBlob(configBytes);
  await client.pushBlob(repository, configBytes, config.digest);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size },
      layers: layers.map((layer) => ({ mediaType: OCI_LAYER_GZIP, digest: layer.digest, size: layer.size })),
    }),
  );
  const manifestBlob = writeBlob(manifest);
  await client.putManifest(repository, 'latest', manifest);
  writeFileSync(join(layoutDir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(layoutDir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ mediaType: OCI_MANIFEST, digest: manifestBlob.digest, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }],
    }),
  );
  return { layers, config, manifest, manifestDigest: manifestBlob.digest, totalBytes: layers.reduce((sum, layer) => sum + layer.size, 0) };
}

/** Checks that an OCI layout holds every blob of `image` with the right size; returns what is wrong, or null. */
export function checkLayout(layoutDir: string, image: ClientImage): string | null {
  const blobsDir = join(layoutDir, 'blobs', 'sha256');
  if (!existsSync(join(layoutDir, 'index.json'))) return `${layoutDir} has no index.json`;
  const present = new Set(readdirSync(blobsDir));
  for (const blob of [...image.layers, image.config]) {
    const name = blob.digest.slice('sha256:'.length);
    if (!present.has(name)) return `${layoutDir} lacks blob ${blob.digest}`;
    const size = statSync(join(blobsDir, name)).size;
    if (size !== blob.size) return `${layoutDir}: blob ${blob.digest} has ${size} bytes, expected ${blob.size}`;
  }
  return null;
}

// ---- running a tool ----------------------------------------------------------------------

export interface ToolRun {
  /** Wall time from spawn to exit, seconds. */
  readonly seconds: number;
  /** The tool process's peak RSS, bytes. */
  readonly peakRss: number;
  /** User + system CPU seconds of the tool process (NaN without GNU time). */
  readonly cpuSeconds: number;
}

const GNU_TIME = '/usr/bin/time';

export function haveGnuTime(): boolean {
  if (!existsSync(GNU_TIME)) return false;
  const probe = spawnSync(GNU_TIME, ['-f', '%M %U %S', 'true'], { encoding: 'utf8' });
  return probe.status === 0 && /^\d+ [\d.]+ [\d.]+\s*$/m.test(probe.stderr);
}

export function skopeoVersion(): string | null {
  const result = spawnSync('skopeo', ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : null;
}

/**
 * Runs `command args` to completion. Peak RSS comes from GNU time's %M (the child's
 * ru_maxrss) when available, else from polling /proc/PID/status VmHWM every 20 ms (the
 * last reading before exit; a peak in the final 20 ms could be missed).
 */
export async function runTool(command: string, args: readonly string[], env: NodeJS.ProcessEnv, scratchDir: string): Promise<ToolRun> {
  const useTime = haveGnuTimeCached();
  const rssFile = join(scratchDir, `rss-${process.pid}-${Math.random().toString(36).slice(2)}.txt`);
  const argv = useTime ? [GNU_TIME, '-f', '%M %U %S', '-o', rssFile, command, ...args] : [command, ...args];
  let stderr = '';
  let polled = 0;
  const started = performance.now();
  const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const timer = useTime
    ? undefined
    : setInterval(() => {
        try {
          const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
          if (match) polled = Math.max(polled, Number(match[1]) * 1024);
        } catch {
          // exited
        }
      }, 20);
  const code = await new Promise<number | null>((resolveExit, reject) => {
    child.once('error', reject);
    child.once('close', (status) => resolveExit(status));
  });
  const seconds = (performance.now() - started) / 1000;
  if (timer) clearInterval(timer);
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code}: ${stderr.trim().slice(-1500)}`);
  let peakRss = polled;
  let cpuSeconds = Number.NaN;
  if (useTime) {
    const [kib, user, system] = (readFileSync(rssFile, 'utf8').trim().split('\n').pop() ?? '').split(' ').map(Number);
    peakRss = Number.isFinite(kib) ? kib! * 1024 : Number.NaN;
    cpuSeconds = (user ?? Number.NaN) + (system ?? Number.NaN);
  }
  return { seconds, peakRss, cpuSeconds };
}

let gnuTime: boolean | undefined;
function haveGnuTimeCached(): boolean {
  gnuTime ??= haveGnuTime();
  return gnuTime;
}
