// The web catalog's entry point: every path outside /v2, /api, /auth, /extensions,
// /healthz and /metrics. Reads the request, asks the catalog (domain) and renders a page.
// Errors become HTML pages that say no more than the API would: a repository the caller
// may not read is "not found", exactly like one that does not exist.
import { RegistryError, DomainError } from '../core/errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { Principal } from '../core/identity.ts';
import { unknownPath, type RouteMatch, type RouteTable } from '../server/route-table.ts';
import { header, type HttpRequest, type HttpResponse } from '../server/http-types.ts';
import { readLimitedBody } from '../server/request-body.ts';
import type { CatalogService } from '../catalog/catalog-service.ts';
import { searchQueryFrom, type CatalogSearch } from '../catalog/catalog-search.ts';
import type { ManagementService } from '../management/management-service.ts';
import { html, type Html } from './html.ts';
import { UiAssets, type Asset } from './assets.ts';
import { page, type Viewer } from './layout.ts';
import { WebAuth, type WebCaller } from './web-auth.ts';
import { redirect, sendHtml } from './web-response.ts';
import { loginPage } from './pages/login.ts';
import { explorePage } from './pages/explore.ts';
import { UiPages } from './ui-pages.ts';
import { OIDC_CALLBACK_PATH, OIDC_LOGIN_PATH, OidcLoginRoutes } from './oidc-login.ts';

export interface UiRouterOptions {
  readonly catalog: CatalogService;
  readonly search: CatalogSearch;
  readonly auth: WebAuth;
  readonly management?: ManagementService | undefined;
  readonly logger?: Logger | undefined;
  /** The host:port shown in pull commands (auth.publicUrl's host), else the request's Host. */
  readonly publicHost?: string | undefined;
  /** auth.publicUrl: the base of the OIDC redirect URI (else the request's origin). */
  readonly publicUrl?: string | undefined;
}

const OTHER_ENTRY_POINTS = /^\/(v2|api|auth|extensions|healthz|metrics)(\/|$)/;
const FORM_LIMIT = 64 * 1024;

export class UiRouter implements RouteTable {
  readonly area = 'ui';
  readonly assets = new UiAssets();
  private readonly options: UiRouterOptions;
  private readonly pages: UiPages;
  private readonly oidc: OidcLoginRoutes;

  constructor(options: UiRouterOptions) {
    this.options = options;
    this.oidc = new OidcLoginRoutes(options.auth, options.publicUrl);
    this.pages = new UiPages(options, this.assets);
  }

  match(request: HttpRequest, response: HttpResponse, path: string, query: URLSearchParams): RouteMatch | null {
    if (OTHER_ENTRY_POINTS.test(path)) return null;
    const method = request.method ?? 'GET';
    if (UiAssets.isAssetPath(path)) return { route: 'ui_asset', handle: async () => this.sendAsset(request, response, method, path) };
    return {
      route: 'ui_page',
      handle: async () => {
        const caller = await this.options.auth.caller(request);
        let served: boolean;
        try {
          served = await this.dispatch(request, response, method, path, query, caller);
        } catch (error) {
          request.resume();
          this.sendError(response, method, caller, error);
          return;
        }
        if (served) return;
        request.resume();
        // No page here: a browser gets the catalog's 404 page, any other client the one
        // not-found of the server (404 NOT_FOUND in the error envelope).
        if (!wantsHtml(request)) throw unknownPath(method, path);
        this.sendError(response, method, caller, new RegistryError('NOT_FOUND', 'page not found'));
      },
    };
  }

  /** Serves the page; false when there is no page at this path. */
  private async dispatch(request: HttpRequest, response: HttpResponse, method: string, path: string, query: URLSearchParams, caller: WebCaller): Promise<boolean> {
    const viewer = this.viewer(caller);
    const send = (status: number, title: string, body: Html, cookies: string[] = []): void => sendHtml(response, method, status, page({ title, viewer, assets: this.assets, body }), [...caller.cookies, ...cookies]);
    const isGet = method === 'GET' || method === 'HEAD';
    if (isGet) request.resume();
    if (path === '/' && isGet) {
      const search = searchQueryFrom(query);
      const result = await this.options.search.search(caller.principal, search);
      send(200, 'Explore', explorePage(search, result, caller.session !== null));
      return true;
    }
    if (path === '/login' && isGet) {
      if (caller.session) {
        redirect(response, '/');
        return true;
      }
      send(200, 'Log in', loginPage(caller.csrfToken, safeNext(query.get('next')), null, '', this.options.auth.oidc?.displayName));
      return true;
    }
    if (path === OIDC_LOGIN_PATH && isGet) {
      await this.oidc.start(request, response, safeNext(query.get('next')));
      return true;
    }
    if (path === OIDC_CALLBACK_PATH && isGet) {
      const { next, cookies } = await this.oidc.finish(request, caller, query);
      redirect(response, safeNext(next), cookies);
      return true;
    }
    if (path === '/login' && method === 'POST') {
      const form = await readForm(request);
      this.options.auth.checkCsrf(caller, request, form);
      const username = form.get('username') ?? '';
      try {
        const cookies = await this.options.auth.logIn(caller, request, username, form.get('password') ?? '');
        redirect(response, safeNext(form.get('next')), cookies);
        return true;
      } catch (error) {
        const code = error instanceof RegistryError ? error.code : '';
        if (code !== 'UNAUTHORIZED' && code !== 'TOOMANYREQUESTS' && code !== 'DENIED') throw error;
        const message = code === 'TOOMANYREQUESTS' ? 'Too many failed logins: wait a while and try again.' : code === 'DENIED' ? (error as Error).message : 'Incorrect username or password.';
        send(code === 'TOOMANYREQUESTS' ? 429 : 401, 'Log in', loginPage(caller.csrfToken, safeNext(form.get('next')), message, username, this.options.auth.oidc?.displayName));
        return true;
      }
    }
    if (path === '/logout' && method === 'POST') {
      const form = await readForm(request);
      this.options.auth.checkCsrf(caller, request, form);
      redirect(response, '/', await this.options.auth.logOut(caller));
      return true;
    }
    return this.pages.dispatch({ request, response, method, path, query, caller, viewer, send, readForm: () => readForm(request), host: this.host(request) });
  }

