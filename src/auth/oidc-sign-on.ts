// Single sign-on through an OpenID Connect provider: the authorization code flow with PKCE
// (S256), `state` and `nonce`, for the web catalog.
//
//  1. begin(): random state, nonce and code verifier (256 bits each, node:crypto); the
//     caller keeps them (an HttpOnly cookie bound to the browser) and sends the browser to
//     the provider's authorization endpoint, found by discovery
//     (<issuer>/.well-known/openid-configuration, whose `issuer` must be ours exactly).
//  2. complete(): the state that came back must be the one kept (constant time); the code
//     is exchanged at the token endpoint with the verifier and the client secret; the ID
//     token is verified by `jose` against the provider's JWKS (createRemoteJWKSet fetches
//     it again when a token names a key it does not know: key rotation), for issuer,
//     audience (our client id), expiry and the nonce kept in step 1.
//  3. The identity (issuer + subject, never the e-mail) names the account: linked on first
//     login to a new user (named after preferred_username; a name already taken, by a local
//     or LDAP account, is never taken over: the new user gets a suffixed name).
//  4. The groups claim is mirrored to the teams whose group is `oidc:<group>` (the team's
//     group field, as LDAP groups are; only memberships the sync added are removed).
//     Membership is what the last login synced: personal access tokens and refresh tokens
//     act with it until the next OIDC login, and disabling the account ends them all.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { Conflict, Denied } from '../core/errors.ts';
import { ACCOUNT_NAME, MAX_ACCOUNT_NAME_LENGTH, type Account, type Team } from '../core/identity.ts';
import type { OidcConfig } from '../config/config.ts';
import type { Logger } from '../observability/logger.ts';
import type { AccountStore, TeamStore } from '../metadata/identity-store.ts';
import type { OidcIdentityStore } from '../metadata/identity/oidc-identity-store.ts';
import type { ActionRecorder } from '../audit/action.ts';
import type { RequestContext } from './authenticator.ts';

/** What the browser must bring back: kept by the caller between begin() and complete(). */
export interface PendingOidcLogin {
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
}

interface ProviderMetadata {
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  readonly jwks: ReturnType<typeof createRemoteJWKSet>;
}

/** Team groups for OIDC carry this prefix (LDAP groups are DNs). */
export const OIDC_GROUP_PREFIX = 'oidc:';
const DISCOVERY_TIMEOUT_MS = 10_000;

/** A sign-on failure the user may read (nothing secret in it). */
export class OidcLoginError extends Denied {
  constructor(message: string) {
    super('account', message);
  }
}

function random(): string {
  return randomBytes(32).toString('base64url');
}

