// The pull-through cache as a layer around the registry: repositories in an upstream's
// namespace are read from the cache, and filled from the upstream when the cache does not
// have what is asked. Everything else passes to the core unchanged.
//
// Manifests by digest are the cache's for good once fetched. A tag is served from the cache
// and revalidated with a HEAD once its TTL has passed; when the upstream fails (5xx, 429,
// timeout, network down) the cached tag is served anyway and the failure logged. Upstream
// "not found" answers are remembered briefly. The namespaces are read-only to clients:
// only the cache writes there, through the core (so guards, events and quotas apply).
import type { Digest } from '../core/digest.ts';
import { isDigest } from '../core/digest.ts';
import { parseManifest } from '../core/manifest.ts';
import { Denied, NotFound, Unavailable } from '../core/errors.ts';
import type { EventActor } from '../core/events.ts';
import type { ManifestHead, ManifestRecord } from '../metadata/metadata-store.ts';
import { RegistryDecorator } from '../registry/registry-decorator.ts';
import type { BlobHandle, BlobRead, Listing, PutManifestResult, Registry, UploadState } from '../registry/registry-interface.ts';
import type { ByteRange } from '../storage/blob-store.ts';
import type { Logger } from '../observability/logger.ts';
import { BlobFills } from './blob-fill.ts';
import { ImageCompletion } from './image-completion.ts';
import { ManifestCache, type FetchedManifest } from './manifest-cache.ts';
import type { UpstreamRoute, UpstreamRoutes } from './upstream-routes.ts';
import type { Readable } from 'node:stream';
import type { SignatureStore } from '../metadata/signature-store.ts';
import type { CacheUsageStore } from '../metadata/cache-usage-store.ts';
import { PullThroughSignatures } from './pull-through-signatures.ts';

export interface PullThroughOptions {
  readonly routes: UpstreamRoutes;
  /** Where pulls of cached manifests are noted, for least-recently-pulled eviction. */
  readonly usage?: CacheUsageStore | undefined;
  readonly notFoundTtlMs: number;
  readonly logger: Logger;
  readonly clock?: () => number;
}

type Resolved = { readonly kind: 'stored' } | { readonly kind: 'fetched'; readonly manifest: FetchedManifest };

export class PullThroughRegistry extends RegistryDecorator {
  readonly routes: UpstreamRoutes;
  readonly fills: BlobFills;
  readonly completion: ImageCompletion;
  readonly #manifests: ManifestCache;
  readonly #notFoundTtlMs: number;
  readonly #logger: Logger;
  readonly #usage: CacheUsageStore | undefined;
  readonly #now: () => number;
  /** Last pull noted per repository@digest: one write a minute at most, however many pulls. */
  readonly #noted = new Map<string, number>();

