// The signature-crypto phase: what the client pays for checking signatures. A throwaway
// GnuPG home makes Ed25519, RSA-2048 and ECDSA P-256 keys and signs a dir: image with
// each (as skopeo would), a cosign key file is written, then:
//   - `custody verify dir:… --key ring.gpg` as a whole command, against `gpg --verify` of
//     the same signature (the baseline column), and `custody verify --help` (the command's
//     module graph loaded, nothing run: the start-up cost the lazy imports protect);
//   - in fresh processes (signature-crypto-worker.ts): the verifier module's load time, a
//     first verification (cold: includes loading the OpenPGP library), warm verifications
//     per key type, and opening the cosign key (scrypt plus XSalsa20-Poly1305).
// With --custody-dir the same measurements run another checkout (before/after a patch).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTool } from './client-copy.ts';
import { median } from './stats.ts';

export interface SignatureFixture {
  readonly dir: string;
  readonly gpgHome: string;
  /** dir: images, one per key type, each with signature-1 by that key. */
  readonly images: Readonly<Record<'ed25519' | 'rsa2048' | 'nistp256', string>>;
  readonly keyring: string;
  readonly cosignKey: string;
  readonly cosignPassword: string;
}

export interface WorkerResult {
  readonly importMs: number;
  readonly firstVerifyMs: number;
  /** CPU time (user + system) of the same two steps: steadier than wall time on a busy machine. */
  readonly importCpuMs: number;
  readonly firstVerifyCpuMs: number;
  readonly keyringParseMs: number;
  readonly verifyMs: Readonly<Record<string, number>>;
  readonly cosignOpenMs: number;
  readonly secretboxOpenMicros: number;
}

export function haveGpg(): boolean {
  return spawnSync('gpg', ['--version'], { encoding: 'utf8' }).status === 0;
}

function gpg(home: string, args: readonly string[], input?: Buffer): Buffer {
  const result = spawnSync('gpg', ['--homedir', home, '--batch', '--no-tty', ...args], { input, env: { ...process.env, GNUPGHOME: home } });
  if (result.status !== 0) throw new Error(`gpg ${args.join(' ')}: ${result.stderr.toString().trim()}`);
  return result.stdout;
}

