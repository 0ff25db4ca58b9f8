// The OCI Distribution API against a real `custody serve`.
//
// Part 1 mirrors, spec by spec, the OCI distribution-spec v1.1.1 conformance suite
// (conformance/01_pull_test.go, 02_push_test.go, 03_discovery_test.go,
// 04_management_test.go with setup.go's fixtures), run the way it is run for Custody:
// all four workflows, OCI_AUTOMATIC_CROSSMOUNT=1, OCI_DELETE_MANIFEST_BEFORE_BLOBS
// unset (true). Each test is named after the suite's spec; specs the suite does not run
// in that configuration are left out (automatic mount off is covered in part 2). The whole flow runs
// on SQLite and on PostgreSQL, and once more (SQLite) with the suite's other teardown
// order, OCI_DELETE_MANIFEST_BEFORE_BLOBS=0.
//
// Part 2 covers what the suite does not: ranges, conditional requests, Docker media
// types, limits, malformed input in every position, pagination, deletions, referrers
// of deleted manifests, uploads surviving a restart, mounts that cannot happen.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startCustody, type CustodyServer } from './support/custody-server.ts';
import { createTestDatabase, type TestDatabase } from './support/postgres.ts';
import { OciClient, sha256, type OciResponse } from './support/oci-client.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
const DOCKER_SCHEMA1_SIGNED = 'application/vnd.docker.distribution.manifest.v1+prettyjws';
const EMPTY_JSON_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';
const FOUR_MIB = 4 * 1024 * 1024;

/** The error codes the suite accepts in an error envelope (setup.go's errorCodes). */
const SUITE_ERROR_CODES = [
  'BLOB_UNKNOWN', 'BLOB_UPLOAD_INVALID', 'BLOB_UPLOAD_UNKNOWN', 'DIGEST_INVALID', 'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID', 'MANIFEST_UNKNOWN', 'MANIFEST_UNVERIFIED', 'NAME_INVALID', 'NAME_UNKNOWN', 'SIZE_INVALID',
  'TAG_INVALID', 'UNAUTHORIZED', 'DENIED', 'UNSUPPORTED',
];

// ---- fixtures (the shapes setup.go builds; fresh random content per run) --------------

interface TestBlob {
  readonly content: Buffer;
  readonly length: string;
  readonly digest: string;
}

function testBlob(content: Buffer | string): TestBlob {
  const bytes = Buffer.isBuffer(content) ? content : Buffer.from(content);
  return { content: bytes, length: String(bytes.length), digest: sha256(bytes) };
}

/** JSON the way the suite's Go code marshals it (tab-indented). */
function goJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value, null, '\t'));
}

function randomString(length: number): string {
  const letters = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-';
  let out = '';
  for (let i = 0; i < length; i++) out += letters[randomInt(letters.length)];
  return out;
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  [key: string]: unknown;
}

/** A descriptor as the suite serializes it: with the never-specified field it adds. */
function descriptorOf(mediaType: string, blob: TestBlob, extra: Record<string, unknown> = {}): Descriptor {
  return { mediaType, digest: blob.digest, size: blob.content.length, ...extra, newUnspecifiedField: null };
}

interface ChunkedBlob {
  blob: TestBlob;
  chunk1: Buffer;
  chunk1Length: string;
  chunk1Range: string;
  chunk2: Buffer;
  chunk2Length: string;
  chunk2Range: string;
}

function chunkedBlob(size: number): ChunkedBlob {
  const blob = testBlob(randomBytes(size));
  const split = Math.floor(size / 2) + 1;
  const chunk1 = blob.content.subarray(0, split);
  const chunk2 = blob.content.subarray(split);
  return {
    blob,
    chunk1,
    chunk1Length: String(chunk1.length),
    chunk1Range: `0-${chunk1.length - 1}`,
    chunk2,
    chunk2Length: String(chunk2.length),
    chunk2Range: `${chunk1.length}-${blob.content.length - 1}`,
  };
}

function makeFixtures() {
  // One config and one manifest per workflow, each unique through a random author.
  const configs = Array.from({ length: 5 }, () =>
    testBlob(goJson({ author: randomString(16), architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } })),
  );
  const layer = testBlob(gzipSync(Buffer.from('a small layer for the custody conformance run\n')));
  const layerDescriptor = descriptorOf(OCI_LAYER_GZIP, layer);
  // The config descriptor carries its content in `data`, and a non-null unknown field.
  const configDescriptor = (config: TestBlob): Descriptor => ({
    ...descriptorOf(OCI_CONFIG, config, { data: config.content.toString('base64') }),
    newUnspecifiedField: Buffer.from('hello world').toString('base64'),
  });
  const manifests = configs.map((config) =>
    testBlob(goJson({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: configDescriptor(config), layers: [layerDescriptor] })),
  );
  const at = <T>(list: readonly T[], i: number): T => list[i]!;
  // No mediaType field: the registry must tell it is an OCI manifest from the header.
  const emptyLayerManifest = testBlob(goJson({ schemaVersion: 2, config: configDescriptor(at(configs, 1)), layers: [] }));

  const emptyJson = testBlob('{}');
  const emptyJsonDescriptor = descriptorOf(OCI_EMPTY, emptyJson);
  const refBlobA = testBlob('reference blob A: pushed before its subject');
  const refBlobB = testBlob('reference blob B: pushed after its subject');
  const artifactTypeA = 'application/vnd.custody.conformance.a';
  const artifactTypeB = 'application/vnd.custody.conformance.b';
  const artifactTypeIndex = 'application/vnd.custody.conformance.index';
  const annotationKey = 'org.opencontainers.conformance.test';
  const subjectOf = (manifest: TestBlob): Descriptor => descriptorOf(OCI_MANIFEST, manifest);

  const refsManifestAConfigArtifact = testBlob(goJson({
    schemaVersion: 2, mediaType: OCI_MANIFEST,
    config: descriptorOf(artifactTypeA, refBlobA), layers: [emptyJsonDescriptor],
    subject: subjectOf(at(manifests, 4)), annotations: { [annotationKey]: 'test config a' },
  }));
  const refsManifestBConfigArtifact = testBlob(goJson({
    schemaVersion: 2, mediaType: OCI_MANIFEST,
    config: descriptorOf(artifactTypeB, refBlobB), layers: [emptyJsonDescriptor],
    subject: subjectOf(at(manifests, 4)), annotations: { [annotationKey]: 'test config b' },
  }));
  const refsManifestALayerArtifact = testBlob(goJson({
    schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: artifactTypeA,
    config: emptyJsonDescriptor, layers: [descriptorOf(artifactTypeA, refBlobA)],
    subject: subjectOf(at(manifests, 4)), annotations: { [annotationKey]: 'test layer a' },
  }));
  const refsManifestBLayerArtifact = testBlob(goJson({
    schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: artifactTypeB,
    config: emptyJsonDescriptor, layers: [descriptorOf(artifactTypeB, refBlobB)],
    subject: subjectOf(at(manifests, 4)), annotations: { [annotationKey]: 'test layer b' },
  }));
  // Like B's layer artifact, but its subject (manifests[3]) is never pushed in discovery.
  const refsManifestCLayerArtifact = testBlob(goJson({
    schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: artifactTypeB,
    config: emptyJsonDescriptor, layers: [descriptorOf(artifactTypeB, refBlobB)],
    subject: subjectOf(at(manifests, 3)),
  }));
  const refsIndexArtifact = testBlob(goJson({
    schemaVersion: 2, mediaType: OCI_INDEX, artifactType: artifactTypeIndex,
    manifests: [descriptorOf(OCI_MANIFEST, refsManifestAConfigArtifact), descriptorOf(OCI_MANIFEST, refsManifestALayerArtifact)],
    subject: subjectOf(at(manifests, 4)), annotations: { [annotationKey]: 'test index' },
  }));
  const annotationValues = new Map<string, string>([
    [refsManifestAConfigArtifact.digest, 'test config a'],
    [refsManifestBConfigArtifact.digest, 'test config b'],
    [refsManifestALayerArtifact.digest, 'test layer a'],
    [refsManifestBLayerArtifact.digest, 'test layer b'],
    [refsIndexArtifact.digest, 'test index'],
  ]);

  return {
    configs,
    manifests,
    config: (i: number) => at(configs, i),
    manifest: (i: number) => at(manifests, i),
    layer,
    emptyLayerManifest,
    testBlobA: testBlob(randomBytes(42)),
    chunked: chunkedBlob(42),
    emptyJson,
    emptyJsonDescriptor,
    refBlobA,
    refBlobB,
    artifactTypeA,
    artifactTypeB,
    artifactTypeIndex,
    annotationKey,
    annotationValues,
    refsManifestAConfigArtifact,
    refsManifestBConfigArtifact,
    refsManifestALayerArtifact,
    refsManifestBLayerArtifact,
    refsManifestCLayerArtifact,
    refsIndexArtifact,
    dummyDigest: sha256('hello world'),
    nonexistentManifest: '.INVALID_MANIFEST_NAME',
    invalidManifestContent: Buffer.from('blablabla'),
  };
}

// ---- assertions --------------------------------------------------------------------

function assert2xx(response: OciResponse, what = ''): void {
  assert.ok(response.status >= 200 && response.status < 300, `${what} expected 2xx, got ${response.status}: ${response.text().slice(0, 300)}`);
}

function assertStatusIn(response: OciResponse, accepted: readonly (number | '2xx')[], what = ''): void {
  const ok = accepted.some((entry) => (entry === '2xx' ? response.status >= 200 && response.status < 300 : response.status === entry));
  assert.ok(ok, `${what} expected one of ${accepted.join('/')}, got ${response.status}: ${response.text().slice(0, 300)}`);
}

function assertError(response: OciResponse, status: number, code: string): void {
  assert.equal(response.status, status, `expected ${status} ${code}, got ${response.status}: ${response.text().slice(0, 300)}`);
  const errors = response.errors();
  assert.ok(errors.length > 0, 'error envelope is empty');
  assert.equal(errors[0]!.code, code, `expected ${code}: ${response.text().slice(0, 300)}`);
  assert.equal(response.header('content-type'), 'application/json');
}

/**
 * One HTTP/1.1 request with node:http, for what fetch will not send: a GET with a body,
 * or a body in several pieces with Transfer-Encoding: chunked (no Content-Length).
 */
