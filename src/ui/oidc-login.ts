// The web catalog's single sign-on routes: /login/oidc sends the browser to the identity
// provider, /login/oidc/callback takes it back and opens a session (OidcSignOn does the
// protocol). Between the two, state, nonce and PKCE verifier wait in an HttpOnly cookie of
// this browser, for ten minutes at most and used once: only the browser that started the
// sign-in can finish it (the state in the provider's answer must match it).
import { RegistryError } from '../core/errors.ts';
import type { PendingOidcLogin } from '../auth/oidc-sign-on.ts';
import { header, type HttpRequest, type HttpResponse } from '../server/http-types.ts';
import { requestContext } from '../server/request-auth.ts';
import type { WebAuth, WebCaller } from './web-auth.ts';
import { cookie, readCookies, redirect } from './web-response.ts';

export const OIDC_LOGIN_PATH = '/login/oidc';
export const OIDC_CALLBACK_PATH = '/login/oidc/callback';
const PENDING_COOKIE = 'custody_oidc';
const PENDING_SECONDS = 600;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export class OidcLoginRoutes {
  private readonly auth: WebAuth;
  private readonly publicUrl: string | undefined;

  constructor(auth: WebAuth, publicUrl: string | undefined) {
    this.auth = auth;
    this.publicUrl = publicUrl;
  }

  /** GET /login/oidc?next=/path: to the provider. */
  async start(request: HttpRequest, response: HttpResponse, next: string): Promise<void> {
    const oidc = this.signOn();
    const { url, pending } = await oidc.begin(this.callbackUrl(request));
    const value = [pending.state, pending.nonce, pending.verifier, Buffer.from(next).toString('base64url')].join('.');
    redirect(response, url, [cookie(PENDING_COOKIE, value, { secure: this.auth.secure, maxAgeSeconds: PENDING_SECONDS })]);
  }

  /** GET /login/oidc/callback?code&state: back from the provider; returns the page to go to with the session's cookies. */
  async finish(request: HttpRequest, caller: WebCaller, query: URLSearchParams): Promise<{ next: string; cookies: string[] }> {
    const oidc = this.signOn();
    const kept = readCookies(header(request, 'cookie')).get(PENDING_COOKIE);
    const [state, nonce, verifier, next] = (kept ?? '').split('.');
    const pending: PendingOidcLogin | null = state && nonce && verifier && TOKEN.test(state) && TOKEN.test(nonce) && TOKEN.test(verifier) ? { state, nonce, verifier } : null;
    const account = await oidc.complete(this.callbackUrl(request), query, pending, requestContext(request));
    const cookies = await this.auth.openSession(caller, account, 'oidc');
    // Used once: a replayed callback finds no pending sign-in.
    cookies.push(cookie(PENDING_COOKIE, '', { secure: this.auth.secure, maxAgeSeconds: 0 }));
    return { next: Buffer.from(next ?? '', 'base64url').toString('utf8'), cookies };
  }

  private signOn(): NonNullable<WebAuth['oidc']> {
    const oidc = this.auth.oidc;
    if (!oidc) throw new RegistryError('NOT_FOUND', 'single sign-on is not configured');
    return oidc;
  }

  /** The redirect URI registered at the provider: auth.publicUrl's, else this request's origin. */
  private callbackUrl(request: HttpRequest): string {
    const base = this.publicUrl ?? `${this.auth.secure ? 'https' : 'http'}://${header(request, 'host') ?? header(request, ':authority') ?? 'localhost'}`;
    return `${base}${OIDC_CALLBACK_PATH}`;
  }
}
