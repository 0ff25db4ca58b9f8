// Who is calling: reads the Authorization header of a request. Basic carries a username
// and a password, robot token or personal access token; Bearer carries a token issued by
// our token endpoint (the registry API, /v2/ only) or a personal access token (/api/ only).
import { RegistryError } from '../core/errors.ts';
import { ANONYMOUS, type Account, type Principal } from '../core/identity.ts';
import type { TokenClaims } from '../auth/token-service.ts';
import { hashSecret, secretKind } from '../auth/secrets.ts';
import type { SecurityServices } from './security.ts';
import { checkApiRequest } from './api-request-guard.ts';
import { header, type HttpRequest } from './http-types.ts';

export type Credentials = { readonly scheme: 'none' } | { readonly scheme: 'basic'; readonly username: string; readonly secret: string } | { readonly scheme: 'bearer'; readonly token: string };

/** Parses the Authorization header; throws UNAUTHORIZED when it is malformed. */
export function readCredentials(request: HttpRequest): Credentials {
  const value = header(request, 'authorization');
  if (value === undefined || value.trim() === '') return { scheme: 'none' };
  const space = value.indexOf(' ');
  const scheme = (space < 0 ? value : value.slice(0, space)).toLowerCase();
  const rest = space < 0 ? '' : value.slice(space + 1).trim();
  if (scheme === 'basic') {
    const decoded = Buffer.from(rest, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw new RegistryError('UNAUTHORIZED', 'malformed basic credentials');
    return { scheme: 'basic', username: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
  }
  if (scheme === 'bearer' && rest !== '') return { scheme: 'bearer', token: rest };
  throw new RegistryError('UNAUTHORIZED', `unsupported authorization scheme "${scheme.slice(0, 20)}"`);
}

export function clientAddress(request: HttpRequest): string | undefined {
  return request.socket?.remoteAddress ?? undefined;
}

export function requestContext(request: HttpRequest): { ip: string | undefined; userAgent: string | undefined } {
  return { ip: clientAddress(request), userAgent: header(request, 'user-agent') };
}

/** A principal rebuilt from a verified token's claims, without a database lookup. */
export function principalFromClaims(claims: TokenClaims): Principal {
  if (!claims.act || claims.sub === '') return ANONYMOUS;
  const account: Account = {
    id: -1,
    name: claims.sub,
    kind: claims.act.kind,
    email: null,
    superuser: false,
    ownerId: null,
    description: null,
    ldapDn: null,
    disabled: false,
    createdAt: 0,
    securityStamp: claims.act.stamp,
  };
  return { kind: 'account', account, via: claims.act.via };
}

/**
 * The principal for a request to /api/ (management, action log, image quality, signing
 * policies: every API route asks here). First the request must be one a browser on
 * another site could not have made (checkApiRequest). Then: anonymous without
 * credentials; basic credentials (a password, robot token or personal access token); or
 * a personal access token as Bearer. Registry bearer tokens are for /v2/ only and are
 * refused here, whatever their scope, as is any other kind of token. API decisions use
 * current roles: the account comes from the store (for a remembered basic login, as of at
 * most ACCOUNT_STATE_TTL_MS ago, and at once after a change made here).
 */
export async function apiPrincipal(security: SecurityServices, request: HttpRequest): Promise<Principal> {
  checkApiRequest(request, security.publicUrl);
  const credentials = readCredentials(request);
  if (credentials.scheme === 'none') return ANONYMOUS;
  if (credentials.scheme === 'basic') return security.authenticator.login(credentials.username, credentials.secret, requestContext(request));
  if (secretKind(credentials.token) !== 'personal') {
    throw new RegistryError('UNAUTHORIZED', 'the API takes a personal access token (Bearer cst_pat_...) or basic credentials; registry tokens are good for /v2/ only');
  }
  const now = Date.now();
  const found = await security.identity.findCredential(hashSecret(credentials.token), now);
  if (!found || found.credential.kind !== 'personal' || found.account.disabled) throw new RegistryError('UNAUTHORIZED', 'invalid or expired access token');
  void security.identity.touchCredential(found.credential.id, now).catch(() => {});
  return { kind: 'account', account: found.account, via: 'personal-token', credentialId: found.credential.id };
}
