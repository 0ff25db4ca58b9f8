// The signing policy seam: policies per repository or namespace, and the one question
// about stored manifests the policy needs that the MetadataStore does not answer: which
// indexes of a repository list a manifest (a platform image is trusted through its signed
// index). SQL implementation (migration 6): sql-signing-policy-store.ts.

export type SigningPolicyScope = 'repository' | 'namespace';

/** `pull`: image manifests are served only when signed; `pull,tag`: also, a tag may only
 * be pointed at a signed image. */
export type SigningMode = 'pull' | 'pull,tag';

export interface TrustedKeyRecord {
  /** `sha256:<hex>` of the key's DER SubjectPublicKeyInfo: the key id signatures name. */
  readonly id: string;
  /** `sigstore`: a public key; `notation`: a certificate that notation signature chains must lead to. */
  readonly format: 'sigstore' | 'notation';
  /** PEM public key (SPKI), or PEM certificate for notation. */
  readonly publicKey: string;
}

export interface SigningPolicyRecord {
  readonly scope: SigningPolicyScope;
  readonly name: string;
  readonly mode: SigningMode;
  readonly keys: readonly TrustedKeyRecord[];
  /** Increases on every change of this policy. */
  readonly revision: number;
  readonly updatedBy: string | null;
  readonly updatedAt: number;
}

export interface SigningPolicyStore {
  get(scope: SigningPolicyScope, name: string): Promise<SigningPolicyRecord | null>;
  /** The policies that apply to a repository: its own and its namespace's (repository's first). */
  applicable(repository: string, namespace: string | null): Promise<SigningPolicyRecord[]>;
  /** Creates or replaces a policy. The revision never goes back, even across a delete
   * and a re-create (it is at least the time in ms), so a cached verification of an old
   * policy can never be taken for the new one's. */
  put(scope: SigningPolicyScope, name: string, mode: SigningMode, keys: readonly TrustedKeyRecord[], updatedBy: string | null, now: number): Promise<SigningPolicyRecord>;
  delete(scope: SigningPolicyScope, name: string): Promise<boolean>;
  /** Digests of the indexes held by `repository` that list `digest` as a child manifest. */
  parentIndexes(repository: string, digest: string): Promise<string[]>;
  /** Digests of the manifests held by `repository` that list the blob `digest` (config or
   * layer), at most `limit` of them. */
  manifestsReferencingBlob(repository: string, digest: string, limit: number): Promise<string[]>;
}
