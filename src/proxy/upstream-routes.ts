// Which upstream serves a repository, and under which names: `cache/docker.io/library/alpine`
// is stored here under that name and fetched as `library/alpine` from the upstream of the
// namespace `cache/docker.io`. With a default upstream, a root path (`library/alpine`, as
// Docker's registry-mirrors asks) is that upstream's too, stored under its namespace,
// unless a repository of that name was pushed here: local content is never shadowed.
import type { Upstream } from './upstream.ts';

export interface UpstreamRoute {
  readonly upstream: Upstream;
  /** The repository the cache stores the content in. */
  readonly local: string;
  /** The repository's name at the upstream. */
  readonly remote: string;
  /** A root path served by the default upstream (stored under its namespace). */
  readonly alias?: boolean;
}

export class UpstreamRoutes {
  readonly #upstreams: readonly Upstream[];
  readonly #default: Upstream | undefined;
  readonly #existsLocally: (repository: string) => Promise<boolean>;

  constructor(upstreams: readonly Upstream[], defaultNamespace: string | undefined, existsLocally: (repository: string) => Promise<boolean>) {
    // Longest namespace first, though namespaces never nest (the configuration refuses it).
    this.#upstreams = [...upstreams].sort((a, b) => b.config.namespace.length - a.config.namespace.length);
    this.#default = defaultNamespace === undefined ? undefined : upstreams.find((upstream) => upstream.config.namespace === defaultNamespace);
    this.#existsLocally = existsLocally;
  }

  get upstreams(): readonly Upstream[] {
    return this.#upstreams;
  }

  /** The repository's route, or null when it is not the cache's (served as pushed content). */
  async route(repository: string): Promise<UpstreamRoute | null> {
    for (const upstream of this.#upstreams) {
      const prefix = `${upstream.config.namespace}/`;
      if (repository.startsWith(prefix) && repository.length > prefix.length) {
        return { upstream, local: repository, remote: upstream.remoteName(repository.slice(prefix.length)) };
      }
    }
    if (this.#default === undefined || (await this.#existsLocally(repository))) return null;
    return { upstream: this.#default, local: `${this.#default.config.namespace}/${repository}`, remote: this.#default.remoteName(repository), alias: true };
  }

  /** Whether the repository is in an upstream's namespace (content there is the cache's alone). */
  inNamespace(repository: string): boolean {
    return this.#upstreams.some((upstream) => repository.startsWith(`${upstream.config.namespace}/`));
  }
}
