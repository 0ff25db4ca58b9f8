// Blob uploads (OCI distribution spec, "Pushing blobs"): a monolithic POST+PUT for small
// blobs, chunked PATCHes with Content-Range for large ones. Locations may be relative or
// absolute and change after every step. A 416 or a lost PATCH response is recovered by
// reading the upload's status (GET on the session) and continuing from the offset the
// registry has. Memory holds at most one chunk.
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { Digest } from '../../core/digest.ts';
import type { Logger } from '../../observability/logger.ts';
import { RegistryClientError, errorFromResponse } from './errors.ts';
import { drain, header, readBody, type RequestBody } from './transport.ts';

export interface UploadRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string | number>>;
  readonly body?: RequestBody;
  readonly idempotent: boolean;
}

/** What uploads need from the client: authenticated, retried requests for one repository's push scope. */
export interface UploadContext {
  readonly base: URL;
  readonly repo: string;
  send(request: UploadRequest): Promise<IncomingMessage>;
  readonly logger: Logger;
}

export interface PushOptions {
  /** Bytes per PATCH; default 8 MiB. */
  readonly chunkSize?: number;
  /** Blobs up to this size go in one PUT; default: the chunk size. */
  readonly monolithicLimit?: number;
  /** Status re-reads (after a 416 or a lost response) before giving up; default 3. */
  readonly maxRecoveries?: number;
}

export interface PushResult {
  readonly digest: Digest;
  /** The blob's URL as the registry gave it. */
  readonly location: string | undefined;
  /** Number of PATCH requests sent (0 for a monolithic upload). */
  readonly chunks: number;
}

const DEFAULT_CHUNK = 8 * 1024 * 1024;

export async function pushBlob(context: UploadContext, digest: Digest, size: number, source: () => Readable, options: PushOptions = {}): Promise<PushResult> {
  const chunkSize = Math.max(1, options.chunkSize ?? DEFAULT_CHUNK);
  const monolithicLimit = options.monolithicLimit ?? chunkSize;
  const what = `push ${context.repo}@${digest}`;
  let location = await startUpload(context, what);
  if (size <= monolithicLimit) {
    const response = await context.send({
      method: 'PUT',
      url: withDigest(location, digest),
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': size },
      body: source,
      idempotent: false,
    });
    return finish(response, what, digest, 0);
  }
  let offset = 0;
  let chunks = 0;
  let recoveries = 0;
  const maxRecoveries = options.maxRecoveries ?? 3;
  for await (const chunk of chunked(source(), chunkSize)) {
    let start = 0; // within this chunk
    while (start < chunk.length) {
      const part = chunk.subarray(start);
      let response: IncomingMessage | undefined;
      let failure: unknown;
      try {
        response = await context.send({
          method: 'PATCH',
          url: location,
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': part.length, 'Content-Range': `${offset}-${offset + part.length - 1}` },
          body: part,
          idempotent: false,
        });
        chunks++;
      } catch (error) {
        if (error instanceof RegistryClientError && error.status !== 0) throw error;
        failure = error;
      }
      if (response !== undefined && (response.statusCode ?? 0) === 202) {
        drain(response);
        location = resolveLocation(response, location, what);
        offset += part.length;
        start += part.length;
        continue;
      }
      if (response !== undefined && response.statusCode !== 416) throw errorFromResponse(`${what}: PATCH`, response.statusCode ?? 0, await readBody(response));
      if (response !== undefined) drain(response);
      // 416 or a lost response: ask the registry how much it has and continue from there.
      if (++recoveries > maxRecoveries) {
        throw failure instanceof Error ? failure : new RegistryClientError('RANGE_INVALID', `${what}: the registry kept refusing chunk ranges (416) after ${maxRecoveries} status checks`, { status: 416 });
      }
      const status = await uploadStatus(context, location, what);
      location = status.location;
      const have = status.offset;
      const chunkStart = offset - start;
      if (have < chunkStart || have > chunkStart + chunk.length) {
        throw new RegistryClientError('BLOB_UPLOAD_INVALID', `${what}: the registry holds ${have} bytes of the upload, outside the chunk being sent (${chunkStart}-${chunkStart + chunk.length})`);
      }
      context.logger.info('blob upload resynchronised', { blob: what, offset: have, reason: failure === undefined ? 'HTTP 416' : (failure as Error).message });
      start = have - chunkStart;
      offset = have;
    }
  }
  if (offset !== size) throw new RegistryClientError('SIZE_INVALID', `${what}: the source gave ${offset} bytes, ${size} expected`);
  const response = await context.send({ method: 'PUT', url: withDigest(location, digest), headers: { 'Content-Length': 0 }, body: Buffer.alloc(0), idempotent: false });
  return finish(response, what, digest, chunks);
}

