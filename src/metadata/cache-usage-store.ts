// The pull-through cache's bookkeeping for its size bound: when cached manifests were last
// pulled, how many bytes the cache's repositories hold, which images to evict first, and
// which blob links an eviction left without a manifest. Namespaces are repository path
// prefixes (`cache/docker.io`). SQL implementation (migration 14): sql-cache-usage-store.ts.
import type { Digest } from '../core/digest.ts';

export interface CachedManifest {
  readonly repository: string;
  readonly digest: Digest;
  /** The last recorded pull, or when the manifest was stored if it never was pulled since. */
  readonly lastUsedAt: number;
}

export interface CacheUsageStore {
  /** Notes a pull of a stored manifest; nothing when the repository does not exist (yet). */
  recordPull(repository: string, digest: Digest, at: number): Promise<void>;
  /** Bytes of the distinct blobs linked in repositories under the namespaces. */
  usedBytes(namespaces: readonly string[]): Promise<number>;
  /**
   * Manifests of repositories under the namespaces that no other manifest of their
   * repository names as a child (whole images and indexes), least recently used first.
   */
  leastRecentlyPulled(namespaces: readonly string[], limit: number): Promise<CachedManifest[]>;
  /** Blobs linked in `repository` before `linkedBefore` that none of its manifests references. */
  unreferencedBlobs(repository: string, linkedBefore: number): Promise<Digest[]>;
}
