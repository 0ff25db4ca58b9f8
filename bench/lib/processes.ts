// The two registries under test as child processes, memory sampling from /proc, and the
// cleanup that removes every process and temporary directory the benchmark made, also
// on errors and Ctrl-C.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// ---- cleanup ---------------------------------------------------------------------------

const children = new Set<ChildProcess>();
const directories = new Set<string>();
let cleanedUp = false;

/** Kills every child still running and removes every temporary directory (synchronous: safe in 'exit'). */
export function cleanupSync(): void {
  if (cleanedUp) return;
  cleanedUp = true;
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  children.clear();
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
  directories.clear();
}

/** Installs the handlers that clean up on exit, Ctrl-C, SIGTERM and crashes. */
export function installCleanupHandlers(): void {
  process.on('exit', cleanupSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping servers and removing temporary files\n`);
      cleanupSync();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
  process.on('uncaughtException', (error) => {
    process.stderr.write(`bench: ${error.stack ?? String(error)}\n`);
    cleanupSync();
    process.exit(1);
  });
  process.on('unhandledRejection', (error) => {
    process.stderr.write(`bench: unhandled rejection: ${(error as Error)?.stack ?? String(error)}\n`);
    cleanupSync();
    process.exit(1);
  });
}

/** A new temporary directory, removed by cleanup. */
export function makeTempDir(prefix: string): string {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  directories.add(directory);
  return directory;
}

export function removeTempDir(directory: string): void {
  rmSync(directory, { recursive: true, force: true });
  directories.delete(directory);
}

// ---- /proc memory ----------------------------------------------------------------------

export interface MemoryStatus {
  /** Resident set size now, bytes. */
  readonly rss: number;
  /** Peak resident set size (high-water mark) over the process's life, bytes. */
  readonly hwm: number;
  /** The anonymous part of rss (heaps, buffers), bytes; the rest is mostly the executable's own pages. */
  readonly rssAnon: number;
}

export function readMemory(pid: number): MemoryStatus | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(text);
    return match ? Number(match[1]) * 1024 : Number.NaN;
  };
  return { rss: field('VmRSS'), hwm: field('VmHWM'), rssAnon: field('RssAnon') };
}

/**
 * Resets a process's VmHWM to its current RSS (Linux: "5" into /proc/PID/clear_refs), so
 * the next reading is the peak of one phase. False when the kernel refuses.
 */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * Samples a process's VmRSS periodically; VmHWM from the kernel is the authoritative peak.
 * Phases reset VmHWM, so the lifetime peak is kept here as the maximum of everything seen.
 */
export class MemorySampler {
  readonly pid: number;
  /** RSS when sampling began (just after startup). */
  readonly startRss: number;
  /** Its anonymous part (without the mapped executable and libraries). */
  readonly startRssAnon: number;
  private lifetimePeak = 0;
  private phasePeak = 0;
  private phaseResetWorked = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(pid: number, intervalMs = 100) {
    this.pid = pid;
    const initial = readMemory(pid);
    this.startRss = initial?.rss ?? Number.NaN;
    this.startRssAnon = initial?.rssAnon ?? Number.NaN;
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
    this.sample();
  }

  sample(): MemoryStatus | null {
    const status = readMemory(this.pid);
    if (status) {
      const seen = Math.max(Number.isFinite(status.rss) ? status.rss : 0, Number.isFinite(status.hwm) ? status.hwm : 0);
      if (seen > this.lifetimePeak) this.lifetimePeak = seen;
      if (Number.isFinite(status.rss) && status.rss > this.phasePeak) this.phasePeak = status.rss;
    }
    return status;
  }

  /** Starts a phase: VmHWM is reset so endPhase() reports this phase's own peak. */
  beginPhase(): void {
    this.sample();
    this.phaseResetWorked = resetPeak(this.pid);
    this.phasePeak = 0;
    this.sample();
  }

  /** The peak RSS since beginPhase() (bytes), and whether it is the phase's own (VmHWM reset worked). */
  endPhase(): { peak: number; exact: boolean } {
    const status = this.sample();
    const hwm = status && Number.isFinite(status.hwm) ? status.hwm : 0;
    return { peak: Math.max(this.phasePeak, this.phaseResetWorked ? hwm : 0), exact: this.phaseResetWorked };
  }

  /** Peak RSS over the process's life as far as this sampler saw it (VmHWM readings included). */
  peak(): number {
    this.sample();
    return this.lifetimePeak;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

// ---- servers ---------------------------------------------------------------------------

export interface RegistryProcess {
  readonly kind: 'distribution' | 'custody';
  readonly label: string;
  readonly url: string;
  readonly pid: number;
  readonly dataDir: string;
  readonly memory: MemorySampler;
  /** Output the process printed (tail), for error reports. */
  output(): string;
  /** SIGTERM, wait (then SIGKILL after a timeout). */
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

function track(child: ChildProcess, label: string): { output: () => string; exited: Promise<void> } {
  children.add(child);
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-8000);
  };
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolveExit) =>
    child.once('exit', () => {
      children.delete(child);
      resolveExit();
    }),
  );
  child.once('error', (error) => {
    tail += `\n${label}: ${error.message}`;
  });
  return { output: () => tail, exited: exited.then(() => undefined) };
}

async function stopChild(child: ChildProcess, exited: Promise<void>, timeoutMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const stopped = await Promise.race([exited.then(() => true), new Promise<boolean>((done) => setTimeout(() => done(false), timeoutMs).unref())]);
  if (!stopped) {
    child.kill('SIGKILL');
    await exited;
  }
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((done) => setTimeout(done, 50));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
}

async function ping(url: string): Promise<boolean> {
  const response = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(2000) });
  await response.arrayBuffer();
  // 401: a Custody with authentication on is up and asking for credentials.
  return response.status === 200 || response.status === 401;
}

export interface DistributionOptions {
  /** Enable Distribution's in-memory blob descriptor cache (off by default: Custody has none). */
  readonly cache?: boolean;
  /** Storage lines (indented under `storage:`) instead of the filesystem, e.g. the s3 driver's. */
  readonly storage?: readonly string[];
  /** Run as a pull-through cache of this registry (`proxy.remoteurl`). */
  readonly proxyRemoteUrl?: string;
  /** Directory and config name, for a second Distribution in one run. */
  readonly name?: string;
}

export function distributionVersion(): string {
  const result = spawnSync('docker-registry', ['--version'], { encoding: 'utf8' });
  return (result.stdout || result.stderr || 'unknown').trim();
}

export async function startDistribution(parent: string, options: DistributionOptions = {}): Promise<RegistryProcess> {
  const dataDir = join(parent, options.name ?? 'distribution');
  mkdirSync(dataDir, { recursive: true });
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const config = join(parent, `${options.name ?? 'distribution'}.yml`);
    writeFileSync(
      config,
      [
        'version: 0.1',
        'log:',
        '  level: error',
        '  accesslog:',
        '    disabled: true',
        'storage:',
        ...(options.storage ?? ['  filesystem:', `    rootdirectory: ${join(dataDir, 'storage')}`]),
        '  delete:',
        '    enabled: true',
        // Filesystem storage never redirects, but say so explicitly.
        '  redirect:',
        '    disable: true',
        '  maintenance:',
        '    uploadpurging:',
        '      enabled: false',
        ...(options.cache ? ['  cache:', '    blobdescriptor: inmemory'] : []),
        ...(options.proxyRemoteUrl ? ['proxy:', `  remoteurl: ${options.proxyRemoteUrl}`] : []),
        'http:',
        `  addr: 127.0.0.1:${port}`,
        'catalog:',
        '  maxentries: 1000',
        '',
      ].join('\n'),
    );
    // AWS_CA_BUNDLE (set on some machines) makes Distribution 2.8's s3 driver panic at start
    // ("HTTPClient's transport unsupported type"); the loopback S3 server needs no CA.
    const env = { ...process.env };
    if (options.storage) delete env.AWS_CA_BUNDLE;
    const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'], env });
    const { output, exited } = track(child, 'docker-registry');
    const url = `http://127.0.0.1:${port}`;
    let dead = false;
    void exited.then(() => (dead = true));
    try {
      await waitUntil(`docker-registry on ${url}`, async () => {
        if (dead) throw new Error(`exited: ${output().slice(-1000)}`);
        return ping(url);
      }, 20_000);
    } catch (error) {
      lastError = error;
      await stopChild(child, exited, 2000);
      continue;
    }
    const pid = child.pid!;
    return { kind: 'distribution', label: 'Distribution', url, pid, dataDir, memory: new MemorySampler(pid), output, stop: () => stopChild(child, exited) };
  }
  throw new Error(`docker-registry did not start: ${(lastError as Error)?.message}`);
}

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

