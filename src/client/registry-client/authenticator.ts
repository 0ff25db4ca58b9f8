// Registry authentication: probes /v2/ once to learn the challenge, then answers it with
// Basic credentials or with Bearer tokens from the token server (Docker token spec,
// OAuth2 refresh-token grant for identity tokens), cached per scope set until shortly
// before they expire. Credentials and tokens are never logged.
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../../observability/logger.ts';
import { basicAuthorization, isIdentityToken, type Credentials, type CredentialsProvider } from './credentials.ts';
import { RegistryClientError, errorFromResponse, parseErrorEnvelope } from './errors.ts';
import { normalizeScopes, scopeKey } from './scope.ts';
import { drain, readBody, type HttpRequest } from './transport.ts';
import { parseWwwAuthenticate, type Challenge } from './www-authenticate.ts';

/** Sends one request with retries but without authentication. */
export type UnauthenticatedSender = (request: HttpRequest, idempotent: boolean) => Promise<IncomingMessage>;

interface CachedToken {
  readonly value: string;
  /** Refresh once past this instant. */
  readonly refreshAt: number;
}

const DEFAULT_TOKEN_LIFETIME_S = 60;

export interface AuthenticatorOptions {
  readonly base: URL;
  readonly host: string;
  readonly credentials?: CredentialsProvider;
  readonly send: UnauthenticatedSender;
  readonly logger: Logger;
  readonly clientId: string;
}

export class Authenticator {
  readonly #options: AuthenticatorOptions;
  #challenge: Challenge | undefined;
  #probed: Promise<void> | undefined;
  #credentials: Promise<Credentials | undefined> | undefined;
  readonly #tokens = new Map<string, CachedToken>();
  readonly #pending = new Map<string, Promise<string>>();
  /** Counts token-server requests (for diagnostics and tests). */
  tokenRequests = 0;

  constructor(options: AuthenticatorOptions) {
    this.#options = options;
  }