function same(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export class OidcSignOn {
  readonly displayName: string;
  private readonly config: OidcConfig;
  private readonly accounts: AccountStore & TeamStore;
  private readonly links: OidcIdentityStore;
  private readonly logger: Logger;
  private readonly actions: ActionRecorder | undefined;
  private metadata: Promise<ProviderMetadata> | null = null;

  constructor(config: OidcConfig, accounts: AccountStore & TeamStore, links: OidcIdentityStore, logger: Logger, actions?: ActionRecorder) {
    this.config = config;
    this.actions = actions;
    this.displayName = config.displayName;
    this.accounts = accounts;
    this.links = links;
    this.logger = logger;
  }

  /** The provider URL to send the browser to, and what to keep until it comes back. */
  async begin(redirectUri: string): Promise<{ url: string; pending: PendingOidcLogin }> {
    const provider = await this.provider();
    const pending: PendingOidcLogin = { state: random(), nonce: random(), verifier: random() };
    const scopes = new Set(['openid', ...this.config.scopes.split(/\s+/).filter(Boolean)]);
    const url = new URL(provider.authorizationEndpoint);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', this.config.clientId);
    url.searchParams.set('redirect_uri', redirectUri);
    url.searchParams.set('scope', [...scopes].join(' '));
    url.searchParams.set('state', pending.state);
    url.searchParams.set('nonce', pending.nonce);
    url.searchParams.set('code_challenge', createHash('sha256').update(pending.verifier).digest('base64url'));
    url.searchParams.set('code_challenge_method', 'S256');
    return { url: url.href, pending };
  }

  /** Checks the provider's answer and returns the account it signs in (provisioned and synced); the action log records the login either way. */
  async complete(redirectUri: string, query: URLSearchParams, pending: PendingOidcLogin | null, context: RequestContext = {}): Promise<Account> {
    try {
      const account = await this.verify(redirectUri, query, pending);
      this.actions?.record({ kind: 'login', result: 'success', actor: { kind: 'user', name: account.name, via: 'oidc' }, ip: context.ip, userAgent: context.userAgent });
      return account;
    } catch (error) {
      if (error instanceof OidcLoginError) this.actions?.record({ kind: 'login', result: 'failure', actor: { kind: 'user', name: 'oidc', via: 'oidc' }, ip: context.ip, userAgent: context.userAgent, detail: { reason: error.message } });
      throw error;
    }
  }

  private async verify(redirectUri: string, query: URLSearchParams, pending: PendingOidcLogin | null): Promise<Account> {
    const state = query.get('state');
    if (!pending || state === null || !same(state, pending.state)) throw new OidcLoginError('The sign-in expired or did not start here: start it again.');
    const failure = query.get('error');
    if (failure !== null) throw new OidcLoginError(`The identity provider refused the sign-in: ${failure}${query.get('error_description') ? ` (${query.get('error_description')})` : ''}.`);
    const code = query.get('code');
    if (code === null) throw new OidcLoginError('The identity provider sent no authorization code.');
    const provider = await this.provider();
    const idToken = await this.exchange(provider, code, redirectUri, pending.verifier);
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(idToken, provider.jwks, { issuer: this.config.issuer, audience: this.config.clientId, requiredClaims: ['sub', 'exp', 'iat', 'nonce'] }));
    } catch (error) {
      this.logger.warn('OIDC ID token refused', { reason: (error as Error).message });
      throw new OidcLoginError('The identity provider\'s ID token could not be verified.');
    }
    if (typeof claims.nonce !== 'string' || !same(claims.nonce, pending.nonce)) throw new OidcLoginError('The ID token was not issued for this sign-in (nonce).');
    const account = await this.provision(claims);
    await this.synchronizeGroups(account, groupsOf(claims[this.config.groupsClaim]));
    return account;
  }

  private provider(): Promise<ProviderMetadata> {
    // Discovery once; a failure is forgotten so that the next login tries again.
    this.metadata ??= this.discover().catch((error: unknown) => {
      this.metadata = null;
      throw error;
    });
    return this.metadata;
  }

  private async discover(): Promise<ProviderMetadata> {
    const where = `${this.config.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    let document: Record<string, unknown>;
    try {
      const response = await fetch(where, { signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS), headers: { accept: 'application/json' } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      document = (await response.json()) as Record<string, unknown>;
    } catch (error) {
      this.logger.error('OIDC discovery failed', { url: where, error });
      throw new OidcLoginError('The identity provider cannot be reached now: try again later.');
    }
    const { issuer, authorization_endpoint: authorizationEndpoint, token_endpoint: tokenEndpoint, jwks_uri: jwksUri } = document;
    if (issuer !== this.config.issuer || typeof authorizationEndpoint !== 'string' || typeof tokenEndpoint !== 'string' || typeof jwksUri !== 'string') {
      this.logger.error('OIDC discovery document refused: its issuer must be oidc.issuer exactly, with the endpoints and jwks_uri', { url: where, issuer });
      throw new OidcLoginError('The identity provider is misconfigured: the server log has the details.');
    }
    return { authorizationEndpoint, tokenEndpoint, jwks: createRemoteJWKSet(new URL(jwksUri)) };
  }

  private async exchange(provider: ProviderMetadata, code: string, redirectUri: string, verifier: string): Promise<string> {
    const basic = Buffer.from(`${encodeURIComponent(this.config.clientId)}:${encodeURIComponent(this.config.clientSecret)}`).toString('base64');
    const body = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
    let answer: Record<string, unknown>;
    try {
      const response = await fetch(provider.tokenEndpoint, { method: 'POST', body, signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS), headers: { authorization: `Basic ${basic}`, accept: 'application/json' } });
      answer = (await response.json()) as Record<string, unknown>;
      if (!response.ok) throw new Error(`HTTP ${response.status} ${String(answer.error ?? '')}`);
    } catch (error) {
      this.logger.warn('OIDC code exchange failed', { error: (error as Error).message });
      throw new OidcLoginError('The identity provider did not accept the sign-in: start it again.');
    }
    if (typeof answer.id_token !== 'string') throw new OidcLoginError('The identity provider sent no ID token.');
    return answer.id_token;
  }

  private async provision(claims: JWTPayload): Promise<Account> {
    const subject = claims.sub!;
    const linked = await this.links.findLinkedAccount(this.config.issuer, subject);
    if (linked !== null) {
      const account = await this.accounts.findAccountById(linked);
      if (!account) throw new OidcLoginError('This account no longer exists.');
      if (account.disabled) throw new OidcLoginError('This account is disabled.');
      return account;
    }
    const email = typeof claims.email === 'string' && claims.email_verified === true ? claims.email : null;
    const base = accountNameFrom(claims);
    for (let attempt = 1; attempt <= 20; attempt++) {
      const name = attempt === 1 ? base : `${base.slice(0, MAX_ACCOUNT_NAME_LENGTH - 4)}-${attempt}`;
      let account: Account;
      try {
        account = await this.accounts.createAccount({ name, kind: 'user', email, passwordHash: null, description: `signed in with ${this.config.displayName}` });
      } catch (error) {
        // Taken (a local or LDAP account, or a namespace with repositories): never taken over.
        if (error instanceof Conflict) continue;
        throw error;
      }
      if (!(await this.links.link(this.config.issuer, subject, account.id))) {
        // A concurrent first login of the same identity linked its own account first.
        await this.accounts.deleteAccount(account.id);
        return this.provision(claims);
      }
      this.logger.info('OIDC user provisioned', { user: name, issuer: this.config.issuer });
      return account;
    }
    throw new OidcLoginError('No account name is free for this identity: ask an administrator.');
  }

  private async synchronizeGroups(account: Account, groups: ReadonlySet<string>): Promise<void> {
    const synced = (await this.accounts.listLdapSyncedTeams()).filter((team) => team.ldapGroup?.startsWith(OIDC_GROUP_PREFIX));
    const current = new Set((await this.accounts.teamsOf(account.id)).map((team) => team.id));
    const added: string[] = [];
    const removed: string[] = [];
    for (const team of synced) {
      const wanted = groups.has(team.ldapGroup!.slice(OIDC_GROUP_PREFIX.length));
      if (wanted && !current.has(team.id)) {
        if (await this.accounts.addTeamMember(team.id, account.id, true)) added.push(teamName(team));
      } else if (!wanted && current.has(team.id)) {
        const membership = (await this.accounts.listTeamMembers(team.id)).find((member) => member.account.id === account.id);
        if (membership?.synced && (await this.accounts.removeTeamMember(team.id, account.id))) removed.push(teamName(team));
      }
    }
    if (added.length > 0 || removed.length > 0) this.logger.info('OIDC groups synchronised', { user: account.name, added, removed });
  }
}

/** A string or a list of strings (providers differ); anything else is no group. */
function groupsOf(claim: unknown): ReadonlySet<string> {
  if (typeof claim === 'string') return new Set([claim]);
  if (Array.isArray(claim)) return new Set(claim.filter((group): group is string => typeof group === 'string'));
  return new Set();
}

/** preferred_username (else the e-mail's local part, else "user"), made a valid account name. */
function accountNameFrom(claims: JWTPayload): string {
  const wanted = typeof claims.preferred_username === 'string' ? claims.preferred_username : typeof claims.email === 'string' ? claims.email.split('@')[0]! : 'user';
  let name = wanted.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/[._-]{2,}/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '').slice(0, MAX_ACCOUNT_NAME_LENGTH);
  if (!ACCOUNT_NAME.test(name)) name = 'user';
  return name;
}

function teamName(team: Team): string {
  return `${team.organization}/${team.name}`;
}
