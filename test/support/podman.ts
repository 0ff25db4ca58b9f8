// podman isolated in a directory of the test's own: vfs storage (works as root without
// fuse), its own runroot, temporary directory and containers configuration, so tests
// never touch the machine's images or configuration.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { containersConfig, requireTool, type ContainersConfig } from './tools.ts';

export interface IsolatedPodman {
  readonly bin: string;
  /** Arguments to put before every podman subcommand. */
  readonly globals: string[];
  readonly env: Record<string, string>;
  readonly config: ContainersConfig;
}

export async function isolatedPodman(base: string): Promise<IsolatedPodman> {
  const bin = requireTool('podman');
  const config = await containersConfig(join(base, 'config'));
  const storage = join(base, 'storage');
  const runroot = join(base, 'run');
  const temporary = join(base, 'tmp');
  await mkdir(temporary, { recursive: true });
  const storageConf = join(config.dir, 'storage.conf');
  await writeFile(storageConf, `[storage]\ndriver = "vfs"\ngraphroot = "${storage}"\nrunroot = "${runroot}"\n`);
  return {
    bin,
    config,
    env: { ...config.env, CONTAINERS_STORAGE_CONF: storageConf, TMPDIR: temporary },
    globals: ['--root', storage, '--runroot', runroot, '--storage-driver', 'vfs', '--tmpdir', join(base, 'libpod-tmp'), '--cgroup-manager=cgroupfs', '--events-backend=file'],
  };
}
