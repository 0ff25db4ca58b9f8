// Which account an OpenID Connect identity (issuer + subject) signs in as. SQL
// implementation: sql-oidc-identity-store.ts.
export interface OidcIdentityStore {
  /** The account linked to this identity, or null on its first login. */
  findLinkedAccount(issuer: string, subject: string): Promise<number | null>;
  /** Links the identity to the account; false when it was linked already (another login won). */
  link(issuer: string, subject: string, accountId: number, now?: number): Promise<boolean>;
}
