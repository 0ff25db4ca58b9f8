// The signature extension API (/extensions/v2/.../signatures/...) over the pull-through
// cache: a cached repository's signatures are those stored with its local name, and a
// manifest the cache is still completing has none yet (rather than "manifest unknown",
// which would make podman and skopeo fail the pull). Adding signatures to a cache
// namespace is refused like any other write there.
import { Denied, NotFound } from '../core/errors.ts';
import type { NewSignature, SignatureStore, StoredSignature } from '../metadata/signature-store.ts';
import type { UpstreamRoutes } from './upstream-routes.ts';

export class PullThroughSignatures implements SignatureStore {
  readonly #inner: SignatureStore;
  readonly #routes: UpstreamRoutes;

  constructor(inner: SignatureStore, routes: UpstreamRoutes) {
    this.#inner = inner;
    this.#routes = routes;
  }

  async list(repository: string, manifestDigest: string): Promise<StoredSignature[]> {
    const route = await this.#routes.route(repository);
    if (!route) return this.#inner.list(repository, manifestDigest);
    try {
      return await this.#inner.list(route.local, manifestDigest);
    } catch (error) {
      if (error instanceof NotFound) return [];
      throw error;
    }
  }

  async add(repository: string, manifestDigest: string, signature: NewSignature): Promise<{ readonly created: boolean; readonly name: string }> {
    if (this.#routes.inNamespace(repository)) throw new Denied('repository', `${repository} is in a pull-through cache namespace: it is read-only`);
    return this.#inner.add(repository, manifestDigest, signature);
  }

  remove(repository: string, manifestDigest: string, name: string): Promise<boolean> {
    return this.#inner.remove(repository, manifestDigest, name);
  }

  async counts(repository: string, manifestDigests: readonly string[]): Promise<Map<string, number>> {
    const route = await this.#routes.route(repository);
    return this.#inner.counts(route?.local ?? repository, manifestDigests);
  }
}
