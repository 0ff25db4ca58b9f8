// Bearer tokens per the Docker token authentication specification: compact JWTs signed
// with ES256, carrying the granted subset of the requested access. The signing key is
// generated at first start and kept in the database, so every replica signs and verifies
// with the same key; its `kid` is the RFC 7638 thumbprint, published as a JWKS.
//
// Every token names its purpose, and a verifier states the purpose it accepts: a token
// made for the registry API (/v2/) is refused anywhere else, and a token of any future
// kind (a web session, say) can never pass for a registry token.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { RegistryError } from '../core/errors.ts';
import type { AuthMethod, SigningKeyRecord } from '../core/identity.ts';
import type { SigningKeyStore } from '../metadata/identity-store.ts';

export interface AccessClaim {
  readonly type: string;
  readonly name: string;
  readonly actions: readonly string[];
}

/** What a token is good for. The registry API's tokens are the only kind so far. */
export type TokenPurpose = 'registry';

/** Who the token stands for, recorded so the registry needs no lookup to log it. */
export interface TokenActor {
  readonly name: string;
  readonly kind: 'user' | 'robot';
  readonly via: AuthMethod;
  /** The account's security stamp when the token was issued: the token ends when it changes. */
  readonly stamp: string;
}

export interface TokenClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud: string;
  readonly exp: number;
  readonly nbf: number;
  readonly iat: number;
  readonly jti: string;
  readonly access: readonly AccessClaim[];
  /** Custody's own claim: what the token is for; checked by every verifier. */
  readonly purpose: TokenPurpose;
  /** Custody's own claim: the actor's kind, how it authenticated and the account's security
   * stamp at issue; absent for anonymous. */
  readonly act?: { readonly kind: 'user' | 'robot'; readonly via: AuthMethod; readonly stamp: string };
}

export interface IssuedToken {
  readonly token: string;
  readonly expiresIn: number;
  readonly issuedAt: string;
}

interface LoadedKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly jwk: Record<string, string>;
}

const VERIFIED_CACHE_LIMIT = 10_000;
const CLOCK_SKEW_SECONDS = 60;

function base64url(input: Buffer | string): string {
  return Buffer.from(input).toString('base64url');
}

function thumbprint(jwk: Record<string, string>): string {
  // RFC 7638: the required members in lexicographic order, no whitespace.
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}

function loadKey(record: SigningKeyRecord): LoadedKey {
  const privateKey = createPrivateKey(record.privateKeyPem);
  const publicKey = createPublicKey(privateKey);
  return { kid: record.kid, privateKey, publicKey, jwk: JSON.parse(record.publicJwk) as Record<string, string> };
}

export function generateSigningKey(now = Date.now()): SigningKeyRecord {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const exported = publicKey.export({ format: 'jwk' }) as Record<string, string>;
  const jwk = { kty: exported.kty!, crv: exported.crv!, x: exported.x!, y: exported.y! };
  const kid = thumbprint(jwk);
  return {
    kid,
    algorithm: 'ES256',
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    publicJwk: JSON.stringify({ ...jwk, kid, alg: 'ES256', use: 'sig' }),
    createdAt: now,
    retiredAt: null,
  };
}

export interface TokenServiceOptions {
  /** The `iss` claim; also what the registry expects. */
  readonly issuer: string;
  readonly lifetimeSeconds: number;
}

export class TokenService {
  private readonly store: SigningKeyStore;
  private readonly options: TokenServiceOptions;
  private keys: LoadedKey[];
  private readonly verified = new Map<string, TokenClaims>();
  private lastReload = 0;

  private constructor(store: SigningKeyStore, options: TokenServiceOptions, keys: LoadedKey[]) {
    this.store = store;
    this.options = options;
    this.keys = keys;
  }

  /** Loads the signing key, creating it at first start. */
  static async open(store: SigningKeyStore, options: TokenServiceOptions): Promise<TokenService> {
    let records = await store.activeSigningKeys();
    if (records.length === 0) records = await store.insertSigningKeyIfNone(generateSigningKey());
    return new TokenService(store, options, records.map(loadKey));
  }

  get issuer(): string {
    return this.options.issuer;
  }

  get lifetimeSeconds(): number {
    return this.options.lifetimeSeconds;
  }