function rawRequest(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: Buffer | Buffer[],
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const framing = Array.isArray(body) ? {} : { 'Content-Length': String(body.length) };
    const request = httpRequest(url, { method, headers: { ...headers, ...framing } }, (response) => {
      const parts: Buffer[] = [];
      response.on('data', (chunk: Buffer) => parts.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(parts) }));
      response.on('error', reject);
    });
    request.on('error', reject);
    if (Array.isArray(body)) {
      for (const piece of body) request.write(piece);
      request.end();
    } else {
      request.end(body);
    }
  });
}

/** Every request the server logged with a 5xx status or as a failure (with its access log line). */
function serverFailures(server: CustodyServer): string[] {
  const entries = server.logs.flatMap((line) => {
    try {
      return [JSON.parse(line) as { level?: string; status?: number; requestId?: string; msg?: string; method?: string; path?: string; error?: { message?: string } }];
    } catch {
      return [];
    }
  });
  return entries
    .filter((entry) => entry.level === 'error' || (typeof entry.status === 'number' && entry.status >= 500))
    .map((entry) => {
      const access = entries.find((other) => other.requestId === entry.requestId && other.msg === 'request');
      return `${entry.msg}: ${entry.error?.message ?? entry.status} (${access?.method} ${access?.path} -> ${access?.status})`;
    });
}

interface ReferrersIndex {
  schemaVersion: number;
  mediaType: string;
  manifests: Array<{ mediaType: string; digest: string; size: number; artifactType?: string; annotations?: Record<string, string> }>;
}

// ---- Part 1: the conformance suite ---------------------------------------------------

interface SuiteOptions {
  /** OCI_DELETE_MANIFEST_BEFORE_BLOBS (the suite's default is true). */
  readonly deleteManifestBeforeBlobs: boolean;
  /**
   * Serve through a decorated registry: a pull-through cache configured for a namespace
   * the suite never uses wraps the core (a RegistryDecorator), as in production.
   */
  readonly decorated?: boolean;
}

