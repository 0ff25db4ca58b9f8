// A blob download as a Readable that hashes the bytes as they stream and fails with a
// digest error instead of ending when they do not match. When the connection drops
// mid-body it resumes with `Range: bytes=N-` (checking 206 and Content-Range) rather
// than starting over; a server ignoring the range (200) has its first N bytes skipped.
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { Hash } from 'node:crypto';
import { newHash, parseDigest, type Digest } from '../../core/digest.ts';
import type { Logger } from '../../observability/logger.ts';
import { noteStreamedBytes } from '../streamed-garbage.ts';
import { RegistryClientError } from './errors.ts';
import { header } from './transport.ts';

export interface BlobReaderOptions {
  readonly digest: Digest;
  /** What the data is, for messages: `repo@digest`. */
  readonly what: string;
  readonly first: IncomingMessage;
  /** Opens the blob again from `offset` (a Range request). */
  readonly reopen: (offset: number) => Promise<IncomingMessage>;
  readonly maxResumes: number;
  readonly logger: Logger;
}

export class VerifyingBlobReader extends Readable {
  readonly #options: BlobReaderOptions;
  readonly #hash: Hash;
  readonly #expectedSize: number | undefined;
  #received = 0;
  #skip = 0;
  #resumes = 0;
  #current: IncomingMessage | undefined;
  #finished = false;

  constructor(options: BlobReaderOptions) {
    super({ highWaterMark: 256 * 1024 });
    this.#options = options;
    this.#hash = newHash(parseDigest(options.digest).algorithm);
    const length = header(options.first, 'content-length');
    this.#expectedSize = length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined;
    this.#attach(options.first);
  }

  /** Bytes delivered so far. */
  get received(): number {
    return this.#received;
  }

  /** The blob's size as the registry announced it (Content-Length), when it did. */
  get expectedSize(): number | undefined {
    return this.#expectedSize;
  }

  /** How many times the download resumed after a dropped connection. */
  get resumes(): number {
    return this.#resumes;
  }

  override _read(): void {
    this.#current?.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#finished = true;
    this.#current?.destroy();
    callback(error);
  }

  #attach(response: IncomingMessage): void {
    this.#current = response;
    let settled = false;
    const dropped = (error: Error): void => {
      if (settled || this.#finished) return;
      settled = true;
      this.#resume(error);
    };
    response.on('data', (chunk: Buffer) => {
      if (this.#finished) return;
      if (this.#skip > 0) {
        const skipped = Math.min(this.#skip, chunk.length);
        this.#skip -= skipped;
        chunk = chunk.subarray(skipped);
        if (chunk.length === 0) return;
      }
      this.#received += chunk.length;
      if (this.#expectedSize !== undefined && this.#received > this.#expectedSize) {
        settled = true;
        this.#fail(`received more than the ${this.#expectedSize} bytes announced`);
        return;
      }
      this.#hash.update(chunk);
      noteStreamedBytes(chunk.length);
      if (!this.push(chunk)) response.pause();
    });
    response.on('end', () => {
      if (settled || this.#finished) return;
      if (!response.complete || (this.#expectedSize !== undefined && this.#received < this.#expectedSize)) {
        dropped(Object.assign(new Error('connection closed before the whole body arrived'), { code: 'ECONNRESET' }));
        return;
      }
      settled = true;
      this.#finish();
    });
    response.on('error', dropped);
    response.on('close', () => {
      if (!response.complete) dropped(Object.assign(new Error('connection closed mid-body'), { code: 'ECONNRESET' }));
    });
  }

  #resume(cause: Error): void {
    if (this.#resumes >= this.#options.maxResumes) {
      this.#finished = true;
      this.destroy(
        new RegistryClientError('NETWORK', `${this.#options.what}: connection dropped after ${this.#received} bytes and ${this.#resumes} resumes: ${cause.message}`, { cause }),
      );
      return;
    }
    this.#resumes++;
    const offset = this.#received;
    this.#options.logger.info('resuming blob download', { blob: this.#options.what, offset, attempt: this.#resumes, reason: cause.message });
    this.#options.reopen(offset).then(
      (response) => {
        if (this.#finished) {
          response.destroy();
          return;
        }
        const status = response.statusCode ?? 0;
        if (status === 206) {
          const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header(response, 'content-range') ?? '');
          if (range === null || Number(range[1]) !== offset) {
            response.destroy();
            this.#finished = true;
            this.destroy(new RegistryClientError('PROTOCOL', `${this.#options.what}: asked to resume at byte ${offset}, the registry answered Content-Range "${header(response, 'content-range') ?? ''}"`, { status }));
            return;
          }
          this.#skip = 0;
        } else if (status === 200) {
          this.#skip = offset;
        } else {
          response.destroy();
          this.#finished = true;
          this.destroy(new RegistryClientError('PROTOCOL', `${this.#options.what}: resuming at byte ${offset} got HTTP ${status}`, { status }));
          return;
        }
        this.#attach(response);
      },
      (error: Error) => {
        if (this.#finished) return;
        this.#finished = true;
        this.destroy(error);
      },
    );
  }

  #fail(reason: string): void {
    this.#finished = true;
    this.destroy(new RegistryClientError('DIGEST_MISMATCH', `${this.#options.what}: ${reason}`));
  }

  #finish(): void {
    this.#finished = true;
    const actual = `${parseDigest(this.#options.digest).algorithm}:${this.#hash.digest('hex')}`;
    if (actual !== this.#options.digest) {
      this.destroy(
        new RegistryClientError('DIGEST_MISMATCH', `${this.#options.what}: digest mismatch: the ${this.#received} bytes received hash to ${actual}, expected ${this.#options.digest}`),
      );
      return;
    }
    this.push(null);
  }
}
