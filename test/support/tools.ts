// External tools for interoperability tests: find them (failing loudly when one is
// missing: these tests prove Custody against real clients and must never skip), run them
// with a timeout while capturing their output, and speak plain HTTP without a pool.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

const INSTALL_HINTS: Readonly<Record<string, string>> = {
  skopeo: 'apt-get install skopeo',
  podman: 'apt-get install podman',
  'docker-registry': 'apt-get install docker-registry',
  curl: 'apt-get install curl',
  htpasswd: 'apt-get install apache2-utils',
  umoci: 'apt-get install umoci',
  openssl: 'apt-get install openssl',
  haproxy: 'apt-get install haproxy',
};

/** The absolute path of `name` on PATH; throws (never skips) when it is not installed. */
export function requireTool(name: string): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  const hint = INSTALL_HINTS[name] ? ` (install it: ${INSTALL_HINTS[name]})` : '';
  throw new Error(`required tool "${name}" is not installed or not on PATH${hint}; these interoperability tests need it and do not skip`);
}

export interface RunOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /** Kills the command (SIGKILL) after this long; default 120 s. */
  readonly timeoutMs?: number;
  readonly input?: string;
}

export interface RunResult {
  readonly command: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

export interface RunningCommand {
  readonly child: ChildProcess;
  /** Output so far. */
  readonly output: () => { stdout: string; stderr: string };
  readonly done: Promise<RunResult>;
}

function describe(command: string, args: readonly string[]): string {
  return [command, ...args].map((part) => (/^[\w@%+=:,./-]+$/.test(part) ? part : JSON.stringify(part))).join(' ');
}

/** Starts a command in the background, capturing its output; `done` settles when it exits. */
export function startCommand(command: string, args: readonly string[], options: RunOptions = {}): RunningCommand {
  const shown = describe(command, args);
  const child = spawn(command, args, {
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin!.on('error', () => {});
  child.stdin!.end(options.input ?? '');
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs ?? 120_000);
  const done = new Promise<RunResult>((resolve, reject) => {
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${shown}: ${error.message}`, { cause: error }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ command: shown, code, signal, stdout, stderr, timedOut });
    });
  });
  return { child, output: () => ({ stdout, stderr }), done };
}

/** Runs a command to completion (killed after the timeout), capturing its output. */
export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return startCommand(command, args, options).done;
}

/** Explains a finished command for assertion messages. */
export function explain(result: RunResult): string {
  const why = result.timedOut ? 'timed out' : result.signal ? `was killed by ${result.signal}` : `exited with ${result.code}`;
  return `${result.command} ${why}\n--- stdout ---\n${result.stdout.slice(-4000)}\n--- stderr ---\n${result.stderr.slice(-4000)}`;
}

/** Runs a command and throws (with its output) unless it exits 0. */
export async function runOk(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await run(command, args, options);
  if (result.code !== 0) throw new Error(explain(result));
  return result;
}

/** A loopback TCP port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface HttpResult {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json<T = unknown>(): T | undefined;
}

export interface HttpOptions {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string | number>>;
  readonly body?: Buffer | string;
  readonly timeoutMs?: number;
}

/**
 * One HTTP/1.1 request on a fresh connection (no keep-alive pool: servers in these tests
 * get killed and restarted, and a pooled socket to a dead process would fail a request).
 */
export function http(url: string, options: HttpOptions = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : Buffer.from(options.body);
    const headers: Record<string, string | number> = { ...options.headers };
    if (body !== undefined && !Object.keys(headers).some((name) => name.toLowerCase() === 'content-length')) headers['Content-Length'] = body.length;
    const req = httpRequest(url, { method: options.method ?? 'GET', headers, agent: false, timeout: options.timeoutMs ?? 60_000 }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const content = Buffer.concat(parts);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: content,
          json<T>() {
            try {
              return JSON.parse(content.toString('utf8')) as T;
            } catch {
              return undefined;
            }
          },
        });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${options.method ?? 'GET'} ${url} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, intervalMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export interface ContainersConfig {
  /** Directory holding the configuration files. */
  readonly dir: string;
  /** Environment pointing containers/image tools (skopeo, podman) at these files only. */
  readonly env: Readonly<Record<string, string>>;
  /** A signature policy accepting anything (skopeo --policy, podman --signature-policy). */
  readonly policy: string;
}

/**
 * Writes registries.conf, an empty auth file, a permissive signature policy and a
 * containers.conf into `dir`, so skopeo and podman ignore the machine's and the user's
 * configuration (no search registries, no stored credentials, no mirrors).
 */
export async function containersConfig(dir: string): Promise<ContainersConfig> {
  await mkdir(dir, { recursive: true });
  const registries = join(dir, 'registries.conf');
  const auth = join(dir, 'auth.json');
  const policy = join(dir, 'policy.json');
  const containers = join(dir, 'containers.conf');
  await writeFile(registries, 'unqualified-search-registries = []\nshort-name-mode = "permissive"\n');
  await writeFile(auth, JSON.stringify({ auths: {} }), { mode: 0o600 });
  await writeFile(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  await writeFile(containers, '[engine]\nevents_logger = "file"\ncgroup_manager = "cgroupfs"\n');
  return {
    dir,
    policy,
    env: {
      CONTAINERS_REGISTRIES_CONF: registries,
      REGISTRY_AUTH_FILE: auth,
      CONTAINERS_CONF: containers,
    },
  };
}
