// Unit tests of the pure core: digests, names and tags, manifest parsing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { digestOf, isDigest, parseDigest, toDigest } from '../src/core/digest.ts';
import { RegistryError, ERROR_CODES } from '../src/core/errors.ts';
import { isTag, validateRepositoryName, validateTag, MAX_REPOSITORY_NAME_LENGTH } from '../src/core/names.ts';
import { parseManifest, type ParsedManifest } from '../src/core/manifest.ts';
import { EMPTY_JSON_CONTENT, EMPTY_JSON_DIGEST, MediaType } from '../src/core/media-types.ts';

const HEX64 = 'a'.repeat(64);
const HEX128 = '0123456789abcdef'.repeat(8);

function rejectsWith(code: string, pattern?: RegExp): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof RegistryError, `expected a RegistryError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.equal(error.status, ERROR_CODES[error.code].status);
    if (pattern) assert.match(error.message, pattern);
    return true;
  };
}

describe('digests', () => {
  it('accepts sha256 and sha512 digests', () => {
    assert.deepEqual(parseDigest(`sha256:${HEX64}`), { algorithm: 'sha256', hex: HEX64 });
    assert.deepEqual(parseDigest(`sha512:${HEX128}`), { algorithm: 'sha512', hex: HEX128 });
    assert.equal(isDigest(`sha256:${HEX64}`), true);
    assert.equal(toDigest(`sha512:${HEX128}`), `sha512:${HEX128}`);
  });

  it('computes digests of content', () => {
    assert.equal(digestOf(''), 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.equal(digestOf(new TextEncoder().encode('{}')), EMPTY_JSON_DIGEST);
    assert.equal(digestOf(EMPTY_JSON_CONTENT), EMPTY_JSON_DIGEST);
    assert.equal(digestOf('abc', 'sha512'), `sha512:${createHash('sha512').update('abc').digest('hex')}`);
    assert.ok(isDigest(digestOf('x', 'sha512')));
  });

  it('refuses uppercase hex', () => {
    assert.throws(() => parseDigest(`sha256:${'A'.repeat(64)}`), rejectsWith('DIGEST_INVALID', /lowercase hex/));
    assert.throws(() => parseDigest(`sha256:${'a'.repeat(63)}B`), rejectsWith('DIGEST_INVALID'));
    assert.equal(isDigest(`sha512:${HEX128.toUpperCase()}`), false);
  });

  it('refuses unknown algorithms', () => {
    assert.throws(() => parseDigest(`md5:${'a'.repeat(32)}`), rejectsWith('DIGEST_INVALID', /unsupported digest algorithm "md5"/));
    assert.throws(() => parseDigest(`sha384:${'a'.repeat(96)}`), rejectsWith('DIGEST_INVALID', /unsupported/));
    // Grammatical, but not something this registry verifies.
    assert.throws(() => parseDigest(`multihash+base58:${'a'.repeat(40)}`), rejectsWith('DIGEST_INVALID', /unsupported/));
  });

  it('refuses wrong lengths and malformed strings', () => {
    assert.throws(() => parseDigest(`sha256:${'a'.repeat(63)}`), rejectsWith('DIGEST_INVALID', /64/));
    assert.throws(() => parseDigest(`sha256:${'a'.repeat(65)}`), rejectsWith('DIGEST_INVALID'));
    assert.throws(() => parseDigest(`sha512:${HEX64}`), rejectsWith('DIGEST_INVALID', /128/));
    assert.throws(() => parseDigest(`sha256:${'g'.repeat(64)}`), rejectsWith('DIGEST_INVALID'));
    for (const bad of ['', 'sha256', 'sha256:', `:${HEX64}`, `SHA256:${HEX64}`, `sha256::${HEX64}`, `sha256 :${HEX64}`, `sha256:${HEX64} `, `sha256:${HEX64}\n`, `sha-:${HEX64}`, `-sha256:${HEX64}`, HEX64]) {
      assert.equal(isDigest(bad), false, JSON.stringify(bad));
      assert.throws(() => parseDigest(bad), rejectsWith('DIGEST_INVALID'), JSON.stringify(bad));
    }
  });

  it('keeps error messages short for huge input', () => {
    assert.throws(
      () => parseDigest(`x${'y'.repeat(10_000)}`),
      (error: unknown) => error instanceof RegistryError && error.message.length < 200,
    );
  });
});

describe('repository names', () => {
  it('accepts the spec grammar', () => {
    for (const name of ['a', 'library/ubuntu', 'a/b/c', 'a__b', 'a---b', 'a-b', 'a.b', 'a_b', 'a0', '0', 'my.registry/team_1/app-x', 'a/b__c/d--e/f.g']) {
      assert.equal(validateRepositoryName(name), name);
    }
  });

  it('refuses uppercase, leading or trailing separators, empty components and bad separators', () => {
    for (const name of ['', 'Library', 'library/Ubuntu', '-a', '_a', '.a', '/a', 'a/', 'a-', 'a_', 'a.', 'a//b', 'a___b', 'a..b', 'a._b', 'a b', 'a:b', 'a@b', '../a', 'a/./b', 'a\\b', 'é']) {
      assert.throws(() => validateRepositoryName(name), rejectsWith('NAME_INVALID'), JSON.stringify(name));
    }
  });

  it('accepts 255 characters, refuses 256', () => {
    const at = 'a'.repeat(MAX_REPOSITORY_NAME_LENGTH);
    assert.equal(at.length, 255);
    assert.equal(validateRepositoryName(at), at);
    const components = `${'abc/'.repeat(63)}abc`;
    assert.equal(components.length, 255);
    assert.equal(validateRepositoryName(components), components);
    assert.throws(() => validateRepositoryName('a'.repeat(256)), rejectsWith('NAME_INVALID', /255/));
    assert.throws(() => validateRepositoryName(`${components}d`), rejectsWith('NAME_INVALID'));
  });
});

describe('tags', () => {
  it('accepts up to 128 characters of [A-Za-z0-9_.-] not starting with . or -', () => {
    for (const tag of ['latest', 'v1.2.3', 'V1', '_hidden', '1', 'a-b_c.d', 'A'.repeat(128), `_${'-'.repeat(127)}`]) {
      assert.equal(isTag(tag), true, tag);
      assert.equal(validateTag(tag), tag);
    }
  });

  it('refuses 129 characters, leading . or -, and other characters', () => {
    for (const tag of ['a'.repeat(129), '.hidden', '-rc1', '', 'a/b', 'a:b', 'a b', 'a+b', 'é', 'sha256:abc']) {
      assert.equal(isTag(tag), false, tag);
      assert.throws(() => validateTag(tag), rejectsWith('MANIFEST_INVALID'), tag);
    }
  });
});

// ---- manifests ---------------------------------------------------------------------

function descriptor(mediaType: string, content: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { mediaType, digest: digestOf(content), size: Buffer.byteLength(content), ...extra };
}

const config = descriptor(MediaType.OciConfig, '{"architecture":"amd64","os":"linux"}');
const layer = descriptor(MediaType.OciLayerTarGzip, 'layer-1');
const layer2 = descriptor(MediaType.OciLayerTarGzip, 'layer-2');

function encode(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

function ociManifest(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: [layer, layer2], ...extra };
}

function parse(value: unknown, contentType?: string): ParsedManifest {
  return parseManifest(encode(value), contentType);
}

function invalid(value: unknown, contentType: string | undefined, pattern?: RegExp): void {
  assert.throws(() => parse(value, contentType), rejectsWith('MANIFEST_INVALID', pattern));
}

describe('parseManifest', () => {
  it('parses an OCI image manifest', () => {
    const parsed = parse(ociManifest({ annotations: { 'org.opencontainers.image.created': 'now' } }), MediaType.OciManifest);
    assert.equal(parsed.mediaType, MediaType.OciManifest);
    assert.equal(parsed.kind, 'image');
    assert.deepEqual(parsed.blobs.map((blob) => blob.digest), [config.digest, layer.digest, layer2.digest]);
    assert.deepEqual(parsed.manifests, []);
    assert.equal(parsed.subject, undefined);
    // No artifactType declared: the referrers API shows the config's media type.
    assert.equal(parsed.artifactType, MediaType.OciConfig);
    assert.deepEqual(parsed.annotations, { 'org.opencontainers.image.created': 'now' });
    assert.equal(parsed.blobs[1]!.size, layer.size);
  });

  it('accepts an OCI manifest without mediaType, with Content-Type parameters, or sent as application/json', () => {
    const { mediaType: _omitted, ...bare } = ociManifest();
    assert.equal(parse(bare, MediaType.OciManifest).mediaType, MediaType.OciManifest);
    assert.equal(parse(bare, undefined).mediaType, MediaType.OciManifest);
    assert.equal(parse(ociManifest(), `${MediaType.OciManifest}; charset=utf-8`).mediaType, MediaType.OciManifest);
    assert.equal(parse(ociManifest(), 'application/json').mediaType, MediaType.OciManifest);
    const index = { schemaVersion: 2, manifests: [descriptor(MediaType.OciManifest, 'child')] };
    assert.equal(parse(index, undefined).kind, 'index');
    assert.equal(parse(index, undefined).mediaType, MediaType.OciIndex);
  });

  it('parses an OCI image index', () => {
    const child1 = descriptor(MediaType.OciManifest, 'child-1', { platform: { architecture: 'amd64', os: 'linux' } });
    const child2 = descriptor(MediaType.OciManifest, 'child-2', { platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } });
    const parsed = parse({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [child1, child2] }, MediaType.OciIndex);
    assert.equal(parsed.kind, 'index');
    assert.equal(parsed.mediaType, MediaType.OciIndex);
    assert.deepEqual(parsed.blobs, []);
    assert.deepEqual(parsed.manifests.map((entry) => entry.digest), [child1.digest, child2.digest]);
    assert.deepEqual(parsed.manifests[1]!.platform, { architecture: 'arm64', os: 'linux', variant: 'v8' });
    assert.equal(parsed.artifactType, undefined);
    // An index must not carry config or layers.
    invalid({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [child1], layers: [] }, MediaType.OciIndex, /config or layers/);
    invalid({ schemaVersion: 2, mediaType: MediaType.OciIndex }, MediaType.OciIndex, /manifests must be an array/);
    // A platform needs architecture and os.
    invalid({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [{ ...child1, platform: { os: 'linux' } }] }, MediaType.OciIndex, /platform/);
  });

  it('parses a Docker schema 2 manifest and manifest list', () => {
    const dockerConfig = descriptor(MediaType.DockerConfig, 'docker-config');
    const dockerLayer = descriptor(MediaType.DockerLayer, 'docker-layer');
    const manifest = parse({ schemaVersion: 2, mediaType: MediaType.DockerManifest, config: dockerConfig, layers: [dockerLayer] }, MediaType.DockerManifest);
    assert.equal(manifest.mediaType, MediaType.DockerManifest);
    assert.equal(manifest.kind, 'image');
    assert.deepEqual(manifest.blobs.map((blob) => blob.digest), [dockerConfig.digest, dockerLayer.digest]);
    assert.equal(manifest.artifactType, MediaType.DockerConfig);

    const child = descriptor(MediaType.DockerManifest, 'docker-child', { platform: { architecture: 'amd64', os: 'linux' } });
    const list = parse({ schemaVersion: 2, mediaType: MediaType.DockerManifestList, manifests: [child] }, MediaType.DockerManifestList);
    assert.equal(list.kind, 'index');
    assert.equal(list.mediaType, MediaType.DockerManifestList);
    assert.deepEqual(list.manifests.map((entry) => entry.digest), [child.digest]);

    // Docker manifests must say what they are in the body, and have layers.
    invalid({ schemaVersion: 2, config: dockerConfig, layers: [dockerLayer] }, MediaType.DockerManifest, /must carry mediaType/);
    invalid({ schemaVersion: 2, mediaType: MediaType.DockerManifest, config: dockerConfig, layers: [] }, MediaType.DockerManifest, /at least one layer/);
  });

  it('parses an artifact with artifactType, the empty config and a subject', () => {
    const empty = { mediaType: MediaType.OciEmpty, digest: EMPTY_JSON_DIGEST, size: 2, data: 'e30=' };
    const subject = descriptor(MediaType.OciManifest, 'the image');
    const signature = descriptor('application/vnd.dev.cosign.simplesigning.v1+json', 'signature payload', { annotations: { 'dev.cosignproject.cosign/signature': 'MEUC...' } });
    const parsed = parse(
      { schemaVersion: 2, mediaType: MediaType.OciManifest, artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json', config: empty, layers: [signature], subject },
      MediaType.OciManifest,
    );
    assert.equal(parsed.artifactType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    assert.equal(parsed.subject?.digest, subject.digest);
    assert.equal(parsed.subject?.size, subject.size);
    assert.deepEqual(parsed.blobs.map((blob) => blob.digest), [EMPTY_JSON_DIGEST, signature.digest]);
    assert.deepEqual(parsed.blobs[1]!.annotations, { 'dev.cosignproject.cosign/signature': 'MEUC...' });

    // An artifact with no layers at all is fine for OCI.
    const bare = parse({ schemaVersion: 2, mediaType: MediaType.OciManifest, artifactType: 'application/vnd.example+type', config: empty, layers: [] });
    assert.deepEqual(bare.blobs.map((blob) => blob.digest), [EMPTY_JSON_DIGEST]);
    assert.equal(bare.artifactType, 'application/vnd.example+type');

    // An index may have a subject and artifactType too.
    const index = parse({ schemaVersion: 2, mediaType: MediaType.OciIndex, artifactType: 'application/vnd.example.bundle', manifests: [], subject });
    assert.equal(index.subject?.digest, subject.digest);
    assert.equal(index.artifactType, 'application/vnd.example.bundle');

    invalid(ociManifest({ artifactType: 'not a media type' }), MediaType.OciManifest, /artifactType/);
    invalid(ociManifest({ subject: { mediaType: MediaType.OciManifest, digest: 'sha256:nope', size: 1 } }), MediaType.OciManifest, /subject/);
  });

  it('leaves non-distributable layers out of the blobs that must exist', () => {
    const foreign = descriptor(MediaType.DockerForeignLayer, 'windows base', { urls: ['https://mcr.microsoft.com/layer'] });
    const ociForeign = descriptor('application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', 'oci foreign');
    const ordinary = descriptor(MediaType.DockerLayer, 'ordinary');
    const dockerConfig = descriptor(MediaType.DockerConfig, 'cfg');
    const parsed = parse({ schemaVersion: 2, mediaType: MediaType.DockerManifest, config: dockerConfig, layers: [foreign, ociForeign, ordinary] }, MediaType.DockerManifest);
    assert.deepEqual(parsed.blobs.map((blob) => blob.digest), [dockerConfig.digest, ordinary.digest]);
  });

  it('refuses Docker schema 1 with a message that says so', () => {
    const schema1 = { schemaVersion: 1, name: 'library/app', tag: 'latest', architecture: 'amd64', fsLayers: [], history: [] };
    invalid(schema1, MediaType.DockerSchema1, /schema 1/);
    invalid(schema1, MediaType.DockerSchema1Signed, /schema 1/);
    invalid(schema1, undefined, /schema 1/);
    invalid(schema1, 'application/json', /schema 1/);
    invalid({ ...ociManifest(), mediaType: MediaType.DockerSchema1 }, undefined, /schema 1/);
  });

  it('refuses a Content-Type that contradicts the manifest\'s mediaType', () => {
    invalid(ociManifest(), MediaType.DockerManifest, /does not match/);
    invalid(ociManifest(), MediaType.OciIndex, /does not match/);
    invalid({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] }, MediaType.OciManifest, /does not match/);
  });

  it('refuses unsupported media types', () => {
    invalid({ ...ociManifest(), mediaType: 'application/vnd.example.thing+json' }, 'application/vnd.example.thing+json', /unsupported manifest media type/);
    invalid({ schemaVersion: 2, config, layers: [] }, 'text/plain', /unsupported manifest media type/);
    invalid({ ...ociManifest(), mediaType: MediaType.OciConfig }, undefined, /unsupported manifest media type/);
  });

  it('refuses invalid JSON, wrong shapes and wrong schemaVersion', () => {
    assert.throws(() => parseManifest(new TextEncoder().encode('{not json'), MediaType.OciManifest), rejectsWith('MANIFEST_INVALID', /not valid JSON/));
    assert.throws(() => parseManifest(new TextEncoder().encode(''), MediaType.OciManifest), rejectsWith('MANIFEST_INVALID'));
    invalid([ociManifest()], MediaType.OciManifest, /JSON object/);
    invalid('a string', MediaType.OciManifest, /JSON object/);
    invalid(ociManifest({ schemaVersion: 3 }), MediaType.OciManifest, /schemaVersion must be 2/);
    invalid(ociManifest({ schemaVersion: '2' }), MediaType.OciManifest, /schemaVersion/);
    invalid(ociManifest({ mediaType: 42 }), undefined, /mediaType must be a string/);
    invalid(ociManifest({ layers: undefined }), MediaType.OciManifest, /layers must be an array/);
    invalid(ociManifest({ manifests: [] }), MediaType.OciManifest, /must not carry manifests/);
    invalid(ociManifest({ annotations: { a: 1 } }), MediaType.OciManifest, /annotation "a"/);
    invalid(ociManifest({ annotations: ['x'] }), MediaType.OciManifest, /annotations/);
  });

  it('refuses invalid descriptors with MANIFEST_INVALID, naming the field', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...layer, digest: 'sha256:1234' }, /layers\[0\]: invalid sha256 digest/],
      [{ ...layer, digest: `sha256:${'A'.repeat(64)}` }, /layers\[0\]/],
      [{ ...layer, digest: `md5:${'a'.repeat(32)}` }, /unsupported digest algorithm/],
      [{ ...layer, digest: undefined }, /layers\[0\]: digest must be a string/],
      [{ ...layer, size: -1 }, /size must be a non-negative integer/],
      [{ ...layer, size: 1.5 }, /size/],
      [{ ...layer, size: '10' }, /size/],
      [{ ...layer, size: 2 ** 60 }, /size/],
      [{ ...layer, mediaType: 'not-a-media-type' }, /mediaType must be a valid media type/],
      [{ ...layer, mediaType: undefined }, /mediaType/],
      [{ ...layer, urls: 'https://example.com' }, /urls/],
      [{ ...layer, urls: [1] }, /urls/],
      [{ ...layer, annotations: { key: false } }, /annotation "key"/],
      [{ ...layer, platform: 'linux/amd64' }, /platform must be an object/],
    ];
    for (const [bad, pattern] of cases) invalid(ociManifest({ layers: [layer2, bad] }), MediaType.OciManifest, new RegExp(pattern.source.replace('layers\\[0\\]', 'layers\\[1\\]')));
    invalid(ociManifest({ config: 'sha256:abc' }), MediaType.OciManifest, /config: descriptor must be an object/);
    invalid(ociManifest({ config: undefined }), MediaType.OciManifest, /config/);
    invalid(ociManifest({ layers: [null] }), MediaType.OciManifest, /layers\[0\]: descriptor must be an object/);
    invalid({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [{ mediaType: MediaType.OciManifest, size: 3 }] }, MediaType.OciIndex, /manifests\[0\]: digest/);
  });
});
