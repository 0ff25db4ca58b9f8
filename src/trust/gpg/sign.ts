// Signing with the real gpg binary. containers/image signs through gpgme, which drives
// gpg; we drive gpg directly (no native addon): `gpg --batch --sign` with the signer's
// fingerprint produces a binary OpenPGP message (one-pass signature, literal data,
// signature), the exact shape skopeo writes into `signature-N` files.
import { spawn } from 'node:child_process';

export interface SignOptions {
  /** A GNUPGHOME to use instead of the user's (tests, CI, dedicated signing homes). */
  readonly gpgHome?: string | undefined;
  /** A file whose first line is the key's passphrase (gpg --passphrase-file, loopback pinentry). */
  readonly passphraseFile?: string | undefined;
  /** The gpg binary (default `gpg` from PATH). */
  readonly gpgBinary?: string | undefined;
}

/** Signs `payload` with the key `fingerprint` (or any key id / user id gpg accepts) and
 * returns the binary OpenPGP message. */
export async function signSimpleSigning(payload: Buffer, fingerprint: string, options: SignOptions = {}): Promise<Buffer> {
  const args = ['--batch', '--no-tty', '--yes', '--sign', '--local-user', fingerprint];
  if (options.gpgHome !== undefined) args.unshift('--homedir', options.gpgHome);
  if (options.passphraseFile !== undefined) {
    // Loopback pinentry lets gpg take the passphrase from the file instead of asking an agent UI.
    args.push('--pinentry-mode', 'loopback', '--passphrase-file', options.passphraseFile);
  }
  // gpgme signs in binary (not armored, not clearsigned); so do we.
  args.push('--output', '-');
  const binary = options.gpgBinary ?? 'gpg';
  return await new Promise<Buffer>((resolve, reject) => {
    const env = { ...process.env };
    if (options.gpgHome !== undefined) env['GNUPGHOME'] = options.gpgHome;
    const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error) => reject(new Error(`cannot run ${binary}: ${error.message}`)));
    child.on('close', (code) => {
      if (code === 0 && out.length > 0) resolve(Buffer.concat(out));
      else reject(new Error(`gpg could not sign with ${fingerprint} (exit ${String(code)}): ${Buffer.concat(err).toString('utf8').trim()}`));
    });
    child.stdin.on('error', () => { /* reported through close */ });
    child.stdin.end(payload);
  });
}
