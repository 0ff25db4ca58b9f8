// The token endpoint of the Docker token authentication specification: GET /auth/token
// (with basic credentials, or none for anonymous access) and POST /auth/token (OAuth2
// password and refresh_token grants, used by docker/podman login with refresh tokens).
// It grants the subset of the requested scopes the caller may have. GET /auth/jwks.json
// publishes the verification keys.
import { sendJson } from './json-response.ts';
import { RegistryError } from '../core/errors.ts';
import { ANONYMOUS, REFRESH_TOKEN_SOURCES, type Principal, type RefreshTokenSource } from '../core/identity.ts';
import { validateRepositoryName } from '../core/names.ts';
import { actorOf, type ActionRecorder } from '../audit/action.ts';
import { REPOSITORY_ACTIONS, type RepositoryAction } from '../auth/access-control.ts';
import { generateSecret, hashSecret, secretKind } from '../auth/secrets.ts';
import { parseScope, type AccessClaim, type TokenActor } from '../auth/token-service.ts';
import { routeTable, type RouteCall, type RouteMatch, type RouteTable } from './route-table.ts';
import { bodyTooLarge, readLimitedBody } from './request-body.ts';
import type { HttpRequest, HttpResponse } from './http-types.ts';
import { readCredentials, requestContext } from './request-auth.ts';
import type { SecurityServices } from './security.ts';

const MAX_FORM_BYTES = 64 * 1024;
const MAX_SCOPES = 32;
/** What is kept of a client's User-Agent beside its refresh token. */
const MAX_USER_AGENT = 256;

export class TokenEndpoint implements RouteTable {
  readonly area = 'token';
  private readonly security: SecurityServices;
  private readonly actions: ActionRecorder;
  private readonly table: RouteTable;

  constructor(security: SecurityServices, actions: ActionRecorder) {
    this.security = security;
    this.actions = actions;
    // GET and POST (the OAuth2 grants) mint tokens; the verification keys are public.
    const jwks = async ({ response, method }: RouteCall): Promise<void> => sendJson(response, method, 200, this.security.tokens.jwks(), { cacheControl: 'public, max-age=300' });
    this.table = routeTable(this.area, [
      { name: 'token', path: '/auth/token', methods: { GET: (call) => this.answer(call, () => this.get(call.request, call.response, call.query)), POST: (call) => this.answer(call, () => this.post(call.request, call.response)) } },
      ...['/auth/jwks.json', '/.well-known/jwks.json'].map((path) => ({ name: 'jwks', path, methods: { GET: jwks, HEAD: jwks } })),
    ]);
  }

  match(request: HttpRequest, response: HttpResponse, path: string, query: URLSearchParams): RouteMatch | null {
    return this.table.match(request, response, path, query);
  }

  /** The token endpoint is where basic credentials are the protocol: a 401 says so. */
  private async answer({ response }: RouteCall, handle: () => Promise<void>): Promise<void> {
    try {
      await handle();
    } catch (error) {
      if (error instanceof RegistryError && error.status === 401) response.setHeader('WWW-Authenticate', 'Basic realm="custody"');
      throw error;
    }
  }

  private async get(request: HttpRequest, response: HttpResponse, query: URLSearchParams): Promise<void> {
    request.resume();
    this.checkService(query.get('service'));
    const credentials = readCredentials(request);
    if (credentials.scheme === 'bearer') throw new RegistryError('UNAUTHORIZED', 'the token endpoint takes basic credentials or none');
    const context = requestContext(request);
    const principal = credentials.scheme === 'basic' ? await this.security.authenticator.login(credentials.username, credentials.secret, context) : ANONYMOUS;
    const offline = query.get('offline_token') === 'true' && principal.kind === 'account';
    await this.grant(request, response, principal, query.getAll('scope').flatMap((scope) => scope.split(' ')), offline);
  }

  private async post(request: HttpRequest, response: HttpResponse): Promise<void> {
    const form = new URLSearchParams((await readLimitedBody(request, MAX_FORM_BYTES, bodyTooLarge('the form', MAX_FORM_BYTES))).toString('utf8'));
    this.checkService(form.get('service'));
    const context = requestContext(request);
    const grantType = form.get('grant_type');
    let principal: Principal;
    let offline = form.get('access_type') === 'offline';
    if (grantType === 'password') {
      const username = form.get('username');
      const password = form.get('password');
      if (!username || password === null) throw new RegistryError('INVALID_REQUEST', 'the password grant needs username and password');
      principal = await this.security.authenticator.login(username, password, context);
    } else if (grantType === 'refresh_token') {
      const token = form.get('refresh_token') ?? '';
      const now = Date.now();
      // A refresh token is deleted with what minted it (robot token, personal access token,
      // password, the account being disabled or deleted), so finding it is proof enough.
      const found = secretKind(token) === 'refresh' ? await this.security.identity.findCredential(hashSecret(token), now) : null;
      if (!found || found.credential.kind !== 'refresh' || found.account.disabled) {
        this.actions.record({ kind: 'login', result: 'failure', actor: { kind: 'anonymous' }, ...context, detail: { grant: 'refresh_token' } });
        throw new RegistryError('UNAUTHORIZED', 'the refresh token is invalid, expired or revoked');
      }
      void this.security.identity.touchCredential(found.credential.id, now).catch(() => {});
      principal = { kind: 'account', account: found.account, via: 'refresh-token', credentialId: found.credential.id };
      // The client keeps the refresh token it has: no new one.
      offline = false;
    } else {
      throw new RegistryError('INVALID_REQUEST', `unsupported grant_type "${String(grantType).slice(0, 40)}": use password or refresh_token`);
    }
    // containers/image sends one scope parameter per scope; the OAuth2 form separates them by spaces.
    await this.grant(request, response, principal, form.getAll('scope').flatMap((scope) => scope.split(' ')), offline);
  }

