// Checks credentials: a user's password (local scrypt hash, or the directory for LDAP
// users), a robot token, or a personal access token. Every attempt is throttled and
// logged; verified credentials are remembered for a short while, so clients that send
// basic auth on every request (skopeo with --creds does) do not pay scrypt each time.
// A remembered login is used only while the account's security stamp is the one it was
// verified under (AccountStates), so a revocation ends it too: at once in this process,
// on other replicas as soon as the broadcast reaches them (PostgreSQL NOTIFY or Redis
// pub/sub: milliseconds), and within ACCOUNT_STATE_TTL_MS should a message be lost.
import { createHash, timingSafeEqual } from 'node:crypto';
import { DomainError, RegistryError } from '../core/errors.ts';
import type { Account, AccountPrincipal, AuthMethod } from '../core/identity.ts';
import type { AccountStore, CredentialStore } from '../metadata/identity-store.ts';
import { actorOf, type ActionRecorder } from '../audit/action.ts';
import type { LoginThrottle } from './login-throttle.ts';
import { AccountStates } from './account-states.ts';
import { decoyHash, verifyPassword } from './passwords.ts';
import { hashSecret, secretKind } from './secrets.ts';
import { NO_BROADCAST, type Broadcast } from '../core/coordination.ts';

/** A directory of users (LDAP): checks a password and provisions the local account. */
export interface DirectoryLogin {
  /**
   * The local account for `username` after a successful bind with `password`: created on
   * first login, its team memberships synchronised with the directory's groups. Null when
   * the directory does not know the user or the password is wrong. Throws when the
   * directory cannot be reached.
   */
  login(username: string, password: string): Promise<Account | null>;
}

export interface RequestContext {
  readonly ip?: string | undefined;
  readonly userAgent?: string | undefined;
}

export interface AuthenticatorOptions {
  readonly store: AccountStore & CredentialStore;
  readonly throttle: LoginThrottle;
  readonly actions: ActionRecorder;
  readonly directory?: DirectoryLogin | undefined;
  /** How long a verified username and secret are remembered. */
  readonly cacheMs?: number;
  /** Recent account state; one is made over `store` when absent. */
  readonly states?: AccountStates;
  /** Tells the other replicas to forget too (topic `credentials`). */
  readonly broadcast?: Broadcast | undefined;
  /** Called when the broadcast fails (the change still holds; others see it within the TTLs). */
  readonly onBroadcastError?: (error: unknown) => void;
}

interface CachedLogin {
  readonly principal: AccountPrincipal;
  readonly until: number;
}

const CACHE_LIMIT = 10_000;

export class Authenticator {
  private readonly options: AuthenticatorOptions;
  private readonly cache = new Map<string, CachedLogin>();
  private readonly forgetListeners: (() => void)[] = [];
  /** Account state for checks on every request (remembered logins, registry tokens). */
  readonly states: AccountStates;

  constructor(options: AuthenticatorOptions) {
    this.options = options;
    this.states = options.states ?? new AccountStates(options.store);
    // Another replica changed credentials, accounts or roles (or messages were lost).
    (options.broadcast ?? NO_BROADCAST).subscribe('credentials', () => this.forgetHere());
  }

  /**
   * Forgets remembered logins, account state and whatever else registered (the registry
   * gate's decisions), here and on every other replica: called after every change to
   * credentials, accounts or roles.
   */
  forget(): void {
    this.forgetHere();
    (this.options.broadcast ?? NO_BROADCAST).publish('credentials', 'forget').catch((error: unknown) => this.options.onBroadcastError?.(error));
  }

  private forgetHere(): void {
    this.cache.clear();
    this.states.forget();
    for (const listener of this.forgetListeners) listener();
  }

  /** Runs `listener` on every forget(). */
  onForget(listener: () => void): void {
    this.forgetListeners.push(listener);
  }

