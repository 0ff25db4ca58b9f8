// The OCI Distribution API over HTTP: turns /v2/ requests into Registry calls and the
// results into the spec's status codes and headers.
import { sendJson } from './json-response.ts';
import type { Readable } from 'node:stream';
import { RegistryError } from '../core/errors.ts';
import { isMediaType, MediaType } from '../core/media-types.ts';
import { uploadLocation, uploadRange, type Registry } from '../registry/registry.ts';
import { header, type HttpRequest, type HttpResponse } from './http-types.ts';
import { isTag, validateRepositoryName } from '../core/names.ts';
import { readLimitedBody } from './request-body.ts';
import { contentLength, cursor, mountSource, nextLink, pageSize, parseRange, shown } from './distribution-params.ts';
import { actorOf, DISCARD_ACTIONS, type ActionRecorder } from '../audit/action.ts';
import type { RepositoryAction } from '../auth/access-control.ts';
import { OpenGate, type Caller, type Need, type RegistryGate } from './registry-gate.ts';
import { methodNotAllowed, type RouteMatch, type RouteTable } from './route-table.ts';
import type { ManifestGuard } from '../trust/registry-signing-policy.ts';
import type { EventActor } from '../core/events.ts';

/** Kept for route tables written against its old home; new code imports it from route-table.ts. */
export type { RouteMatch } from './route-table.ts';

const MANIFEST_PATH = /^\/v2\/(.+)\/manifests\/([^/]+)$/;
const BLOB_PATH = /^\/v2\/(.+)\/blobs\/([^/]+)$/;
const UPLOAD_START_PATH = /^\/v2\/(.+)\/blobs\/uploads\/?$/;
const UPLOAD_PATH = /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/;
const TAGS_PATH = /^\/v2\/(.+)\/tags\/list$/;
const REFERRERS_PATH = /^\/v2\/(.+)\/referrers\/([^/]+)$/;

export interface DistributionApiOptions {
  readonly registry: Registry;
  /** Who may call what; everything is allowed without one. */
  readonly gate?: RegistryGate | undefined;
  /** Where pulls (and pulls a signing policy refused) are recorded. Pushes, deletes and
   * mounts are recorded from the registry's domain events instead. */
  readonly actions?: ActionRecorder | undefined;
  /** Whether the signature extension API (/extensions/v2/) is mounted beside this one. */
  readonly signaturesExtension?: boolean | undefined;
  /** The signing policy's read checks (manifests and blobs served or mounted). */
  readonly guard?: ManifestGuard | undefined;
}

/** Who made a request, as the registry's events carry it. */
export function eventActor(caller: Caller): EventActor {
  return { ...actorOf(caller.principal), address: caller.ip, userAgent: caller.userAgent };
}

/** The `v2` route table: matched by hand, since every route names what the gate must check before its handler. */
export class DistributionApi implements RouteTable {
  readonly area = 'v2';
  private readonly registry: Registry;
  private readonly gate: RegistryGate;
  private readonly actions: ActionRecorder;
  private readonly signaturesExtension: boolean;
  private readonly guard: ManifestGuard | undefined;

  constructor(options: DistributionApiOptions) {
    this.registry = options.registry;
    this.gate = options.gate ?? new OpenGate();
    this.actions = options.actions ?? DISCARD_ACTIONS;
    this.signaturesExtension = options.signaturesExtension ?? false;
    this.guard = options.guard;
  }

