// A throwaway GnuPG home for tests: real gpg, keys made on the spot.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir } from 'node:fs/promises';
import { requireTool, runOk, type RunResult } from './tools.ts';

export interface GpgHome {
  readonly home: string;
  gpg(args: readonly string[]): Promise<RunResult>;
  generate(uid: string, algorithm: string, usage: string, expire: string): Promise<string>;
  exportKeys(fingerprints: readonly string[], armor?: boolean): Promise<Buffer>;
}

export async function gpgHome(dir: string): Promise<GpgHome> {
  const gpgBin = requireTool('gpg');
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o700);
  const gpg = (args: readonly string[]): Promise<RunResult> => runOk(gpgBin, ['--homedir', dir, '--batch', '--no-tty', ...args], { env: { GNUPGHOME: dir } });
  return {
    home: dir,
    gpg,
    async generate(uid, algorithm, usage, expire) {
      await gpg(['--passphrase', '', '--pinentry-mode', 'loopback', '--quick-gen-key', uid, algorithm, usage, expire]);
      const listing = await gpg(['--with-colons', '--list-keys', uid]);
      const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(listing.stdout);
      assert.ok(fpr, listing.stdout);
      return fpr[1]!;
    },
    async exportKeys(fingerprints, armor = false) {
      return execFileSync(gpgBin, ['--homedir', dir, '--batch', ...(armor ? ['--armor'] : []), '--export', ...fingerprints], { env: { ...process.env, GNUPGHOME: dir } });
    },
  };
}