  /** The principal for a username and secret; throws UNAUTHORIZED or TOOMANYREQUESTS. */
  async login(username: string, secret: string, context: RequestContext): Promise<AccountPrincipal> {
    const now = Date.now();
    const cacheKey = createHash('sha256').update(username).update('\0').update(secret).digest('base64');
    const cached = this.cache.get(cacheKey);
    if (cached && cached.until > now) {
      // Still the account it was, under the same stamp: nothing was revoked since.
      const account = await this.states.current(cached.principal.account.name, now);
      if (account && account.id === cached.principal.account.id && !account.disabled && account.securityStamp === cached.principal.account.securityStamp) {
        return { ...cached.principal, account };
      }
    }
    if (cached) this.cache.delete(cacheKey);

    const { throttle, actions } = this.options;
    // Account names are lowercase (LDAP logins are mapped to lowercase): "Alice" and
    // "alice" are one account and share one failure count.
    const throttleKey = username.toLowerCase();
    const wait = await throttle.retryAfter(throttleKey, context.ip, now);
    if (wait > 0) {
      actions.record({ kind: 'login', result: 'denied', actor: { kind: 'user', name: username }, ip: context.ip, userAgent: context.userAgent, detail: { reason: 'throttled' } });
      throw new RegistryError('TOOMANYREQUESTS', 'too many failed logins: try again later', { headers: { 'Retry-After': String(Math.ceil(wait / 1000)) } });
    }

    let principal: AccountPrincipal | null = null;
    let method: AuthMethod = 'password';
    try {
      const kind = secretKind(secret);
      // No account name holds a NUL (nor could the database look one up): a failed login.
      if (username.includes('\0')) principal = null;
      else if (kind === 'robot' || kind === 'personal') {
        method = kind === 'robot' ? 'robot-token' : 'personal-token';
        principal = await this.secretLogin(username, secret, kind, now);
      } else {
        principal = await this.passwordLogin(username, secret);
      }
    } catch (error) {
      if (error instanceof RegistryError || error instanceof DomainError) throw error;
      actions.record({ kind: 'login', result: 'failure', actor: { kind: 'user', name: username }, ip: context.ip, userAgent: context.userAgent, detail: { reason: 'directory unavailable' } });
      throw new RegistryError('UNAVAILABLE', 'the user directory cannot be reached', { cause: error });
    }

    if (!principal) {
      await throttle.failed(throttleKey, context.ip, now);
      actions.record({ kind: 'login', result: 'failure', actor: { kind: username.includes('+') ? 'robot' : 'user', name: username, via: method }, ip: context.ip, userAgent: context.userAgent });
      throw new RegistryError('UNAUTHORIZED', 'incorrect username or password');
    }
    await throttle.succeeded(throttleKey);
    actions.record({
      kind: method === 'robot-token' ? 'robot_token' : 'login',
      result: 'success',
      actor: actorOf(principal),
      ip: context.ip,
      userAgent: context.userAgent,
    });
    if (this.cache.size >= CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(cacheKey, { principal, until: now + (this.options.cacheMs ?? 30_000) });
    return principal;
  }

  private async secretLogin(username: string, secret: string, kind: 'robot' | 'personal', now: number): Promise<AccountPrincipal | null> {
    const found = await this.options.store.findCredential(hashSecret(secret), now);
    if (!found || found.credential.kind !== kind || found.account.disabled) return null;
    // The secret names its account; the username must agree (compared in constant time).
    const expected = Buffer.from(found.account.name);
    const given = Buffer.from(username);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    void this.options.store.touchCredential(found.credential.id, now).catch(() => {});
    return { kind: 'account', account: found.account, via: kind === 'robot' ? 'robot-token' : 'personal-token', credentialId: found.credential.id };
  }

  /** A password checked locally or by the directory; the principal's `via` says which. */
  private async passwordLogin(username: string, password: string): Promise<AccountPrincipal | null> {
    const { store, directory } = this.options;
    const account = await store.findAccount(username);
    if (account && account.kind === 'user' && account.ldapDn === null) {
      const hash = await store.passwordHash(account.id);
      const ok = hash !== null && (await verifyPassword(password, hash));
      if (!ok || account.disabled) return null;
      return { kind: 'account', account, via: 'password' };
    }
    if (directory && (!account || (account.kind === 'user' && account.ldapDn !== null))) {
      const provisioned = await directory.login(username, password);
      if (!provisioned || provisioned.disabled) return null;
      return { kind: 'account', account: provisioned, via: 'ldap' };
    }
    // No such user: spend the time a real check takes, so timing tells nothing.
    await verifyPassword(password, await decoyHash());
    return null;
  }
}
