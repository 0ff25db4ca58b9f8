// Authorisation for the registry API (/v2/). Every route says what it needs, a
// repository and the actions of a Docker token scope; the gate finds the caller and
// either lets the request through or answers the way registry clients expect:
// 401 with a Bearer challenge naming the scope (clients then fetch a token and retry),
// or 403 DENIED when the caller is known and the access is not theirs.
import { RegistryError } from '../core/errors.ts';
import { ANONYMOUS, type Principal } from '../core/identity.ts';
import { actorOf, type ActionRecorder } from '../audit/action.ts';
import type { RepositoryAction } from '../auth/access-control.ts';
import type { TokenClaims } from '../auth/token-service.ts';
import { header, type HttpRequest } from './http-types.ts';
import { principalFromClaims, readCredentials, requestContext } from './request-auth.ts';
import type { SecurityServices } from './security.ts';

export interface Caller {
  readonly principal: Principal;
  readonly ip: string | undefined;
  readonly userAgent: string | undefined;
  /** The verified bearer token's claims, when the caller used one. */
  readonly claims?: TokenClaims | undefined;
}

/** A repository and the token scope actions on it. */
export interface RepositoryScope {
  readonly repository: string;
  readonly actions: readonly RepositoryAction[];
}

export type Need =
  | { readonly kind: 'base' }
  | { readonly kind: 'catalog' }
  | {
      readonly kind: 'repository';
      readonly repository: string;
      readonly actions: readonly RepositoryAction[];
      /**
       * Scopes the request may use without needing them (a mount's source): named in the
       * challenge, as Distribution does, so clients fetch a token that covers them. The
       * handler asks mayPull; a token that asked and was refused gets no answer either way.
       */
      readonly optional?: readonly RepositoryScope[];
    };

export interface RegistryGate {
  /** True when every request is allowed (authentication disabled). */
  readonly open: boolean;
  /** The caller, once allowed; throws UNAUTHORIZED (with a challenge) or DENIED. */
  authorize(request: HttpRequest, need: Need): Promise<Caller>;
  /** Whether an already-authorised caller may also pull `repository` (mount sources). */
  mayPull(caller: Caller, repository: string): Promise<boolean>;
  /** Whether an already-authorised caller may also push to `repository` (publishers read
   * unsigned manifests a signing policy hides from others: they must, to sign them). */
  mayPush(caller: Caller, repository: string): Promise<boolean>;
  /** Repository names the caller may see in the catalog; null means every repository. */
  visibleRepositories(caller: Caller, last: string | undefined, limit: number): Promise<string[] | null>;
}

/** `auth.enabled: false`: everything is allowed, for local development. */
export class OpenGate implements RegistryGate {
  readonly open = true;

  async authorize(request: HttpRequest): Promise<Caller> {
    return { principal: ANONYMOUS, ...requestContext(request) };
  }

  async mayPull(): Promise<boolean> {
    return true;
  }

  async mayPush(): Promise<boolean> {
    return true;
  }

  async visibleRepositories(): Promise<string[] | null> {
    return null;
  }
}

/** How long a basic-auth caller's granted actions on a repository are reused. */
const BASIC_DECISION_TTL_MS = 5_000;
const BASIC_DECISION_LIMIT = 10_000;

export class TokenGate implements RegistryGate {
  readonly open = false;
  private readonly security: SecurityServices;
  private readonly actions: ActionRecorder;
  // Clients sending basic credentials on every request would otherwise pay a permission
  // query each time; a token's grant lives minutes, so seconds here change nothing. The
  // login itself is checked on every request (Authenticator), so a revoked credential
  // never rides on a remembered decision; role changes here clear it at once, those made
  // on another replica take effect within BASIC_DECISION_TTL_MS.
  private readonly basicDecisions = new Map<string, { granted: readonly RepositoryAction[]; until: number }>();

  constructor(security: SecurityServices, actions: ActionRecorder) {
    this.security = security;
    this.actions = actions;
    // A change to credentials, accounts or roles in this process: decide afresh.
    security.authenticator.onForget(() => this.basicDecisions.clear());
  }

