// The SignatureStore contract over any SqlClient, after migrate(): signatures of a
// manifest in a repository (the extension API's addressing), deduplicated by content,
// refused on a name clash or past the limit, and gone with the manifest's link. Each test
// gets a fresh database from `openClient`; the stores come from the factories.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { ociError } from '../../src/core/errors.ts';
import { migrate } from '../../src/metadata/migrations.ts';
import type { SqlClient } from '../../src/metadata/sql-client.ts';
import type { MetadataStore, NewManifest } from '../../src/metadata/metadata-store.ts';
import { MAX_SIGNATURES_PER_MANIFEST, type SignatureStore } from '../../src/metadata/signature-store.ts';
import type { StoreFactories } from '../support/sql-stores.ts';
import { blobDigest, manifest } from './metadata-suite.ts';

const T0 = 1_700_000_000_000;

function signature(id: string, content = `signature ${id}`): { name: string; kind: 'simple-signing'; content: Buffer } {
  return { name: id, kind: 'simple-signing', content: Buffer.from(content) };
}

/** The code the client is answered with: the typed error through the one table. */
function answered(code: string): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.equal(ociError(error)?.code, code, String(error));
    return true;
  };
}

export function signatureSuite(name: string, openClient: () => Promise<SqlClient>, stores: StoreFactories): void {
  describe(`SignatureStore contract: ${name}`, () => {
    let sql: SqlClient;
    let metadata: MetadataStore;
    let store: SignatureStore;
    let image: NewManifest;

    beforeEach(async () => {
      sql = await openClient();
      await migrate(sql);
      metadata = stores.metadata(sql);
      store = stores.signatures(sql);
      image = manifest('acme/app', { blobs: [blobDigest('layer')], tag: 'v1', now: T0 });
      await metadata.linkBlob('acme/app', blobDigest('layer'), 10, T0);
      await metadata.putManifest(image);
    });
    afterEach(async () => {
      await sql.close();
    });

    it('adds, lists oldest first, deduplicates by content, refuses another content under a taken name', async () => {
      const name1 = `${image.digest}@1`;
      assert.deepEqual(await store.list('acme/app', image.digest), []);
      assert.deepEqual(await store.add('acme/app', image.digest, signature(name1)), { created: true, name: name1 });
      assert.deepEqual(await store.add('acme/app', image.digest, signature(`${image.digest}@2`, 'other')), { created: true, name: `${image.digest}@2` });
      // The same content again (clients upload on every copy), under any name: the stored one.
      assert.deepEqual(await store.add('acme/app', image.digest, signature(`${image.digest}@9`, `signature ${name1}`)), { created: false, name: name1 });
      await assert.rejects(store.add('acme/app', image.digest, signature(name1, 'different')), answered('CONFLICT'));
      const listed = await store.list('acme/app', image.digest);
      assert.deepEqual(listed.map((entry) => [entry.name, entry.kind, entry.content.toString()]), [[name1, 'simple-signing', `signature ${name1}`], [`${image.digest}@2`, 'simple-signing', 'other']]);
      assert.ok(listed.every((entry) => Buffer.isBuffer(entry.content) && typeof entry.createdAt === 'number'));
    });

    it('a manifest the repository does not hold has no signatures, and takes none', async () => {
      const absent = blobDigest('absent');
      await assert.rejects(store.list('acme/app', absent), answered('MANIFEST_UNKNOWN'));
      await assert.rejects(store.list('other/app', image.digest), answered('MANIFEST_UNKNOWN'));
      await assert.rejects(store.add('other/app', image.digest, signature('x')), answered('MANIFEST_UNKNOWN'));
    });

    it('remove, counts per manifest, and signatures leave with the manifest link', async () => {
      const second = manifest('acme/app', { blobs: [blobDigest('layer')], now: T0 });
      await metadata.putManifest(second);
      await store.add('acme/app', image.digest, signature('a'));
      await store.add('acme/app', image.digest, signature('b'));
      await store.add('acme/app', second.digest, signature('c'));
      assert.deepEqual(await store.counts('acme/app', [image.digest, second.digest, blobDigest('none')]), new Map([[image.digest, 2], [second.digest, 1]]));
      assert.deepEqual(await store.counts('acme/app', []), new Map());
      assert.equal(await store.remove('acme/app', image.digest, 'a'), true);
      assert.equal(await store.remove('acme/app', image.digest, 'a'), false);
      assert.equal(await store.remove('other/app', image.digest, 'b'), false, 'only in its repository');
      assert.deepEqual((await store.list('acme/app', image.digest)).map((entry) => entry.name), ['b']);
      await metadata.deleteManifest('acme/app', image.digest, T0 + 1);
      assert.deepEqual(await store.counts('acme/app', [image.digest, second.digest]), new Map([[second.digest, 1]]));
      await metadata.putManifest({ ...image, now: T0 + 2 });
      assert.deepEqual(await store.list('acme/app', image.digest), [], 'pushed again, it starts without signatures');
    });

    it(`at most ${MAX_SIGNATURES_PER_MANIFEST} signatures per manifest`, async () => {
      for (let n = 0; n < MAX_SIGNATURES_PER_MANIFEST; n++) await store.add('acme/app', image.digest, signature(`s${n}`));
      await assert.rejects(store.add('acme/app', image.digest, signature('one-more')), answered('DENIED'));
      assert.equal((await store.counts('acme/app', [image.digest])).get(image.digest), MAX_SIGNATURES_PER_MANIFEST);
      assert.deepEqual(await store.add('acme/app', image.digest, signature('s0')), { created: false, name: 's0' }, 'a known one is still recognised');
    });
  });
}
