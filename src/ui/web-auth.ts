// Who is looking at a page: the account of a live session cookie (checked against the
// account's current security stamp, as registry tokens are), or anonymous. Logging in goes
// through the registry's Authenticator (local and LDAP users, the same login throttle and
// action log); every form POST carries a CSRF token compared in constant time.
import { ANONYMOUS, type Account, type AuthMethod, type Principal } from '../core/identity.ts';
import type { OidcSignOn } from '../auth/oidc-sign-on.ts';
import { RegistryError } from '../core/errors.ts';
import type { SecurityServices } from '../server/security.ts';
import { header, type HttpRequest } from '../server/http-types.ts';
import { requestContext } from '../server/request-auth.ts';
import { randomToken, sameToken, WebSessions, type WebSession } from './web-sessions.ts';
import { cookie, readCookies } from './web-response.ts';

export const SESSION_COOKIE = 'custody_session';
/** Double-submit token for forms shown before login (the login form itself). */
export const FORM_COOKIE = 'custody_form';

export interface WebCaller {
  readonly principal: Principal;
  readonly session: WebSession | null;
  readonly sessionId: string | undefined;
  /** The CSRF token forms on this page must carry. */
  readonly csrfToken: string;
  /** Cookies to set with the response (a new form token). */
  readonly cookies: string[];
}

export class WebAuth {
  readonly sessions: WebSessions;
  private readonly security: SecurityServices | undefined;
  readonly secure: boolean;

  constructor(security: SecurityServices | undefined, sessions: WebSessions, options: { secure: boolean }) {
    this.security = security;
    this.secure = options.secure;
    this.sessions = sessions;
  }

  get enabled(): boolean {
    return this.security !== undefined;
  }

  async caller(request: HttpRequest): Promise<WebCaller> {
    const cookies = readCookies(header(request, 'cookie'));
    const sessionId = cookies.get(SESSION_COOKIE);
    const session = this.security ? await this.sessions.find(sessionId) : null;
    if (session && this.security) {
      const account = await this.security.authenticator.states.current(session.accountName);
      if (account && !account.disabled && account.securityStamp === session.securityStamp) {
        return { principal: { kind: 'account', account, via: session.via }, session, sessionId, csrfToken: session.csrfToken, cookies: [] };
      }
      await this.sessions.destroy(sessionId);
    }
    let formToken = cookies.get(FORM_COOKIE);
    const set: string[] = [];
    if (formToken === undefined || !/^[A-Za-z0-9_-]{43}$/.test(formToken)) {
      formToken = randomToken();
      set.push(cookie(FORM_COOKIE, formToken, { secure: this.secure, sameSite: 'Strict' }));
    }
    return { principal: ANONYMOUS, session: null, sessionId: undefined, csrfToken: formToken, cookies: set };
  }

  /** Throws DENIED unless the form's token is the caller's (session, or the pre-login cookie). */
  checkCsrf(caller: WebCaller, request: HttpRequest, form: URLSearchParams): void {
    const given = form.get('csrf') ?? undefined;
    const expected = caller.session ? caller.session.csrfToken : readCookies(header(request, 'cookie')).get(FORM_COOKIE);
    if (!sameToken(given, expected)) throw new RegistryError('DENIED', 'the form expired or came from another site: reload the page and try again');
  }

  /** Single sign-on, when the registry has an OpenID Connect provider. */
  get oidc(): OidcSignOn | undefined {
    return this.security?.oidc;
  }

  /** Opens a new session (a new id, whatever cookie came in) for an account signed in elsewhere (OIDC). */
  async openSession(caller: WebCaller, account: Account, via: AuthMethod): Promise<string[]> {
    if (account.kind !== 'user' || account.disabled) throw new RegistryError('DENIED', 'only enabled users log in to the web catalog');
    await this.sessions.destroy(caller.sessionId);
    await this.sessions.purgeExpired();
    const { id } = await this.sessions.create(account, via);
    return [cookie(SESSION_COOKIE, id, { secure: this.secure })];
  }

  /** Checks the credentials and opens a new session (a new id, whatever cookie came in). */
  async logIn(caller: WebCaller, request: HttpRequest, username: string, password: string): Promise<string[]> {
    if (!this.security) throw new RegistryError('UNSUPPORTED', 'authentication is disabled on this registry');
    const principal = await this.security.authenticator.login(username, password, requestContext(request));
    if (principal.account.kind !== 'user') throw new RegistryError('DENIED', 'only users log in to the web catalog; robots use their tokens with the registry');
    await this.sessions.destroy(caller.sessionId);
    // Expired sessions go as new ones come (the scheduler's purge job does it too).
    await this.sessions.purgeExpired();
    const { id } = await this.sessions.create(principal.account, principal.via);
    return [cookie(SESSION_COOKIE, id, { secure: this.secure })];
  }

  /**
   * After this session revoked one of its own account's credentials (which moves the
   * account's security stamp and so ends every session and token of it), keeps this one:
   * it is the one that asked. Other sessions of the account stay ended.
   */
  async keepAfterOwnRevocation(caller: WebCaller): Promise<void> {
    if (!caller.session || !this.security || caller.principal.kind !== 'account') return;
    const account = await this.security.authenticator.states.current(caller.session.accountName);
    if (account && account.id === caller.principal.account.id && !account.disabled) await this.sessions.keep(caller.session, account.securityStamp);
  }

  async logOut(caller: WebCaller): Promise<string[]> {
    await this.sessions.destroy(caller.sessionId);
    return [cookie(SESSION_COOKIE, '', { secure: this.secure, maxAgeSeconds: 0 })];
  }
}