  /** The token's account exists, is enabled, and has the security stamp the token was issued under. */
  private async accountStillStands(name: string, stamp: string): Promise<boolean> {
    const account = await this.security.authenticator.states.current(name);
    return account !== null && !account.disabled && account.securityStamp === stamp;
  }

  async authorize(request: HttpRequest, need: Need): Promise<Caller> {
    const context = requestContext(request);
    const credentials = readCredentials(request);
    const { access } = this.security;

    if (credentials.scheme === 'bearer') {
      let claims: TokenClaims;
      try {
        claims = await this.security.tokens.verify(credentials.token, { audience: this.security.service, purpose: 'registry' });
      } catch (error) {
        throw this.challenge(request, need, error instanceof RegistryError ? error.message : 'invalid token', 'invalid_token');
      }
      if (claims.act && !(await this.accountStillStands(claims.sub, claims.act.stamp))) {
        // Revoked since it was issued: the client asks for a new token with what it has.
        throw this.challenge(request, need, 'invalid bearer token: revoked (the account or its credentials changed)', 'invalid_token');
      }
      const caller: Caller = { principal: principalFromClaims(claims), ...context, claims };
      if (need.kind === 'catalog') {
        // Only a token granted registry:catalog:* lists (the token endpoint refuses it to
        // anonymous callers unless anonymous pull is on).
        if (claims.access.some((item) => item.type === 'registry' && item.name === 'catalog')) return caller;
        throw this.challenge(request, need, 'the token does not grant this access', 'insufficient_scope');
      }
      if (need.kind !== 'repository') return caller;
      const entry = claims.access.find((item) => item.type === 'repository' && item.name === need.repository);
      const granted = entry?.actions ?? [];
      if (need.actions.every((action) => granted.includes(action) || granted.includes('*'))) {
        // A token never asked for an optional scope: say which, so the client asks. One
        // that asked and was refused goes on, and the handler treats the source as
        // unreadable whether or not it exists.
        const unasked = (need.optional ?? []).some((scope) => !claims.access.some((item) => item.type === 'repository' && item.name === scope.repository));
        if (unasked) throw this.challenge(request, need, 'the token does not cover the mount source', 'insufficient_scope');
        return caller;
      }
      // The token was asked for this repository and did not get the action: the caller
      // is known and not allowed. Otherwise the client should fetch a token for it.
      if (entry && caller.principal.kind === 'account') throw this.denied(caller, need);
      throw this.challenge(request, need, 'the token does not grant this access', 'insufficient_scope');
    }

    if (credentials.scheme === 'basic') {
      const principal = await this.security.authenticator.login(credentials.username, credentials.secret, context);
      const caller: Caller = { principal, ...context };
      if (need.kind !== 'repository') return caller;
      const granted = await this.basicGrant(principal, need.repository, need.actions);
      if (need.actions.every((action) => granted.includes(action))) {
        if (need.actions.includes('push')) await access.prepareCreation(principal, need.repository, context);
        return caller;
      }
      throw this.denied(caller, need);
    }

    // No credentials: anonymous pulls of public repositories where allowed; otherwise a
    // challenge, which is how clients learn where to get a token.
    const caller: Caller = { principal: ANONYMOUS, ...context };
    if (need.kind === 'repository' && access.anonymousPull) {
      const granted = await access.grantedActions(ANONYMOUS, need.repository, need.actions);
      if (need.actions.every((action) => granted.includes(action))) return caller;
    }
    throw this.challenge(request, need, 'authentication required');
  }

  private async basicGrant(principal: Principal, repository: string, actions: readonly RepositoryAction[]): Promise<readonly RepositoryAction[]> {
    if (principal.kind !== 'account') return this.security.access.grantedActions(principal, repository, actions);
    const key = `${principal.account.id}\0${repository}\0${actions.join(',')}`;
    const now = Date.now();
    const cached = this.basicDecisions.get(key);
    if (cached && cached.until > now) return cached.granted;
    const granted = await this.security.access.grantedActions(principal, repository, actions);
    if (this.basicDecisions.size >= BASIC_DECISION_LIMIT) this.basicDecisions.clear();
    this.basicDecisions.set(key, { granted, until: now + BASIC_DECISION_TTL_MS });
    return granted;
  }

