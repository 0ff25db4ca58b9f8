// Runs Debian's docker-registry (CNCF Distribution) on a free loopback port with
// filesystem storage in a temporary directory and deletes enabled, as the reference
// registry Custody must interoperate with.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, http, requireTool, startCommand, waitFor, type RunningCommand } from './tools.ts';

export interface DistributionRegistry {
  readonly url: string;
  /** host:port, as image references want it. */
  readonly host: string;
  readonly dir: string;
  /** Everything the registry printed so far. */
  logs(): string;
  /** Stops the registry and removes its storage. */
  dispose(): Promise<void>;
}

export interface DistributionOptions {
  /**
   * Configuration lines replacing the plain `http:` section (TLS, auth...), given the
   * host:port to listen on and the registry's temporary directory.
   */
  readonly extraConfig?: (host: string, dir: string) => Promise<string[]>;
  /** Tells when the registry serves; default: GET http://host/v2/ answers 200. */
  readonly ready?: (host: string) => Promise<boolean>;
}

export async function startDistribution(options: DistributionOptions = {}): Promise<DistributionRegistry> {
  const binary = requireTool('docker-registry');
  const dir = await mkdtemp(join(tmpdir(), 'custody-distribution-'));
  let lastError: unknown;
  // The port is free when picked but could be taken before the registry binds it: retry.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const config = join(dir, `config-${attempt}.yml`);
    await writeFile(
      config,
      [
        'version: 0.1',
        'log:',
        '  level: warn',
        '  accesslog:',
        '    disabled: true',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${join(dir, 'storage')}`,
        '  delete:',
        '    enabled: true',
        '  maintenance:',
        '    uploadpurging:',
        '      enabled: false',
        ...(options.extraConfig ? await options.extraConfig(host, dir) : ['http:', `  addr: ${host}`]),
        '',
      ].join('\n'),
    );
    const registry: RunningCommand = startCommand(binary, ['serve', config], { timeoutMs: 30 * 60_000 });
    let exited = false;
    void registry.done.then(
      () => (exited = true),
      () => (exited = true),
    );
    try {
      await waitFor(
        `docker-registry to serve on ${host}`,
        async () => {
          if (exited) throw new Error(`docker-registry exited: ${registry.output().stderr.slice(-2000)}`);
          return options.ready ? options.ready(host) : (await http(`http://${host}/v2/`, { timeoutMs: 2_000 })).status === 200;
        },
        15_000,
        50,
      );
    } catch (error) {
      lastError = error;
      registry.child.kill('SIGKILL');
      await registry.done.catch(() => {});
      continue;
    }
    return {
      url: `http://${host}`,
      host,
      dir,
      logs: () => {
        const { stdout, stderr } = registry.output();
        return stdout + stderr;
      },
      async dispose() {
        if (registry.child.exitCode === null && registry.child.signalCode === null) registry.child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const stopped = await Promise.race([
          registry.done.then(() => true, () => true),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 5_000))),
        ]);
        clearTimeout(timer);
        if (!stopped) {
          registry.child.kill('SIGKILL');
          await registry.done.catch(() => {});
        }
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error(`docker-registry did not start: ${(lastError as Error)?.message}`);
}
