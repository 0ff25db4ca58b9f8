// What one image may cost the indexer (issue 10, item 5), at the indexer's level: layers
// listed again and again (a run is walked once, A, B, A is not A, B), the bounds on
// inflated bytes and entries, an abort that really stops the inflation, and defaults far
// above real images. test/quality-bounds-serve.test.ts drives the same through custody serve.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { encodeHeader } from '../src/image/archive/tar-writer.ts';
import type { ImageSource, ManifestData } from '../src/image/transport.ts';
import type { Digest } from '../src/core/digest.ts';
import { loadConfig } from '../src/config/config.ts';
import { indexImage } from '../src/scan/indexer/index-image.ts';
import { DEFAULT_INDEX_LIMITS, DEFAULT_TIME_BUDGET_MS, IndexLimitError } from '../src/scan/indexer/index-limits.ts';
import { walkLayers } from '../src/scan/indexer/layer-walker.ts';
import { GiB, LAYER_A, LAYER_B, MiB, gzipBomb, imageOf, type TestImage } from './support/hostile-images.ts';
import { OCI_LAYER_GZIP, OCI_MANIFEST, debianLayout, sha256 } from './support/images.ts';

/** An in-memory ImageSource that counts the layer blobs it opens. */
class MemorySource implements ImageSource {
  readonly name = 'memory:test';
  opened = 0;
  readonly #image: TestImage;
  constructor(image: TestImage) {
    this.#image = image;
  }
  async getManifest(): Promise<ManifestData> {
    return { bytes: this.#image.manifest, mediaType: OCI_MANIFEST, digest: sha256(this.#image.manifest) as Digest };
  }
  async getBlob(blob: { digest: string }): Promise<Readable> {
    this.opened++;
    return Readable.from([this.#image.blobs.get(blob.digest)!]);
  }
  async close(): Promise<void> {}
}

/** A gzip layer of one file of 256 MiB of zeros, read 1 MiB (inflated) at a time, telling how many chunks were read. */
function countingBomb(onChunk: (chunks: number) => void): Readable {
  const header = gzipSync(encodeHeader({ name: 'zeros', size: 256 * MiB }));
  const zeros = gzipSync(Buffer.alloc(MiB), { level: 9 });
  const end = gzipSync(Buffer.alloc(1024));
  let chunks = 0;
  return new Readable({
    read() {
      chunks++;
      this.push(chunks === 1 ? header : chunks <= 257 ? zeros : chunks === 258 ? end : null);
      onChunk(chunks);
    },
  });
}

// ---- the indexer ------------------------------------------------------------------------

describe('indexing bounds in the indexer', () => {
  it('walks a layer repeated right on top of itself once; A, B, A walks A again (B deleted what A puts back)', async () => {
    const once = await indexImage(new MemorySource(imageOf([LAYER_A])));
    const repeated = new MemorySource(imageOf([LAYER_A, LAYER_A, LAYER_A]));
    const twice = await indexImage(repeated);
    assert.equal(repeated.opened, 1, 'A, A, A is read once');
    assert.equal(twice.walk.length, 1);
    assert.deepEqual(twice.layers, once.layers);
    assert.deepEqual(twice.packages, once.packages);
    assert.equal(twice.os?.id, 'debian');
    assert.deepEqual(twice.packages.map((p) => `${p.name} ${p.version} ${p.layer}`), [`hello 2.10-3 ${sha256(LAYER_A)}`]);

    const deleted = await indexImage(new MemorySource(imageOf([LAYER_A, LAYER_B])));
    assert.equal(deleted.os, null);
    assert.deepEqual(deleted.packages, []);
    const restored = new MemorySource(imageOf([LAYER_A, LAYER_B, LAYER_A]));
    const back = await indexImage(restored);
    assert.equal(restored.opened, 3, 'A, B, A is three walks');
    assert.equal(back.os?.id, 'debian');
    assert.deepEqual(back.packages.map((p) => p.name), ['hello']);
    // Runs collapse wherever they are: A, A, B, B, A, A is A, B, A.
    const runs = new MemorySource(imageOf([LAYER_A, LAYER_A, LAYER_B, LAYER_B, LAYER_A, LAYER_A]));
    assert.deepEqual((await indexImage(runs)).layers.map((layer) => layer.digest), [sha256(LAYER_A), sha256(LAYER_B), sha256(LAYER_A)]);
    assert.equal(runs.opened, 3);
  });

  it('stops a gzip bomb at the layer bound, and counts a layer walked again against the image bound', async () => {
    const bomb = gzipBomb(4 * GiB);
    assert.ok(bomb.length < 5 * MiB);
    const source = new MemorySource(imageOf([bomb]));
    await assert.rejects(indexImage(source, { limits: { ...DEFAULT_INDEX_LIMITS, maxLayerBytes: 64 * MiB } }), (error: unknown) => {
      assert.ok(error instanceof IndexLimitError);
      assert.equal(error.limit, 'layerBytes');
      assert.equal(error.message, `too large: layer 1 (${sha256(bomb)}) inflates to more than 64 MiB`);
      return true;
    });
    // A (1 KiB), B, A, B... each walk counts: 3 KiB of tar per walk of A or B.
    const alternating = imageOf(Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? LAYER_A : LAYER_B)));
    await assert.rejects(indexImage(new MemorySource(alternating), { limits: { ...DEFAULT_INDEX_LIMITS, maxImageBytes: 64 * 1024 } }), (error: unknown) => {
      assert.ok(error instanceof IndexLimitError);
      assert.equal(error.limit, 'imageBytes');
      assert.match(error.message, /^too large: the layers inflate to more than 64 KiB \(at layer \d+ /);
      return true;
    });
    await assert.rejects(indexImage(new MemorySource(alternating), { limits: { ...DEFAULT_INDEX_LIMITS, maxEntries: 99 } }), (error: unknown) => {
      assert.ok(error instanceof IndexLimitError);
      assert.equal(error.limit, 'entries');
      assert.match(error.message, /^too large: more than 99 files and other entries \(at layer 50 /);
      return true;
    });
  });

  it('an abort or a bound destroys the layer stream being inflated: nothing more is read', async () => {
    const walk = (layer: Readable, options: Parameters<typeof walkLayers>[2]) =>
      walkLayers([{ digest: `sha256:${'0'.repeat(64)}`, mediaType: OCI_LAYER_GZIP, size: 0, open: async () => layer }], [], options);

    const controller = new AbortController();
    const reason = new Error('budget spent');
    let read = 0;
    const aborted = countingBomb((chunks) => {
      read = chunks;
      if (chunks === 3) controller.abort(reason);
    });
    await assert.rejects(walk(aborted, { signal: controller.signal }), (error: unknown) => error === reason);
    assert.equal(aborted.destroyed, true);
    const readAtAbort = read;
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(read, readAtAbort, 'no byte is read after the abort');

    let pulled = 0;
    const bounded = countingBomb((chunks) => (pulled = chunks));
    await assert.rejects(walk(bounded, { limits: { ...DEFAULT_INDEX_LIMITS, maxLayerBytes: 16 * MiB } }), (error: unknown) => error instanceof IndexLimitError && error.limit === 'layerBytes');
    assert.equal(bounded.destroyed, true);
    const pulledAtLimit = pulled;
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(pulled, pulledAtLimit, 'no byte is read after the bound');
  });

  it('has defaults far above real images, and the configuration gives the same', async () => {
    assert.ok(DEFAULT_INDEX_LIMITS.maxLayerBytes >= 8 * GiB && DEFAULT_INDEX_LIMITS.maxImageBytes >= DEFAULT_INDEX_LIMITS.maxLayerBytes);
    assert.ok(DEFAULT_TIME_BUDGET_MS >= 60_000 && DEFAULT_TIME_BUDGET_MS <= 15 * 60_000);
    // The real Debian image uses a sliver of them.
    const { OciLayoutSource } = await import('../src/image/transports/index.ts');
    const debian = await indexImage(new OciLayoutSource(`${debianLayout()}:bookworm-curl`));
    const bytes = debian.walk.reduce((sum, layer) => sum + layer.contentBytes, 0);
    const entries = debian.walk.reduce((sum, layer) => sum + layer.entries, 0);
    assert.ok(bytes * 100 < DEFAULT_INDEX_LIMITS.maxImageBytes && entries * 100 < DEFAULT_INDEX_LIMITS.maxEntries, `${bytes} bytes, ${entries} entries`);
    const config = loadConfig({ env: {} });
    assert.deepEqual(config.quality.limits, DEFAULT_INDEX_LIMITS);
    assert.equal(config.quality.timeBudgetMs, DEFAULT_TIME_BUDGET_MS);
  });
});
