// The Distribution API's request parameters: page sizes and cursors, Range and
// Content-Length headers, mount sources; each read once, with the spec's error codes.
import { RegistryError } from '../core/errors.ts';
import { validateRepositoryName } from '../core/names.ts';
import type { ByteRange } from '../storage/blob-store.ts';
import { header, type HttpRequest } from './http-types.ts';

export function contentLength(request: HttpRequest): number | undefined {
  const value = header(request, 'content-length');
  if (value === undefined) return undefined;
  const length = Number(value);
  return Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}

export function pageSize(query: URLSearchParams): number | undefined {
  const value = query.get('n');
  if (value === null || value === '') return undefined;
  if (!/^\d{1,9}$/.test(value)) throw new RegistryError('PAGINATION_NUMBER_INVALID', `n must be a non-negative integer, not "${value.slice(0, 32)}"`);
  return Number(value);
}

/** The repository a `?mount=&from=` asks to read, when it is another valid name. */
export function mountSource(query: URLSearchParams, target: string): string | undefined {
  const from = query.get('from');
  if (query.get('mount') === null || from === null || from === target) return undefined;
  try {
    return validateRepositoryName(from);
  } catch {
    return undefined;
  }
}

/** The `last` pagination cursor; empty means none. Checked by each listing's grammar. */
export function cursor(query: URLSearchParams): string | undefined {
  const value = query.get('last');
  return value === null || value === '' ? undefined : value;
}

/** Client input quoted in a message: bounded, and control characters made visible. */
export function shown(value: string): string {
  return JSON.stringify(value.slice(0, 80)).slice(1, -1);
}

export function nextLink(path: string, n: number, last: string): string {
  return `<${path}?n=${n}&last=${encodeURIComponent(last)}>; rel="next"`;
}

/**
 * Parses a single-range `Range: bytes=` header against a blob's size. Undefined means
 * "serve it whole" (no usable single range); null means unsatisfiable (416).
 */
export function parseRange(value: string, size: number): ByteRange | undefined | null {
  const match = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!match) return undefined;
  const [, first, last] = match as unknown as [string, string, string];
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return null;
    return { start: Math.max(size - suffix, 0), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size || end < start) return null;
  return { start, end };
}

