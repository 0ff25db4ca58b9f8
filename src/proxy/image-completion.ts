// Completes a fetched image in the cache: every blob and child manifest it names is filled
// from the upstream (sharing the fills clients started), then the manifest is committed
// through the core registry, as the system actor. From then on it is ordinary stored
// content: its manifest.pushed and tag.moved events reach indexing, grading, audit and
// signing policies like a push, and it survives the upstream going away. Clients need not
// fetch every blob for this (podman skips layers it already has): the cache fetches them.
import { parseManifest } from '../core/manifest.ts';
import { NotFound } from '../core/errors.ts';
import type { Digest } from '../core/digest.ts';
import type { Registry } from '../registry/registry-interface.ts';
import type { Logger } from '../observability/logger.ts';
import { CACHE_ACTOR, type BlobFills } from './blob-fill.ts';
import type { FetchedManifest, ManifestCache } from './manifest-cache.ts';
import type { UpstreamRoute } from './upstream-routes.ts';

/** Blobs of one image filled at the same time. */
const BLOB_CONCURRENCY = 3;

export class ImageCompletion {
  readonly #core: Registry;
  readonly #fills: BlobFills;
  readonly #manifests: ManifestCache;
  readonly #logger: Logger;
  readonly #running = new Map<string, Promise<void>>();

  constructor(core: Registry, fills: BlobFills, manifests: ManifestCache, logger: Logger) {
    this.#core = core;
    this.#fills = fills;
    this.#manifests = manifests;
    this.#logger = logger;
  }

  /**
   * Starts completing (once per manifest at a time), then fetches what signs or describes
   * it; failures are logged, and the next pull tries again.
   */
  start(route: UpstreamRoute, manifest: FetchedManifest, tag?: string): void {
    void this.complete(route, manifest, tag, true).catch((error: unknown) => {
      route.upstream.logger.warn('pull-through cache could not complete an image; the next pull retries', { repository: route.local, digest: manifest.digest, error: (error as Error).message });
    });
  }

  /** Resolves when the manifest (and the tag, if given) is committed in the core. */
  complete(route: UpstreamRoute, manifest: FetchedManifest, tag?: string, companions = false): Promise<void> {
    const key = `${route.local}@${manifest.digest}:${tag ?? ''}`;
    const running = this.#running.get(key);
    if (running) return running;
    const work = this.#complete(route, manifest, tag)
      .then(() => (companions ? this.#companions(route, manifest.digest) : undefined))
      .finally(() => this.#running.delete(key));
    this.#running.set(key, work);
    return work;
  }

  /** Waits for running completions (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running.values()]);
  }

  async #complete(route: UpstreamRoute, manifest: FetchedManifest, tag: string | undefined): Promise<void> {
    const parsed = parseManifest(manifest.content, manifest.mediaType);
    for (const child of parsed.manifests) {
      if (await this.#has(() => this.#core.headManifest(route.local, child.digest))) continue;
      const fetched = this.#manifests.pending(route.local, child.digest) ?? (await this.#fetch(route, child.digest as Digest));
      await this.complete(route, fetched);
    }
    const missing: Digest[] = [];
    for (const blob of parsed.blobs) {
      if (!(await this.#has(() => this.#core.statBlob(route.local, blob.digest)))) missing.push(blob.digest as Digest);
    }
    const queue = [...new Set(missing)];
    const worker = async (): Promise<void> => {
      for (let digest = queue.shift(); digest !== undefined; digest = queue.shift()) {
        if (!this.#fills.active(digest) && (await this.#fills.link(route, digest))) continue;
        const fill = await this.#fills.join(route, digest);
        await fill.done;
        // A fill another repository started stored the blob there: link it here too.
        if (!(await this.#has(() => this.#core.statBlob(route.local, digest)))) await this.#fills.link(route, digest);
      }
    };
    await Promise.all(Array.from({ length: Math.min(BLOB_CONCURRENCY, queue.length) }, worker));
    await this.#core.putManifest(route.local, tag ?? manifest.digest, manifest.mediaType, manifest.content, CACHE_ACTOR);
    this.#manifests.committed(route.local, manifest.digest, tag);
    this.#logger.info('pull-through cache stored an image', { repository: route.local, digest: manifest.digest, ...(tag === undefined ? {} : { tag }), blobsFetched: missing.length });
  }

  /**
   * Signatures and referrers of a cached image come with it: cosign's `sha256-<hex>.sig`,
   * `.att` and `.sbom` tags, and the manifests whose subject it is (the referrers API, or
   * its tag schema). Each is stored like the image; one that fails is left for next time.
   */
  async #companions(route: UpstreamRoute, digest: Digest): Promise<void> {
    const [algorithm, hex] = digest.split(':') as [string, string];
    for (const suffix of ['sig', 'att', 'sbom']) {
      const tag = `${algorithm}-${hex}.${suffix}`;
      try {
        const head = await route.upstream.headManifest(route.remote, tag);
        if (head === undefined) continue;
        const stored = await this.#storedDigest(route.local, tag);
        if (stored !== head.digest) {
          const fetched = this.#manifests.pending(route.local, head.digest) ?? (await this.#fetch(route, head.digest));
          await this.complete(route, fetched, tag);
        }
        this.#manifests.checked(route.local, tag);
      } catch (error) {
        route.upstream.logger.warn('pull-through cache could not fetch a signature tag', { repository: route.local, tag, error: (error as Error).message });
      }
    }
    let referrers: readonly { readonly digest: string }[] = [];
    try {
      referrers = await route.upstream.referrers(route.remote, digest);
    } catch (error) {
      route.upstream.logger.warn('pull-through cache could not list referrers', { repository: route.local, digest, error: (error as Error).message });
    }
    for (const referrer of referrers) {
      try {
        if (await this.#has(() => this.#core.headManifest(route.local, referrer.digest))) continue;
        const fetched = this.#manifests.pending(route.local, referrer.digest) ?? (await this.#fetch(route, referrer.digest as Digest));
        await this.complete(route, fetched);
      } catch (error) {
        route.upstream.logger.warn('pull-through cache could not fetch a referrer', { repository: route.local, digest: referrer.digest, error: (error as Error).message });
      }
    }
  }

  async #storedDigest(repository: string, reference: string): Promise<string | undefined> {
    try {
      return (await this.#core.headManifest(repository, reference)).digest;
    } catch (error) {
      if (error instanceof NotFound) return undefined;
      throw error;
    }
  }

  async #fetch(route: UpstreamRoute, digest: Digest): Promise<FetchedManifest> {
    const result = await route.upstream.getManifest(route.remote, digest);
    const fetched = { digest: result.digest, mediaType: result.mediaType, content: result.bytes, size: result.bytes.length };
    this.#manifests.remember(route.local, fetched);
    return fetched;
  }

  async #has(lookup: () => Promise<unknown>): Promise<boolean> {
    try {
      await lookup();
      return true;
    } catch (error) {
      if (error instanceof NotFound) return false;
      throw error;
    }
  }
}
