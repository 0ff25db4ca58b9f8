// Browser sessions of the web catalog, over a WebSessionStore (SQL: any replica knows a
// session another opened). A session names an account and the security stamp it logged in
// under: a revocation, a new password or disabling the account moves the stamp and ends
// the session, as it ends registry tokens. The id is 256 random bits sent only in an
// HttpOnly cookie; the store keeps its sha256. A new id is issued at every login, so an id
// planted before login is useless.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AuthMethod } from '../core/identity.ts';
import type { WebSessionRecord, WebSessionStore } from '../metadata/web-session-store.ts';
import type { JobDefinition } from '../jobs/job-scheduler.ts';

export interface WebSession {
  readonly idHash: string;
  readonly accountName: string;
  readonly securityStamp: string;
  readonly via: AuthMethod;
  /** Sent in every form of the session and compared on every POST. */
  readonly csrfToken: string;
  readonly createdAt: number;
}

export interface WebSessionOptions {
  /** A session unused this long ends (default 8 hours). */
  readonly idleMs?: number;
  /** A session ends this long after login however used (default 24 hours). */
  readonly absoluteMs?: number;
}

/** Use is recorded at most this often (a write per page view would be wasted). */
const TOUCH_EVERY_MS = 60_000;

function hashOf(id: string): string {
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

function view(record: WebSessionRecord): WebSession {
  return { idHash: record.idHash, accountName: record.accountName, securityStamp: record.securityStamp, via: record.via as AuthMethod, csrfToken: record.csrfToken, createdAt: record.createdAt };
}

export class WebSessions {
  private readonly store: WebSessionStore;
  private readonly idleMs: number;
  private readonly absoluteMs: number;

  constructor(store: WebSessionStore, options: WebSessionOptions = {}) {
    this.store = store;
    this.idleMs = options.idleMs ?? 8 * 3_600_000;
    this.absoluteMs = options.absoluteMs ?? 24 * 3_600_000;
  }

  /** A new session (and so a new id) for a login; returns the id for the cookie. */
  async create(account: { id: number; name: string; securityStamp: string }, via: AuthMethod, now = Date.now()): Promise<{ id: string; session: WebSession }> {
    const id = randomToken();
    const record: WebSessionRecord = { idHash: hashOf(id), accountId: account.id, accountName: account.name, securityStamp: account.securityStamp, via, csrfToken: randomToken(), createdAt: now, lastSeenAt: now };
    await this.store.insert(record);
    return { id, session: view(record) };
  }

  /** The live session for a cookie value, or null; use extends its idle time. */
  async find(id: string | undefined, now = Date.now()): Promise<WebSession | null> {
    if (id === undefined || !/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
    const record = await this.store.find(hashOf(id));
    if (!record) return null;
    if (now - record.lastSeenAt > this.idleMs || now - record.createdAt > this.absoluteMs) {
      await this.store.delete(record.idHash);
      return null;
    }
    if (now - record.lastSeenAt >= TOUCH_EVERY_MS) await this.store.touch(record.idHash, now);
    return view(record);
  }

  /** After the session's own account changed stamp by this session's doing. */
  async keep(session: WebSession, securityStamp: string): Promise<void> {
    await this.store.setSecurityStamp(session.idHash, securityStamp);
  }

  async destroy(id: string | undefined): Promise<void> {
    if (id !== undefined && id.length <= 100) await this.store.delete(hashOf(id));
  }

  async purgeExpired(now = Date.now()): Promise<number> {
    return this.store.deleteExpired(now - this.idleMs, now - this.absoluteMs);
  }

  /** The periodic purge, for the one scheduler. */
  purgeJob(intervalMs = 15 * 60_000): JobDefinition {
    return { name: 'web-sessions-purge', intervalMs, run: async () => void (await this.purgeExpired()) };
  }
}
