// The tar stream of a layer blob, decompressed as its first bytes say (gzip, zstd, or
// plain tar). The magic bytes decide rather than the media type alone: Docker archives
// and some registries label gzip layers as plain tar, and a layer labelled gzip that is
// not gzip must fail loudly rather than be read as garbage.
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createZstdDecompress } from 'node:zlib';

export type LayerCompression = 'gzip' | 'zstd' | 'none';

export class LayerFormatError extends Error {
  override readonly name = 'LayerFormatError';
}

/** Larger output chunks than zlib's 16 KiB default: fewer, bigger buffers for the tar reader. */
const DECOMPRESS_CHUNK = 128 * 1024;

export function compressionByMagic(head: Uint8Array): LayerCompression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

export function compressionByMediaType(mediaType: string): LayerCompression {
  if (/gzip$/.test(mediaType)) return 'gzip';
  if (/zstd$/.test(mediaType)) return 'zstd';
  return 'none';
}

export interface LayerTarOptions {
  /** Told what the magic bytes say. */
  readonly onCompression?: (compression: LayerCompression) => void;
  /**
   * Told the size of every chunk of tar bytes before it is handed on; may throw (a limit
   * crossed), which stops the decompression and destroys the streams.
   */
  readonly onBytes?: (bytes: number) => void;
  /** Aborting destroys the input and the decompressor at once, with the signal's reason. */
  readonly signal?: AbortSignal;
}

/**
 * Yields the decompressed bytes of a layer. `input` is consumed (and destroyed if the
 * consumer stops early, a limit is crossed or the signal aborts).
 */
export async function* layerTarBytes(input: Readable, mediaType: string, what: string, options: LayerTarOptions = {}): AsyncGenerator<Uint8Array> {
  const { signal } = options;
  signal?.throwIfAborted();
  const count = options.onBytes ?? (() => {});
  let decompressor: Transform | undefined;
  // Whatever the consumer is doing, an abort ends the inflation now, not at its next read.
  const abort = (): void => {
    decompressor?.destroy(signal!.reason as Error);
    input.destroy(signal!.reason as Error);
  };
  signal?.addEventListener('abort', abort, { once: true });
  const iterator = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  try {
    // Gather at least 4 bytes for the magic (a stream may hand out tiny first chunks).
    const head: Buffer[] = [];
    let headLength = 0;
    while (headLength < 4) {
      const next = await iterator.next();
      if (next.done) break;
      head.push(next.value);
      headLength += next.value.length;
    }
    const first = Buffer.concat(head);
    const detected = compressionByMagic(first);
    const declared = compressionByMediaType(mediaType);
    if (declared !== 'none' && detected !== declared) {
      throw new LayerFormatError(`${what}: the media type ${mediaType} says ${declared}, but the content is not ${declared}-compressed`);
    }
    options.onCompression?.(detected);
    async function* all(): AsyncGenerator<Buffer> {
      if (first.length > 0) yield first;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    }
    if (detected === 'none') {
      for await (const chunk of all()) {
        count(chunk.length);
        yield chunk;
      }
      return;
    }
    decompressor = detected === 'gzip' ? createGunzip({ chunkSize: DECOMPRESS_CHUNK }) : createZstdDecompress({ chunkSize: DECOMPRESS_CHUNK });
    const pumping = pipeline(Readable.from(all(), { objectMode: false }), decompressor);
    // The pipeline's own rejection surfaces through the decompressor's iterator; this
    // handler only keeps it from being reported as unhandled.
    pumping.catch(() => {});
    let refused: unknown;
    try {
      for await (const chunk of decompressor) {
        try {
          count((chunk as Buffer).length);
        } catch (error) {
          refused = error;
          throw error;
        }
        yield chunk as Buffer;
      }
      await pumping;
    } catch (error) {
      if (error === refused || (signal?.aborted && error === signal.reason)) throw error;
      if (error instanceof Error && /incorrect header check|unexpected end of file|invalid/i.test(error.message)) {
        throw new LayerFormatError(`${what}: corrupt ${detected} data: ${error.message}`);
      }
      throw error;
    } finally {
      decompressor.destroy();
    }
  } finally {
    signal?.removeEventListener('abort', abort);
    input.destroy();
    await iterator.return?.().catch(() => {});
  }
}