/** Keys, signed dir: images and a cosign key under `dir` (not timed). */
export async function prepareSignatureFixture(dir: string, custodyDir: string): Promise<SignatureFixture> {
  const gpgHome = join(dir, 'gnupg');
  mkdirSync(gpgHome, { recursive: true });
  chmodSync(gpgHome, 0o700);
  const images: Record<string, string> = {};
  const fingerprints: string[] = [];
  for (const algorithm of ['ed25519', 'rsa2048', 'nistp256'] as const) {
    const uid = `Bench ${algorithm} <${algorithm}@bench.test>`;
    gpg(gpgHome, ['--passphrase', '', '--pinentry-mode', 'loopback', '--quick-gen-key', uid, algorithm, 'sign', 'never']);
    const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(gpg(gpgHome, ['--with-colons', '--list-keys', uid]).toString())![1]!;
    fingerprints.push(fingerprint);
    const image = join(dir, `image-${algorithm}`);
    mkdirSync(image, { recursive: true });
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'0'.repeat(64)}`, size: 2 }, layers: [], annotations: { algorithm } }));
    writeFileSync(join(image, 'manifest.json'), manifest);
    const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
    // The simple-signing payload as containers/image writes it (keys sorted, no spaces).
    const payload = Buffer.from(`{"critical":{"identity":{"docker-reference":"bench.test/app:1"},"image":{"docker-manifest-digest":"${digest}"},"type":"atomic container signature"},"optional":{"creator":"bench","timestamp":${Math.floor(Date.now() / 1000)}}}`);
    writeFileSync(join(image, 'signature-1'), gpg(gpgHome, ['--sign', '--local-user', fingerprint, '--output', '-'], payload));
    images[algorithm] = image;
  }
  const keyring = join(dir, 'ring.gpg');
  writeFileSync(keyring, gpg(gpgHome, ['--export', ...fingerprints]));
  // A cosign key file written by the checkout under test (the format both versions read).
  const cosignPassword = 'bench password';
  const { generateKeyPair } = (await import(join(custodyDir, 'src', 'trust', 'sigstore', 'keys.ts'))) as {
    generateKeyPair(password: Buffer, options: { algorithm: 'ecdsa-p256' }): Promise<{ privateKeyPem: string }>;
  };
  const cosignKey = join(dir, 'cosign.key');
  writeFileSync(cosignKey, (await generateKeyPair(Buffer.from(cosignPassword), { algorithm: 'ecdsa-p256' })).privateKeyPem, { mode: 0o600 });
  return { dir, gpgHome, images: images as SignatureFixture['images'], keyring, cosignKey, cosignPassword };
}

export interface CommandTimes {
  /** Median wall time, ms. */
  readonly custody: number;
  readonly gpg: number;
  readonly help: number;
  readonly version: number;
  /** Median CPU time (user + system, GNU time), ms; NaN without /usr/bin/time. */
  readonly custodyCpu: number;
  readonly gpgCpu: number;
  readonly helpCpu: number;
  readonly versionCpu: number;
}

/** Median wall and CPU time of `custody verify` on each image, of `gpg --verify`, and of start-up. */
export async function timeVerifyCommands(fixture: SignatureFixture, custodyDir: string, runs: number): Promise<CommandTimes> {
  const custody = join(custodyDir, 'bin', 'custody.js');
  const env = { ...process.env, GNUPGHOME: fixture.gpgHome };
  const times: Record<'custody' | 'gpg' | 'help' | 'version', { wall: number[]; cpu: number[] }> = {
    custody: { wall: [], cpu: [] },
    gpg: { wall: [], cpu: [] },
    help: { wall: [], cpu: [] },
    version: { wall: [], cpu: [] },
  };
  const record = (name: keyof typeof times, run: { seconds: number; cpuSeconds: number }): void => {
    times[name].wall.push(run.seconds * 1000);
    times[name].cpu.push(run.cpuSeconds * 1000);
  };
  // One untimed run fills Node's compile cache, as any user's second command finds it.
  await runTool(process.execPath, [custody, 'verify', `dir:${fixture.images.ed25519}`, '--key', fixture.keyring], env, fixture.dir);
  for (let run = 0; run < runs; run++) {
    for (const image of Object.values(fixture.images)) {
      record('custody', await runTool(process.execPath, [custody, 'verify', `dir:${image}`, '--key', fixture.keyring], env, fixture.dir));
      record('gpg', await runTool('gpg', ['--homedir', fixture.gpgHome, '--batch', '--no-tty', '--verify', join(image, 'signature-1')], env, fixture.dir));
    }
    record('help', await runTool(process.execPath, [custody, 'verify', '--help'], env, fixture.dir));
    record('version', await runTool(process.execPath, [custody, 'version'], env, fixture.dir));
  }
  return {
    custody: median(times.custody.wall),
    gpg: median(times.gpg.wall),
    help: median(times.help.wall),
    version: median(times.version.wall),
    custodyCpu: median(times.custody.cpu),
    gpgCpu: median(times.gpg.cpu),
    helpCpu: median(times.help.cpu),
    versionCpu: median(times.version.cpu),
  };
}

/** One fresh process measuring the library side (see signature-crypto-worker.ts). */
export function runCryptoWorker(fixture: SignatureFixture, custodyDir: string): WorkerResult {
  const worker = join(import.meta.dirname, 'signature-crypto-worker.ts');
  const result = spawnSync(process.execPath, [worker, custodyDir, JSON.stringify(fixture)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (result.status !== 0) throw new Error(`signature-crypto worker failed: ${result.stderr.trim().slice(-1500)}`);
  return JSON.parse(result.stdout) as WorkerResult;
}
