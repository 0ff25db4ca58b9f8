// Writing the catalog's responses: HTML pages with the security headers every page
// carries, redirects, and cookies. A strict Content-Security-Policy: scripts, styles and
// fonts from this origin only, no inline script, no frames, forms post here only.
import type { HttpResponse } from '../server/http-types.ts';
import type { Html } from './html.ts';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "font-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

function securityHeaders(response: HttpResponse): void {
  response.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  response.setHeader('X-Frame-Options', 'DENY');
  response.setHeader('Referrer-Policy', 'same-origin');
  response.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  response.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  response.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), interest-cohort=()');
}

/** An HTML page; never cached by shared caches (it depends on who is logged in). */
export function sendHtml(response: HttpResponse, method: string, status: number, page: Html, cookies: readonly string[] = []): void {
  const body = Buffer.from(`<!DOCTYPE html>\n${page.text}`);
  securityHeaders(response);
  response.setHeader('Content-Type', 'text/html; charset=utf-8');
  response.setHeader('Cache-Control', 'no-store');
  response.setHeader('Content-Length', body.byteLength);
  if (cookies.length > 0) response.setHeader('Set-Cookie', cookies);
  response.writeHead(status);
  response.end(method === 'HEAD' ? undefined : body);
}

/** 303 See Other: after a form POST, the browser GETs the next page. */
export function redirect(response: HttpResponse, location: string, cookies: readonly string[] = []): void {
  securityHeaders(response);
  response.setHeader('Location', location);
  response.setHeader('Cache-Control', 'no-store');
  response.setHeader('Content-Length', 0);
  if (cookies.length > 0) response.setHeader('Set-Cookie', cookies);
  response.writeHead(303);
  response.end();
}

/** A download (SBOM): JSON as an attachment, never rendered by the browser. */
export function sendDownload(response: HttpResponse, method: string, contentType: string, fileName: string, body: Buffer): void {
  securityHeaders(response);
  response.setHeader('Content-Type', contentType);
  response.setHeader('Content-Disposition', `attachment; filename="${fileName.replace(/[^A-Za-z0-9._-]/g, '_')}"`);
  response.setHeader('Cache-Control', 'no-store');
  response.setHeader('Content-Length', body.byteLength);
  response.writeHead(200);
  response.end(method === 'HEAD' ? undefined : body);
}

export interface CookieOptions {
  readonly secure: boolean;
  readonly maxAgeSeconds?: number;
  readonly sameSite?: 'Lax' | 'Strict';
}

export function cookie(name: string, value: string, options: CookieOptions): string {
  const parts = [`${name}=${value}`, 'Path=/', 'HttpOnly', `SameSite=${options.sameSite ?? 'Lax'}`];
  if (options.secure) parts.push('Secure');
  if (options.maxAgeSeconds !== undefined) parts.push(`Max-Age=${options.maxAgeSeconds}`);
  return parts.join('; ');
}

export function readCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}
