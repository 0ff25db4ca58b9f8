// The registry HTTP client against a real Custody registry: uploads (monolithic and
// chunked), mounts, manifests, tag pagination, referrers and the registry's error codes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { RegistryClient, RegistryClientError } from '../src/client/registry-client/index.ts';
import { digestOf } from '../src/core/digest.ts';
import { EMPTY_JSON_CONTENT, EMPTY_JSON_DIGEST, MediaType } from '../src/core/media-types.ts';
import { startCustody, type CustodyServer } from './support/custody-server.ts';

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) parts.push(chunk);
  return Buffer.concat(parts);
}

function manifestFor(layers: { digest: string; size: number }[], extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciEmpty, digest: EMPTY_JSON_DIGEST, size: 2 },
      layers: layers.map((layer) => ({ mediaType: MediaType.OciLayerTar, digest: layer.digest, size: layer.size })),
      ...extra,
    }),
  );
}

async function rejectsWith(promise: Promise<unknown>, code: string, status?: number): Promise<RegistryClientError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof RegistryClientError, `expected RegistryClientError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (status !== undefined) assert.equal(error.status, status);
    return error;
  }
  assert.fail(`expected a ${code} error`);
}

describe('registry client against Custody', () => {
  let server: CustodyServer;
  let client: RegistryClient;

  before(async () => {
    server = await startCustody({ args: ['--limits-max-page-size', '3'] });
    client = new RegistryClient({ registry: server.host, insecure: true, userAgent: 'custody-test/1', upload: { chunkSize: 64 * 1024 } });
  });
  after(async () => {
    client.close();
    await server.dispose();
  });

  test('checkVersion', async () => {
    await client.checkVersion();
  });

  test('pushes a small blob monolithically and reads it back verified', async () => {
    const data = randomBytes(10_000);
    const digest = digestOf(data);
    assert.equal(await client.blobExists('small/repo', digest), false);
    const result = await client.pushBlob('small/repo', digest, data.length, () => Readable.from([data]));
    assert.equal(result.chunks, 0);
    assert.equal(result.digest, digest);
    assert.equal(await client.blobExists('small/repo', digest), true);
    assert.deepEqual(await collect(await client.getBlob('small/repo', digest)), data);
  });

  test('pushes a large blob in chunks with Content-Range', async () => {
    const data = randomBytes(300 * 1024 + 17);
    const digest = digestOf(data);
    // Deliberately odd source piece sizes, to exercise regrouping into chunks.
    const pieces = (): Readable => Readable.from((function* () { for (let i = 0; i < data.length; i += 10_007) yield data.subarray(i, i + 10_007); })());
    const result = await client.pushBlob('large/repo', digest, data.length, pieces);
    assert.equal(result.chunks, 5);
    const read = await collect(await client.getBlob('large/repo', digest));
    assert.equal(read.length, data.length);
    assert.ok(read.equals(data));
  });

  test('a blob whose bytes do not match the digest is refused with DIGEST_INVALID', async () => {
    const data = randomBytes(1000);
    const wrong = digestOf(Buffer.from('something else'));
    await rejectsWith(client.pushBlob('bad/repo', wrong, data.length, () => Readable.from([data])), 'DIGEST_INVALID', 400);
    const large = randomBytes(100 * 1024);
    await rejectsWith(client.pushBlob('bad/repo', wrong, large.length, () => Readable.from([large])), 'DIGEST_INVALID', 400);
  });

  test('mounts a blob across repositories; a missing source is not mounted', async () => {
    const data = randomBytes(5000);
    const digest = digestOf(data);
    await client.pushBlob('mount/source', digest, data.length, () => Readable.from([data]));
    assert.equal(await client.mountBlob('mount/target', digest, 'mount/source'), true);
    assert.equal(await client.blobExists('mount/target', digest), true);
    const absent = digestOf(randomBytes(10));
    assert.equal(await client.mountBlob('mount/target', absent, 'mount/source'), false);
    assert.equal(await client.blobExists('mount/target', absent), false);
  });

  test('manifests: put, get, head, delete; errors carry the OCI codes', async () => {
    const repo = 'manifests/repo';
    await client.pushBlob(repo, EMPTY_JSON_DIGEST, 2, () => Readable.from([Buffer.from(EMPTY_JSON_CONTENT)]));
    const layer = randomBytes(2000);
    const layerDigest = digestOf(layer);
    await client.pushBlob(repo, layerDigest, layer.length, () => Readable.from([layer]));
    const bytes = manifestFor([{ digest: layerDigest, size: layer.length }]);
    const put = await client.putManifest(repo, 'v1', bytes, MediaType.OciManifest);
    assert.equal(put.digest, digestOf(bytes));

    const byTag = await client.getManifest(repo, 'v1');
    assert.equal(byTag.digest, put.digest);
    assert.equal(byTag.mediaType, MediaType.OciManifest);
    assert.ok(byTag.bytes.equals(bytes));
    const byDigest = await client.getManifest(repo, put.digest);
    assert.ok(byDigest.bytes.equals(bytes));

    const head = await client.headManifest(repo, 'v1');
    assert.deepEqual(head, { mediaType: MediaType.OciManifest, digest: put.digest, size: bytes.length });
    assert.equal(await client.headManifest(repo, 'nope'), undefined);

    const missing = await rejectsWith(client.getManifest(repo, 'nope'), 'MANIFEST_UNKNOWN', 404);
    assert.match(missing.message, /manifest_unknown/);
    await rejectsWith(client.getBlob(repo, digestOf(Buffer.from('absent'))), 'BLOB_UNKNOWN', 404);
    const unknownLayer = manifestFor([{ digest: digestOf(Buffer.from('absent')), size: 6 }]);
    await rejectsWith(client.putManifest(repo, 'broken', unknownLayer, MediaType.OciManifest), 'MANIFEST_BLOB_UNKNOWN', 400);
    await rejectsWith(client.putManifest(repo, digestOf(Buffer.from('x')), bytes, MediaType.OciManifest), 'DIGEST_INVALID');

    await client.deleteManifest(repo, put.digest);
    assert.equal(await client.headManifest(repo, 'v1'), undefined);
    await rejectsWith(client.getManifest(repo, put.digest), 'MANIFEST_UNKNOWN', 404);
  });

  test('lists tags and the catalog across Link pages', async () => {
    const repo = 'tags/repo';
    await client.pushBlob(repo, EMPTY_JSON_DIGEST, 2, () => Readable.from([Buffer.from(EMPTY_JSON_CONTENT)]));
    const bytes = manifestFor([]);
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'latest'];
    for (const tag of names) await client.putManifest(repo, tag, bytes, MediaType.OciManifest);
    assert.deepEqual((await client.listTags(repo)).sort(), names);
    assert.deepEqual((await client.listTags(repo, { pageSize: 2 })).sort(), names);
    const catalog = await client.catalog();
    assert.ok(catalog.includes(repo), catalog.join(','));
    assert.ok(catalog.length > 3, 'more repositories than one page');
    await rejectsWith(client.listTags('never/pushed'), 'NAME_UNKNOWN', 404);
  });

  test('referrers, with and without an artifactType filter', async () => {
    const repo = 'referrers/repo';
    await client.pushBlob(repo, EMPTY_JSON_DIGEST, 2, () => Readable.from([Buffer.from(EMPTY_JSON_CONTENT)]));
    const subjectBytes = manifestFor([]);
    const subject = await client.putManifest(repo, 'subject', subjectBytes, MediaType.OciManifest);
    const descriptor = { mediaType: MediaType.OciManifest, digest: subject.digest, size: subjectBytes.length };
    const sbom = manifestFor([], { artifactType: 'application/vnd.test.sbom', subject: descriptor });
    const sig = manifestFor([], { artifactType: 'application/vnd.test.sig', subject: descriptor });
    const putSbom = await client.putManifest(repo, digestOf(sbom), sbom, MediaType.OciManifest);
    assert.equal(putSbom.subject, subject.digest);
    await client.putManifest(repo, digestOf(sig), sig, MediaType.OciManifest);
    const all = await client.referrers(repo, subject.digest);
    assert.equal(all.api, true);
    assert.deepEqual(all.manifests.map((entry) => entry.digest).sort(), [digestOf(sbom), digestOf(sig)].sort());
    const filtered = await client.referrers(repo, subject.digest, 'application/vnd.test.sig');
    assert.deepEqual(filtered.manifests.map((entry) => entry.digest), [digestOf(sig)]);
    assert.equal(filtered.manifests[0]?.artifactType, 'application/vnd.test.sig');
  });
});
