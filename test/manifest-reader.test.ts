// The one manifest reader (src/core/manifest-reader.ts) that the client, the scanner, trust
// and the CLI read manifests, indexes and image configurations with, and parseManifest's
// decoding through it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryError } from '../src/core/errors.ts';
import { parseManifest } from '../src/core/manifest.ts';
import { indexEntries, ManifestJsonError, manifestMediaType, readImageConfig, readJsonObject, readManifestJson } from '../src/core/manifest-reader.ts';
import { MediaType } from '../src/core/media-types.ts';

const text = (value: unknown): Uint8Array => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
const DIGEST = `sha256:${'a'.repeat(64)}`;

function captureMessage(work: () => unknown): string {
  try {
    work();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected an error');
}

describe('manifest reader', () => {
  it('reads a manifest, an index and an image configuration as they are', () => {
    const manifest = { schemaVersion: 2, mediaType: MediaType.OciManifest, config: { mediaType: MediaType.OciConfig, digest: DIGEST, size: 2 }, layers: [{ mediaType: MediaType.OciLayerTarGzip, digest: DIGEST, size: 3 }], vendor: { x: 1 } };
    assert.deepEqual(readManifestJson(text(manifest)), manifest);
    const index = { schemaVersion: 2, manifests: [{ mediaType: MediaType.OciManifest, digest: DIGEST, size: 9, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }] };
    assert.deepEqual(indexEntries(readManifestJson(JSON.stringify(index))), index.manifests);
    assert.deepEqual(indexEntries(readManifestJson(text(manifest))), []);
    assert.equal(readImageConfig(text({ created: '2024-01-01T00:00:00Z', config: { Labels: { a: 'b' } } })).config?.Labels?.a, 'b');
  });

  it('reads well-known fields of the wrong JSON type as absent, keeping the rest and the order', () => {
    const read = readManifestJson(text({ schemaVersion: '2', mediaType: 5, layers: {}, manifests: 'x', config: [], annotations: null, extra: true }));
    assert.deepEqual(Object.keys(read), ['extra']);
    const bytes = text({ mediaType: MediaType.OciIndex, manifests: [] });
    assert.deepEqual(Object.keys(readManifestJson(bytes)), ['mediaType', 'manifests']);
  });

  it('refuses what is not a JSON object with a typed error', () => {
    for (const [input, reason] of [['{not json', 'syntax'], ['null', 'not-an-object'], ['[]', 'not-an-object'], ['"manifest"', 'not-an-object']] as const) {
      assert.throws(() => readJsonObject(text(input)), (error: unknown) => error instanceof ManifestJsonError && error.reason === reason);
    }
    // JSON.parse's own message, so callers that passed it on before still say the same.
    const syntax = captureMessage(() => JSON.parse('{"a":'));
    assert.throws(() => readManifestJson(text('{"a":')), (error: unknown) => error instanceof ManifestJsonError && error.message === syntax);
  });

  it('guesses the media type of a manifest that declares none', () => {
    assert.equal(manifestMediaType(text({ mediaType: MediaType.DockerManifest })), MediaType.DockerManifest);
    assert.equal(manifestMediaType(text({ schemaVersion: 2 }), MediaType.OciIndex), MediaType.OciIndex);
    assert.equal(manifestMediaType(text({ manifests: [] })), MediaType.OciIndex);
    assert.equal(manifestMediaType(text({ config: { mediaType: MediaType.DockerConfig } })), MediaType.DockerManifest);
    assert.equal(manifestMediaType(text({ config: { mediaType: MediaType.OciConfig } })), MediaType.OciManifest);
    assert.throws(() => manifestMediaType(text('nope')), /the manifest is not valid JSON/);
  });

  it('parseManifest decodes through it and keeps its MANIFEST_INVALID messages', () => {
    const invalid = (input: string, pattern: RegExp) =>
      assert.throws(() => parseManifest(text(input), MediaType.OciManifest), (error: unknown) => error instanceof RegistryError && error.code === 'MANIFEST_INVALID' && pattern.test(error.message));
    invalid('{not json', /^manifest is not valid JSON: /);
    invalid('[1]', /^manifest must be a JSON object$/);
    invalid('null', /^manifest must be a JSON object$/);
  });
});
