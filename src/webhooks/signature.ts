// The signature every webhook request carries when its hook has a secret:
//
//   Custody-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//
// The timestamp is inside the MAC so a captured request cannot be replayed later than the
// receiver's tolerance; the body is the exact bytes received. Receivers recompute the MAC
// and compare in constant time (`verifyWebhookSignature` does both). Several `v1=` values
// may appear while a secret is being rotated; any one matching is enough.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'custody-signature';

export function signatureOf(secret: string, timestamp: number, body: string | Uint8Array): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/** The header's value for `body` sent at `nowMs`. */
export function signWebhook(secret: string, body: string | Uint8Array, nowMs: number = Date.now()): string {
  const timestamp = Math.floor(nowMs / 1000);
  return `t=${timestamp},v1=${signatureOf(secret, timestamp, body)}`;
}

export interface VerifyOptions {
  /** Oldest (and most future) timestamp accepted, in seconds (default 300). */
  readonly toleranceSeconds?: number;
  readonly nowMs?: number;
}

/** Whether `header` is a valid signature of `body` with `secret`, recent enough. */
export function verifyWebhookSignature(secret: string, header: string | undefined | null, body: string | Uint8Array, options: VerifyOptions = {}): boolean {
  if (typeof header !== 'string' || header.length > 4096) return false;
  let timestamp: number | undefined;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const [key, value] = part.trim().split('=', 2) as [string, string | undefined];
    if (key === 't' && value !== undefined && /^[0-9]{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && value !== undefined && /^[0-9a-f]{64}$/.test(value)) candidates.push(value);
  }
  if (timestamp === undefined || candidates.length === 0) return false;
  const now = Math.floor((options.nowMs ?? Date.now()) / 1000);
  if (Math.abs(now - timestamp) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signatureOf(secret, timestamp, body), 'hex');
  let matched = false;
  // Every candidate is compared (no early exit), each in constant time.
  for (const candidate of candidates) matched = timingSafeEqual(expected, Buffer.from(candidate, 'hex')) || matched;
  return matched;
}
