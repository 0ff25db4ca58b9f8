// A cache shared by every replica (Redis), holding entries per repository. Writes drop a
// repository's entries as a whole; a fill is guarded by the repository's generation, read
// with the miss, so a reader that looked before a write and fills after it cannot put the
// old value back (the write changed the generation).
export interface CacheLookup {
  readonly value: Buffer | null;
  /** The repository's generation when looked up; hand it back to fill(). */
  readonly generation: string;
}

export interface RepositoryCache {
  get(repository: string, field: string): Promise<CacheLookup>;
  /** Stores `value` under `field` only while the repository is still at `generation`. */
  fill(repository: string, field: string, value: Buffer, generation: string): Promise<void>;
  /** Drops every entry of the repository (call after the write committed). */
  invalidate(repository: string): Promise<void>;
}