  async mayPull(caller: Caller, repository: string): Promise<boolean> {
    return this.may(caller, repository, 'pull');
  }

  async mayPush(caller: Caller, repository: string): Promise<boolean> {
    return this.may(caller, repository, 'push');
  }

  private async may(caller: Caller, repository: string, action: 'pull' | 'push'): Promise<boolean> {
    if (caller.claims) {
      const entry = caller.claims.access.find((item) => item.type === 'repository' && item.name === repository);
      if (entry !== undefined && (entry.actions.includes(action) || entry.actions.includes('*'))) return true;
      // A mount source is judged by the token, which said what the client asked for.
      if (action === 'pull') return false;
    }
    // What the caller is, not what this request's token happens to carry: an account with
    // push rights publishes (and signs) what is in the repository even when it fetched a
    // pull-only token to read it. The token's account was checked current by authorize().
    const principal = await this.storedPrincipal(caller);
    const granted = await this.basicGrant(principal, repository, [action]);
    return granted.includes(action);
  }

  /** A token's principal carries no id or roles: the stored account, for role decisions. */
  private async storedPrincipal(caller: Caller): Promise<Principal> {
    const principal = caller.principal;
    if (!caller.claims || principal.kind !== 'account') return principal;
    const account = await this.security.identity.findAccount(principal.account.name);
    return account && !account.disabled ? { kind: 'account', account, via: principal.via } : ANONYMOUS;
  }

  async visibleRepositories(caller: Caller, last: string | undefined, limit: number): Promise<string[] | null> {
    // Token principals carry no id or roles; the catalog needs the stored account.
    return this.security.access.readableRepositories(await this.storedPrincipal(caller), last, limit);
  }

  private denied(caller: Caller, need: Extract<Need, { kind: 'repository' }>): RegistryError {
    this.actions.record({
      kind: need.actions.includes('push') ? 'push' : need.actions.includes('delete') ? 'delete' : 'pull',
      result: 'denied',
      actor: actorOf(caller.principal),
      ip: caller.ip,
      userAgent: caller.userAgent,
      repository: need.repository,
      detail: { actions: need.actions },
    });
    return new RegistryError('DENIED', `requested access to ${need.repository} is denied`, { detail: { name: need.repository, actions: need.actions } });
  }

  private challenge(request: HttpRequest, need: Need, message: string, error?: string): RegistryError {
    const realm = `${baseUrl(request, this.security.publicUrl)}/auth/token`;
    const parts = [`realm="${realm}"`, `service="${this.security.service}"`];
    if (need.kind === 'repository') {
      // Several scopes are one space-separated value (Distribution's form).
      const scopes = [{ repository: need.repository, actions: need.actions }, ...(need.optional ?? [])];
      parts.push(`scope="${scopes.map((scope) => `repository:${scope.repository}:${scope.actions.join(',')}`).join(' ')}"`);
    }
    if (need.kind === 'catalog') parts.push('scope="registry:catalog:*"');
    if (error) parts.push(`error="${error}"`);
    return new RegistryError('UNAUTHORIZED', message, {
      headers: { 'WWW-Authenticate': `Bearer ${parts.join(',')}` },
      ...(need.kind === 'repository' ? { detail: need.actions.map((action) => ({ Type: 'repository', Name: need.repository, Action: action })) } : {}),
    });
  }
}

/** The registry's external base URL: configured, or what the client used to reach us. */
export function baseUrl(request: HttpRequest, configured: string | undefined): string {
  if (configured) return configured;
  const encrypted = (request.socket as { encrypted?: boolean } | undefined)?.encrypted === true;
  const host = header(request, 'host') ?? (request as { authority?: string }).authority ?? header(request, ':authority') ?? 'localhost';
  // A Host header is client input: keep it to host[:port] characters.
  const safeHost = /^[A-Za-z0-9.\-[\]:]+$/.test(host) ? host : 'localhost';
  return `${encrypted ? 'https' : 'http'}://${safeHost}`;
}