  /** Matches a /v2/ request to its handler, or returns null when no route applies (the server's one not-found answers). */
  match(request: HttpRequest, response: HttpResponse, path: string, query: URLSearchParams): RouteMatch | null {
    if (path !== '/v2' && !path.startsWith('/v2/')) return null;
    const method = request.method ?? 'GET';
    // Every route names what it needs; the gate checks it before the handler runs.
    const allow = (route: string, methods: readonly string[], need: (method: string) => Need, handle: (caller: Caller) => Promise<void>): RouteMatch => {
      if (!methods.includes(method)) return methodNotAllowed(request, response, route, methods);
      return {
        route,
        handle: async () => {
          let caller: Caller;
          try {
            caller = await this.gate.authorize(request, need(method));
          } catch (error) {
            request.resume();
            throw error;
          }
          return handle(caller);
        },
      };
    };
    const on = (repository: string, ...actions: RepositoryAction[]): Need => ({ kind: 'repository', repository, actions });
    // Names are checked before the gate, so a malformed name is NAME_INVALID, never a challenge.

    if (path === '/v2/' || path === '/v2') {
      return allow('base', ['GET', 'HEAD'], () => ({ kind: 'base' }), async () => {
        // containers/image then stores and reads simple-signing signatures through
        // /extensions/v2/ (only said when that API is mounted: skopeo relies on it).
        if (this.signaturesExtension) response.setHeader('X-Registry-Supports-Signatures', '1');
        sendJson(response, method, 200, {});
      });
    }
    if (path === '/v2/_catalog') {
      return allow('catalog', ['GET'], () => ({ kind: 'catalog' }), async (caller) => this.catalog(response, query, caller));
    }
    let match: RegExpExecArray | null;
    if ((match = UPLOAD_START_PATH.exec(path))) {
      const name = validateRepositoryName(match[1]!);
      const source = mountSource(query, name);
      const need = (): Need => ({ ...on(name, 'pull', 'push'), ...(source === undefined ? {} : { optional: [{ repository: source, actions: ['pull'] }] }) });
      return allow('blob_upload_start', ['POST'], need, async (caller) => this.startUpload(request, response, name, query, caller));
    }
    if ((match = UPLOAD_PATH.exec(path))) {
      const [, rawName, id] = match as unknown as [string, string, string];
      const name = validateRepositoryName(rawName);
      return allow('blob_upload', ['GET', 'PATCH', 'PUT', 'DELETE'], () => on(name, 'pull', 'push'), async (caller) => {
        if (method === 'GET') return this.uploadStatus(response, name, id);
        if (method === 'PATCH') return this.patchUpload(request, response, name, id);
        if (method === 'PUT') return this.putUpload(request, response, name, id, query, caller);
        await this.registry.cancelUpload(name, id);
        this.empty(response, 204);
      });
    }
    if ((match = MANIFEST_PATH.exec(path))) {
      const [, rawName, reference] = match as unknown as [string, string, string];
      const name = validateRepositoryName(rawName);
      const need = (verb: string): Need => (verb === 'PUT' ? on(name, 'pull', 'push') : verb === 'DELETE' ? on(name, 'delete') : on(name, 'pull'));
      return allow('manifest', ['GET', 'HEAD', 'PUT', 'DELETE'], need, async (caller) => {
        if (method === 'GET' || method === 'HEAD') return this.getManifest(request, response, method, name, reference, caller);
        if (method === 'PUT') return this.putManifest(request, response, name, reference, caller);
        await this.registry.deleteManifest(name, reference, eventActor(caller));
        this.empty(response, 202);
      });
    }
    if ((match = BLOB_PATH.exec(path))) {
      const [, rawName, digest] = match as unknown as [string, string, string];
      const name = validateRepositoryName(rawName);
      return allow('blob', ['GET', 'HEAD', 'DELETE'], (verb) => (verb === 'DELETE' ? on(name, 'delete') : on(name, 'pull')), async (caller) => {
        if (method === 'DELETE') {
          await this.registry.deleteBlob(name, digest, eventActor(caller));
          return this.empty(response, 202);
        }
        return this.getBlob(request, response, method, name, digest, caller);
      });
    }
    if ((match = TAGS_PATH.exec(path))) {
      const name = validateRepositoryName(match[1]!);
      return allow('tags', ['GET'], () => on(name, 'pull'), async () => this.tags(response, name, query));
    }
    if ((match = REFERRERS_PATH.exec(path))) {
      const [, rawName, digest] = match as unknown as [string, string, string];
      const name = validateRepositoryName(rawName);
      return allow('referrers', ['GET'], () => on(name, 'pull'), async () => this.referrers(response, name, digest, query));
    }
    return null;
  }

