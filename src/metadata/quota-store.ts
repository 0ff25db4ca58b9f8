// The quota seam: per-namespace thresholds and the usage the metadata store keeps in the
// transaction of every link (namespace-usage.ts). SQL: sql-quota-store.ts.
import type { UsageDrift } from './namespace-usage.ts';

export interface NamespaceQuota {
  readonly namespace: string;
  /** Bytes past which a quota.warning is published; null: no warning. */
  readonly warnBytes: number | null;
  /** Bytes past which uploads and mounts are refused; null: no limit. */
  readonly rejectBytes: number | null;
  readonly updatedAt: number;
}

export interface QuotaStore {
  setQuota(namespace: string, warnBytes: number | null, rejectBytes: number | null, now: number): Promise<NamespaceQuota>;
  getQuota(namespace: string): Promise<NamespaceQuota | null>;
  removeQuota(namespace: string): Promise<boolean>;
  /** Bytes the namespace uses: each blob once, however many of its repositories link it. */
  usage(namespace: string): Promise<number>;
  /** Whether a repository of the namespace already links the blob (then a new link costs nothing). */
  counts(namespace: string, digest: string): Promise<boolean>;
  /** Bytes of the namespace's blobs that no manifest references: what the collector will take. */
  reclaimable(namespace: string): Promise<number>;
  /** Recounts every namespace from the links, rewrites the books, returns what differed. */
  reconcile(): Promise<UsageDrift[]>;
}
