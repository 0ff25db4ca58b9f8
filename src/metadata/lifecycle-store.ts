// The lifecycle seam: the rules a namespace sets on how long content lives and what may
// change. Immutability rules, time-machine windows and tag expiries; quotas are in
// quota-store.ts, retention policies in retention-store.ts. SQL: sql-lifecycle-store.ts.
import type { Digest } from '../core/digest.ts';

export interface ImmutabilityRule {
  readonly id: number;
  readonly namespace: string;
  /** Glob over the whole repository name (`acme/*`, `acme/**`). */
  readonly repositoryPattern: string;
  /** Glob over the tag (`v*`, `release-*`, `*`). */
  readonly tagPattern: string;
  readonly createdBy: string | null;
  readonly createdAt: number;
}

export interface NewImmutabilityRule {
  readonly namespace: string;
  readonly repositoryPattern: string;
  readonly tagPattern: string;
  readonly createdBy?: string | undefined;
  readonly now: number;
}

export interface TagExpiry {
  readonly repository: string;
  readonly tag: string;
  readonly digest: Digest;
  readonly expiresAt: number;
}

export interface LifecycleStore {
  // ---- immutability
  /** Adds a rule; an identical rule (namespace and both patterns) is returned as it is. */
  addImmutabilityRule(rule: NewImmutabilityRule): Promise<ImmutabilityRule>;
  /** The rules of one namespace, or all (oldest first). */
  immutabilityRules(namespace?: string): Promise<ImmutabilityRule[]>;
  removeImmutabilityRule(namespace: string, id: number): Promise<boolean>;

  // ---- time machine
  /** The namespace's window, or null when it takes the registry default. */
  timeMachineWindow(namespace: string): Promise<number | null>;
  /** null returns the namespace to the default. */
  setTimeMachineWindow(namespace: string, windowMs: number | null, now: number): Promise<void>;

  // ---- expiry
  /** Sets (or with null clears) when the tag expires; false when the tag does not exist, or no longer points at `ifDigest`. */
  setTagExpiry(repository: string, tag: string, expiresAt: number | null, ifDigest?: Digest): Promise<boolean>;
  tagExpiry(repository: string, tag: string): Promise<number | null>;
  /** Expiries of the tags of a repository, by tag. */
  tagExpiries(repository: string): Promise<Map<string, number>>;
  /** The tags of a repository pointing at `digest`. */
  tagsPointingAt(repository: string, digest: Digest): Promise<string[]>;
  /** Tags whose expiry is at or before `now`, soonest first. */
  expiredTags(now: number, limit: number): Promise<TagExpiry[]>;
}