function conformanceSuite(backend: 'SQLite' | 'PostgreSQL', { deleteManifestBeforeBlobs, decorated = false }: SuiteOptions): void {
  const variant = (deleteManifestBeforeBlobs ? '' : ', OCI_DELETE_MANIFEST_BEFORE_BLOBS=0') + (decorated ? ', through a RegistryDecorator' : '');
  describe(`OCI distribution-spec v1.1.1 conformance (${backend}${variant})`, () => {
    const fx = makeFixtures();
    const name = 'conformance/custody-test';
    const crossmountNamespace = `conformance-${randomUUID()}`;
    const testTagName = 'tagtest0';
    const emptyLayerTestTag = 'emptylayer';
    const automaticCrossmountEnabled = true;
    let server: CustodyServer | undefined;
    let database: TestDatabase | undefined;
    let client: OciClient;

    before(async () => {
      if (backend === 'PostgreSQL') database = await createTestDatabase();
      server = await startCustody({
        args: [
          ...(database ? ['--database-url', database.url] : []),
          '--uploads-automatic-mount',
          'true',
          ...(decorated ? ['--proxy-upstream', 'elsewhere=http://127.0.0.1:9'] : []),
        ],
      });
      client = new OciClient(server.url);
    });
    after(async () => {
      await server?.dispose();
      await database?.drop();
    });

    const blobPath = (digest: string, repository = name): string => `/v2/${repository}/blobs/${digest}`;
    const manifestPath = (reference: string): string => `/v2/${name}/manifests/${reference}`;
    const uploadsPath = (repository = name): string => `/v2/${repository}/blobs/uploads/`;
    const deleteStatuses = ['2xx', 405] as const;
    const deleteStatusesOr404 = ['2xx', 404, 405] as const;

    describe('Pull', () => {
      let tag = '';

      describe('Setup', () => {
        it('Populate registry with test blob (configs[0])', async () => {
          assert2xx(await client.pushBlob(name, fx.config(0).content));
        });
        it('Populate registry with test blob (configs[1])', async () => {
          assert2xx(await client.pushBlob(name, fx.config(1).content));
        });
        it('Populate registry with test layer', async () => {
          assert2xx(await client.pushBlob(name, fx.layer.content));
        });
        it('Populate registry with test manifest (manifests[0] by tag)', async () => {
          tag = testTagName;
          assert2xx(await client.pushManifest(name, tag, fx.manifest(0).content, OCI_MANIFEST));
        });
        it('Populate registry with test manifest (manifests[1] by digest)', async () => {
          assert2xx(await client.pushManifest(name, fx.manifest(1).digest, fx.manifest(1).content, OCI_MANIFEST));
        });
      });

      describe('Pull blobs', () => {
        it('HEAD request to nonexistent blob should result in 404 response', async () => {
          const response = await client.request('HEAD', blobPath(fx.dummyDigest));
          assert.equal(response.status, 404);
        });
        it('HEAD request to existing blob should yield 200', async () => {
          const response = await client.request('HEAD', blobPath(fx.config(0).digest));
          assert.equal(response.status, 200);
          const digest = response.header('docker-content-digest');
          if (digest) assert.equal(digest, fx.config(0).digest);
        });
        it('GET nonexistent blob should result in 404 response', async () => {
          const response = await client.request('GET', blobPath(fx.dummyDigest));
          assert.equal(response.status, 404);
        });
        it('GET request to existing blob URL should yield 200', async () => {
          const response = await client.request('GET', blobPath(fx.config(0).digest));
          assert.equal(response.status, 200);
          assert.deepEqual(response.body, fx.config(0).content);
        });
      });

      describe('Pull manifests', () => {
        const accept = { Accept: OCI_MANIFEST };
        it('HEAD request to nonexistent manifest should return 404', async () => {
          const response = await client.request('HEAD', manifestPath(fx.nonexistentManifest));
          assert.equal(response.status, 404);
        });
        it('HEAD request to manifest[0] path (digest) should yield 200 response', async () => {
          const response = await client.request('HEAD', manifestPath(fx.manifest(0).digest), { headers: accept });
          assert.equal(response.status, 200);
          const digest = response.header('docker-content-digest');
          if (digest) assert.equal(digest, fx.manifest(0).digest);
        });
        it('HEAD request to manifest[1] path (digest) should yield 200 response', async () => {
          const response = await client.request('HEAD', manifestPath(fx.manifest(1).digest), { headers: accept });
          assert.equal(response.status, 200);
          const digest = response.header('docker-content-digest');
          if (digest) assert.equal(digest, fx.manifest(1).digest);
        });
        it('HEAD request to manifest path (tag) should yield 200 response', async () => {
          assert.notEqual(tag, '');
          const response = await client.request('HEAD', manifestPath(tag), { headers: accept });
          assert.equal(response.status, 200);
          const digest = response.header('docker-content-digest');
          if (digest) assert.equal(digest, fx.manifest(0).digest);
        });
        it('GET nonexistent manifest should return 404', async () => {
          const response = await client.request('GET', manifestPath(fx.nonexistentManifest));
          assert.equal(response.status, 404);
        });
        it('GET request to manifest[0] path (digest) should yield 200 response', async () => {
          const response = await client.request('GET', manifestPath(fx.manifest(0).digest), { headers: accept });
          assert.equal(response.status, 200);
          assert.deepEqual(response.body, fx.manifest(0).content, 'the manifest comes back byte for byte');
        });
        it('GET request to manifest[1] path (digest) should yield 200 response', async () => {
          const response = await client.request('GET', manifestPath(fx.manifest(1).digest), { headers: accept });
          assert.equal(response.status, 200);
        });
        it('GET request to manifest path (tag) should yield 200 response', async () => {
          assert.notEqual(tag, '');
          const response = await client.request('GET', manifestPath(tag), { headers: accept });
          assert.equal(response.status, 200);
        });
      });

      describe('Error codes', () => {
        it('400 response body should contain OCI-conforming JSON message', async () => {
          // Like the suite, a GET that carries a body (fetch cannot send one: node:http).
          const response = await rawRequest(`${server!.url}${manifestPath('sha256:totallywrong')}`, 'GET', { 'Content-Type': OCI_MANIFEST }, fx.invalidManifestContent);
          assert.ok(response.status === 400 || response.status === 404, `got ${response.status}`);
          if (response.status === 400) {
            const errors = (JSON.parse(response.body.toString()) as { errors: Array<{ code: string }> }).errors;
            assert.ok(errors.length > 0);
            assert.ok(SUITE_ERROR_CODES.includes(errors[0]!.code), `unexpected code ${errors[0]!.code}`);
          }
        });
      });

      describe('Teardown', () => {
        const deleteManifests = (): void => {
          it('Delete manifest[0] created in setup', async () => {
            assertStatusIn(await client.request('DELETE', manifestPath(fx.manifest(0).digest)), deleteStatuses);
          });
          it('Delete manifest[1] created in setup', async () => {
            assertStatusIn(await client.request('DELETE', manifestPath(fx.manifest(1).digest)), deleteStatuses);
          });
        };
        if (deleteManifestBeforeBlobs) deleteManifests();
        it('Delete config[0] blob created in setup', async () => {
          assertStatusIn(await client.request('DELETE', blobPath(fx.config(0).digest)), deleteStatusesOr404);
        });
        it('Delete config[1] blob created in setup', async () => {
          assertStatusIn(await client.request('DELETE', blobPath(fx.config(1).digest)), deleteStatusesOr404);
        });
        it('Delete layer blob created in setup', async () => {
          assertStatusIn(await client.request('DELETE', blobPath(fx.layer.digest)), deleteStatusesOr404);
        });
        if (!deleteManifestBeforeBlobs) deleteManifests();
      });
    });

    describe('Push', () => {
      let lastResponse: OciResponse | undefined;
      let prevResponse: OciResponse | undefined;
      let emptyLayerManifestRef = '';
      let chunked = fx.chunked;

      describe('Blob Upload Streamed', () => {
        it('PATCH request with blob in body should yield 202 response', async () => {
          const started = await client.request('POST', uploadsPath());
          assert.ok(started.header('location'), 'POST answers a Location');
          const response = await client.request('PATCH', started.location(), {
            headers: { 'Content-Type': 'application/octet-stream' },
            body: fx.testBlobA.content,
          });
          assert.equal(response.status, 202);
          lastResponse = response;
        });
        it('PUT request to session URL with digest should yield 201 response', async () => {
          assert.ok(lastResponse);
          const response = await client.request('PUT', lastResponse.location(), {
            query: { digest: fx.testBlobA.digest },
            headers: { 'Content-Type': 'application/octet-stream' },
          });
          assert.equal(response.status, 201);
          assert.ok(response.header('location'));
        });
      });

      describe('Blob Upload Monolithic', () => {
        it('GET nonexistent blob should result in 404 response', async () => {
          assert.equal((await client.request('GET', blobPath(fx.dummyDigest))).status, 404);
        });
        it('POST request with digest and blob should yield a 201 or 202', async () => {
          const response = await client.request('POST', uploadsPath(), {
            query: { digest: fx.config(1).digest },
            headers: { 'Content-Type': 'application/octet-stream' },
            body: fx.config(1).content,
          });
          assert.ok(response.header('location'));
          assertStatusIn(response, [201, 202]);
          lastResponse = response;
        });
        it('GET request to blob URL from prior request should yield 200 or 404 based on response code', async () => {
          assert.ok(lastResponse);
          const response = await client.request('GET', blobPath(fx.config(1).digest));
          assert.equal(response.status, lastResponse.status === 202 ? 404 : 200);
        });
        it('POST request should yield a session ID', async () => {
          const response = await client.request('POST', uploadsPath());
          assert.equal(response.status, 202);
          lastResponse = response;
        });
        it('PUT upload of a blob should yield a 201 Response', async () => {
          assert.ok(lastResponse);
          const response = await client.request('PUT', lastResponse.location(), {
            query: { digest: fx.config(1).digest },
            headers: { 'Content-Type': 'application/octet-stream' },
            body: fx.config(1).content,
          });
          assert.ok(response.header('location'));
          assert.equal(response.status, 201);
        });
        it('GET request to existing blob should yield 200 response', async () => {
          assert.equal((await client.request('GET', blobPath(fx.config(1).digest))).status, 200);
        });
        it('PUT upload of a layer blob should yield a 201 Response', async () => {
          const response = await client.pushBlob(name, fx.layer.content);
          assert.ok(response.header('location'));
          assert.equal(response.status, 201);
        });
        it('GET request to existing layer should yield 200 response', async () => {
          assert.equal((await client.request('GET', blobPath(fx.layer.digest))).status, 200);
        });
      });

      describe('Blob Upload Chunked', () => {
        it('Out-of-order blob upload should return 416', async () => {
          const started = await client.request('POST', uploadsPath(), { body: '' });
          assert.ok(started.header('location'));
          const minimum = started.header('oci-chunk-min-length');
          if (minimum !== null && Number(minimum) > chunked.chunk1.length) chunked = chunkedBlob(Number(minimum) * 2 - 2);
          const response = await client.request('PATCH', started.location(), {
            headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': chunked.chunk2Range },
            body: chunked.chunk2,
          });
          assert.equal(response.status, 416);
        });
        it('PATCH request with first chunk should return 202', async () => {
          const started = await client.request('POST', uploadsPath(), { body: '' });
          assert.ok(started.header('location'));
          prevResponse = started;
          const response = await client.request('PATCH', started.location(), {
            headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': chunked.chunk1Range },
            body: chunked.chunk1,
          });
          assert.equal(response.status, 202);
          assert.equal(response.header('range'), chunked.chunk1Range);
          lastResponse = response;
        });
        it('Retry previous blob chunk should return 416', async () => {
          assert.ok(prevResponse);
          const response = await client.request('PATCH', prevResponse.location(), {
            headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': chunked.chunk1Range },
            body: chunked.chunk1,
          });
          assert.equal(response.status, 416);
        });
        it('Get on stale blob upload should return 204 with a range and location', async () => {
          assert.ok(prevResponse);
          const response = await client.request('GET', prevResponse.location());
          assert.equal(response.status, 204);
          assert.ok(response.header('location'));
          assert.equal(response.header('range'), chunked.chunk1Range);
          lastResponse = response;
        });
        it('PATCH request with second chunk should return 202', async () => {
          assert.ok(lastResponse);
          const response = await client.request('PATCH', lastResponse.location(), {
            headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': chunked.chunk2Range },
            body: chunked.chunk2,
          });
          assert.equal(response.status, 202);
          assert.ok(response.header('location'));
          // Newer revisions of the suite also check the Range after the second chunk.
          assert.equal(response.header('range'), `0-${chunked.blob.content.length - 1}`);
          lastResponse = response;
        });
        it('PUT request with digest should return 201', async () => {
          assert.ok(lastResponse);
          const response = await client.request('PUT', lastResponse.location(), {
            query: { digest: chunked.blob.digest },
            headers: { 'Content-Type': 'application/octet-stream' },
            body: '',
          });
          assert.equal(response.status, 201);
          assert.ok(response.header('location'));
          const read = await client.request('GET', blobPath(chunked.blob.digest));
          assert.deepEqual(read.body, chunked.blob.content, 'the chunks were assembled in order');
        });
      });

      describe('Cross-Repository Blob Mount', () => {
        it('Cross-mounting of a blob without the from argument should yield session id', async () => {
          const response = await client.request('POST', uploadsPath(crossmountNamespace), { query: { mount: fx.dummyDigest } });
          assert.equal(response.status, 202);
          assert.ok(response.header('location'));
        });
        it("POST request to mount another repository's blob should return 201 or 202", async () => {
          const response = await client.request('POST', uploadsPath(crossmountNamespace), {
            query: { mount: fx.testBlobA.digest, from: name },
          });
          assertStatusIn(response, [201, 202]);
          // Custody mounts what the source repository links: the suite's 201 branch.
          assert.equal(response.status, 201);
          lastResponse = response;
        });
        it('GET request to test digest within cross-mount namespace should return 200', async (t) => {
          assert.ok(lastResponse);
          assert.equal(lastResponse.status, 201);
          assert.equal(lastResponse.location(), `/v2/${crossmountNamespace}/blobs/${fx.testBlobA.digest}`);
          const response = await client.request('GET', lastResponse.location());
          assert.equal(response.status, 200);
          assert.deepEqual(response.body, fx.testBlobA.content);
        });
        it('Cross-mounting without from, and automatic content discovery enabled should return a 201', async (t) => {
          assert.ok(lastResponse);
          assert.equal(lastResponse.status, 201);
          const response = await client.request('POST', uploadsPath(crossmountNamespace), { query: { mount: fx.testBlobA.digest } });
          assert.equal(response.status, 201);
        });
      });

      describe('Manifest Upload', () => {
        it('GET nonexistent manifest should return 404', async () => {
          assert.equal((await client.request('GET', manifestPath(fx.nonexistentManifest))).status, 404);
        });
        it('PUT should accept a manifest upload', async () => {
          for (let i = 0; i < 4; i++) {
            const response = await client.pushManifest(name, `test${i}`, fx.manifest(1).content, OCI_MANIFEST);
            assert.ok(response.header('location'));
            assert.equal(response.status, 201);
          }
        });
        it('Registry should accept a manifest upload with no layers', async () => {
          const response = await client.pushManifest(name, emptyLayerTestTag, fx.emptyLayerManifest.content, OCI_MANIFEST);
          // The suite only warns when this is refused; Custody must accept it.
          assert.equal(response.status, 201);
          emptyLayerManifestRef = response.location();
          assert.ok(emptyLayerManifestRef);
        });
        it('GET request to manifest URL (digest) should yield 200 response', async () => {
          const response = await client.request('GET', manifestPath(fx.manifest(1).digest), { headers: { Accept: OCI_MANIFEST } });
          assert.equal(response.status, 200);
        });
      });

      describe('Teardown', () => {
        const deleteManifest = (): void => {
          it('Delete manifest created in tests', async () => {
            assertStatusIn(await client.request('DELETE', manifestPath(fx.manifest(1).digest)), deleteStatuses);
            if (emptyLayerManifestRef !== '') {
              assertStatusIn(await client.request('DELETE', manifestPath(fx.emptyLayerManifest.digest)), deleteStatuses);
            }
          });
        };
        if (deleteManifestBeforeBlobs) deleteManifest();
        it('Delete config blob created in tests', async () => {
          assertStatusIn(await client.request('DELETE', blobPath(fx.config(1).digest)), deleteStatusesOr404);
        });
        it('Delete layer blob created in setup', async () => {
          assertStatusIn(await client.request('DELETE', blobPath(fx.layer.digest)), deleteStatusesOr404);
        });
        if (!deleteManifestBeforeBlobs) deleteManifest();
      });
    });

    describe('Content Discovery', () => {
      let numTags = 4;
      let tagList: string[] = [];
      const tagsOf = (response: OciResponse): string[] => {
        try {
          return response.json<{ tags?: string[] | null }>().tags ?? [];
        } catch {
          return [];
        }
      };

      describe('Setup', () => {
        it('Populate registry with test blob', async () => {
          assert2xx(await client.pushBlob(name, fx.config(2).content));
        });
        it('Populate registry with test layer', async () => {
          assert2xx(await client.pushBlob(name, fx.layer.content));
        });
        it('Populate registry with test tags', async () => {
          for (let i = 0; i < numTags; i++) {
            assert2xx(await client.pushManifest(name, `test${i}`, fx.manifest(2).content, OCI_MANIFEST));
          }
          tagList = tagsOf(await client.request('GET', `/v2/${name}/tags/list`));
        });
        it('References setup', async () => {
          assert.equal(fx.emptyJson.digest, EMPTY_JSON_DIGEST);
          assert2xx(await client.pushBlob(name, fx.emptyJson.content), 'empty JSON blob');
          assert2xx(await client.pushBlob(name, fx.refBlobA.content), 'reference blob A');
          const pushReferrer = async (manifest: TestBlob, mediaType: string, subject: TestBlob): Promise<void> => {
            const response = await client.pushManifest(name, manifest.digest, manifest.content, mediaType);
            assert2xx(response, `referrer ${manifest.digest}`);
            assert.equal(response.header('oci-subject'), subject.digest);
          };
          await pushReferrer(fx.refsManifestAConfigArtifact, OCI_MANIFEST, fx.manifest(4));
          await pushReferrer(fx.refsManifestALayerArtifact, OCI_MANIFEST, fx.manifest(4));
          await pushReferrer(fx.refsIndexArtifact, OCI_INDEX, fx.manifest(4));
          assert2xx(await client.pushBlob(name, fx.config(4).content), 'config[4]');
          assert2xx(await client.pushBlob(name, fx.layer.content), 'layer');
          assert2xx(await client.pushManifest(name, testTagName, fx.manifest(4).content, OCI_MANIFEST), 'manifests[4]');
          assert2xx(await client.pushBlob(name, fx.refBlobB.content), 'reference blob B');
          await pushReferrer(fx.refsManifestBConfigArtifact, OCI_MANIFEST, fx.manifest(4));
          await pushReferrer(fx.refsManifestBLayerArtifact, OCI_MANIFEST, fx.manifest(4));
          await pushReferrer(fx.refsManifestCLayerArtifact, OCI_MANIFEST, fx.manifest(3));
        });
      });

      describe('Test content discovery endpoints (listing tags)', () => {
        it('GET request to list tags should yield 200 response', async () => {
          const response = await client.request('GET', `/v2/${name}/tags/list`);
          assert.equal(response.status, 200);
          tagList = tagsOf(response);
          numTags = tagList.length;
          assert.deepEqual(tagList, ['tagtest0', 'test0', 'test1', 'test2', 'test3']);
          assert.equal(response.json<{ name: string }>().name, name);
        });
        it('GET number of tags should be limitable by `n` query parameter', async () => {
          const numResults = Math.floor(numTags / 2);
          const response = await client.request('GET', `/v2/${name}/tags/list`, { query: { n: String(numResults) } });
          assert.equal(response.status, 200);
          tagList = tagsOf(response);
          assert.equal(tagList.length, numResults);
        });
        it('GET start of tag is set by `last` query parameter', async () => {
          const numResults = Math.floor(numTags / 2);
          const first = await client.request('GET', `/v2/${name}/tags/list`, { query: { n: String(numResults) } });
          tagList = tagsOf(first);
          const last = tagList[numResults - 1]!;
          const response = await client.request('GET', `/v2/${name}/tags/list`, { query: { n: String(numResults), last } });
          assert.equal(response.status, 200);
          assert.ok(tagList.length <= numResults);
          assert.ok(tagList.includes(last));
          // Stronger than the suite: the next page starts strictly after `last`.
          const next = tagsOf(response);
          assert.ok(next.length > 0 && next.length <= numResults);
          assert.ok(next.every((entry) => entry > last), `${JSON.stringify(next)} should all sort after ${last}`);
        });
      });

      describe('Test content discovery endpoints (listing references)', () => {
        const referrers = (digest: string, query?: Record<string, string>) =>
          client.request('GET', `/v2/${name}/referrers/${digest}`, query ? { query } : {});
        it('GET request to nonexistent blob should result in empty 200 response', async () => {
          const response = await referrers(fx.dummyDigest);
          assert.equal(response.status, 200);
          assert.equal(response.header('content-type'), OCI_INDEX);
          assert.equal(response.json<ReferrersIndex>().manifests.length, 0);
        });
        it('GET request to existing blob should yield 200', async () => {
          const response = await referrers(fx.manifest(4).digest);
          assert.equal(response.status, 200);
          assert.equal(response.header('content-type'), OCI_INDEX);
          const index = response.json<ReferrersIndex>();
          assert.equal(index.schemaVersion, 2);
          assert.equal(index.mediaType, OCI_INDEX);
          assert.equal(index.manifests.length, 5);
          assert.notEqual(index.manifests[0]!.digest, index.manifests[1]!.digest);
          for (const entry of index.manifests) {
            assert.equal(Object.keys(entry.annotations ?? {}).length, 1);
            assert.equal(entry.annotations?.[fx.annotationKey], fx.annotationValues.get(entry.digest));
          }
          // The referrers index shape the spec asks for: artifactType from the manifest,
          // else from the config's media type; the index's own artifactType.
          const byDigest = new Map(index.manifests.map((entry) => [entry.digest, entry]));
          assert.equal(byDigest.get(fx.refsManifestAConfigArtifact.digest)?.artifactType, fx.artifactTypeA);
          assert.equal(byDigest.get(fx.refsManifestALayerArtifact.digest)?.artifactType, fx.artifactTypeA);
          assert.equal(byDigest.get(fx.refsManifestBConfigArtifact.digest)?.artifactType, fx.artifactTypeB);
          assert.equal(byDigest.get(fx.refsManifestBLayerArtifact.digest)?.artifactType, fx.artifactTypeB);
          const indexEntry = byDigest.get(fx.refsIndexArtifact.digest);
          assert.equal(indexEntry?.artifactType, fx.artifactTypeIndex);
          assert.equal(indexEntry?.mediaType, OCI_INDEX);
          assert.equal(indexEntry?.size, fx.refsIndexArtifact.content.length);
        });
        it('GET request to existing blob with filter should yield 200', async () => {
          const response = await referrers(fx.manifest(4).digest, { artifactType: fx.artifactTypeA });
          assert.equal(response.status, 200);
          assert.equal(response.header('content-type'), OCI_INDEX);
          const index = response.json<ReferrersIndex>();
          // Custody filters, so the suite's filtered branch must be the one taken.
          assert.equal(response.header('oci-filters-applied'), 'artifactType');
          assert.equal(index.manifests.length, 2);
          for (const entry of index.manifests) {
            assert.equal(Object.keys(entry.annotations ?? {}).length, 1);
            assert.equal(entry.annotations?.[fx.annotationKey], fx.annotationValues.get(entry.digest));
          }
        });
        it('GET request to missing manifest should yield 200', async () => {
          const response = await referrers(fx.manifest(3).digest);
          assert.equal(response.status, 200);
          assert.equal(response.header('content-type'), OCI_INDEX);
          const index = response.json<ReferrersIndex>();
          assert.equal(index.manifests.length, 1);
          assert.equal(index.manifests[0]!.digest, fx.refsManifestCLayerArtifact.digest);
        });
      });

      describe('Teardown', () => {
        const deleteManifestsAndTags = (): void => {
          it('Delete created manifest & associated tags', async () => {
            const references = [
              fx.refsIndexArtifact.digest, fx.manifest(2).digest, fx.manifest(4).digest,
              fx.refsManifestAConfigArtifact.digest, fx.refsManifestALayerArtifact.digest, testTagName,
              fx.refsManifestBConfigArtifact.digest, fx.refsManifestBLayerArtifact.digest, fx.refsManifestCLayerArtifact.digest,
            ];
            for (const reference of references) {
              assertStatusIn(await client.request('DELETE', manifestPath(reference)), ['2xx', 405, 404], reference);
            }
          });
        };
        if (deleteManifestBeforeBlobs) deleteManifestsAndTags();
        it('Delete config blob created in tests', async () => {
          assertStatusIn(await client.request('DELETE', blobPath(fx.config(2).digest)), deleteStatuses);
        });
        it('Delete layer blob created in setup', async () => {
          assertStatusIn(await client.request('DELETE', blobPath(fx.layer.digest)), deleteStatuses);
        });
        if (!deleteManifestBeforeBlobs) deleteManifestsAndTags();
        it('References teardown', async () => {
          const deleteOk = async (path: string): Promise<void> => assertStatusIn(await client.request('DELETE', path), ['2xx', 405, 404], path);
          const deleteReferrerManifests = async (): Promise<void> => {
            await deleteOk(manifestPath(fx.refsIndexArtifact.digest));
            await deleteOk(manifestPath(fx.refsManifestAConfigArtifact.digest));
            await deleteOk(manifestPath(fx.refsManifestALayerArtifact.digest));
            await deleteOk(manifestPath(fx.manifest(4).digest));
            await deleteOk(manifestPath(fx.refsManifestBConfigArtifact.digest));
            await deleteOk(manifestPath(fx.refsManifestBLayerArtifact.digest));
          };
          if (deleteManifestBeforeBlobs) await deleteReferrerManifests();
          await deleteOk(blobPath(fx.config(4).digest));
          await deleteOk(blobPath(fx.refBlobA.digest));
          await deleteOk(blobPath(fx.refBlobB.digest));
          await deleteOk(blobPath(fx.emptyJsonDescriptor.digest));
          if (!deleteManifestBeforeBlobs) await deleteReferrerManifests();
        });
      });
    });

    describe('Content Management', () => {
      let tagToDelete = '';
      let numTags = 0;
      let blobDeleteAllowed = true;
      const tagCount = async (): Promise<number> => {
        const response = await client.request('GET', `/v2/${name}/tags/list`);
        assert.equal(response.status, 200);
        return (response.json<{ tags?: string[] | null }>().tags ?? []).length;
      };

      describe('Setup', () => {
        it('Populate registry with test config blob', async () => {
          assert2xx(await client.pushBlob(name, fx.config(3).content));
        });
        it('Populate registry with test layer', async () => {
          assert2xx(await client.pushBlob(name, fx.layer.content));
        });
        it('Populate registry with test tag', async () => {
          tagToDelete = testTagName;
          assert2xx(await client.pushManifest(name, tagToDelete, fx.manifest(3).content, OCI_MANIFEST));
        });
        it('Check how many tags there are before anything gets deleted', async () => {
          numTags = await tagCount();
          assert.ok(numTags >= 1);
        });
      });

      describe('Manifest delete', () => {
        it('DELETE request to manifest tag should return 202, unless tag deletion is disallowed (400/405)', async () => {
          const response = await client.request('DELETE', manifestPath(tagToDelete));
          assertStatusIn(response, [400, 202, 405]);
          if (response.status === 400) assert.equal(response.errors()[0]!.code, 'UNSUPPORTED');
          assert.equal(response.status, 202, 'Custody deletes tags');
        });
        it('DELETE request to manifest (digest) should yield 202 response unless already deleted', async () => {
          const response = await client.request('DELETE', manifestPath(fx.manifest(3).digest));
          assertStatusIn(response, [202, 404]);
        });
        it('GET request to deleted manifest URL should yield 404 response, unless delete is disallowed', async () => {
          const response = await client.request('GET', manifestPath(fx.manifest(3).digest));
          assertStatusIn(response, [404, 200]);
          assert.equal(response.status, 404, 'Custody deletes manifests');
        });
        it('GET request to tags list should reflect manifest deletion', async () => {
          assert.ok((await tagCount()) < numTags);
        });
      });

      describe('Blob delete', () => {
        it('DELETE request to blob URL should yield 202 response', async () => {
          const config = await client.request('DELETE', blobPath(fx.config(3).digest));
          assertStatusIn(config, [202, 404, 405]);
          const layer = await client.request('DELETE', blobPath(fx.layer.digest));
          assertStatusIn(layer, [202, 404, 405]);
          if (layer.status === 405) blobDeleteAllowed = false;
          assert.equal(config.status, 202);
          assert.equal(layer.status, 202);
        });
        it('GET request to deleted blob URL should yield 404 response', async (t) => {
          // Custody allows blob deletion, so this always runs (the suite skips it on 405).
          assert.ok(blobDeleteAllowed);
          assert.equal((await client.request('GET', blobPath(fx.config(3).digest))).status, 404);
        });
      });
    });

    it('(not a suite spec) no request of the run failed on the server (5xx or error log)', () => {
      assert.deepEqual(serverFailures(server!), []);
    });
  });
}

