// The signatures phase: the client's cost of checking GPG signatures and opening a cosign
// key (bench/lib/signature-crypto.ts). `gpg --verify` of the same signature is the
// baseline column of the whole-command row.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { haveGpg, prepareSignatureFixture, runCryptoWorker, timeVerifyCommands, type WorkerResult } from '../lib/signature-crypto.ts';
import { median } from '../lib/stats.ts';
import { rows, raw, log, problem } from '../lib/measure.ts';

export async function signaturesPhase(rounds: number, parent: string, custodyDir: string): Promise<void> {
  if (!haveGpg()) {
    problem('phase signatures: gpg is not installed; skipped');
    return;
  }
  const work = join(parent, 'signatures');
  mkdirSync(work, { recursive: true });
  try {
    const fixture = await prepareSignatureFixture(work, custodyDir);
    const section = 'signature checks (client, one process per command)';
    const commands = await timeVerifyCommands(fixture, custodyDir, Math.max(rounds, 3));
    rows.push({ section, metric: 'custody verify dir: --key ring.gpg (GPG simple signing), whole command', unit: 'ms', distribution: [commands.gpg], custody: [commands.custody], higherIsBetter: false, baseline: 'gpg --verify' });
    rows.push({ section, metric: 'the same, CPU time (user + system)', unit: 'ms', distribution: [commands.gpgCpu], custody: [commands.custodyCpu], higherIsBetter: false, baseline: 'gpg --verify' });
    rows.push({ section, metric: 'custody verify --help (the verify command\'s modules loaded, nothing run)', unit: 'ms', distribution: [], custody: [commands.help], higherIsBetter: null });
    rows.push({ section, metric: 'custody verify --help, CPU time', unit: 'ms', distribution: [], custody: [commands.helpCpu], higherIsBetter: null });
    rows.push({ section, metric: 'custody version (the CLI\'s start-up floor)', unit: 'ms', distribution: [], custody: [commands.version], higherIsBetter: null });
    rows.push({ section, metric: 'custody version, CPU time', unit: 'ms', distribution: [], custody: [commands.versionCpu], higherIsBetter: null });
    const workers: WorkerResult[] = [];
    for (let round = 0; round < Math.max(rounds, 3); round++) workers.push(runCryptoWorker(fixture, custodyDir));
    const pick = (value: (result: WorkerResult) => number): number[] => [median(workers.map(value))];
    const inProcess = 'signature checks (in process, medians)';
    rows.push({ section: inProcess, metric: 'load the GPG verifier module (src/trust/gpg/openpgp.ts)', unit: 'ms', distribution: [], custody: pick((r) => r.importMs), higherIsBetter: null });
    rows.push({ section: inProcess, metric: 'the same, CPU time', unit: 'ms', distribution: [], custody: pick((r) => r.importCpuMs), higherIsBetter: null });
    rows.push({ section: inProcess, metric: 'first verification in a process (keyring parse + verify, library loading included)', unit: 'ms', distribution: [], custody: pick((r) => r.firstVerifyMs), higherIsBetter: null });
    rows.push({ section: inProcess, metric: 'the same, CPU time', unit: 'ms', distribution: [], custody: pick((r) => r.firstVerifyCpuMs), higherIsBetter: null });
    rows.push({ section: inProcess, metric: 'parse a 3-key keyring', unit: 'ms', distribution: [], custody: pick((r) => r.keyringParseMs), higherIsBetter: null });
    for (const algorithm of Object.keys(workers[0]!.verifyMs)) {
      rows.push({ section: inProcess, metric: `verify one simple-signing signature, ${algorithm} (warm)`, unit: 'ms', distribution: [], custody: pick((r) => r.verifyMs[algorithm]!), higherIsBetter: null });
    }
    rows.push({ section: inProcess, metric: 'open a cosign key file (scrypt N=2^15 + XSalsa20-Poly1305)', unit: 'ms', distribution: [], custody: pick((r) => r.cosignOpenMs), higherIsBetter: null });
    rows.push({ section: inProcess, metric: 'XSalsa20-Poly1305 open of a 138-byte key alone', unit: 'µs', distribution: [], custody: pick((r) => r.secretboxOpenMicros), higherIsBetter: null });
    raw.signatures = { commands, workers };
    log(`custody verify ${commands.custody.toFixed(0)} ms (gpg --verify ${commands.gpg.toFixed(0)} ms); first verification ${median(workers.map((r) => r.firstVerifyMs)).toFixed(1)} ms`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