  /** GET /v2/ once: 200 means no auth; 401 gives the challenge to answer. */
  probe(): Promise<void> {
    this.#probed ??= (async () => {
      const response = await this.#options.send({ method: 'GET', url: new URL('/v2/', this.#options.base) }, true);
      const status = response.statusCode ?? 0;
      if (status === 401) {
        this.#remember(response);
        drain(response);
        return;
      }
      const body = await readBody(response, 1024 * 1024);
      if (status !== 200) throw errorFromResponse(`GET ${this.#options.base.origin}/v2/`, status, body);
    })();
    this.#probed.catch(() => (this.#probed = undefined));
    return this.#probed;
  }

  /** The Authorization header for a request needing `scopes`, or undefined when none is needed. */
  async authorization(scopes: readonly string[]): Promise<string | undefined> {
    await this.probe();
    const challenge = this.#challenge;
    if (challenge === undefined) return undefined;
    if (challenge.scheme === 'basic') {
      const credentials = await this.#lookup();
      return credentials !== undefined && !isIdentityToken(credentials) ? basicAuthorization(credentials) : undefined;
    }
    if (challenge.scheme === 'bearer') return `Bearer ${await this.#token(challenge, scopes)}`;
    return undefined;
  }

  /**
   * A request got 401: learns the new challenge, drops the token it used and reports
   * whether re-sending can help (once per request, decided by the caller).
   */
  async unauthorized(response: IncomingMessage, scopes: readonly string[], sent: string | undefined): Promise<readonly string[]> {
    this.#remember(response);
    const challenge = this.#challenge;
    const extra = challenge?.params.scope === undefined ? [] : [challenge.params.scope];
    const merged = normalizeScopes([...scopes, ...extra]);
    if (sent?.startsWith('Bearer ')) {
      this.#tokens.delete(scopeKey(scopes));
      this.#tokens.delete(scopeKey(merged));
    }
    return merged;
  }

  /** The error for a request refused even after answering the challenge. */
  async refused(what: string, status: number, body: Buffer): Promise<RegistryClientError> {
    const credentials = await this.#lookup();
    const who = credentials === undefined ? 'anonymous access' : `credentials for ${this.#options.host}${'username' in credentials && credentials.username ? ` (user ${credentials.username})` : ''}`;
    const errors = parseErrorEnvelope(body);
    const reason = errors.length > 0 ? errors.map((entry) => entry.message || entry.code.toLowerCase()).join('; ') : `HTTP ${status}`;
    const code = status === 403 ? 'DENIED' : 'UNAUTHORIZED';
    return new RegistryClientError(code, `${code === 'DENIED' ? 'denied' : 'unauthorized'}: ${what}: ${reason} (${who} rejected)`, { status, errors });
  }

  #remember(response: IncomingMessage): void {
    const challenges = parseWwwAuthenticate(response.headers['www-authenticate']);
    const chosen = challenges.find((c) => c.scheme === 'bearer' && c.params.realm !== undefined) ?? challenges.find((c) => c.scheme === 'basic');
    if (chosen !== undefined) {
      const previous = this.#challenge;
      if (previous?.scheme === 'bearer' && chosen.scheme === 'bearer' && (previous.params.realm !== chosen.params.realm || previous.params.service !== chosen.params.service)) {
        this.#tokens.clear();
      }
      this.#challenge = chosen;
    } else if (challenges.length === 0 && this.#challenge === undefined) {
      // A 401 without a usable challenge: try Basic, the only scheme that needs none.
      this.#challenge = { scheme: 'basic', params: {} };
    }
  }

  #lookup(): Promise<Credentials | undefined> {
    this.#credentials ??= this.#options.credentials?.(this.#options.host) ?? Promise.resolve(undefined);
    return this.#credentials;
  }

  async #token(challenge: Challenge, scopes: readonly string[]): Promise<string> {
    const key = scopeKey(scopes);
    const cached = this.#tokens.get(key);
    if (cached !== undefined && Date.now() < cached.refreshAt) return cached.value;
    let pending = this.#pending.get(key);
    if (pending === undefined) {
      pending = this.#fetchToken(challenge, normalizeScopes(scopes)).finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return pending;
  }

  async #fetchToken(challenge: Challenge, scopes: readonly string[]): Promise<string> {
    const realmText = challenge.params.realm;
    if (realmText === undefined) throw new RegistryClientError('PROTOCOL', `${this.#options.host}: Bearer challenge without a realm`);
    let realm: URL;
    try {
      realm = new URL(realmText);
    } catch {
      throw new RegistryClientError('PROTOCOL', `${this.#options.host}: Bearer challenge with an invalid realm "${realmText.slice(0, 100)}"`);
    }
    const credentials = await this.#lookup();
    const service = challenge.params.service;
    const started = Date.now();
    this.tokenRequests++;
    let response: IncomingMessage;
    if (credentials !== undefined && isIdentityToken(credentials)) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credentials.identityToken, client_id: this.#options.clientId });
      if (service !== undefined) form.set('service', service);
      if (scopes.length > 0) form.set('scope', scopes.join(' '));
      response = await this.#options.send(
        { method: 'POST', url: realm, headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString() },
        true,
      );
    } else {
      const url = new URL(realm);
      if (service !== undefined) url.searchParams.set('service', service);
      for (const scope of scopes) url.searchParams.append('scope', scope);
      if (credentials !== undefined) url.searchParams.set('account', credentials.username);
      response = await this.#options.send({ method: 'GET', url, ...(credentials === undefined ? {} : { authorization: basicAuthorization(credentials) }) }, true);
    }
    const status = response.statusCode ?? 0;
    const body = await readBody(response, 1024 * 1024);
    this.#options.logger.debug('registry token request', { realm: `${realm.origin}${realm.pathname}`, scopes, status, anonymous: credentials === undefined });
    if (status === 401 || status === 403) {
      const errors = parseErrorEnvelope(body);
      const reason = errors[0]?.message || `HTTP ${status}`;
      const who = credentials === undefined ? 'anonymous access was' : `the credentials for ${this.#options.host}${'username' in credentials && credentials.username ? ` (user ${credentials.username})` : ''} were`;
      throw new RegistryClientError('UNAUTHORIZED', `unauthorized: token server ${realm.origin} refused: ${reason}; ${who} rejected`, { status, errors });
    }
    if (status !== 200) throw errorFromResponse(`token server ${realm.origin}`, status, body);
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
    } catch {
      throw new RegistryClientError('PROTOCOL', `token server ${realm.origin} answered invalid JSON`, { status });
    }
    const token = typeof parsed.token === 'string' && parsed.token !== '' ? parsed.token : typeof parsed.access_token === 'string' ? parsed.access_token : undefined;
    if (token === undefined || token === '') throw new RegistryClientError('PROTOCOL', `token server ${realm.origin} answered no token`, { status });
    const lifetime = typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : DEFAULT_TOKEN_LIFETIME_S;
    // Refresh ahead of expiry: a quarter of the lifetime early, at most 30 s early.
    const margin = Math.min(30_000, (lifetime * 1000) / 4);
    this.#tokens.set(scopeKey(scopes), { value: token, refreshAt: started + lifetime * 1000 - margin });
    return token;
  }
}

