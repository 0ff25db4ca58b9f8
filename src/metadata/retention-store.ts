// The retention seam: policies per repository, namespace or registry, and what a run needs
// to judge a repository's tags in a few queries. SQL: sql-retention-store.ts.
import type { Digest } from '../core/digest.ts';

export type RetentionScope = 'repository' | 'namespace' | 'registry';

export interface StoredRetentionPolicy {
  readonly scope: RetentionScope;
  /** The repository or namespace; '' for the registry default. */
  readonly name: string;
  /** The policy as JSON text (src/lifecycle/retention-policy.ts reads it). */
  readonly policy: string;
  readonly updatedBy: string | null;
  readonly updatedAt: number;
}

export interface RetentionTag {
  readonly tag: string;
  readonly digest: Digest;
  /** When the tag last moved (its push). */
  readonly pushedAt: number;
  readonly pulledAt: number | null;
  /** Something signs it: a referrer (signature, attestation) or a cosign `sha256-….sig` tag. */
  readonly signed: boolean;
}

export interface RetentionStore {
  putPolicy(scope: RetentionScope, name: string, policy: string, updatedBy: string | null, now: number): Promise<StoredRetentionPolicy>;
  getPolicy(scope: RetentionScope, name: string): Promise<StoredRetentionPolicy | null>;
  deletePolicy(scope: RetentionScope, name: string): Promise<boolean>;
  /** Repositories in a namespace (or all, without one), in name order. */
  repositories(namespace?: string): Promise<string[]>;
  /** Every tag of the repository with what retention judges it by. */
  tags(repository: string): Promise<RetentionTag[]>;
  /** (index, child) pairs among the manifests the repository's tags point at, to any depth. */
  indexEdges(repository: string): Promise<Array<{ parent: Digest; child: Digest }>>;
  /** Records a pull of a tag (retention's "pulled within"). */
  touchPulled(repository: string, tag: string, now: number): Promise<void>;
}
