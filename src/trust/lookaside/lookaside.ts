// Lookaside signature storage (containers/image docs/signature-protocols.md): under a
// base URL that already ends with the repository path, signatures of a manifest are
// `<base>@<algorithm>=<hex>/signature-1`, `signature-2`, … Readers stop at the first
// missing index, so writers never leave gaps. file:// can be read and written;
// http(s):// is read-only (publishing is the web server's business, as in containers/image).
import { mkdir, readFile, unlink, writeFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** containers/image's cap on how many lookaside signatures it reads. */
export const MAX_LOOKASIDE_SIGNATURES = 128;
const MAX_SIGNATURE_BYTES = 4 * 1024 * 1024;

export class LookasideError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LookasideError';
  }
}

/** The URL of signature number `index` (1-based) of `manifestDigest` under `base`. */
export function lookasideSignatureUrl(base: URL, manifestDigest: string, index: number): URL {
  const colon = manifestDigest.indexOf(':');
  if (colon <= 0) throw new LookasideError(`not a digest: ${manifestDigest}`);
  const url = new URL(base.href);
  url.pathname = `${base.pathname}@${manifestDigest.slice(0, colon)}=${manifestDigest.slice(colon + 1)}/signature-${index}`;
  return url;
}

export interface LookasideReadOptions {
  /** For http(s) URLs; default the global fetch. */
  readonly fetch?: typeof fetch | undefined;
}

/** Reads one signature; undefined when it does not exist. */
async function readOne(url: URL, options: LookasideReadOptions): Promise<Buffer | undefined> {
  if (url.protocol === 'file:') {
    try {
      return await readFile(fileURLToPath(url));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    const response = await (options.fetch ?? fetch)(url, { redirect: 'follow' });
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new LookasideError(`reading signature from ${redact(url)}: HTTP ${response.status}`);
    }
    const bytes = Buffer.from(await response.arrayBuffer());
    if (bytes.length > MAX_SIGNATURE_BYTES) throw new LookasideError(`signature at ${redact(url)} is larger than ${MAX_SIGNATURE_BYTES} bytes`);
    return bytes;
  }
  throw new LookasideError(`unsupported scheme ${url.protocol} for lookaside signatures (${redact(url)})`);
}

function redact(url: URL): string {
  const copy = new URL(url.href);
  if (copy.password) copy.password = '***';
  return copy.href;
}

/** All signatures of `manifestDigest` under `base`, in order, stopping at the first missing one. */
export async function readLookasideSignatures(base: URL, manifestDigest: string, options: LookasideReadOptions = {}): Promise<Buffer[]> {
  const result: Buffer[] = [];
  for (let index = 1; ; index++) {
    if (index > MAX_LOOKASIDE_SIGNATURES) throw new LookasideError(`more than ${MAX_LOOKASIDE_SIGNATURES} signatures at ${redact(base)}`);
    const signature = await readOne(lookasideSignatureUrl(base, manifestDigest, index), options);
    if (signature === undefined) break;
    result.push(signature);
  }
  return result;
}

function writablePath(url: URL): string {
  if (url.protocol === 'file:') return fileURLToPath(url);
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    throw new LookasideError(`writing directly to a ${url.protocol.slice(0, -1)} lookaside ${redact(url)} is not supported; configure a lookaside-staging: location`);
  }
  throw new LookasideError(`unsupported scheme ${url.protocol} when writing a signature to ${redact(url)}`);
}

/** Replaces the signatures of `manifestDigest` with `signatures` (containers/image's
 * PutSignatures): writes 1..N, then removes N+1… up to the first missing file. */
export async function writeLookasideSignatures(base: URL, manifestDigest: string, signatures: readonly Buffer[]): Promise<void> {
  for (const [i, signature] of signatures.entries()) {
    const path = writablePath(lookasideSignatureUrl(base, manifestDigest, i + 1));
    await mkdir(dirname(path), { recursive: true, mode: 0o755 });
    // Write then rename: a reader never sees half a signature.
    const temporary = `${path}.tmp-${process.pid}-${Date.now()}`;
    await writeFile(temporary, signature, { mode: 0o644 });
    await rename(temporary, path);
  }
  for (let index = signatures.length + 1; ; index++) {
    const path = writablePath(lookasideSignatureUrl(base, manifestDigest, index));
    try {
      await unlink(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') break;
      throw error;
    }
  }
}

/** Adds one signature after the existing ones unless the same bytes are already there.
 * Returns the 1-based index it is stored at. */
export async function appendLookasideSignature(base: URL, manifestDigest: string, signature: Buffer): Promise<number> {
  const existing = await readLookasideSignatures(base, manifestDigest);
  const found = existing.findIndex((candidate) => candidate.equals(signature));
  if (found >= 0) return found + 1;
  await writeLookasideSignatures(base, manifestDigest, [...existing, signature]);
  return existing.length + 1;
}
