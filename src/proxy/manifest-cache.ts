// What the pull-through cache remembers about manifests besides what the core stores:
// - manifests fetched from an upstream but not committed yet (the core stores a manifest
//   only once every blob and child manifest it names is stored, and clients want the
//   manifest first: it is served from here while its image is completed in the background);
// - for each cached tag, when it was last checked against the upstream (the TTL);
// - upstream "not found" answers, for a short while.
// Per process and bounded: after a restart a tag is simply revalidated, and a manifest not
// yet committed is fetched again.
import type { Digest } from '../core/digest.ts';

export interface FetchedManifest {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly content: Uint8Array;
  readonly size: number;
}

const MAX_ENTRIES = 10_000;

/** A Map that forgets its oldest entries past a bound. */
class BoundedMap<V> extends Map<string, V> {
  override set(key: string, value: V): this {
    this.delete(key);
    super.set(key, value);
    if (this.size > MAX_ENTRIES) this.delete(this.keys().next().value!);
    return this;
  }
}

export class ManifestCache {
  readonly #pending = new BoundedMap<FetchedManifest>();
  readonly #pendingTags = new BoundedMap<Digest>();
  readonly #checkedAt = new BoundedMap<number>();
  readonly #notFound = new BoundedMap<number>();
  readonly #fetchedIn = new BoundedMap<number>();
  readonly #now: () => number;

  constructor(clock: () => number = Date.now) {
    this.#now = clock;
  }

  pending(repository: string, digest: string): FetchedManifest | undefined {
    return this.#pending.get(`${repository}@${digest}`);
  }

  /** The manifest a tag was last seen at upstream, while it is not committed yet. */
  pendingTag(repository: string, tag: string): FetchedManifest | undefined {
    const digest = this.#pendingTags.get(`${repository}:${tag}`);
    return digest === undefined ? undefined : this.pending(repository, digest);
  }

  /** Whether a manifest of the repository was fetched from its upstream by this process. */
  fetchedIn(repository: string): boolean {
    return this.#fetchedIn.has(repository);
  }

  remember(repository: string, manifest: FetchedManifest, tag?: string): void {
    this.#fetchedIn.set(repository, this.#now());
    this.#pending.set(`${repository}@${manifest.digest}`, manifest);
    if (tag !== undefined) this.#pendingTags.set(`${repository}:${tag}`, manifest.digest);
  }

  /** The manifest is in the core now (and the tag with it). */
  committed(repository: string, digest: string, tag?: string): void {
    this.#pending.delete(`${repository}@${digest}`);
    if (tag !== undefined && this.#pendingTags.get(`${repository}:${tag}`) === digest) this.#pendingTags.delete(`${repository}:${tag}`);
  }

  /** Whether the tag was checked against the upstream less than `ttlMs` ago. */
  fresh(repository: string, tag: string, ttlMs: number): boolean {
    const checked = this.#checkedAt.get(`${repository}:${tag}`);
    return checked !== undefined && this.#now() - checked < ttlMs;
  }

  checked(repository: string, tag: string): void {
    this.#checkedAt.set(`${repository}:${tag}`, this.#now());
  }

  isNotFound(repository: string, reference: string): boolean {
    const key = `${repository}/${reference}`;
    const until = this.#notFound.get(key);
    if (until === undefined) return false;
    if (this.#now() < until) return true;
    this.#notFound.delete(key);
    return false;
  }

  notFound(repository: string, reference: string, ttlMs: number): void {
    if (ttlMs > 0) this.#notFound.set(`${repository}/${reference}`, this.#now() + ttlMs);
    this.#checkedAt.delete(`${repository}:${reference}`);
  }
}
