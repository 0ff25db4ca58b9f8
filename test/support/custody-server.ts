// Starts `custody serve` as a real child process on a free loopback port, the way users
// run it, and stops it (gracefully, or with SIGKILL for crash tests).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { custodyBin } from './paths.ts';

export interface CustodyServer {
  readonly url: string;
  /** host:port, as image references want it. */
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly process: ChildProcess;
  /** Lines the server logged (JSON), for assertions. */
  readonly logs: string[];
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit: a crash. */
  kill(): Promise<void>;
  /** Stops the server and removes its data directory (unless it was given). */
  dispose(): Promise<void>;
}

export interface StartOptions {
  readonly dataDir?: string;
  readonly port?: number;
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Run with authentication on (the default of `custody serve`). Off unless asked: most
   * suites test the registry protocol itself; the access suites turn it on and log in as
   * `admin` with ADMIN_PASSWORD.
   */
  readonly auth?: boolean;
}

/** The administrator's password in servers started with `auth: true`. */
export const ADMIN_PASSWORD = 'admin-password-for-tests';

export async function startCustody(options: StartOptions = {}): Promise<CustodyServer> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'custody-test-')));
  const child = spawn(process.execPath, [custodyBin, 'serve', '--listen', `127.0.0.1:${options.port ?? 0}`, '--data-dir', dataDir, ...(options.args ?? [])], {
    env: {
      ...process.env,
      CUSTODY_AUTH_ENABLED: options.auth ? 'true' : 'false',
      // Tests never reach the publishers: a test that wants the updater points it at a mirror.
      CUSTODY_VULNDB_UPDATE: 'false',
      ...(options.auth ? { CUSTODY_ADMIN_PASSWORD: ADMIN_PASSWORD } : {}),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      logs.push(line);
      if (line.includes('"custody serving"')) resolve((JSON.parse(line) as { url: string }).url);
    });
    void exited.then((code) => reject(new Error(`custody serve exited with ${code} before serving: ${stderr.trim()}`)));
  });
  const port = Number(new URL(url).port);
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  return {
    url,
    host: `127.0.0.1:${port}`,
    port,
    dataDir,
    process: child,
    logs,
    stop,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async dispose() {
      await stop();
      if (ownDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs the custody CLI to completion, capturing its output. */
export function runCustody(args: readonly string[], options: { env?: Readonly<Record<string, string>>; input?: string; cwd?: string } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [custodyBin, ...args], { env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'], ...(options.cwd ? { cwd: options.cwd } : {}) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}
