// What the client may authenticate with, looked up per registry host when first needed.

export interface BasicCredentials {
  readonly username: string;
  readonly password: string;
}

export interface IdentityTokenCredentials {
  /** An OAuth2 refresh token (`identitytoken` in auth.json). */
  readonly identityToken: string;
  readonly username?: string;
}

export type Credentials = BasicCredentials | IdentityTokenCredentials;

/** Returns the credentials for `host` (host[:port]), or undefined for anonymous access. */
export type CredentialsProvider = (host: string) => Promise<Credentials | undefined>;

export function isIdentityToken(credentials: Credentials): credentials is IdentityTokenCredentials {
  return 'identityToken' in credentials;
}

export function basicAuthorization(credentials: BasicCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`;
}