/** POST to start an upload session; returns its Location. */
export async function startUpload(context: UploadContext, what: string, query = ''): Promise<URL> {
  const url = new URL(`/v2/${context.repo}/blobs/uploads/${query}`, context.base);
  const response = await context.send({ method: 'POST', url, headers: { 'Content-Length': 0 }, body: Buffer.alloc(0), idempotent: true });
  if (response.statusCode !== 202) throw errorFromResponse(`${what}: starting the upload`, response.statusCode ?? 0, await readBody(response));
  drain(response);
  return resolveLocation(response, url, what);
}

/** The upload session's current offset (`Range: 0-N` → N+1) and location. */
async function uploadStatus(context: UploadContext, location: URL, what: string): Promise<{ offset: number; location: URL }> {
  const response = await context.send({ method: 'GET', url: location, idempotent: true });
  if (response.statusCode !== 204) throw errorFromResponse(`${what}: reading the upload status`, response.statusCode ?? 0, await readBody(response));
  drain(response);
  const range = /^(?:bytes=)?(\d+)-(\d+)$/.exec(header(response, 'range') ?? '');
  const offset = range === null ? 0 : Number(range[2]) + 1;
  return { offset, location: header(response, 'location') === undefined ? location : resolveLocation(response, location, what) };
}

async function finish(response: IncomingMessage, what: string, digest: Digest, chunks: number): Promise<PushResult> {
  const status = response.statusCode ?? 0;
  if (status !== 201) throw errorFromResponse(`${what}: completing the upload`, status, await readBody(response));
  drain(response);
  const returned = header(response, 'docker-content-digest');
  if (returned !== undefined && returned !== digest) {
    throw new RegistryClientError('DIGEST_MISMATCH', `${what}: the registry stored the blob as ${returned}`, { status });
  }
  return { digest, location: header(response, 'location'), chunks };
}

export function resolveLocation(response: IncomingMessage, base: URL, what: string): URL {
  const location = header(response, 'location');
  if (location === undefined || location === '') throw new RegistryClientError('PROTOCOL', `${what}: HTTP ${response.statusCode} without a Location header`, { status: response.statusCode ?? 0 });
  return new URL(location, base);
}

function withDigest(location: URL, digest: Digest): URL {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  return url;
}

/** Regroups a stream into buffers of exactly `size` bytes (the last one shorter). */
async function* chunked(source: Readable, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let held = 0;
  try {
    for await (const piece of source as AsyncIterable<Buffer | string>) {
      let buffer = typeof piece === 'string' ? Buffer.from(piece) : piece;
      while (buffer.length > 0) {
        const take = Math.min(size - held, buffer.length);
        parts.push(buffer.subarray(0, take));
        held += take;
        buffer = buffer.subarray(take);
        if (held === size) {
          yield Buffer.concat(parts, held);
          parts = [];
          held = 0;
        }
      }
    }
    if (held > 0) yield Buffer.concat(parts, held);
  } finally {
    source.destroy();
  }
}