  private host(request: HttpRequest): string {
    return this.options.publicHost ?? header(request, 'host') ?? (header(request, ':authority') ?? 'localhost');
  }

  private viewer(caller: WebCaller): Viewer {
    const principal: Principal = caller.principal;
    return { name: principal.kind === 'account' ? principal.account.name : null, csrfToken: caller.csrfToken, canLogIn: this.options.auth.enabled };
  }

  private sendError(response: HttpResponse, method: string, caller: WebCaller, error: unknown): void {
    if (response.headersSent) {
      response.destroy();
      return;
    }
    const viewer = this.viewer(caller);
    let status = 500;
    let title = 'Something went wrong';
    let text = 'The registry could not show this page. The server log has the details.';
    const code = error instanceof RegistryError ? error.code : error instanceof DomainError ? error.code : undefined;
    if (code === 'NAME_UNKNOWN' || code === 'MANIFEST_UNKNOWN' || code === 'NOT_FOUND' || code === 'BLOB_UNKNOWN') {
      status = 404;
      title = 'Not found';
      text = viewer.name === null && this.options.auth.enabled ? 'There is nothing here, or you need to log in to see it.' : 'There is nothing here that you may see.';
    } else if (code === 'DENIED') {
      status = 403;
      title = 'Not allowed';
      text = (error as Error).message;
    } else if (code === 'INVALID_REQUEST' || code === 'NAME_INVALID' || code === 'TAG_INVALID' || code === 'DIGEST_INVALID' || code === 'INVALID_INPUT' || code === 'CONFLICT') {
      status = 400;
      title = 'Cannot do that';
      text = (error as Error).message;
    } else if (status === 500) {
      // The page says nothing of the cause; the log has it.
      this.options.logger?.error('web catalog page failed', { error });
    }
    const login = status === 404 && viewer.name === null && this.options.auth.enabled ? html` <a href="/login">Log in</a>` : '';
    sendHtml(response, method, status, page({ title, viewer, assets: this.assets, body: html`<h1 class="pf-v6-c-title pf-m-2xl">${title}</h1><p>${text}${login}</p><p><a href="/">Back to Explore</a></p>` }), caller.cookies);
  }

  private sendAsset(request: HttpRequest, response: HttpResponse, method: string, path: string): void {
    request.resume();
    const asset: Asset | undefined = this.assets.find(path);
    if (!asset || (method !== 'GET' && method !== 'HEAD')) {
      response.statusCode = 404;
      response.setHeader('Content-Type', 'text/plain');
      response.setHeader('Content-Length', 9);
      response.writeHead(404);
      response.end('not found');
      return;
    }
    const accept = header(request, 'accept-encoding') ?? '';
    let body = asset.body;
    if (asset.brotli && /\bbr\b/.test(accept)) {
      body = asset.brotli;
      response.setHeader('Content-Encoding', 'br');
    } else if (asset.gzip && /\bgzip\b/.test(accept)) {
      body = asset.gzip;
      response.setHeader('Content-Encoding', 'gzip');
    }
    response.setHeader('Vary', 'Accept-Encoding');
    response.setHeader('Content-Type', asset.contentType);
    response.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    response.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    response.setHeader('Content-Length', body.byteLength);
    response.writeHead(200);
    response.end(method === 'HEAD' ? undefined : body);
  }
}

/** A browser asking for a page (its Accept names text/html); curl and API clients do not. */
function wantsHtml(request: HttpRequest): boolean {
  return /\btext\/html\b/i.test(header(request, 'accept') ?? '');
}

async function readForm(request: HttpRequest): Promise<URLSearchParams> {
  const type = (header(request, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    request.resume();
    throw new RegistryError('INVALID_REQUEST', 'forms are sent as application/x-www-form-urlencoded');
  }
  const body = await readLimitedBody(request, FORM_LIMIT, () => new RegistryError('INVALID_REQUEST', 'the form is too large', { status: 413 }));
  return new URLSearchParams(body.toString('utf8'));
}

/** Only a path on this site: never an open redirect. */
function safeNext(value: string | null | undefined): string {
  if (!value || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return '/';
  return value;
}

