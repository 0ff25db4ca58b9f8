// The private key's password, from where cosign and skopeo users keep it: standard input
// (--password-stdin, one trailing newline dropped), the COSIGN_PASSWORD environment
// variable (cosign's, honoured even when empty, as cosign does), or a prompt without echo
// on a terminal (asked twice when creating a key).
import { UsageError } from '../../core/errors.ts';
import { askHidden } from '../../client/image-source.ts';

export interface PasswordOptions {
  readonly passwordStdin?: boolean;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Whether to ask on the terminal; default: stdin and stderr are terminals. */
  readonly isTTY?: boolean;
  /** Ask a second time and compare (key generation). */
  readonly confirm?: boolean;
  readonly stdin?: NodeJS.ReadableStream;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer | string>) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

export async function readPassword(options: PasswordOptions = {}): Promise<Buffer> {
  if (options.passwordStdin === true) {
    const text = (await readAll(options.stdin ?? process.stdin)).toString('utf8');
    return Buffer.from(text.replace(/\r?\n$/, ''), 'utf8');
  }
  const env = options.env ?? process.env;
  if (env.COSIGN_PASSWORD !== undefined) return Buffer.from(env.COSIGN_PASSWORD, 'utf8');
  const isTTY = options.isTTY ?? (process.stdin.isTTY === true && process.stderr.isTTY === true);
  if (!isTTY) throw new UsageError('no password: use --password-stdin or set COSIGN_PASSWORD (no terminal to ask on)');
  const first = await askHidden(options.confirm ? 'Enter password for private key: ' : 'Enter password for private key: ');
  if (options.confirm) {
    const second = await askHidden('Enter password for private key again: ');
    if (first !== second) throw new UsageError('the passwords do not match');
  }
  return Buffer.from(first, 'utf8');
}