  constructor(inner: Registry, options: PullThroughOptions) {
    super(inner);
    this.#usage = options.usage;
    this.#now = options.clock ?? Date.now;
    this.routes = options.routes;
    this.#notFoundTtlMs = options.notFoundTtlMs;
    this.#logger = options.logger;
    this.#manifests = new ManifestCache(options.clock);
    this.fills = new BlobFills(inner);
    this.completion = new ImageCompletion(inner, this.fills, this.#manifests, options.logger);
  }

  // ---- manifests ---------------------------------------------------------------------

  override async getManifest(repository: string, reference: string, actor?: EventActor): Promise<ManifestRecord> {
    const route = await this.routes.route(repository);
    if (!route) return this.inner.getManifest(repository, reference, actor);
    const resolved = await this.#resolve(route, reference);
    if (resolved.kind === 'fetched') return resolved.manifest;
    const manifest = await this.inner.getManifest(route.local, reference, actor);
    this.#notePull(route.local, manifest.digest);
    return manifest;
  }

  #notePull(repository: string, digest: Digest): void {
    if (!this.#usage) return;
    const key = `${repository}@${digest}`;
    const now = this.#now();
    if (now - (this.#noted.get(key) ?? 0) < 60_000) return;
    this.#noted.delete(key);
    this.#noted.set(key, now);
    if (this.#noted.size > 10_000) this.#noted.delete(this.#noted.keys().next().value!);
    void this.#usage.recordPull(repository, digest, now).catch((error: unknown) => this.#logger.warn('pull-through cache could not note a pull', { repository, error: (error as Error).message }));
  }

  override async headManifest(repository: string, reference: string): Promise<ManifestHead> {
    const route = await this.routes.route(repository);
    if (!route) return this.inner.headManifest(repository, reference);
    const resolved = await this.#resolve(route, reference);
    if (resolved.kind === 'stored') return this.inner.headManifest(route.local, reference);
    const { digest, mediaType, size } = resolved.manifest;
    return { digest, mediaType, size };
  }

  /** Where a manifest is served from: the core, or a fetched manifest whose image is being completed. */
  async #resolve(route: UpstreamRoute, reference: string): Promise<Resolved> {
    const stored = await this.#stored(route.local, reference);
    if (isDigest(reference)) {
      if (stored) return { kind: 'stored' };
      const fetched = this.#manifests.pending(route.local, reference);
      if (fetched) {
        this.completion.start(route, fetched);
        return { kind: 'fetched', manifest: fetched };
      }
      return this.#fetch(route, reference, undefined);
    }
    const fetched = this.#manifests.pendingTag(route.local, reference);
    const current: Resolved | null = fetched ? { kind: 'fetched', manifest: fetched } : stored ? { kind: 'stored' } : null;
    if (current && this.#manifests.fresh(route.local, reference, route.upstream.config.ttlMs)) {
      if (current.kind === 'fetched') this.completion.start(route, current.manifest, reference);
      return current;
    }
    if (this.#manifests.isNotFound(route.local, reference)) throw manifestUnknown(route.local, reference);
    if (!current) return this.#fetch(route, reference, reference);
    // Revalidate: a HEAD, and the manifest itself only when the tag moved.
    let head;
    try {
      head = await route.upstream.headManifest(route.remote, reference);
    } catch (error) {
      if (!(error instanceof Unavailable)) throw error;
      route.upstream.logger.warn('upstream unavailable: serving the cached tag', { repository: route.local, tag: reference, error: error.message });
      return current;
    }
    if (head === undefined) {
      this.#manifests.notFound(route.local, reference, this.#notFoundTtlMs);
      throw manifestUnknown(route.local, reference);
    }
    this.#manifests.checked(route.local, reference);
    const currentDigest = current.kind === 'fetched' ? current.manifest.digest : stored!.digest;
    if (head.digest === currentDigest) {
      if (current.kind === 'fetched') this.completion.start(route, current.manifest, reference);
      return current;
    }
    return this.#fetch(route, head.digest, reference);
  }

  /** Fetches a manifest from the upstream, serves it, and completes its image in the cache. */
  async #fetch(route: UpstreamRoute, reference: string, tag: string | undefined): Promise<Resolved> {
    if (this.#manifests.isNotFound(route.local, reference)) throw manifestUnknown(route.local, reference);
    let result;
    try {
      result = await route.upstream.getManifest(route.remote, reference);
    } catch (error) {
      if (error instanceof NotFound) {
        this.#manifests.notFound(route.local, reference, this.#notFoundTtlMs);
        throw manifestUnknown(route.local, reference);
      }
      throw error;
    }
    const manifest: FetchedManifest = { digest: result.digest, mediaType: result.mediaType, content: result.bytes, size: result.bytes.length };
    if (manifest.size > this.inner.options.maxManifestBytes) throw new Unavailable('upstream', `manifest ${route.remote}:${reference} is larger than this registry accepts`);
    if (tag !== undefined) this.#manifests.checked(route.local, tag);
    // Already stored under its digest (another tag, an earlier pull): only the tag is new.
    const stored = await this.#stored(route.local, manifest.digest);
    this.#manifests.remember(route.local, manifest, tag);
    this.completion.start(route, manifest, tag);
    if (stored && tag === undefined) return { kind: 'stored' };
    return { kind: 'fetched', manifest };
  }

  async #stored(repository: string, reference: string): Promise<ManifestHead | null> {
    try {
      return await this.inner.headManifest(repository, reference);
    } catch (error) {
      if (error instanceof NotFound) return null;
      throw error;
    }
  }

  // ---- blobs -------------------------------------------------------------------------

  override async statBlob(repository: string, digest: string): Promise<BlobHandle> {
    const route = await this.routes.route(repository);
    if (!route) return this.inner.statBlob(repository, digest);
    // A root path is the default upstream's for blobs only once a client pulled a manifest
    // there: a client pushing a new repository asks for its blobs first, and must hear that
    // this repository does not have them, or it would skip the upload.
    if (route.alias && !this.#manifests.fetchedIn(route.local) && !(await this.inner.metadata.repositoryExists(route.local))) {
      return this.inner.statBlob(repository, digest);
    }
    try {
      return await this.inner.statBlob(route.local, digest);
    } catch (error) {
      if (!(error instanceof NotFound) || !isDigest(digest)) throw error;
    }
    if (this.#manifests.isNotFound(route.local, digest)) throw blobUnknown(route.local, digest);
    if (!this.fills.active(digest)) {
      const linked = await this.fills.link(route, digest as Digest);
      if (linked) return linked;
    }
    try {
      const fill = await this.fills.join(route, digest as Digest);
      return { digest: fill.digest, size: fill.size };
    } catch (error) {
      if (error instanceof NotFound) this.#manifests.notFound(route.local, digest, this.#notFoundTtlMs);
      throw error;
    }
  }

  override async readBlob(repository: string, digest: string, range?: ByteRange): Promise<BlobRead> {
    const route = await this.routes.route(repository);
    if (!route) return this.inner.readBlob(repository, digest, range);
    await this.statBlob(repository, digest);
    await (await this.fills.active(digest)?.catch(() => undefined))?.done.catch(() => {});
    return this.inner.readBlob(route.local, digest, range);
  }

  /** A blob being filled streams from the fill; any other, or a part of one, from storage. */
  override async sendBlob(digest: Digest, destination: NodeJS.WritableStream, range?: ByteRange): Promise<void> {
    const fill = await this.fills.active(digest)?.catch(() => undefined);
    if (fill) {
      const whole = range === undefined || (range.start === 0 && range.end === fill.size - 1);
      const streaming = whole ? fill.stream(destination) : false;
      if (streaming) return streaming;
      this.#logger.debug('pull-through cache: a client waits for a blob to be stored', { digest, range });
      await fill.done.catch(() => {});
    }
    return this.inner.sendBlob(digest, destination, range);
  }

  override async blobRedirect(digest: Digest): Promise<string | null> {
    // A blob still being filled is not in storage yet: it cannot be fetched from there.
    if (this.fills.active(digest)) return null;
    return this.inner.blobRedirect(digest);
  }

  // ---- listings ----------------------------------------------------------------------

  override async listTags(repository: string, n?: number, last?: string): Promise<Listing> {
    const route = await this.routes.route(repository);
    if (!route) return this.inner.listTags(repository, n, last);
    try {
      const tags = (await route.upstream.listTags(route.remote)).sort();
      const after = last === undefined ? tags : tags.filter((tag) => tag > last);
      const limit = Math.min(n ?? this.inner.options.maxPageSize, this.inner.options.maxPageSize);
      const entries = after.slice(0, limit);
      return after.length > limit ? { entries, next: entries[entries.length - 1]! } : { entries };
    } catch (error) {
      if (!(error instanceof Unavailable)) throw error;
      route.upstream.logger.warn('upstream unavailable: listing the cached tags', { repository: route.local, error: error.message });
      return this.inner.listTags(route.local, n, last);
    }
  }

  override async listReferrers(repository: string, subject: string, artifactType?: string) {
    const route = await this.routes.route(repository);
    return this.inner.listReferrers(route?.local ?? repository, subject, artifactType);
  }

  // ---- writes: the cache's namespaces are read-only to clients -----------------------

  override async startUpload(repository: string): Promise<UploadState> {
    this.#refuseWrite(repository);
    return this.inner.startUpload(repository);
  }

  override async uploadMonolithic(repository: string, digest: string, body: Readable, contentLength?: number, actor?: EventActor): Promise<BlobHandle> {
    this.#refuseWrite(repository);
    return this.inner.uploadMonolithic(repository, digest, body, contentLength, actor);
  }

  override async mountBlob(repository: string, digest: string, from: string | undefined, mayRead?: (repository: string) => Promise<boolean>, actor?: EventActor): Promise<BlobHandle | null> {
    if (this.routes.inNamespace(repository)) return null;
    return this.inner.mountBlob(repository, digest, from, mayRead, actor);
  }

  override async putManifest(repository: string, reference: string, contentType: string | undefined, content: Uint8Array, actor?: EventActor): Promise<PutManifestResult> {
    this.#refuseWrite(repository);
    // A push to a root path the default upstream serves: the client's blob checks were
    // answered from the cache (where it pulled them), so it uploaded none. Its blobs are
    // linked here from there, and from then on the pushed repository is served as pushed.
    const route = await this.routes.route(repository);
    if (route?.alias) {
      for (const blob of blobsOf(content, contentType)) {
        if (await this.#linked(repository, blob)) continue;
        await this.inner.mountBlob(repository, blob, route.local, undefined, actor);
      }
    }
    return this.inner.putManifest(repository, reference, contentType, content, actor);
  }

  async #linked(repository: string, digest: string): Promise<boolean> {
    try {
      await this.inner.statBlob(repository, digest);
      return true;
    } catch (error) {
      if (error instanceof NotFound) return false;
      throw error;
    }
  }

  #refuseWrite(repository: string): void {
    if (this.routes.inNamespace(repository)) throw new Denied('repository', `${repository} is in a pull-through cache namespace: it is filled from its upstream and read-only`);
  }

  /** The signature extension's store as seen through the cache's names. */
  signatures(inner: SignatureStore): SignatureStore {
    return new PullThroughSignatures(inner, this.routes);
  }

  close(): void {
    for (const upstream of this.routes.upstreams) upstream.close();
  }
}

/** The blobs a manifest names, or none when it does not parse (the core then refuses it). */
function blobsOf(content: Uint8Array, contentType: string | undefined): string[] {
  try {
    return parseManifest(content, contentType).blobs.map((blob) => blob.digest);
  } catch {
    return [];
  }
}

function manifestUnknown(repository: string, reference: string): NotFound {
  return new NotFound('manifest', `manifest ${reference} is not in repository ${repository} nor its upstream`, { detail: { name: repository, reference } });
}

function blobUnknown(repository: string, digest: string): NotFound {
  return new NotFound('blob', `blob ${digest} is not in repository ${repository} nor its upstream`, { detail: { digest } });
}
