// One fresh process of the signature-crypto phase (run by signature-crypto.ts):
//   node signature-crypto-worker.ts CUSTODY_DIR FIXTURE_JSON
// loads the GPG verifier of CUSTODY_DIR, verifies the fixture's signatures, opens its
// cosign key, and prints the timings as JSON. Works with the synchronous verifier of
// older checkouts and the asynchronous one of newer ones (`await` takes either), and the
// same for the secretbox.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import type { SignatureFixture, WorkerResult } from './signature-crypto.ts';

interface GpgModule {
  parseKeyring(data: Buffer): unknown;
  verifySimpleSigning(message: Buffer, keyring: unknown): unknown;
}
interface KeysModule {
  loadPrivateKey(pem: string, password: Buffer): Promise<unknown>;
}
/** Synchronous in older checkouts, asynchronous (the cipher loaded on first use) since. */
interface SecretboxModule {
  secretboxSeal(message: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | Promise<Uint8Array>;
  secretboxOpen(box: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | undefined | Promise<Uint8Array | undefined>;
}

const WARM_VERIFICATIONS = 200;
const SECRETBOX_OPENS = 2000;

const sorted = (values: number[]): number[] => [...values].sort((a, b) => a - b);
const middle = (values: number[]): number => sorted(values)[Math.floor(values.length / 2)]!;

const [custodyDir, fixtureJson] = process.argv.slice(2);
const fixture = JSON.parse(fixtureJson!) as SignatureFixture;
const keyringBytes = readFileSync(fixture.keyring);
const messages = Object.entries(fixture.images).map(([algorithm, dir]) => [algorithm, readFileSync(join(dir, 'signature-1'))] as const);

const cpuMs = (since: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};

let started = performance.now();
let cpu = process.cpuUsage();
const gpg = (await import(join(custodyDir!, 'src', 'trust', 'gpg', 'openpgp.ts'))) as GpgModule;
const importMs = performance.now() - started;
const importCpuMs = cpuMs(cpu);

started = performance.now();
cpu = process.cpuUsage();
const keyring = await gpg.parseKeyring(keyringBytes);
await gpg.verifySimpleSigning(messages[0]![1], keyring);
const firstVerifyMs = performance.now() - started;
const firstVerifyCpuMs = cpuMs(cpu);

const parses: number[] = [];
for (let i = 0; i < 20; i++) {
  const t = performance.now();
  await gpg.parseKeyring(keyringBytes);
  parses.push(performance.now() - t);
}

const verifyMs: Record<string, number> = {};
for (const [algorithm, message] of messages) {
  const times: number[] = [];
  for (let i = 0; i < WARM_VERIFICATIONS; i++) {
    const t = performance.now();
    await gpg.verifySimpleSigning(message, keyring);
    times.push(performance.now() - t);
  }
  verifyMs[algorithm] = middle(times);
}

const keys = (await import(join(custodyDir!, 'src', 'trust', 'sigstore', 'keys.ts'))) as KeysModule;
const pem = readFileSync(fixture.cosignKey, 'utf8');
const opens: number[] = [];
for (let i = 0; i < 5; i++) {
  const t = performance.now();
  await keys.loadPrivateKey(pem, Buffer.from(fixture.cosignPassword));
  opens.push(performance.now() - t);
}

// The cipher alone, on a box the size of cosign's PKCS#8 P-256 key (138 bytes).
const secretbox = (await import(join(custodyDir!, 'src', 'trust', 'sigstore', 'secretbox.ts'))) as SecretboxModule;
const key = randomBytes(32);
const nonce = randomBytes(24);
const box = await secretbox.secretboxSeal(randomBytes(138), nonce, key);
const boxTimes: number[] = [];
for (let i = 0; i < SECRETBOX_OPENS; i++) {
  const t = performance.now();
  if ((await secretbox.secretboxOpen(box, nonce, key)) === undefined) throw new Error('secretbox did not open');
  boxTimes.push(performance.now() - t);
}

const result: WorkerResult = {
  importMs,
  firstVerifyMs,
  importCpuMs,
  firstVerifyCpuMs,
  keyringParseMs: middle(parses),
  verifyMs,
  cosignOpenMs: middle(opens),
  secretboxOpenMicros: middle(boxTimes) * 1000,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
