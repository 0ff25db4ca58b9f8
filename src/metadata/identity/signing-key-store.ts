// The keys facet of the identity seam: the registry token service's signing keys, shared
// by every replica through the database. SQL implementation: sql-signing-key-store.ts.
import type { SigningKeyRecord } from '../../core/identity.ts';

export interface SigningKeyStore {
  /** Keys not retired, newest first. */
  activeSigningKeys(): Promise<SigningKeyRecord[]>;
  /** Inserts a key unless one is active already; returns the active keys after. */
  insertSigningKeyIfNone(key: SigningKeyRecord): Promise<SigningKeyRecord[]>;
}
