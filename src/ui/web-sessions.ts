// Browser sessions of the web catalog. A session names an account and the security stamp
// it logged in under: a revocation, a new password or disabling the account moves the
// stamp and ends the session, as it ends registry tokens. The id is 256 random bits sent
// only in an HttpOnly cookie; the map is keyed by its sha256, so the ids themselves are
// never held. A new id is issued at every login, so an id planted before login is useless.
// Kept in memory per process: a replica restart logs browsers out (see docs/architecture.md).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AuthMethod } from '../core/identity.ts';

export interface WebSession {
  readonly accountName: string;
  /** Moves on when this session itself revokes something (WebAuth.renew). */
  securityStamp: string;
  readonly via: AuthMethod;
  /** Sent in every form of the session and compared on every POST. */
  readonly csrfToken: string;
  readonly createdAt: number;
  lastSeenAt: number;
}

export interface WebSessionOptions {
  /** A session unused this long ends (default 8 hours). */
  readonly idleMs?: number;
  /** A session ends this long after login however used (default 24 hours). */
  readonly absoluteMs?: number;
  readonly limit?: number;
}

function key(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}

export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Constant-time equality of two tokens (false when either is missing). */
export function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export class WebSessions {
  private readonly sessions = new Map<string, WebSession>();
  private readonly idleMs: number;
  private readonly absoluteMs: number;
  private readonly limit: number;

  constructor(options: WebSessionOptions = {}) {
    this.idleMs = options.idleMs ?? 8 * 3_600_000;
    this.absoluteMs = options.absoluteMs ?? 24 * 3_600_000;
    this.limit = options.limit ?? 100_000;
  }

  /** A new session (and so a new id) for a login; returns the id for the cookie. */
  create(accountName: string, securityStamp: string, via: AuthMethod, now = Date.now()): { id: string; session: WebSession } {
    if (this.sessions.size >= this.limit) this.prune(now);
    // Still full: the oldest sessions give way (a Map iterates in insertion order).
    while (this.sessions.size >= this.limit) this.sessions.delete(this.sessions.keys().next().value!);
    const id = randomToken();
    const session: WebSession = { accountName, securityStamp, via, csrfToken: randomToken(), createdAt: now, lastSeenAt: now };
    this.sessions.set(key(id), session);
    return { id, session };
  }

  /** The live session for a cookie value, or null; touching it extends its idle time. */
  find(id: string | undefined, now = Date.now()): WebSession | null {
    if (id === undefined || id.length > 100) return null;
    const k = key(id);
    const session = this.sessions.get(k);
    if (!session) return null;
    if (now - session.lastSeenAt > this.idleMs || now - session.createdAt > this.absoluteMs) {
      this.sessions.delete(k);
      return null;
    }
    session.lastSeenAt = now;
    return session;
  }

  destroy(id: string | undefined): void {
    if (id !== undefined) this.sessions.delete(key(id));
  }

  private prune(now: number): void {
    for (const [k, session] of this.sessions) {
      if (now - session.lastSeenAt > this.idleMs || now - session.createdAt > this.absoluteMs) this.sessions.delete(k);
    }
  }
}
