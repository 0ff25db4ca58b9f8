// The private key's password, from where cosign and skopeo users keep it: standard input
// (--password-stdin, one trailing newline dropped), the COSIGN_PASSWORD environment
// variable (cosign's, honoured even when empty, as cosign does), or a prompt without echo
// on a terminal (asked twice when creating a key). The terminal prompt without echo is
// here too: password input is the CLI's business (login, key, sign, copy --sign-by-*).
import { UsageError } from '../core/errors.ts';

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

/** Reads one line from the terminal without echoing it. */
export function askHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    let value = '';
    const wasRaw = stdin.isRaw;
    stdin.setRawMode(true);
    stdin.resume();
    const finish = (error?: Error): void => {
      stdin.off('data', onData);
      stdin.setRawMode(wasRaw);
      stdin.pause();
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: Buffer): void => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') return finish();
        if (char === '\u0003') return finish(new UsageError('interrupted'));
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else value += char;
      }
    };
    stdin.on('data', onData);
  });
}
