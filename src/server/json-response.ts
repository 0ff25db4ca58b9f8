// The one writer of JSON responses (the error envelope has its own, error-response.ts),
// and the decoding of percent-encoded path parts, for every route set.
import { RegistryError } from '../core/errors.ts';
import type { HttpResponse } from './http-types.ts';

/** Writes a JSON response (no body for HEAD): every JSON answer outside the error envelope. */
export function sendJson(response: HttpResponse, method: string, status: number, body: unknown, options: { readonly contentType?: string; readonly cacheControl?: string } = {}): void {
  const text = JSON.stringify(body);
  response.setHeader('Content-Type', options.contentType ?? 'application/json');
  response.setHeader('Content-Length', Buffer.byteLength(text));
  if (options.cacheControl !== undefined) response.setHeader('Cache-Control', options.cacheControl);
  response.writeHead(status);
  response.end(method === 'HEAD' ? undefined : text);
}

/** A percent-decoded path segment; INVALID_REQUEST when the encoding is malformed or decodes to NUL. */
export function decodePathPart(value: string, message = 'malformed percent-encoding in the path'): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    throw new RegistryError('INVALID_REQUEST', message);
  }
  // No name holds one, and the database could not look it up.
  if (decoded.includes('\0')) throw new RegistryError('INVALID_REQUEST', 'the path must not contain a NUL character (%00)');
  return decoded;
}