  /** A signing policy's check before a manifest is served; those who may push to the
   * repository are let through, since they publish (and sign) what is in it. */
  private async guardPull(caller: Caller, name: string, digest: string, mediaType: string, content?: Uint8Array): Promise<void> {
    if (!this.guard) return;
    try {
      await this.guard.checkPull(name, digest, mediaType, content);
    } catch (error) {
      if (error instanceof RegistryError && error.code === 'DENIED' && (await this.gate.mayPush(caller, name))) return;
      if (error instanceof RegistryError && error.code === 'DENIED') {
        this.actions.record({ kind: 'pull', result: 'denied', actor: actorOf(caller.principal), ip: caller.ip, userAgent: caller.userAgent, repository: name, digest, detail: { reason: 'signing policy' } });
      }
      throw error;
    }
  }

  /** The signing policy's check before a blob is served or mounted elsewhere (issue 17):
   * its layers are as protected as the image; publishers read them, as they read manifests. */
  private async guardBlob(caller: Caller, name: string, digest: string): Promise<void> {
    if (!this.guard) return;
    try {
      await this.guard.checkBlob(name, digest);
    } catch (error) {
      if (error instanceof RegistryError && error.code === 'DENIED' && (await this.gate.mayPush(caller, name))) return;
      if (error instanceof RegistryError && error.code === 'DENIED') {
        this.actions.record({ kind: 'pull', result: 'denied', actor: actorOf(caller.principal), ip: caller.ip, userAgent: caller.userAgent, repository: name, digest, detail: { reason: 'signing policy', object: 'blob' } });
      }
      throw error;
    }
  }

  /** Whether a mount may take the blob from `from`: a signing policy there must let the caller read it. */
  private async mayMountFrom(caller: Caller, from: string, digest: string): Promise<boolean> {
    if (!this.guard) return true;
    try {
      await this.guardBlob(caller, from, digest);
      return true;
    } catch (error) {
      if (error instanceof RegistryError && error.code === 'DENIED') return false;
      throw error;
    }
  }

  private record(caller: Caller, kind: 'pull', repository: string, reference: string, detail?: Record<string, unknown>): void {
    const isDigest = reference.includes(':');
    this.actions.record({
      kind,
      result: 'success',
      actor: actorOf(caller.principal),
      ip: caller.ip,
      userAgent: caller.userAgent,
      repository,
      ...(isDigest ? { digest: reference } : { tag: reference }),
      ...(detail ? { detail } : {}),
    });
  }

  // ---- blobs -------------------------------------------------------------------------

