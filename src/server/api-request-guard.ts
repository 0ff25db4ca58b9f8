// What every request to /api/ must look like before its credentials are even read. The
// API takes basic credentials, which a browser remembers for an origin and then sends
// with any request to it, whoever's page made the request: a form on another site could
// otherwise act with them (cross-site request forgery). Two rules close that:
// - a request carrying a foreign Origin is refused (403 DENIED): browsers send Origin on
//   every cross-origin request, and only browsers are led by other sites;
// - a state-changing request (anything but GET, HEAD, OPTIONS) must be JSON
//   (Content-Type: application/json, also without a body) or carry X-Custody-Request.
//   A cross-site form can send neither, and fetch() from another origin cannot without a
//   CORS preflight, which this server never grants.
// (And no 401 from /api/ asks for Basic credentials, so browsers never prompt for them.)
import { RegistryError } from '../core/errors.ts';
import { header, type HttpRequest } from './http-types.ts';
import { baseUrl } from './registry-gate.ts';

/** The header that marks a request as made on purpose by an API client (any value). */
export const API_REQUEST_HEADER = 'X-Custody-Request';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Throws DENIED for a foreign Origin and 415 for a state-changing request without JSON or the header. */
export function checkApiRequest(request: HttpRequest, publicUrl: string | undefined): void {
  const origin = header(request, 'origin');
  if (origin !== undefined && !isOwnOrigin(origin, request, publicUrl)) {
    throw new RegistryError('DENIED', `cross-origin requests to the API are refused (Origin ${JSON.stringify(origin.slice(0, 100))} is not this registry)`);
  }
  const method = request.method ?? 'GET';
  if (SAFE_METHODS.has(method)) return;
  if (isJson(header(request, 'content-type')) || header(request, API_REQUEST_HEADER.toLowerCase()) !== undefined) return;
  throw new RegistryError('INVALID_REQUEST', `${method} requests to the API must be JSON: send Content-Type: application/json (also without a body) or the header ${API_REQUEST_HEADER}: 1`, { status: 415 });
}

/** application/json, or any application/…+json. */
export function isJson(contentType: string | undefined): boolean {
  const essence = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return essence === 'application/json' || /^application\/[a-z0-9.+-]*\+json$/.test(essence);
}

/** The registry's own origin: as the client reached it (Host), or as configured (auth.publicUrl). */
function isOwnOrigin(origin: string, request: HttpRequest, publicUrl: string | undefined): boolean {
  let given: string;
  try {
    given = new URL(origin).origin;
  } catch {
    return false; // "null" (sandboxed frames, file: pages) and garbage are nobody's origin
  }
  if (given === 'null') return false;
  const own = [baseUrl(request, undefined), ...(publicUrl ? [publicUrl] : [])];
  return own.some((url) => {
    try {
      return new URL(url).origin === given;
    } catch {
      return false;
    }
  });
}