conformanceSuite('SQLite', { deleteManifestBeforeBlobs: true });
conformanceSuite('PostgreSQL', { deleteManifestBeforeBlobs: true });
// The suite's other teardown order (blobs before manifests), once.
conformanceSuite('SQLite', { deleteManifestBeforeBlobs: false });
conformanceSuite('SQLite', { deleteManifestBeforeBlobs: true, decorated: true });

// ---- Part 2: beyond the suite -------------------------------------------------------

/** Pushes an OCI image (config + layers + manifest) and returns its pieces. */
async function pushImage(client: OciClient, name: string, reference: string, options: { layers?: Buffer[]; subject?: TestBlob; annotations?: Record<string, string> } = {}) {
  const config = testBlob(goJson({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, author: randomString(12) }));
  const layers = (options.layers ?? [randomBytes(64)]).map((content) => testBlob(content));
  assert2xx(await client.pushBlob(name, config.content), 'config');
  for (const layer of layers) assert2xx(await client.pushBlob(name, layer.content), 'layer');
  const manifest = testBlob(goJson({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: descriptorOf(OCI_CONFIG, config),
    layers: layers.map((layer) => descriptorOf(OCI_LAYER_GZIP, layer)),
    ...(options.subject ? { subject: descriptorOf(OCI_MANIFEST, options.subject) } : {}),
    ...(options.annotations ? { annotations: options.annotations } : {}),
  }));
  const response = await client.pushManifest(name, reference, manifest.content, OCI_MANIFEST);
  assert.equal(response.status, 201, `manifest push: ${response.text()}`);
  return { config, layers, manifest, response };
}

