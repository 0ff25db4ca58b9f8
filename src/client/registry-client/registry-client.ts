// RegistryClient: the OCI distribution API of one registry endpoint, with authentication
// (Basic, Bearer tokens), retries with backoff for idempotent requests, verified manifest
// and blob downloads (resumed when a connection drops) and chunked uploads.
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { digestOf, isDigest, parseDigest, type Digest } from '../../core/digest.ts';
import type { Descriptor } from '../../core/manifest.ts';
import { indexEntries, readManifestJson } from '../../core/manifest-reader.ts';
import { MediaType } from '../../core/media-types.ts';
import { silentLogger, type Logger } from '../../observability/logger.ts';
import { Authenticator } from './authenticator.ts';
import { VerifyingBlobReader } from './blob-reader.ts';
import { pushBlob, resolveLocation, startUpload, type PushOptions, type PushResult, type UploadRequest } from './blob-upload.ts';
import type { CredentialsProvider } from './credentials.ts';
import { RegistryClientError, errorFromResponse, parseErrorEnvelope } from './errors.ts';
import { nextLink } from './link.ts';
import { RETRYABLE_STATUSES, backoffDelay, isRetryableNetworkError, parseRetryAfter, retryPolicy, sleep, type RetryOptions, type RetryPolicy } from './retry.ts';
import { repositoryScope } from './scope.ts';
import { HttpTransport, drain, header, readBody, type HttpRequest, type RequestBody, type TlsOptions } from './transport.ts';

export interface RegistryClientOptions {
  /** `host[:port]` or a URL (`https://host:port`). */
  readonly registry: string;
  /** Plain HTTP instead of HTTPS when `registry` has no scheme. */
  readonly insecure?: boolean;
  readonly credentials?: CredentialsProvider;
  readonly tls?: TlsOptions;
  readonly userAgent?: string;
  readonly logger?: Logger;
  readonly retry?: RetryOptions;
  /** Idle socket timeout; default 60 s. */
  readonly timeoutMs?: number;
  /** Resumes of one blob download after dropped connections; default 5. */
  readonly maxResumes?: number;
  /** Largest manifest read; default 4 MiB. */
  readonly maxManifestBytes?: number;
  /** Defaults for pushBlob. */
  readonly upload?: PushOptions;
}

export interface ManifestResult {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly bytes: Buffer;
}

export interface ManifestHead {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
}

export interface PutManifestResult {
  readonly digest: Digest;
  /** The OCI-Subject header: the registry processed the subject for referrers. */
  readonly subject: string | undefined;
}

export interface ReferrersResult {
  readonly manifests: readonly Descriptor[];
  /** false when the registry has no referrers API and the tag schema fallback was read. */
  readonly api: boolean;
}

export const DEFAULT_MANIFEST_ACCEPT: readonly string[] = [MediaType.OciManifest, MediaType.OciIndex, MediaType.DockerManifest, MediaType.DockerManifestList];

interface ClientRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string | number>>;
  readonly body?: RequestBody;
  readonly scopes: readonly string[];
  readonly idempotent?: boolean;
  /** For unauthenticated exchanges (token requests): the header to send as is. */
  readonly authorization?: string;
}

export class RegistryClient {
  /** The registry's base URL (`https://host:port`). */
  readonly base: URL;
  /** host[:port] as credentials are looked up. */
  readonly host: string;
  readonly #transport: HttpTransport;
  readonly #auth: Authenticator;
  readonly #policy: RetryPolicy;
  readonly #logger: Logger;
  readonly #options: RegistryClientOptions;
  /** Repositories this client will write to (see intendToWrite). */
  readonly #writes = new Set<string>();

