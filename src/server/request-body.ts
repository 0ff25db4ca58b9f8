// Reading a small request body (a manifest, a form, a JSON document, a signature) whole,
// up to a limit. A larger body is answered 413 without being kept: the rest is drained,
// not the connection cut, so the error can still be written back.
import { RegistryError } from '../core/errors.ts';
import { header, type HttpRequest } from './http-types.ts';

/**
 * The body, or `tooLarge(size)` (a RegistryError, usually with status 413) when it
 * declares or sends more than `limit` bytes.
 */
export function readLimitedBody(request: HttpRequest, limit: number, tooLarge: (size: string) => RegistryError): Promise<Buffer> {
  const value = header(request, 'content-length');
  const declared = value === undefined ? undefined : Number(value);
  if (declared !== undefined && Number.isSafeInteger(declared) && declared > limit) {
    request.resume();
    return Promise.reject(tooLarge(String(declared)));
  }
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let total = 0;
    let failed = false;
    request.on('data', (chunk: Buffer) => {
      if (failed) return;
      total += chunk.length;
      if (total > limit) {
        failed = true;
        parts.length = 0;
        reject(tooLarge(`more than ${limit}`));
        return;
      }
      parts.push(chunk);
    });
    request.on('end', () => {
      if (!failed) resolve(Buffer.concat(parts, total));
    });
    request.on('error', (error) => {
      if (!failed) reject(error);
    });
  });
}

/** The common 413 for bodies that are not manifests. */
export function bodyTooLarge(what: string, limit: number): (size: string) => RegistryError {
  return (size) => new RegistryError('INVALID_REQUEST', `${what} is ${size} bytes, over the ${limit}-byte limit`, { status: 413 });
}