describe('Custody distribution API beyond the conformance suite (SQLite, automatic mount off)', () => {
  let server: CustodyServer | undefined;
  let client: OciClient;

  before(async () => {
    server = await startCustody({ args: ['--uploads-automatic-mount', 'false'] });
    client = new OciClient(server.url);
  });
  after(async () => {
    await server?.dispose();
  });

  it('GET /v2/ answers 200 with the Docker-Distribution-API-Version header', async () => {
    const response = await client.request('GET', '/v2/');
    assert.equal(response.status, 200);
    assert.equal(response.header('docker-distribution-api-version'), 'registry/2.0');
  });

  describe('blob ranges and conditional requests', () => {
    const name = 'extras/ranges';
    const content = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
    const digest = sha256(content);
    const path = `/v2/${name}/blobs/${digest}`;
    before(async () => {
      assert.equal((await client.pushBlob(name, content)).status, 201);
    });

    it('GET with Range: bytes=a-b answers 206 with Content-Range and just those bytes', async () => {
      const response = await client.request('GET', path, { headers: { Range: 'bytes=10-19' } });
      assert.equal(response.status, 206);
      assert.equal(response.header('content-range'), 'bytes 10-19/100');
      assert.equal(response.header('content-length'), '10');
      assert.deepEqual(response.body, content.subarray(10, 20));
      assert.equal(response.header('docker-content-digest'), digest);
      assert.equal(response.header('accept-ranges'), 'bytes');
    });
    it('a range ending past the blob is cut at its end', async () => {
      const response = await client.request('GET', path, { headers: { Range: 'bytes=95-1000' } });
      assert.equal(response.status, 206);
      assert.equal(response.header('content-range'), 'bytes 95-99/100');
      assert.deepEqual(response.body, content.subarray(95));
    });
    it('suffix range bytes=-n serves the last n bytes', async () => {
      const response = await client.request('GET', path, { headers: { Range: 'bytes=-10' } });
      assert.equal(response.status, 206);
      assert.equal(response.header('content-range'), 'bytes 90-99/100');
      assert.deepEqual(response.body, content.subarray(90));
      const larger = await client.request('GET', path, { headers: { Range: 'bytes=-500' } });
      assert.equal(larger.status, 206);
      assert.equal(larger.header('content-range'), 'bytes 0-99/100');
      assert.deepEqual(larger.body, content);
    });
    it('open range bytes=n- serves from n to the end', async () => {
      const response = await client.request('GET', path, { headers: { Range: 'bytes=42-' } });
      assert.equal(response.status, 206);
      assert.equal(response.header('content-range'), 'bytes 42-99/100');
      assert.deepEqual(response.body, content.subarray(42));
    });
    it('an unsatisfiable range answers 416 with Content-Range: bytes */size', async () => {
      for (const range of ['bytes=100-', 'bytes=150-160', 'bytes=-0']) {
        const response = await client.request('GET', path, { headers: { Range: range } });
        assert.equal(response.status, 416, range);
        assert.equal(response.header('content-range'), 'bytes */100', range);
      }
    });
    it('GET without Range answers 200 with the whole blob, Content-Length and Docker-Content-Digest', async () => {
      const response = await client.request('GET', path);
      assert.equal(response.status, 200);
      assert.equal(response.header('content-length'), '100');
      assert.equal(response.header('docker-content-digest'), digest);
      assert.deepEqual(response.body, content);
      const head = await client.request('HEAD', path);
      assert.equal(head.status, 200);
      assert.equal(head.header('content-length'), '100');
      assert.equal(head.body.length, 0);
    });
    it('blob ETag with If-None-Match answers 304 without a body', async () => {
      const first = await client.request('GET', path);
      const etag = first.header('etag');
      assert.ok(etag, 'blobs carry an ETag');
      const again = await client.request('GET', path, { headers: { 'If-None-Match': etag } });
      assert.equal(again.status, 304);
      assert.equal(again.body.length, 0);
      assert.equal(again.header('etag'), etag);
      const other = await client.request('GET', path, { headers: { 'If-None-Match': '"sha256:0000"' } });
      assert.equal(other.status, 200);
    });
  });

  describe('manifests', () => {
    const name = 'extras/manifests';

    it('manifest ETag with If-None-Match answers 304; HEAD carries the same headers as GET', async () => {
      const { manifest } = await pushImage(client, name, 'v1');
      for (const reference of ['v1', manifest.digest]) {
        const get = await client.request('GET', `/v2/${name}/manifests/${reference}`, { headers: { Accept: OCI_MANIFEST } });
        const head = await client.request('HEAD', `/v2/${name}/manifests/${reference}`, { headers: { Accept: OCI_MANIFEST } });
        assert.equal(get.status, 200);
        assert.equal(head.status, 200);
        assert.equal(head.body.length, 0);
        for (const header of ['content-type', 'content-length', 'docker-content-digest', 'etag']) {
          assert.ok(get.header(header), `GET has ${header}`);
          assert.equal(head.header(header), get.header(header), `HEAD ${header} equals GET's`);
        }
        assert.equal(get.header('content-type'), OCI_MANIFEST);
        assert.equal(get.header('content-length'), String(manifest.content.length));
        assert.equal(get.header('docker-content-digest'), manifest.digest);
        const etag = get.header('etag')!;
        const notModified = await client.request('GET', `/v2/${name}/manifests/${reference}`, { headers: { 'If-None-Match': etag } });
        assert.equal(notModified.status, 304);
        assert.equal(notModified.body.length, 0);
        const headNotModified = await client.request('HEAD', `/v2/${name}/manifests/${reference}`, { headers: { 'If-None-Match': etag } });
        assert.equal(headNotModified.status, 304);
      }
    });

    it('PUT by digest answers 201 with Location and a Docker-Content-Digest equal to the digest', async () => {
      const { config, layers } = await pushImage(client, name, 'base');
      const manifest = testBlob(goJson({
        schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptorOf(OCI_CONFIG, config),
        layers: layers.map((layer) => descriptorOf(OCI_LAYER_GZIP, layer)), annotations: { 'org.example': 'by-digest' },
      }));
      const response = await client.pushManifest(name, manifest.digest, manifest.content, OCI_MANIFEST);
      assert.equal(response.status, 201);
      assert.equal(response.location(), `/v2/${name}/manifests/${manifest.digest}`);
      assert.equal(response.header('docker-content-digest'), manifest.digest);
      const pulled = await client.request('GET', response.location());
      assert.deepEqual(pulled.body, manifest.content);
    });

    it('Docker schema2 manifest and manifest list push and pull with their Content-Type', async () => {
      const dockerName = 'extras/docker';
      const config = testBlob(goJson({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
      const layer = testBlob(gzipSync(Buffer.from('docker layer')));
      assert2xx(await client.pushBlob(dockerName, config.content));
      assert2xx(await client.pushBlob(dockerName, layer.content));
      const manifest = testBlob(JSON.stringify({
        schemaVersion: 2, mediaType: DOCKER_MANIFEST,
        config: { mediaType: DOCKER_CONFIG, size: config.content.length, digest: config.digest },
        layers: [{ mediaType: DOCKER_LAYER, size: layer.content.length, digest: layer.digest }],
      }, null, 3));
      const put = await client.pushManifest(dockerName, 'amd64', manifest.content, DOCKER_MANIFEST);
      assert.equal(put.status, 201, put.text());
      assert.equal(put.header('docker-content-digest'), manifest.digest);
      const list = testBlob(JSON.stringify({
        schemaVersion: 2, mediaType: DOCKER_LIST,
        manifests: [{ mediaType: DOCKER_MANIFEST, size: manifest.content.length, digest: manifest.digest, platform: { architecture: 'amd64', os: 'linux' } }],
      }, null, 3));
      const putList = await client.pushManifest(dockerName, 'latest', list.content, DOCKER_LIST);
      assert.equal(putList.status, 201, putList.text());

      const pulled = await client.request('GET', `/v2/${dockerName}/manifests/amd64`, { headers: { Accept: `${DOCKER_MANIFEST}, ${OCI_MANIFEST}` } });
      assert.equal(pulled.status, 200);
      assert.equal(pulled.header('content-type'), DOCKER_MANIFEST);
      assert.equal(pulled.header('docker-content-digest'), manifest.digest);
      assert.deepEqual(pulled.body, manifest.content);
      const pulledList = await client.request('GET', `/v2/${dockerName}/manifests/latest`, { headers: { Accept: `${DOCKER_LIST}, ${OCI_INDEX}` } });
      assert.equal(pulledList.status, 200);
      assert.equal(pulledList.header('content-type'), DOCKER_LIST);
      assert.deepEqual(pulledList.body, list.content);
      const head = await client.request('HEAD', `/v2/${dockerName}/manifests/latest`);
      assert.equal(head.header('content-type'), DOCKER_LIST);
    });

    it('Docker schema1 manifest answers 400 MANIFEST_INVALID with a clear message', async () => {
      const schema1 = JSON.stringify({
        schemaVersion: 1, name: 'extras/schema1', tag: 'latest', architecture: 'amd64',
        fsLayers: [{ blobSum: sha256('layer') }], history: [{ v1Compatibility: '{}' }],
        signatures: [],
      });
      for (const contentType of [DOCKER_SCHEMA1_SIGNED, 'application/vnd.docker.distribution.manifest.v1+json', 'application/json']) {
        const response = await client.pushManifest('extras/schema1', 'latest', schema1, contentType);
        assertError(response, 400, 'MANIFEST_INVALID');
        assert.match(response.errors()[0]!.message ?? '', /schema 1/i, contentType);
      }
    });

    it('a manifest of exactly 4 MiB is accepted; one over 4 MiB answers 413', async () => {
      const bigName = 'extras/big';
      const { config, layers } = await pushImage(client, bigName, 'small');
      const build = (size: number): Buffer => {
        const shell = (padding: string): Buffer => goJson({
          schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptorOf(OCI_CONFIG, config),
          layers: layers.map((layer) => descriptorOf(OCI_LAYER_GZIP, layer)), annotations: { padding },
        });
        const overhead = shell('').length;
        const content = shell('x'.repeat(size - overhead));
        assert.equal(content.length, size);
        return content;
      };
      const atLimit = build(FOUR_MIB);
      const accepted = await client.pushManifest(bigName, 'four-mib', atLimit, OCI_MANIFEST);
      assert.equal(accepted.status, 201, accepted.text().slice(0, 300));
      const pulled = await client.request('GET', `/v2/${bigName}/manifests/four-mib`);
      assert.equal(pulled.body.length, FOUR_MIB);
      const tooLarge = await client.pushManifest(bigName, 'too-large', build(FOUR_MIB + 1), OCI_MANIFEST);
      assert.equal(tooLarge.status, 413);
      assert.ok(SUITE_ERROR_CODES.includes(tooLarge.errors()[0]!.code));
      assert.equal((await client.request('GET', `/v2/${bigName}/manifests/too-large`)).status, 404);
    });

    it('a manifest referencing a missing config, layer or child manifest answers 400 MANIFEST_BLOB_UNKNOWN', async () => {
      const missingName = 'extras/missing';
      const { config, layers, manifest } = await pushImage(client, missingName, 'present');
      const absent = testBlob(randomBytes(32));
      const missingConfig = goJson({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptorOf(OCI_CONFIG, absent), layers: layers.map((layer) => descriptorOf(OCI_LAYER_GZIP, layer)) });
      const missingLayer = goJson({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptorOf(OCI_CONFIG, config), layers: [descriptorOf(OCI_LAYER_GZIP, absent)] });
      const missingChild = goJson({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [descriptorOf(OCI_MANIFEST, manifest), descriptorOf(OCI_MANIFEST, absent)] });
      for (const [what, content, mediaType] of [['config', missingConfig, OCI_MANIFEST], ['layer', missingLayer, OCI_MANIFEST], ['child manifest', missingChild, OCI_INDEX]] as const) {
        const response = await client.pushManifest(missingName, `missing-${what.replace(' ', '-')}`, content, mediaType);
        assertError(response, 400, 'MANIFEST_BLOB_UNKNOWN');
        assert.equal((await client.request('GET', `/v2/${missingName}/manifests/${sha256(content)}`)).status, 404, `${what}: nothing stored`);
      }
      // A blob another repository has does not count either.
      const elsewhere = await pushImage(client, 'extras/elsewhere', 'x');
      const foreign = goJson({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptorOf(OCI_CONFIG, elsewhere.config), layers: [] });
      assertError(await client.pushManifest(missingName, 'foreign', foreign, OCI_MANIFEST), 400, 'MANIFEST_BLOB_UNKNOWN');
    });

    it('newer suite revisions: image index, nested index, artifact manifests and a dangling subject are accepted', async () => {
      const indexName = 'extras/index';
      const { manifest } = await pushImage(client, indexName, 'image');
      const index = testBlob(goJson({ schemaVersion: 2, mediaType: OCI_INDEX, artifactType: 'application/vnd.custody.index', manifests: [descriptorOf(OCI_MANIFEST, manifest)], annotations: { k: 'v' } }));
      assert2xx(await client.pushManifest(indexName, index.digest, index.content, OCI_INDEX), 'index');
      const nested = testBlob(goJson({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [descriptorOf(OCI_INDEX, index)] }));
      assert2xx(await client.pushManifest(indexName, nested.digest, nested.content, OCI_INDEX), 'nested index');
      const pulled = await client.request('GET', `/v2/${indexName}/manifests/${nested.digest}`);
      assert.equal(pulled.header('content-type'), OCI_INDEX);

      assert2xx(await client.pushBlob(indexName, '{}'));
      const payload = testBlob('an artifact payload');
      assert2xx(await client.pushBlob(indexName, payload.content));
      const configType = goJson({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptorOf('application/vnd.custody.artifact', payload), layers: [descriptorOf(OCI_EMPTY, testBlob('{}'))] });
      assert2xx(await client.pushManifest(indexName, sha256(configType), configType, OCI_MANIFEST), 'custom config mediaType');
      const artifactType = goJson({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.custody.artifact', config: descriptorOf(OCI_EMPTY, testBlob('{}')), layers: [descriptorOf('application/vnd.custody.payload', payload)] });
      assert2xx(await client.pushManifest(indexName, sha256(artifactType), artifactType, OCI_MANIFEST), 'custom artifactType');

      const neverPushed = testBlob(randomBytes(16));
      const dangling = goJson({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.custody.sig', config: descriptorOf(OCI_EMPTY, testBlob('{}')), layers: [descriptorOf(OCI_EMPTY, testBlob('{}'))], subject: descriptorOf(OCI_MANIFEST, neverPushed) });
      const response = await client.pushManifest(indexName, sha256(dangling), dangling, OCI_MANIFEST);
      assert2xx(response, 'dangling subject');
      assert.equal(response.header('oci-subject'), neverPushed.digest);
    });
  });

  describe('malformed input', () => {
    const name = 'extras/malformed';
    const badDigests = ['sha256:totallywrong', `sha256:${'A'.repeat(64)}`, `sha256:${'a'.repeat(63)}`, 'md5:d41d8cd98f00b204e9800998ecf8427e', 'sha256:', 'foo:bar'];
    let uploadLocation = '';
    before(async () => {
      await pushImage(client, name, 'latest');
      uploadLocation = (await client.request('POST', `/v2/${name}/blobs/uploads/`)).location();
    });

    it('malformed digests answer 400 DIGEST_INVALID in every position, never 500', async () => {
      for (const bad of badDigests) {
        const encoded = encodeURIComponent(bad).replace(/%3A/gi, ':');
        const cases: Array<[string, string, Parameters<OciClient['request']>[2]]> = [
          ['GET', `/v2/${name}/blobs/${encoded}`, {}],
          ['DELETE', `/v2/${name}/blobs/${encoded}`, {}],
          ['GET', `/v2/${name}/manifests/${encoded}`, {}],
          ['DELETE', `/v2/${name}/manifests/${encoded}`, {}],
          ['PUT', `/v2/${name}/manifests/${encoded}`, { headers: { 'Content-Type': OCI_MANIFEST }, body: '{}' }],
          ['GET', `/v2/${name}/referrers/${encoded}`, {}],
          ['POST', `/v2/${name}/blobs/uploads/`, { query: { digest: bad }, body: 'data' }],
          ['PUT', uploadLocation, { query: { digest: bad }, body: '' }],
        ];
        for (const [method, path, options] of cases) {
          const response = await client.request(method, path, options);
          assertError(response, 400, 'DIGEST_INVALID');
        }
        for (const path of [`/v2/${name}/blobs/${encoded}`, `/v2/${name}/manifests/${encoded}`]) {
          assert.equal((await client.request('HEAD', path)).status, 400, `HEAD ${path}`);
        }
      }
      // Completing an upload without any digest, or with one that does not match.
      assertError(await client.request('PUT', uploadLocation, { body: 'abc' }), 400, 'DIGEST_INVALID');
      const mismatch = await client.request('PUT', uploadLocation, { query: { digest: sha256('something else') }, body: '' });
      assertError(mismatch, 400, 'DIGEST_INVALID');
      // A single-POST upload whose content does not match its digest stores nothing.
      const wrong = await client.request('POST', `/v2/${name}/blobs/uploads/`, { query: { digest: sha256('other content') }, body: 'content' });
      assertError(wrong, 400, 'DIGEST_INVALID');
      assert.equal((await client.request('HEAD', `/v2/${name}/blobs/${sha256('other content')}`)).status, 404);
      assert.equal((await client.request('HEAD', `/v2/${name}/blobs/${sha256('content')}`)).status, 404);
      // A manifest whose content does not hash to the digest it is pushed under.
      const { manifest } = await pushImage(client, name, 'other');
      assertError(await client.pushManifest(name, sha256('not this manifest'), manifest.content, OCI_MANIFEST), 400, 'DIGEST_INVALID');
      // A malformed mount digest cannot be mounted: the spec's answer is an upload session.
      const mount = await client.request('POST', `/v2/${name}/blobs/uploads/`, { query: { mount: 'sha256:nope', from: 'extras/ranges' } });
      assert.equal(mount.status, 202);
      assert.ok(mount.location().startsWith(`/v2/${name}/blobs/uploads/`));
    });

    it('invalid repository names answer 400 NAME_INVALID', async () => {
      const digest = sha256('x');
      for (const bad of ['Upper/case', 'a..b', '-lead', 'trail-', 'a//b', 'a/_b', `${'a'.repeat(256)}`]) {
        const cases: Array<[string, string]> = [
          ['GET', `/v2/${bad}/tags/list`],
          ['GET', `/v2/${bad}/manifests/latest`],
          ['PUT', `/v2/${bad}/manifests/latest`],
          ['GET', `/v2/${bad}/blobs/${digest}`],
          ['POST', `/v2/${bad}/blobs/uploads/`],
          ['GET', `/v2/${bad}/referrers/${digest}`],
        ];
        for (const [method, path] of cases) {
          const response = await client.request(method, path, method === 'PUT' ? { headers: { 'Content-Type': OCI_MANIFEST }, body: '{}' } : {});
          assertError(response, 400, 'NAME_INVALID');
        }
      }
    });

    it('an invalid tag on manifest PUT answers 400 and stores nothing', async () => {
      const { manifest } = await pushImage(client, name, 'valid');
      for (const bad of ['-dash', '.dot', 't'.repeat(129), 'sp%20ace', 'a+b']) {
        const response = await client.pushManifest(name, bad, manifest.content, OCI_MANIFEST);
        assert.equal(response.status, 400, `${bad}: ${response.text()}`);
        assert.ok(SUITE_ERROR_CODES.includes(response.errors()[0]!.code));
      }
      const tags = (await client.request('GET', `/v2/${name}/tags/list`)).json<{ tags: string[] }>().tags;
      assert.deepEqual(tags, ['latest', 'other', 'valid']);
    });

    it('a page size that is not a number answers 400, never 500', async () => {
      for (const path of [`/v2/${name}/tags/list?n=abc`, `/v2/${name}/tags/list?n=-1`, '/v2/_catalog?n=1.5']) {
        const response = await client.request('GET', path);
        assert.equal(response.status, 400, path);
        response.errors();
      }
    });

    it('unknown upload sessions answer 404 BLOB_UPLOAD_UNKNOWN; a session is bound to its repository', async () => {
      const unknown = `/v2/${name}/blobs/uploads/${randomUUID()}`;
      assertError(await client.request('GET', unknown), 404, 'BLOB_UPLOAD_UNKNOWN');
      assertError(await client.request('PATCH', unknown, { body: 'x' }), 404, 'BLOB_UPLOAD_UNKNOWN');
      assertError(await client.request('PUT', unknown, { query: { digest: sha256('x') }, body: 'x' }), 404, 'BLOB_UPLOAD_UNKNOWN');
      const started = await client.request('POST', `/v2/${name}/blobs/uploads/`);
      const id = started.location().split('/').pop()!.split('?')[0]!;
      assertError(await client.request('GET', `/v2/extras/ranges/blobs/uploads/${id}`), 404, 'BLOB_UPLOAD_UNKNOWN');
      const cancelled = await client.request('DELETE', started.location());
      assert.equal(cancelled.status, 204);
      assertError(await client.request('GET', started.location()), 404, 'BLOB_UPLOAD_UNKNOWN');
    });
  });

  describe('uploads and mounts', () => {
    it('empty (zero-length) blobs upload through POST+PUT, a single POST and a chunked session, and serve back', async () => {
      const name = 'extras/empty';
      const empty = testBlob(Buffer.alloc(0));
      const putUpload = await client.pushBlob(name, empty.content);
      assert.equal(putUpload.status, 201);
      assert.equal(putUpload.header('docker-content-digest'), empty.digest);
      const single = await client.request('POST', `/v2/${name}/blobs/uploads/`, { query: { digest: empty.digest }, body: '' });
      assert.equal(single.status, 201);
      const started = await client.request('POST', `/v2/${name}/blobs/uploads/`, { body: '' });
      const patched = await client.request('PATCH', started.location(), { headers: { 'Content-Type': 'application/octet-stream' }, body: '' });
      assert.equal(patched.status, 202);
      const closed = await client.request('PUT', patched.location(), { query: { digest: empty.digest }, body: '' });
      assert.equal(closed.status, 201);
      const read = await client.request('GET', `/v2/${name}/blobs/${empty.digest}`);
      assert.equal(read.status, 200);
      assert.equal(read.header('content-length'), '0');
      assert.equal(read.header('docker-content-digest'), empty.digest);
      assert.equal(read.body.length, 0);
      const head = await client.request('HEAD', `/v2/${name}/blobs/${empty.digest}`);
      assert.equal(head.status, 200);
      assert.equal(head.header('content-length'), '0');
      // An image whose only layer is empty.
      const { manifest } = await pushImage(client, name, 'empty-layer', { layers: [Buffer.alloc(0)] });
      assert.equal((await client.request('GET', `/v2/${name}/manifests/${manifest.digest}`)).status, 200);
    });

    it('a streamed PATCH without Content-Length (Transfer-Encoding: chunked) is accepted whole', async () => {
      const name = 'extras/streamed';
      const pieces = [randomBytes(10_000), randomBytes(1), randomBytes(70_000)];
      const whole = testBlob(Buffer.concat(pieces));
      const started = await client.request('POST', `/v2/${name}/blobs/uploads/`);
      const patched = await rawRequest(`${server!.url}${started.location()}`, 'PATCH', { 'Content-Type': 'application/octet-stream' }, pieces);
      assert.equal(patched.status, 202);
      assert.equal(patched.headers['range'], `0-${whole.content.length - 1}`);
      const closed = await client.request('PUT', String(patched.headers['location']), { query: { digest: whole.digest }, body: '' });
      assert.equal(closed.status, 201, closed.text());
      assert.deepEqual((await client.request('GET', `/v2/${name}/blobs/${whole.digest}`)).body, whole.content);
    });

    it('a chunked upload whose final chunk comes with the closing PUT completes with the right digest', async () => {
      const name = 'extras/chunks';
      const blob = chunkedBlob(1000);
      const started = await client.request('POST', `/v2/${name}/blobs/uploads/`, { body: '' });
      const first = await client.request('PATCH', started.location(), { headers: { 'Content-Range': blob.chunk1Range, 'Content-Type': 'application/octet-stream' }, body: blob.chunk1 });
      assert.equal(first.status, 202);
      const closed = await client.request('PUT', first.location(), {
        query: { digest: blob.blob.digest },
        headers: { 'Content-Range': blob.chunk2Range, 'Content-Type': 'application/octet-stream' },
        body: blob.chunk2,
      });
      assert.equal(closed.status, 201, closed.text());
      assert.equal(closed.header('docker-content-digest'), blob.blob.digest);
      assert.deepEqual((await client.request('GET', closed.location())).body, blob.blob.content);
    });

    it('Cross-mounting without from, and automatic content discovery disabled should return a 202', async () => {
      const blob = testBlob(randomBytes(50));
      assert.equal((await client.pushBlob('extras/mount-source', blob.content)).status, 201);
      const response = await client.request('POST', '/v2/extras/mount-target/blobs/uploads/', { query: { mount: blob.digest } });
      assert.equal(response.status, 202);
      assert.ok(response.location().startsWith('/v2/extras/mount-target/blobs/uploads/'));
      assert.equal((await client.request('HEAD', `/v2/extras/mount-target/blobs/${blob.digest}`)).status, 404);
      // With from, the same blob mounts.
      const mounted = await client.request('POST', '/v2/extras/mount-target/blobs/uploads/', { query: { mount: blob.digest, from: 'extras/mount-source' } });
      assert.equal(mounted.status, 201);
      assert.equal(mounted.location(), `/v2/extras/mount-target/blobs/${blob.digest}`);
      assert.equal(mounted.header('docker-content-digest'), blob.digest);
    });

    it('a cross-repository mount of a blob the source repository does not have answers 202 with an upload session', async () => {
      const blob = testBlob(randomBytes(50));
      assert.equal((await client.pushBlob('extras/holder', blob.content)).status, 201);
      await pushImage(client, 'extras/no-holder', 'x');
      const response = await client.request('POST', '/v2/extras/mount-dest/blobs/uploads/', { query: { mount: blob.digest, from: 'extras/no-holder' } });
      assert.equal(response.status, 202);
      const session = response.location();
      assert.ok(session.startsWith('/v2/extras/mount-dest/blobs/uploads/'));
      assert.equal((await client.request('GET', session)).status, 204, 'the session is live');
      assert.equal((await client.request('HEAD', `/v2/extras/mount-dest/blobs/${blob.digest}`)).status, 404, 'nothing was mounted');
      const finished = await client.request('PUT', session, { query: { digest: blob.digest }, body: blob.content });
      assert.equal(finished.status, 201);
      // From a repository that does not exist at all: the same.
      const fromNowhere = await client.request('POST', '/v2/extras/mount-dest2/blobs/uploads/', { query: { mount: blob.digest, from: 'extras/does-not-exist' } });
      assert.equal(fromNowhere.status, 202);
    });

    it('a blob is not readable through a repository that does not link it', async () => {
      const blob = testBlob(randomBytes(70));
      assert.equal((await client.pushBlob('extras/owner', blob.content)).status, 201);
      await pushImage(client, 'extras/stranger', 'x');
      for (const method of ['GET', 'HEAD']) {
        const response = await client.request(method, `/v2/extras/stranger/blobs/${blob.digest}`);
        assert.equal(response.status, 404, method);
        if (method === 'GET') assert.equal(response.errors()[0]!.code, 'BLOB_UNKNOWN');
      }
      assert.equal((await client.request('DELETE', `/v2/extras/stranger/blobs/${blob.digest}`)).status, 404);
      assert.equal((await client.request('GET', `/v2/extras/owner/blobs/${blob.digest}`)).status, 200);
    });
  });

  describe('pagination', () => {
    it('tags/list pagination with n and last follows the Link header; n=0 is empty without Link', async () => {
      const name = 'extras/tags';
      const { manifest } = await pushImage(client, name, 'a');
      for (const tag of ['b', 'c', 'd', 'e']) assert.equal((await client.pushManifest(name, tag, manifest.content, OCI_MANIFEST)).status, 201);
      const seen: string[] = [];
      let path: string | undefined = `/v2/${name}/tags/list?n=2`;
      let pages = 0;
      while (path) {
        const response = await client.request('GET', path);
        assert.equal(response.status, 200);
        const body = response.json<{ name: string; tags: string[] }>();
        assert.equal(body.name, name);
        assert.ok(body.tags.length <= 2);
        seen.push(...body.tags);
        const link = response.header('link');
        path = link ? /^<([^>]+)>;\s*rel="next"$/.exec(link)?.[1] : undefined;
        if (link) assert.ok(path, `Link header ${link} is RFC 5988 with rel="next"`);
        assert.ok(++pages <= 3);
      }
      assert.deepEqual(seen, ['a', 'b', 'c', 'd', 'e']);
      const firstPage = await client.request('GET', `/v2/${name}/tags/list?n=2`);
      assert.equal(firstPage.header('link'), `</v2/${name}/tags/list?n=2&last=b>; rel="next"`);
      const afterC = await client.request('GET', `/v2/${name}/tags/list?last=c`);
      assert.deepEqual(afterC.json<{ tags: string[] }>().tags, ['d', 'e']);
      assert.equal(afterC.header('link'), null);
      const exact = await client.request('GET', `/v2/${name}/tags/list?n=5`);
      assert.equal(exact.json<{ tags: string[] }>().tags.length, 5);
      assert.equal(exact.header('link'), null, 'no Link when nothing follows');
      const zero = await client.request('GET', `/v2/${name}/tags/list?n=0`);
      assert.equal(zero.status, 200);
      assert.deepEqual(zero.json<{ tags: string[] }>().tags, []);
      assert.equal(zero.header('link'), null);
      const unknown = await client.request('GET', '/v2/extras/never-pushed/tags/list');
      assertError(unknown, 404, 'NAME_UNKNOWN');
    });

    it('catalog pagination with n and last follows the Link header', async () => {
      for (const repository of ['catalog/a', 'catalog/b', 'catalog/c']) assert.equal((await client.pushBlob(repository, randomBytes(8))).status, 201);
      const seen: string[] = [];
      let path: string | undefined = '/v2/_catalog?n=2';
      while (path) {
        const response = await client.request('GET', path);
        assert.equal(response.status, 200);
        const { repositories } = response.json<{ repositories: string[] }>();
        assert.ok(repositories.length <= 2);
        seen.push(...repositories);
        const link = response.header('link');
        path = link ? /^<([^>]+)>;\s*rel="next"$/.exec(link)?.[1] : undefined;
      }
      assert.deepEqual(seen, [...seen].sort(), 'repositories in lexical order');
      assert.equal(new Set(seen).size, seen.length, 'no repository twice');
      for (const repository of ['catalog/a', 'catalog/b', 'catalog/c', 'extras/ranges']) assert.ok(seen.includes(repository), repository);
      const page = await client.request('GET', '/v2/_catalog?n=1&last=catalog/a');
      assert.deepEqual(page.json<{ repositories: string[] }>().repositories, ['catalog/b']);
      assert.equal(page.header('link'), `</v2/_catalog?n=1&last=${encodeURIComponent('catalog/b')}>; rel="next"`);
      const zero = await client.request('GET', '/v2/_catalog?n=0');
      assert.deepEqual(zero.json<{ repositories: string[] }>().repositories, []);
      assert.equal(zero.header('link'), null);
    });
  });

  describe('deletion', () => {
    it('deleting a tag, a manifest and a blob: each is then 404 with its code, and a second delete is 404', async () => {
      const name = 'extras/delete';
      const { manifest, config } = await pushImage(client, name, 'keep');
      assert.equal((await client.pushManifest(name, 'drop', manifest.content, OCI_MANIFEST)).status, 201);

      assert.equal((await client.request('DELETE', `/v2/${name}/manifests/drop`)).status, 202);
      assertError(await client.request('GET', `/v2/${name}/manifests/drop`), 404, 'MANIFEST_UNKNOWN');
      assert.equal((await client.request('GET', `/v2/${name}/manifests/keep`)).status, 200, 'other tags stay');
      assertError(await client.request('DELETE', `/v2/${name}/manifests/drop`), 404, 'MANIFEST_UNKNOWN');

      assert.equal((await client.request('DELETE', `/v2/${name}/manifests/${manifest.digest}`)).status, 202);
      assertError(await client.request('GET', `/v2/${name}/manifests/${manifest.digest}`), 404, 'MANIFEST_UNKNOWN');
      assert.equal((await client.request('HEAD', `/v2/${name}/manifests/${manifest.digest}`)).status, 404);
      assertError(await client.request('GET', `/v2/${name}/manifests/keep`), 404, 'MANIFEST_UNKNOWN');
      assert.deepEqual((await client.request('GET', `/v2/${name}/tags/list`)).json<{ tags: string[] }>().tags, []);
      assertError(await client.request('DELETE', `/v2/${name}/manifests/${manifest.digest}`), 404, 'MANIFEST_UNKNOWN');

      assert.equal((await client.request('DELETE', `/v2/${name}/blobs/${config.digest}`)).status, 202);
      assertError(await client.request('GET', `/v2/${name}/blobs/${config.digest}`), 404, 'BLOB_UNKNOWN');
      assertError(await client.request('DELETE', `/v2/${name}/blobs/${config.digest}`), 404, 'BLOB_UNKNOWN');

      assertError(await client.request('DELETE', `/v2/extras/never-pushed/manifests/${manifest.digest}`), 404, 'MANIFEST_UNKNOWN');
    });

    it('referrers of a deleted manifest disappear; referrers of an unknown repository are an empty 200', async () => {
      const name = 'extras/referrers';
      const subject = await pushImage(client, name, 'subject');
      const signature = await pushImage(client, name, signatureTag(), { subject: subject.manifest, annotations: { 'org.example.kind': 'signature' } });
      assert.equal(signature.response.header('oci-subject'), subject.manifest.digest);
      const sbom = await pushImage(client, name, signatureTag(), { subject: subject.manifest });
      const list = async (): Promise<string[]> => {
        const response = await client.request('GET', `/v2/${name}/referrers/${subject.manifest.digest}`);
        assert.equal(response.status, 200);
        assert.equal(response.header('content-type'), OCI_INDEX);
        return response.json<ReferrersIndex>().manifests.map((entry) => entry.digest).sort();
      };
      assert.deepEqual(await list(), [signature.manifest.digest, sbom.manifest.digest].sort());
      assert.equal((await client.request('DELETE', `/v2/${name}/manifests/${signature.manifest.digest}`)).status, 202);
      assert.deepEqual(await list(), [sbom.manifest.digest]);
      // Deleting the subject leaves the remaining referrer listed (a dangling subject).
      assert.equal((await client.request('DELETE', `/v2/${name}/manifests/${subject.manifest.digest}`)).status, 202);
      assert.deepEqual(await list(), [sbom.manifest.digest]);
      assert.equal((await client.request('DELETE', `/v2/${name}/manifests/${sbom.manifest.digest}`)).status, 202);
      assert.deepEqual(await list(), []);

      // The spec: a registry supporting the referrers API MUST NOT answer 404 to it.
      const unknown = await client.request('GET', `/v2/extras/no-such-repository/referrers/${subject.manifest.digest}`);
      assert.equal(unknown.status, 200);
      assert.equal(unknown.header('content-type'), OCI_INDEX);
      assert.deepEqual(unknown.json<ReferrersIndex>(), { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
    });
  });

  it('no request of this part failed on the server (5xx or error log)', () => {
    assert.deepEqual(serverFailures(server!), []);
  });
});

let signatureCounter = 0;
function signatureTag(): string {
  return `referrer-${++signatureCounter}`;
}

describe('an upload survives a server restart', () => {
  it('PATCH a chunk, restart on the same data directory, GET shows the Range, PATCH the rest, PUT completes', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'custody-restart-'));
    let server: CustodyServer | undefined;
    try {
      server = await startCustody({ dataDir });
      const name = 'extras/restart';
      const blob = chunkedBlob(64 * 1024);
      const first = new OciClient(server.url);
      const started = await first.request('POST', `/v2/${name}/blobs/uploads/`, { body: '' });
      assert.equal(started.status, 202);
      const patched = await first.request('PATCH', started.location(), {
        headers: { 'Content-Range': blob.chunk1Range, 'Content-Type': 'application/octet-stream' },
        body: blob.chunk1,
      });
      assert.equal(patched.status, 202);
      assert.equal(patched.header('range'), blob.chunk1Range);
      const location = patched.location();
      assert.equal(await server.stop(), 0, 'clean shutdown');

      server = await startCustody({ dataDir });
      const second = new OciClient(server.url);
      const status = await second.request('GET', location);
      assert.equal(status.status, 204);
      assert.equal(status.header('range'), blob.chunk1Range);
      const rest = await second.request('PATCH', status.location(), {
        headers: { 'Content-Range': blob.chunk2Range, 'Content-Type': 'application/octet-stream' },
        body: blob.chunk2,
      });
      assert.equal(rest.status, 202);
      assert.equal(rest.header('range'), `0-${blob.blob.content.length - 1}`);
      const done = await second.request('PUT', rest.location(), { query: { digest: blob.blob.digest }, body: '' });
      assert.equal(done.status, 201, done.text());
      assert.equal(done.header('docker-content-digest'), blob.blob.digest);
      const read = await second.request('GET', `/v2/${name}/blobs/${blob.blob.digest}`);
      assert.equal(read.status, 200);
      assert.deepEqual(read.body, blob.blob.content);
      assert.deepEqual(serverFailures(server), []);
    } finally {
      await server?.dispose();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