  private async grant(request: HttpRequest, response: HttpResponse, principal: Principal, scopes: readonly string[], offline: boolean): Promise<void> {
    const requested = scopes.filter((scope) => scope !== '');
    if (requested.length > MAX_SCOPES) throw new RegistryError('INVALID_REQUEST', `at most ${MAX_SCOPES} scopes per token`);
    const access: AccessClaim[] = [];
    for (const scope of requested) {
      const parsed = parseScope(scope);
      if (!parsed) throw new RegistryError('INVALID_REQUEST', `malformed scope "${scope.slice(0, 100)}"`);
      if (parsed.type === 'repository') {
        validateRepositoryName(parsed.name);
        const wanted = parsed.actions.filter((action): action is RepositoryAction => (REPOSITORY_ACTIONS as readonly string[]).includes(action));
        const granted = await this.security.access.grantedActions(principal, parsed.name, wanted);
        if (granted.includes('push')) await this.security.access.prepareCreation(principal, parsed.name, requestContext(request));
        // Listed even when empty: the registry then knows the caller asked and was refused.
        mergeClaim(access, { type: 'repository', name: parsed.name, actions: granted });
      } else if (parsed.type === 'registry' && parsed.name === 'catalog') {
        // Everyone may ask for the catalog; it lists only what the caller may read.
        if (principal.kind === 'account' || this.security.access.anonymousPull) mergeClaim(access, { type: 'registry', name: 'catalog', actions: ['*'] });
      }
      // Unknown resource types are left out: the subset granted is what matters.
    }
    const actor: TokenActor | null =
      principal.kind === 'account' ? { name: principal.account.name, kind: principal.account.kind === 'robot' ? 'robot' : 'user', via: principal.via, stamp: principal.account.securityStamp } : null;
    const issued = this.security.tokens.issue(actor, this.security.service, access);
    const body: Record<string, unknown> = { token: issued.token, access_token: issued.token, expires_in: issued.expiresIn, issued_at: issued.issuedAt };
    const context = requestContext(request);
    if (offline && principal.kind === 'account' && isRefreshSource(principal.via)) {
      // Bound to what the login proved: the robot token or personal access token it used
      // (deleted with it), or the password (deleted when it changes); and minted only if
      // nothing was revoked since the login read the account.
      const fromToken = principal.via === 'robot-token' || principal.via === 'personal-token';
      if (fromToken && principal.credentialId === undefined) throw new Error('a token login without its credential id');
      const refresh = generateSecret('refresh');
      const added = await this.security.identity.addRefreshToken(
        {
          accountId: principal.account.id,
          kind: 'refresh',
          name: `login ${new Date().toISOString()}`,
          secretHash: hashSecret(refresh),
          expiresAt: Date.now() + this.security.refreshTokenLifetimeMs,
          parentId: fromToken ? principal.credentialId! : null,
          mintedVia: principal.via,
          userAgent: context.userAgent?.slice(0, MAX_USER_AGENT) ?? null,
          ip: context.ip ?? null,
        },
        principal.account.securityStamp,
      );
      if (!added) throw new RegistryError('UNAUTHORIZED', 'the credentials were revoked while logging in');
      body.refresh_token = refresh;
    }
    this.actions.record({
      kind: 'token',
      result: 'success',
      actor: actorOf(principal),
      ...context,
      detail: { access: access.map((claim) => `${claim.type}:${claim.name}:${claim.actions.join(',')}`), ...(body.refresh_token ? { refreshToken: true } : {}) },
    });
    sendJson(response, 'GET', 200, body, { cacheControl: 'no-store' });
  }

  private checkService(service: string | null): void {
    if (service !== null && service !== '' && service !== this.security.service) {
      throw new RegistryError('INVALID_REQUEST', `unknown service "${service.slice(0, 100)}": this registry's service is "${this.security.service}"`);
    }
  }
}

function mergeClaim(access: AccessClaim[], claim: AccessClaim): void {
  const existing = access.findIndex((item) => item.type === claim.type && item.name === claim.name);
  if (existing < 0) access.push(claim);
  else access[existing] = { ...claim, actions: [...new Set([...access[existing]!.actions, ...claim.actions])] };
}

function isRefreshSource(via: string): via is RefreshTokenSource {
  return (REFRESH_TOKEN_SOURCES as readonly string[]).includes(via);
}