  constructor(options: RegistryClientOptions) {
    this.#options = options;
    const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(options.registry) ? options.registry : `${options.insecure ? 'http' : 'https'}://${options.registry}`;
    const url = new URL(text);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RegistryClientError('PROTOCOL', `registry URL must be http or https: ${options.registry}`);
    this.base = new URL(url.origin);
    this.host = url.host;
    this.#logger = options.logger ?? silentLogger;
    this.#policy = retryPolicy(options.retry);
    const userAgent = options.userAgent ?? 'custody';
    this.#transport = new HttpTransport({
      userAgent,
      ...(options.tls === undefined ? {} : { tls: options.tls }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
    this.#auth = new Authenticator({
      base: this.base,
      host: this.host,
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      send: (request, idempotent) => this.#exchange({ ...request, scopes: [], idempotent }, false),
      logger: this.#logger,
      clientId: userAgent.split('/')[0] ?? 'custody',
    });
  }

  /**
   * Every later request on `repo` asks for `pull,push` from the start, as a signer or a
   * copy that reads before it writes must: one token covers the whole job, and a registry
   * that serves publishers more than consumers (a signing policy) sees the publisher's
   * intent on its first read, not a pull-only token.
   */
  intendToWrite(repo: string): void {
    this.#writes.add(repo);
  }

  /** Token-server requests made so far. */
  get tokenRequests(): number {
    return this.#auth.tokenRequests;
  }

  /** Closes pooled connections. */
  close(): void {
    this.#transport.close();
  }

  /** GET /v2/ (authenticated): throws unless the endpoint speaks the distribution API. */
  async checkVersion(): Promise<void> {
    const response = await this.#request({ method: 'GET', url: this.#url('/v2/'), scopes: [] });
    const body = await readBody(response, 1024 * 1024);
    if (response.statusCode !== 200) throw errorFromResponse(`GET ${this.base.origin}/v2/`, response.statusCode ?? 0, body);
  }

  /**
   * An authenticated request outside the distribution API proper (registry extensions such
   * as /extensions/v2/<name>/signatures/<digest>, or /v2/ to read its headers), with the
   * token scopes it needs. The body is read up to `limit` bytes; the status is not judged.
   */
  async extensionRequest(
    method: string,
    path: string,
    scopes: readonly string[],
    options: { readonly body?: Buffer; readonly headers?: Readonly<Record<string, string>>; readonly limit?: number } = {},
  ): Promise<{ readonly status: number; readonly headers: IncomingMessage['headers']; readonly body: Buffer }> {
    const response = await this.#request({
      method,
      url: this.#url(path),
      scopes,
      ...(options.headers === undefined ? {} : { headers: options.headers }),
      ...(options.body === undefined ? {} : { body: options.body }),
    });
    const body = method === 'HEAD' ? (drain(response), Buffer.alloc(0)) : await readBody(response, options.limit ?? 4 * 1024 * 1024);
    return { status: response.statusCode ?? 0, headers: response.headers, body };
  }

  async getManifest(repo: string, reference: string, accept: readonly string[] = DEFAULT_MANIFEST_ACCEPT): Promise<ManifestResult> {
    const what = `manifest ${repo}:${reference}`;
    const response = await this.#request({ method: 'GET', url: this.#url(`/v2/${repo}/manifests/${reference}`), headers: { Accept: accept.join(', ') }, scopes: [pull(repo)] });
    const status = response.statusCode ?? 0;
    const bytes = await readBody(response, this.#options.maxManifestBytes ?? 4 * 1024 * 1024);
    if (status !== 200) throw errorFromResponse(`get ${what}`, status, bytes);
    const digest = verifyManifestDigest(what, reference, header(response, 'docker-content-digest'), bytes);
    return { mediaType: contentType(response) ?? mediaTypeOf(bytes) ?? 'application/octet-stream', digest, bytes };
  }

  /** The manifest's descriptor, or undefined when the registry does not have it. */
  async headManifest(repo: string, reference: string, accept: readonly string[] = DEFAULT_MANIFEST_ACCEPT): Promise<ManifestHead | undefined> {
    const what = `manifest ${repo}:${reference}`;
    const response = await this.#request({ method: 'HEAD', url: this.#url(`/v2/${repo}/manifests/${reference}`), headers: { Accept: accept.join(', ') }, scopes: [pull(repo)] });
    drain(response);
    const status = response.statusCode ?? 0;
    if (status === 404) return undefined;
    if (status !== 200) throw errorFromResponse(`head ${what}`, status, Buffer.alloc(0));
    const returned = header(response, 'docker-content-digest');
    const length = Number(header(response, 'content-length') ?? Number.NaN);
    if (returned === undefined || !isDigest(returned) || !Number.isSafeInteger(length)) {
      // Without a digest header HEAD cannot describe the manifest: read it.
      const full = await this.getManifest(repo, reference, accept);
      return { mediaType: full.mediaType, digest: full.digest, size: full.bytes.length };
    }
    if (isDigest(reference) && returned !== reference) throw new RegistryClientError('DIGEST_MISMATCH', `head ${what}: the registry answered digest ${returned}`, { status });
    return { mediaType: contentType(response) ?? 'application/octet-stream', digest: returned as Digest, size: length };
  }

  async putManifest(repo: string, reference: string, bytes: Buffer, mediaType: string): Promise<PutManifestResult> {
    const what = `manifest ${repo}:${reference}`;
    if (isDigest(reference)) {
      const computed = digestOf(bytes, parseDigest(reference).algorithm);
      if (computed !== reference) throw new RegistryClientError('DIGEST_INVALID', `put ${what}: the content hashes to ${computed}`);
    }
    const response = await this.#request({
      method: 'PUT',
      url: this.#url(`/v2/${repo}/manifests/${reference}`),
      headers: { 'Content-Type': mediaType },
      body: bytes,
      scopes: [push(repo)],
    });
    const status = response.statusCode ?? 0;
    const body = await readBody(response, 1024 * 1024);
    if (status !== 201) throw errorFromResponse(`put ${what}`, status, body);
    const returned = header(response, 'docker-content-digest');
    let digest = isDigest(reference) ? (reference as Digest) : digestOf(bytes);
    if (returned !== undefined && isDigest(returned)) {
      const computed = digestOf(bytes, parseDigest(returned).algorithm);
      if (computed !== returned) throw new RegistryClientError('DIGEST_MISMATCH', `put ${what}: the registry answered digest ${returned}, the content hashes to ${computed}`, { status });
      if (!isDigest(reference)) digest = returned as Digest;
    }
    return { digest, subject: header(response, 'oci-subject') };
  }

  async deleteManifest(repo: string, reference: string): Promise<void> {
    const response = await this.#request({ method: 'DELETE', url: this.#url(`/v2/${repo}/manifests/${reference}`), scopes: [repositoryScope(repo, ['delete'])] });
    const body = await readBody(response, 1024 * 1024);
    if (response.statusCode !== 202 && response.statusCode !== 200) throw errorFromResponse(`delete manifest ${repo}:${reference}`, response.statusCode ?? 0, body);
  }

  /** Every tag, following Link pagination. */
  async listTags(repo: string, options: { pageSize?: number } = {}): Promise<string[]> {
    const first = this.#url(`/v2/${repo}/tags/list`);
    if (options.pageSize !== undefined) first.searchParams.set('n', String(options.pageSize));
    const tags: string[] = [];
    for await (const page of this.#pages<{ tags?: string[] | null }>(`list tags of ${repo}`, first, [pull(repo)])) tags.push(...(page.tags ?? []));
    return tags;
  }

  /** Every repository name, following Link pagination. */
  async catalog(options: { pageSize?: number } = {}): Promise<string[]> {
    const first = this.#url('/v2/_catalog');
    if (options.pageSize !== undefined) first.searchParams.set('n', String(options.pageSize));
    const names: string[] = [];
    for await (const page of this.#pages<{ repositories?: string[] | null }>('catalog', first, ['registry:catalog:*'])) names.push(...(page.repositories ?? []));
    return names;
  }

  /** Manifests whose subject is `digest` (referrers API, or the `sha256-<hex>` tag schema when there is none). */
  async referrers(repo: string, digest: string, artifactType?: string): Promise<ReferrersResult> {
    const url = this.#url(`/v2/${repo}/referrers/${digest}`);
    if (artifactType !== undefined) url.searchParams.set('artifactType', artifactType);
    const what = `referrers of ${repo}@${digest}`;
    const manifests: Descriptor[] = [];
    let filtered = true;
    let next: URL | undefined = url;
    while (next !== undefined) {
      const response = await this.#request({ method: 'GET', url: next, headers: { Accept: MediaType.OciIndex }, scopes: [pull(repo)] });
      const status = response.statusCode ?? 0;
      const body = await readBody(response, this.#options.maxManifestBytes ?? 4 * 1024 * 1024);
      if (status === 404 && next === url && parseErrorEnvelope(body).every((entry) => entry.code !== 'NAME_UNKNOWN' && entry.code !== 'NAME_INVALID')) {
        return { manifests: filterType(await this.#referrersTag(repo, digest), artifactType), api: false };
      }
      if (status !== 200) throw errorFromResponse(what, status, body);
      manifests.push(...indexManifests(what, body));
      if (!(header(response, 'oci-filters-applied') ?? '').split(',').map((s) => s.trim()).includes('artifactType')) filtered = false;
      next = nextLink(header(response, 'link'), next);
    }
    return { manifests: filtered ? manifests : filterType(manifests, artifactType), api: true };
  }

  /** Whether the repository has the blob (HEAD). */
  async blobExists(repo: string, digest: string): Promise<boolean> {
    const response = await this.#request({ method: 'HEAD', url: this.#url(`/v2/${repo}/blobs/${digest}`), scopes: [pull(repo)] });
    drain(response);
    if (response.statusCode === 200) return true;
    if (response.statusCode === 404) return false;
    throw errorFromResponse(`head blob ${repo}@${digest}`, response.statusCode ?? 0, Buffer.alloc(0));
  }

  /** The blob's bytes, verified against `digest` as they stream; resumed with Range after a dropped connection. */
  async getBlob(repo: string, digest: string): Promise<VerifyingBlobReader> {
    parseDigest(digest);
    const url = this.#url(`/v2/${repo}/blobs/${digest}`);
    const what = `blob ${repo}@${digest}`;
    const response = await this.#request({ method: 'GET', url, scopes: [pull(repo)] });
    if (response.statusCode !== 200) throw errorFromResponse(`get ${what}`, response.statusCode ?? 0, await readBody(response, 1024 * 1024));
    return new VerifyingBlobReader({
      digest: digest as Digest,
      what,
      first: response,
      reopen: (offset) => this.#request({ method: 'GET', url, headers: { Range: `bytes=${offset}-` }, scopes: [pull(repo)] }),
      maxResumes: this.#options.maxResumes ?? 5,
      logger: this.#logger,
    });
  }

  /** Cross-repository mount: true when mounted (201); false when the registry opened an upload instead (202), which is cancelled. */
  async mountBlob(repo: string, digest: string, from: string): Promise<boolean> {
    parseDigest(digest);
    const url = this.#url(`/v2/${repo}/blobs/uploads/`);
    url.searchParams.set('mount', digest);
    url.searchParams.set('from', from);
    const what = `mount ${digest} from ${from} into ${repo}`;
    const scopes = [push(repo), pull(from)];
    const response = await this.#request({ method: 'POST', url, headers: { 'Content-Length': 0 }, body: Buffer.alloc(0), scopes, idempotent: true });
    const status = response.statusCode ?? 0;
    const body = await readBody(response, 1024 * 1024);
    if (status === 201) return true;
    if (status !== 202) throw errorFromResponse(what, status, body);
    const session = resolveLocation(response, url, what);
    const cancel = await this.#request({ method: 'DELETE', url: session, scopes });
    drain(cancel);
    return false;
  }

  /** Uploads a blob: one PUT up to the monolithic limit, chunked PATCHes above it. `source` is called for a fresh stream of the bytes. */
  async pushBlob(repo: string, digest: string, size: number, source: () => Readable, options: PushOptions = {}): Promise<PushResult> {
    parseDigest(digest);
    return pushBlob(this.#uploadContext(repo), digest as Digest, size, source, { ...this.#options.upload, ...options });
  }

  /** Opens an upload session and returns its location (for callers driving uploads themselves). */
  async startUpload(repo: string): Promise<URL> {
    return startUpload(this.#uploadContext(repo), `upload to ${repo}`);
  }

  #uploadContext(repo: string) {
    const scopes = [push(repo)];
    return {
      base: this.base,
      repo,
      logger: this.#logger,
      send: (request: UploadRequest) => this.#request({ ...request, scopes }),
    };
  }

  async #referrersTag(repo: string, digest: string): Promise<Descriptor[]> {
    const { algorithm, hex } = parseDigest(digest);
    try {
      const index = await this.getManifest(repo, `${algorithm}-${hex}`, [MediaType.OciIndex]);
      return indexManifests(`referrers tag of ${repo}@${digest}`, index.bytes);
    } catch (error) {
      if (error instanceof RegistryClientError && (error.code === 'MANIFEST_UNKNOWN' || error.status === 404)) return [];
      throw error;
    }
  }

  async *#pages<T>(what: string, first: URL, scopes: readonly string[]): AsyncGenerator<T> {
    let next: URL | undefined = first;
    for (let page = 0; next !== undefined; page++) {
      if (page > 100_000) throw new RegistryClientError('PROTOCOL', `${what}: too many pages`);
      const response = await this.#request({ method: 'GET', url: next, scopes });
      const status = response.statusCode ?? 0;
      const body = await readBody(response, 64 * 1024 * 1024);
      if (status !== 200) throw errorFromResponse(what, status, body);
      try {
        yield JSON.parse(body.toString('utf8')) as T;
      } catch (error) {
        if (error instanceof SyntaxError) throw new RegistryClientError('PROTOCOL', `${what}: invalid JSON`, { status });
        throw error;
      }
      next = nextLink(header(response, 'link'), next);
    }
  }

  #url(path: string): URL {
    return new URL(path, this.base);
  }

  /** An authenticated request with retries. */
  #request(request: ClientRequest): Promise<IncomingMessage> {
    if (this.#writes.size === 0) return this.#exchange(request, true);
    const scopes = request.scopes.map((scope) => {
      const repo = /^repository:(.+):pull$/.exec(scope)?.[1];
      return repo !== undefined && this.#writes.has(repo) ? push(repo) : scope;
    });
    return this.#exchange({ ...request, scopes }, true);
  }

  async #exchange(request: ClientRequest, authenticate: boolean): Promise<IncomingMessage> {
    const idempotent = request.idempotent ?? ['GET', 'HEAD', 'PUT', 'DELETE'].includes(request.method);
    let scopes = request.scopes;
    let challenged = false;
    for (let attempt = 1; ; attempt++) {
      const authorization = authenticate ? await this.#auth.authorization(scopes) : request.authorization;
      const outgoing: HttpRequest = {
        method: request.method,
        url: request.url,
        ...(request.headers === undefined ? {} : { headers: request.headers }),
        ...(request.body === undefined ? {} : { body: request.body }),
        ...(authorization === undefined ? {} : { authorization }),
      };
      let response: IncomingMessage;
      try {
        response = await this.#transport.send(outgoing);
      } catch (error) {
        if (idempotent && isRetryableNetworkError(error) && attempt < this.#policy.attempts) {
          const delay = backoffDelay(this.#policy, attempt);
          this.#logger.warn('registry request failed, retrying', { method: request.method, path: request.url.pathname, error: (error as Error).message, attempt, delayMs: delay });
          await sleep(delay);
          continue;
        }
        if (error instanceof RegistryClientError) throw error;
        throw new RegistryClientError('NETWORK', (error as Error).message, { cause: error });
      }
      const status = response.statusCode ?? 0;
      this.#logger.debug('registry request', { method: request.method, path: request.url.pathname, status, attempt });
      if (authenticate && status === 401) {
        const basicRefused = authorization?.startsWith('Basic ') ?? false;
        if (!challenged && !basicRefused) {
          challenged = true;
          scopes = await this.#auth.unauthorized(response, scopes, authorization);
          drain(response);
          attempt--;
          continue;
        }
        throw await this.#auth.refused(`${request.method} ${request.url.pathname}`, status, await readBody(response, 1024 * 1024));
      }
      if (RETRYABLE_STATUSES.has(status) && idempotent && attempt < this.#policy.attempts) {
        const delay = backoffDelay(this.#policy, attempt, parseRetryAfter(header(response, 'retry-after')));
        this.#logger.warn('registry busy, retrying', { method: request.method, path: request.url.pathname, status, attempt, delayMs: delay });
        drain(response);
        await sleep(delay);
        continue;
      }
      return response;
    }
  }
}

function pull(repo: string): string {
  return repositoryScope(repo, ['pull']);
}

function push(repo: string): string {
  return repositoryScope(repo, ['pull', 'push']);
}

function contentType(response: IncomingMessage): string | undefined {
  const value = header(response, 'content-type');
  return value === undefined || value === '' ? undefined : value.split(';')[0]!.trim();
}

function mediaTypeOf(bytes: Buffer): string | undefined {
  try {
    return readManifestJson(bytes).mediaType;
  } catch {
    return undefined;
  }
}

/** The manifest's digest, checked against a digest reference and the Docker-Content-Digest header. */
function verifyManifestDigest(what: string, reference: string, returned: string | undefined, bytes: Buffer): Digest {
  if (isDigest(reference)) {
    const computed = digestOf(bytes, parseDigest(reference).algorithm);
    if (computed !== reference) throw new RegistryClientError('DIGEST_MISMATCH', `get ${what}: digest mismatch: the content hashes to ${computed}`);
  }
  if (returned !== undefined && isDigest(returned)) {
    const computed = digestOf(bytes, parseDigest(returned).algorithm);
    if (computed !== returned) throw new RegistryClientError('DIGEST_MISMATCH', `get ${what}: digest mismatch: Docker-Content-Digest says ${returned}, the content hashes to ${computed}`);
  }
  return isDigest(reference) ? (reference as Digest) : returned !== undefined && isDigest(returned) ? (returned as Digest) : digestOf(bytes);
}

function indexManifests(what: string, body: Buffer): Descriptor[] {
  try {
    // Entries are the registry's to get right; the referrers API passes them on as they are.
    return [...indexEntries(readManifestJson(body))] as unknown as Descriptor[];
  } catch {
    throw new RegistryClientError('PROTOCOL', `${what}: invalid JSON index`);
  }
}

function filterType(manifests: readonly Descriptor[], artifactType: string | undefined): Descriptor[] {
  return artifactType === undefined ? [...manifests] : manifests.filter((entry) => entry.artifactType === artifactType);
}