  issue(actor: TokenActor | null, audience: string, access: readonly AccessClaim[], now = Date.now(), purpose: TokenPurpose = 'registry'): IssuedToken {
    const key = this.keys[0]!;
    const iat = Math.floor(now / 1000);
    const claims: TokenClaims = {
      iss: this.options.issuer,
      sub: actor?.name ?? '',
      aud: audience,
      exp: iat + this.options.lifetimeSeconds,
      nbf: iat - 1,
      iat,
      jti: randomBytes(12).toString('base64url'),
      access,
      purpose,
      ...(actor ? { act: { kind: actor.kind, via: actor.via, stamp: actor.stamp } } : {}),
    };
    const header = base64url(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid: key.kid }));
    const payload = base64url(JSON.stringify(claims));
    const signature = sign('sha256', Buffer.from(`${header}.${payload}`), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
    return { token: `${header}.${payload}.${base64url(signature)}`, expiresIn: this.options.lifetimeSeconds, issuedAt: new Date(iat * 1000).toISOString() };
  }

  /**
   * The claims of a valid token for `audience` and `purpose`; throws UNAUTHORIZED
   * otherwise. Verified tokens are remembered until they expire, so a client's every
   * request costs one signature check per token lifetime, not one per request. (Whether
   * the account still stands behind the token is the caller's check: the `act.stamp`.)
   */
  async verify(token: string, expected: { readonly audience: string; readonly purpose: TokenPurpose }, now = Date.now()): Promise<TokenClaims> {
    const seconds = Math.floor(now / 1000);
    const cached = this.verified.get(token);
    if (cached) {
      if (cached.exp + CLOCK_SKEW_SECONDS > seconds && cached.aud === expected.audience && cached.purpose === expected.purpose) return cached;
      this.verified.delete(token);
    }
    const claims = await this.verifySignature(token);
    if (claims.iss !== this.options.issuer) throw invalid('the token was issued by another service');
    if (claims.aud !== expected.audience) throw invalid('the token is for another service');
    if (claims.purpose !== expected.purpose) throw invalid(`the token is not a ${expected.purpose} token`);
    if (claims.act !== undefined && (typeof claims.act !== 'object' || claims.act === null || typeof claims.act.stamp !== 'string')) throw invalid('malformed actor claim');
    if (typeof claims.exp !== 'number' || claims.exp + CLOCK_SKEW_SECONDS <= seconds) throw invalid('the token has expired');
    if (typeof claims.nbf === 'number' && claims.nbf - CLOCK_SKEW_SECONDS > seconds) throw invalid('the token is not valid yet');
    if (!Array.isArray(claims.access)) throw invalid('the token carries no access claim');
    if (this.verified.size >= VERIFIED_CACHE_LIMIT) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, claims);
    return claims;
  }

  /** The public keys, for whoever verifies our tokens (another registry, a proxy). */
  jwks(): { keys: Record<string, string>[] } {
    return { keys: this.keys.map((key) => key.jwk) };
  }

  private async verifySignature(token: string): Promise<TokenClaims> {
    const parts = token.split('.');
    if (parts.length !== 3 || token.length > 16_384) throw invalid('malformed token');
    let header: { alg?: string; kid?: string };
    let claims: TokenClaims;
    try {
      header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as { alg?: string; kid?: string };
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as TokenClaims;
    } catch {
      throw invalid('malformed token');
    }
    // Only ES256: never `none`, never an algorithm the token chooses for itself.
    if (header.alg !== 'ES256') throw invalid('unsupported token algorithm');
    let key = this.keys.find((candidate) => candidate.kid === header.kid);
    if (!key && Date.now() - this.lastReload > 10_000) {
      // Another replica may have a newer key: reload at most every 10 seconds.
      this.lastReload = Date.now();
      const records = await this.store.activeSigningKeys();
      if (records.length > 0) this.keys = records.map(loadKey);
      key = this.keys.find((candidate) => candidate.kid === header.kid);
    }
    if (!key) throw invalid('the token was signed by an unknown key');
    const ok = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(parts[2]!, 'base64url'));
    if (!ok) throw invalid('the token signature is invalid');
    return claims;
  }
}

function invalid(reason: string): RegistryError {
  return new RegistryError('UNAUTHORIZED', `invalid bearer token: ${reason}`);
}

/** Parses `repository:name:pull,push` (and `registry:catalog:*`); null when malformed. */
export function parseScope(scope: string): AccessClaim | null {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return null;
  const type = scope.slice(0, first);
  let name = scope.slice(first + 1, last);
  // A resource type may carry a class: repository(plugin):name.
  const actions = scope.slice(last + 1).split(',').filter((action) => action !== '');
  if (name === '' || actions.length === 0) return null;
  if (/\(.*\)$/.test(type)) name = name.trim();
  return { type: type.replace(/\(.*\)$/, ''), name, actions };
}