/** Custody for the side-by-side rows: authentication off, like the Distribution it is compared with. */
export async function startCustody(parent: string, name = 'custody', root = REPO_ROOT, env: Readonly<Record<string, string>> = { CUSTODY_AUTH_ENABLED: 'false' }): Promise<RegistryProcess> {
  const dataDir = join(parent, name);
  mkdirSync(dataDir, { recursive: true });
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    // process.execPath: the Node 24 running the benchmark, so the PID is Custody's own.
    const child = spawn(process.execPath, [join(root, 'bin', 'custody.js'), 'serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--log-level', 'warn'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: root,
      // The advisory updater stays off: a benchmark never reaches the publishers.
      env: { ...process.env, CUSTODY_VULNDB_UPDATE: 'false', ...env },
    });
    const { output, exited } = track(child, 'custody');
    // At --log-level warn Custody does not print its "custody serving" line (that is info):
    // readiness is the API answering.
    let logged = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      logged = (logged + chunk.toString('utf8')).slice(-8000);
    });
    const url = `http://127.0.0.1:${port}`;
    let dead = false;
    void exited.then(() => (dead = true));
    try {
      await waitUntil(`custody on ${url}`, async () => {
        if (dead) throw new Error(`exited: ${output().slice(-1000)} ${logged.slice(-1000)}`);
        return ping(url);
      }, 30_000);
    } catch (error) {
      lastError = error;
      await stopChild(child, exited, 2000);
      continue;
    }
    const pid = child.pid!;
    return { kind: 'custody', label: 'Custody', url, pid, dataDir, memory: new MemorySampler(pid), output: () => output() + logged, stop: () => stopChild(child, exited) };
  }
  throw new Error(`custody did not start: ${(lastError as Error)?.message}`);
}

/** `sync`: flushes dirty pages so one registry's writeback does not land in the other's timing. */
export function syncDisks(): void {
  spawnSync('sync', [], { stdio: 'ignore' });
}

// ---- CPU accounting ----------------------------------------------------------------------

let clockTicks: number | undefined;

function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    const result = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const value = Number(result.stdout?.trim());
    clockTicks = Number.isFinite(value) && value > 0 ? value : 100;
  }
  return clockTicks;
}

/** User + system CPU seconds a process (all its threads) has used, or NaN once it is gone. */
export function processCpuSeconds(pid: number): number {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return Number.NaN;
  }
  // Fields after the command name (which may contain spaces) start at field 3 (state).
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
}

export interface SystemCpu {
  /** CPU seconds spent busy, summed over all cores (user, nice, system, irq, softirq, steal). */
  readonly busy: number;
  /** CPU seconds the hypervisor gave to someone else (steal). */
  readonly steal: number;
}

export function systemCpu(): SystemCpu {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number) as number[];
  const ticks = ticksPerSecond();
  return { busy: ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / ticks, steal: (steal ?? 0) / ticks };
}
