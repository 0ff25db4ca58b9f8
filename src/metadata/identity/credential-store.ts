// The credentials facet of the identity seam: robot tokens, personal access tokens and
// refresh tokens, stored as verifiers (hashes), never as secrets. What makes them end
// together (a revocation, a new password, a disabled account) is the store's job.
// SQL implementation: sql-credential-store.ts.
import type { Account, Credential, CredentialKind, RefreshTokenSource } from '../../core/identity.ts';

export interface NewCredential {
  readonly accountId: number;
  readonly kind: CredentialKind;
  readonly name: string;
  readonly secretHash: string;
  readonly scopes?: readonly string[] | null;
  readonly expiresAt?: number | null;
  /** Refresh tokens: the robot token or personal access token the login used. */
  readonly parentId?: number | null;
  readonly mintedVia?: RefreshTokenSource | null;
  readonly userAgent?: string | null;
  readonly ip?: string | null;
}

export interface CredentialStore {
  addCredential(credential: NewCredential): Promise<Credential>;
  /**
   * Adds a refresh token only while the account's security stamp is `stamp` (the one the
   * login saw): null when a revocation came in between, so nothing outlives it.
   */
  addRefreshToken(credential: NewCredential, stamp: string): Promise<Credential | null>;
  /** The credential with this secret hash and its account, if not expired. */
  findCredential(secretHash: string, now: number): Promise<{ credential: Credential; account: Account } | null>;
  listCredentials(accountId: number, kind?: CredentialKind): Promise<Credential[]>;
  /** Revokes one credential, and the refresh tokens minted from it; moves the account's security stamp on. */
  deleteCredential(accountId: number, id: number): Promise<boolean>;
  /** Revokes every credential of a kind, and the refresh tokens minted from them; moves the security stamp on. */
  deleteCredentials(accountId: number, kind: CredentialKind): Promise<number>;
  touchCredential(id: number, now: number): Promise<void>;
}
