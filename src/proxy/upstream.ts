// One upstream registry of the pull-through cache: the registry client (token challenges,
// Basic auth, certificates, verified blob downloads) with the cache's failure rules on top.
// Every failure is sorted into "not found" (remembered briefly by the cache) or
// "unavailable" (5xx, 429, timeout, network: the cache serves stale). A network failure
// marks the upstream down for a short while, so that while it is down each client pays at
// most the one connect timeout that found out, not one per request.
import { readFileSync } from 'node:fs';
import { RegistryClient, RegistryClientError, type ManifestHead, type ManifestResult, type VerifyingBlobReader } from '../client/registry-client/index.ts';
import { NotFound, Unavailable } from '../core/errors.ts';
import type { UpstreamConfig } from '../config/proxy-config.ts';
import { describeUpstream } from '../config/proxy-config.ts';
import type { Logger } from '../observability/logger.ts';

export interface UpstreamOptions {
  readonly timeoutMs: number;
  readonly logger: Logger;
  /** How long an upstream that failed at the network level is not asked again. */
  readonly downForMs?: number;
  readonly clock?: () => number;
}

const DOCKER_HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

export class Upstream {
  readonly config: UpstreamConfig;
  readonly #client: RegistryClient;
  readonly #logger: Logger;
  readonly #downForMs: number;
  readonly #now: () => number;
  readonly #dockerHub: boolean;
  #downUntil = 0;

  constructor(config: UpstreamConfig, options: UpstreamOptions) {
    this.config = config;
    this.#logger = options.logger.child(describeUpstream(config));
    this.#downForMs = options.downForMs ?? Math.min(15_000, config.ttlMs);
    this.#now = options.clock ?? Date.now;
    this.#dockerHub = DOCKER_HUB_HOSTS.has(new URL(config.url).hostname);
    const credentials = config.username !== undefined && config.password !== undefined ? { username: config.username, password: config.password } : undefined;
    this.#client = new RegistryClient({
      registry: config.url,
      userAgent: 'custody-proxy',
      // The credentials go to this upstream only, whatever host the client asks about.
      credentials: async () => credentials,
      tls: { ...(config.caFile === undefined ? {} : { ca: readFileSync(config.caFile) }), rejectUnauthorized: config.tlsVerify },
      // One attempt: a client waiting on the cache would rather have the cached copy now
      // than the upstream after backoff; blob downloads still resume after a dropped connection.
      retry: { attempts: 1 },
      timeoutMs: options.timeoutMs,
      maxResumes: 3,
      logger: this.#logger,
    });
  }

  get logger(): Logger {
    return this.#logger;
  }

  /** The upstream's name for a repository path below the namespace (Docker Hub's `library/` for official images). */
  remoteName(path: string): string {
    return this.#dockerHub && !path.includes('/') ? `library/${path}` : path;
  }

  /** True while a recent network failure says asking again would only cost a timeout. */
  get down(): boolean {
    return this.#now() < this.#downUntil;
  }

  /** HEAD of a manifest; undefined when the upstream does not have it. */
  async headManifest(repository: string, reference: string): Promise<ManifestHead | undefined> {
    try {
      return await this.#call(() => this.#client.headManifest(repository, reference));
    } catch (error) {
      if (error instanceof NotFound) return undefined;
      throw error;
    }
  }

  async getManifest(repository: string, reference: string): Promise<ManifestResult> {
    return this.#call(() => this.#client.getManifest(repository, reference), () => new NotFound('manifest', `manifest ${reference} is not in upstream repository ${repository}`));
  }

  async getBlob(repository: string, digest: string): Promise<VerifyingBlobReader> {
    return this.#call(() => this.#client.getBlob(repository, digest), () => new NotFound('blob', `blob ${digest} is not in upstream repository ${repository}`, { detail: { digest } }));
  }

  /** Manifests whose subject is `digest` (the referrers API, or its tag schema where there is none). */
  async referrers(repository: string, digest: string): Promise<readonly { readonly digest: string }[]> {
    return (await this.#call(() => this.#client.referrers(repository, digest))).manifests;
  }

  async listTags(repository: string): Promise<string[]> {
    return this.#call(() => this.#client.listTags(repository), () => new NotFound('repository', `repository ${repository} is not known to the upstream`));
  }

  /** Sorts a failure: NotFound for the upstream's 404, Unavailable for everything else. */
  async #call<T>(operation: () => Promise<T>, notFound: () => NotFound = () => new NotFound('manifest', 'not found upstream')): Promise<T> {
    if (this.down) throw new Unavailable('upstream', `upstream ${this.config.url} is unreachable (retried after a pause)`);
    try {
      return await operation();
    } catch (error) {
      throw this.failure(error, notFound);
    }
  }

  /** The domain error for a failure of this upstream; network failures mark it down. */
  failure(error: unknown, notFound: () => NotFound): Error {
    if (error instanceof NotFound || error instanceof Unavailable) return error;
    if (error instanceof RegistryClientError && error.status === 404) return notFound();
    const status = error instanceof RegistryClientError ? error.status : 0;
    if (status === 0 && !(error instanceof RegistryClientError && error.code === 'DIGEST_MISMATCH')) {
      this.#downUntil = this.#now() + this.#downForMs;
    }
    // The message is the client's: it names the request, never the credentials.
    return new Unavailable('upstream', `upstream ${this.config.url} failed: ${(error as Error).message}`, { cause: error, detail: { status } });
  }

  close(): void {
    this.#client.close();
  }
}
