// The signature seam: signatures the registry keeps for manifests. A signature is
// addressed like the extension API addresses it: repository name + manifest digest, and
// it can only exist while that repository links that manifest (it goes with the link).
// SQL implementation (migration 5): sql-signature-store.ts.

export type StoredSignatureKind = 'simple-signing';

export interface StoredSignature {
  /** `<manifest digest>@<id>`, as the extension API names signatures. */
  readonly name: string;
  readonly kind: StoredSignatureKind;
  readonly content: Buffer;
  readonly createdAt: number;
}

export interface NewSignature {
  readonly name: string;
  readonly kind: StoredSignatureKind;
  readonly content: Buffer;
}

export interface SignatureStore {
  /** Signatures of `manifestDigest` in `repository`, oldest first. NotFound('manifest') if
   * the repository does not link the manifest. */
  list(repository: string, manifestDigest: string): Promise<StoredSignature[]>;
  /** Adds a signature; `created` is false when the same content was already stored
   * (clients re-upload on every copy). Conflict when the name is taken by other content,
   * LimitReached past MAX_SIGNATURES_PER_MANIFEST. */
  add(repository: string, manifestDigest: string, signature: NewSignature): Promise<{ readonly created: boolean; readonly name: string }>;
  remove(repository: string, manifestDigest: string, name: string): Promise<boolean>;
  /** How many signatures each of these manifests has in `repository` (for listings). */
  counts(repository: string, manifestDigests: readonly string[]): Promise<Map<string, number>>;
}

/** At most this many signatures per manifest: the API is additive and clients read them all. */
export const MAX_SIGNATURES_PER_MANIFEST = 256;

