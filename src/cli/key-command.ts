// `custody key generate`: a sigstore key pair in cosign's formats (like `cosign
// generate-key-pair`): PREFIX.key, the password-encrypted private key (mode 0600), and
// PREFIX.pub, the PEM public key. Existing files are never overwritten.
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { UsageError } from '../core/errors.ts';
import { COSIGN_PRIVATE_KEY_PEM, generateKeyPair, SIGSTORE_PRIVATE_KEY_PEM, type KeyAlgorithm } from '../trust/sigstore/keys.ts';
import { readPassword } from './password-input.ts';
import type { Command } from './main.ts';

export const keyCommand: Command = {
  name: 'key',
  summary: 'generate a sigstore (cosign) signing key pair',
  usage: [
    'Usage: custody key generate [--output-key-prefix cosign] [--password-stdin]',
    '                            [--algorithm ecdsa-p256|ed25519] [--pem-label sigstore|cosign]',
    '',
    'Writes PREFIX.key (the private key, encrypted with the password; mode 0600) and',
    'PREFIX.pub (the public key, PEM) in cosign\'s formats. The password comes from',
    'standard input (--password-stdin), the COSIGN_PASSWORD environment variable, or a',
    'prompt on a terminal. --pem-label cosign writes the "ENCRYPTED COSIGN PRIVATE KEY"',
    'label that cosign 1.x and older containers/image (skopeo 1.9) read; the default is',
    'cosign 2\'s "ENCRYPTED SIGSTORE PRIVATE KEY". Either way the body is the same.',
  ].join('\n'),
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        'output-key-prefix': { type: 'string' },
        'password-stdin': { type: 'boolean' },
        algorithm: { type: 'string' },
        'pem-label': { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    });
    if (positionals[0] !== 'generate') throw new UsageError(positionals.length === 0 ? 'missing subcommand: generate' : `unknown subcommand "${positionals[0]}" (expected generate)`);
    if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
    const algorithm = (values.algorithm ?? 'ecdsa-p256') as KeyAlgorithm;
    if (algorithm !== 'ecdsa-p256' && algorithm !== 'ed25519') throw new UsageError(`--algorithm: expected ecdsa-p256 or ed25519, got "${algorithm}"`);
    const labelName = values['pem-label'] ?? 'sigstore';
    if (labelName !== 'sigstore' && labelName !== 'cosign') throw new UsageError(`--pem-label: expected sigstore or cosign, got "${labelName}"`);
    const prefix = values['output-key-prefix'] ?? 'cosign';
    const password = await readPassword({ passwordStdin: values['password-stdin'] === true, confirm: true });
    const pair = await generateKeyPair(password, { algorithm, label: labelName === 'cosign' ? COSIGN_PRIVATE_KEY_PEM : SIGSTORE_PRIVATE_KEY_PEM });
    // 'wx': refuse to replace an existing key, which may be the only copy of a signing key.
    try {
      await writeFile(`${prefix}.key`, pair.privateKeyPem, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(`${prefix}.key already exists; remove it or choose another --output-key-prefix`);
      throw error;
    }
    await writeFile(`${prefix}.pub`, pair.publicKeyPem, { mode: 0o644, flag: 'w' });
    process.stderr.write(`Private key written to ${prefix}.key\nPublic key written to ${prefix}.pub\n`);
    return 0;
  },
};