  private async getBlob(request: HttpRequest, response: HttpResponse, method: string, name: string, digest: string, caller: Caller): Promise<void> {
    const blob = await this.registry.statBlob(name, digest);
    await this.guardBlob(caller, name, blob.digest);
    const etag = `"${blob.digest}"`;
    response.setHeader('Docker-Content-Digest', blob.digest);
    response.setHeader('ETag', etag);
    response.setHeader('Accept-Ranges', 'bytes');
    response.setHeader('Cache-Control', 'max-age=31536000, immutable');
    if (header(request, 'if-none-match') === etag) return this.empty(response, 304);
    const redirect = method === 'GET' ? await this.registry.blobRedirect(blob.digest) : null;
    if (redirect) {
      response.setHeader('Location', redirect);
      return this.empty(response, 307);
    }
    const requested = header(request, 'range');
    const range = requested === undefined ? undefined : parseRange(requested, blob.size);
    if (range === null) {
      throw new RegistryError('RANGE_INVALID', `range "${requested!.slice(0, 64)}" cannot be satisfied for ${blob.size} bytes`, {
        headers: { 'Content-Range': `bytes */${blob.size}` },
      });
    }
    response.setHeader('Content-Type', 'application/octet-stream');
    if (range) {
      response.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${blob.size}`);
      response.setHeader('Content-Length', range.end - range.start + 1);
    } else {
      response.setHeader('Content-Length', blob.size);
    }
    const status = range ? 206 : 200;
    if (method === 'HEAD' || blob.size === 0) {
      response.writeHead(status);
      response.end();
      return;
    }
    // Headers go out with the first bytes, so a blob missing from storage is still a
    // clean 404. Always a bounded range: the transfer ends on its last byte, and a client
    // that hangs up once it has Content-Length bytes is not an error.
    response.statusCode = status;
    await this.registry.sendBlob(blob.digest, response, range ?? { start: 0, end: blob.size - 1 });
  }

  // ---- uploads -----------------------------------------------------------------------

  private async startUpload(request: HttpRequest, response: HttpResponse, name: string, query: URLSearchParams, caller: Caller): Promise<void> {
    const mount = query.get('mount');
    if (mount !== null) {
      const rawFrom = query.get('from') ?? undefined;
      const from = rawFrom === '' ? undefined : rawFrom;
      // A mount from a repository the caller may not read (or, with no `from`, from
      // anywhere, unless everything is open) silently becomes a normal upload: the
      // response must not reveal whether the blob exists there.
      const readable = from === undefined ? this.gate.open : (await this.gate.mayPull(caller, from)) && (await this.mayMountFrom(caller, from, mount));
      const mounted = readable ? await this.registry.mountBlob(name, mount, from, undefined, eventActor(caller)) : null;
      if (mounted) {
        request.resume();
        response.setHeader('Location', `/v2/${name}/blobs/${mounted.digest}`);
        response.setHeader('Docker-Content-Digest', mounted.digest);
        return this.empty(response, 201);
      }
    }
    const digest = query.get('digest');
    if (digest !== null && mount === null) {
      const blob = await this.registry.uploadMonolithic(name, digest, request as Readable, contentLength(request), eventActor(caller));
      response.setHeader('Location', `/v2/${name}/blobs/${blob.digest}`);
      response.setHeader('Docker-Content-Digest', blob.digest);
      return this.empty(response, 201);
    }
    request.resume();
    const upload = await this.registry.startUpload(name);
    this.uploadHeaders(response, name, upload.id, 0);
    this.empty(response, 202);
  }

  private async uploadStatus(response: HttpResponse, name: string, id: string): Promise<void> {
    const upload = await this.registry.uploadStatus(name, id);
    this.uploadHeaders(response, name, id, upload.size);
    this.empty(response, 204);
  }

  private async patchUpload(request: HttpRequest, response: HttpResponse, name: string, id: string): Promise<void> {
    const upload = await this.registry.appendChunk(name, id, request as Readable, header(request, 'content-range'), contentLength(request));
    this.uploadHeaders(response, name, id, upload.size);
    this.empty(response, 202);
  }

  private async putUpload(request: HttpRequest, response: HttpResponse, name: string, id: string, query: URLSearchParams, caller: Caller): Promise<void> {
    const digest = query.get('digest') ?? undefined;
    const blob = await this.registry.completeUpload(name, id, digest, request as Readable, header(request, 'content-range'), contentLength(request), eventActor(caller));
    response.setHeader('Location', `/v2/${name}/blobs/${blob.digest}`);
    response.setHeader('Docker-Content-Digest', blob.digest);
    this.empty(response, 201);
  }

  private uploadHeaders(response: HttpResponse, name: string, id: string, size: number): void {
    response.setHeader('Location', uploadLocation(name, id));
    response.setHeader('Range', uploadRange(size));
    response.setHeader('Docker-Upload-UUID', id);
  }

  // ---- manifests ---------------------------------------------------------------------

  private async getManifest(request: HttpRequest, response: HttpResponse, method: string, name: string, reference: string, caller: Caller): Promise<void> {
    if (method === 'HEAD') {
      const head = await this.registry.headManifest(name, reference);
      await this.guardPull(caller, name, head.digest, head.mediaType);
      this.manifestHeaders(response, head.digest, head.mediaType, head.size);
      if (header(request, 'if-none-match') === `"${head.digest}"`) return this.empty(response, 304);
      response.writeHead(200);
      response.end();
      return;
    }
    const manifest = await this.registry.getManifest(name, reference, eventActor(caller));
    await this.guardPull(caller, name, manifest.digest, manifest.mediaType, manifest.content);
    this.manifestHeaders(response, manifest.digest, manifest.mediaType, manifest.size);
    this.record(caller, 'pull', name, reference, reference.includes(':') ? undefined : { digest: manifest.digest });
    if (header(request, 'if-none-match') === `"${manifest.digest}"`) return this.empty(response, 304);
    response.writeHead(200);
    response.end(manifest.content);
  }

  private manifestHeaders(response: HttpResponse, digest: string, mediaType: string, size: number): void {
    response.setHeader('Content-Type', mediaType);
    response.setHeader('Content-Length', size);
    response.setHeader('Docker-Content-Digest', digest);
    response.setHeader('ETag', `"${digest}"`);
  }

  private async putManifest(request: HttpRequest, response: HttpResponse, name: string, reference: string, caller: Caller): Promise<void> {
    const limit = this.registry.options.maxManifestBytes;
    const content = await readLimitedBody(request, limit, (size) => new RegistryError('MANIFEST_INVALID', `manifest is ${size} bytes, over the ${limit}-byte limit`, { status: 413 }));
    // The signing policy's tag rule, the audit entry and the quality queue are the
    // registry's business (a write guard and subscribers of its events).
    const result = await this.registry.putManifest(name, reference, header(request, 'content-type'), content, eventActor(caller));
    response.setHeader('Location', `/v2/${name}/manifests/${result.digest}`);
    response.setHeader('Docker-Content-Digest', result.digest);
    if (result.subject) response.setHeader('OCI-Subject', result.subject);
    this.empty(response, 201);
  }

  // ---- discovery ---------------------------------------------------------------------

  private async tags(response: HttpResponse, name: string, query: URLSearchParams): Promise<void> {
    const last = cursor(query);
    if (last !== undefined && !isTag(last)) throw new RegistryError('TAG_INVALID', `last must be a tag, not "${shown(last)}"`);
    const listing = await this.registry.listTags(name, pageSize(query), last);
    if (listing.next !== undefined) response.setHeader('Link', nextLink(`/v2/${name}/tags/list`, listing.entries.length, listing.next));
    sendJson(response, 'GET', 200, { name, tags: listing.entries });
  }

  private async catalog(response: HttpResponse, query: URLSearchParams, caller: Caller): Promise<void> {
    const size = pageSize(query);
    const last = cursor(query);
    if (last !== undefined) validateRepositoryName(last);
    const limit = Math.min(size ?? this.registry.options.maxPageSize, this.registry.options.maxPageSize);
    // Only what the caller may read: the gate filters in SQL, one page at a time.
    const visible = limit === 0 ? [] : await this.gate.visibleRepositories(caller, last, limit + 1);
    const listing = visible === null ? await this.registry.listRepositories(size, last) : { entries: visible.slice(0, limit), next: visible.length > limit ? visible[limit - 1] : undefined };
    if (listing.next !== undefined) response.setHeader('Link', nextLink('/v2/_catalog', listing.entries.length, listing.next));
    sendJson(response, 'GET', 200, { repositories: listing.entries });
  }

  private async referrers(response: HttpResponse, name: string, digest: string, query: URLSearchParams): Promise<void> {
    const artifactType = query.get('artifactType') ?? undefined;
    if (artifactType !== undefined && !isMediaType(artifactType)) {
      throw new RegistryError('UNSUPPORTED', `the artifactType filter must be a media type, not "${shown(artifactType)}"`, { status: 400 });
    }
    const referrers = await this.registry.listReferrers(name, digest, artifactType);
    if (artifactType !== undefined) response.setHeader('OCI-Filters-Applied', 'artifactType');
    const body = {
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: referrers.map((entry) => ({
        mediaType: entry.mediaType,
        digest: entry.digest,
        size: entry.size,
        ...(entry.artifactType ? { artifactType: entry.artifactType } : {}),
        ...(entry.annotations ? { annotations: entry.annotations } : {}),
      })),
    };
    sendJson(response, 'GET', 200, body, { contentType: MediaType.OciIndex });
  }

  // ---- helpers -----------------------------------------------------------------------

  private empty(response: HttpResponse, status: number): void {
    if (status !== 204 && status !== 304) response.setHeader('Content-Length', 0);
    response.writeHead(status);
    response.end();
  }
}

