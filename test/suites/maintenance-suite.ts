// The MaintenanceStore contract over any SqlClient, after migrate(): what garbage
// collection sweeps (each deletion re-checking its condition in its own transaction) and
// what fsck reads. The marking queries are in metadata-suite.ts, beside the pushes they
// follow. Each test gets a fresh database from `openClient`; the stores come from the
// factories. With `openReplica` (PostgreSQL), a batch is also shown to pass over a blob
// row a push holds instead of waiting for it.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { Digest } from '../../src/core/digest.ts';
import { migrate } from '../../src/metadata/migrations.ts';
import type { SqlClient } from '../../src/metadata/sql-client.ts';
import type { MaintenanceStore } from '../../src/metadata/maintenance-store.ts';
import type { MetadataStore, NewManifest } from '../../src/metadata/metadata-store.ts';
import type { StoreFactories } from '../support/sql-stores.ts';
import { blobDigest, manifest, pushManifest } from './metadata-suite.ts';

const T0 = 1_700_000_000_000;

export interface MaintenanceSuiteOptions {
  /** Another client on the database `first` is on (a second replica), closed by the suite. */
  readonly openReplica?: (first: SqlClient) => Promise<SqlClient>;
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

export function maintenanceSuite(name: string, openClient: () => Promise<SqlClient>, stores: StoreFactories, options: MaintenanceSuiteOptions = {}): void {
  describe(`MaintenanceStore contract: ${name}`, () => {
    let sql: SqlClient;
    let metadata: MetadataStore;
    let store: MaintenanceStore;

    beforeEach(async () => {
      sql = await openClient();
      await migrate(sql);
      metadata = stores.metadata(sql);
      store = stores.maintenance(sql);
    });
    afterEach(async () => {
      await sql.close();
    });

    const push = (entry: NewManifest): Promise<NewManifest> => pushManifest(metadata, entry);

    it('removeRepositoryManifest unlinks an untagged manifest, unless it was used or tagged meanwhile', async () => {
      const untagged = await push(manifest('app', { blobs: [blobDigest('u')], now: T0 }));
      const signature = await push(manifest('app', { blobs: [blobDigest('s')], subject: untagged.digest, artifactType: 'application/vnd.example.sig', now: T0 }));
      const refs = await store.unreachableManifests(T0 + 1);
      const ref = refs.find((entry) => entry.digest === untagged.digest)!;
      assert.ok(ref);
      // Tagged since it was listed: kept.
      await push({ ...untagged, tag: 'late', now: T0 });
      assert.equal(await store.removeRepositoryManifest(ref, T0 + 1), false);
      await metadata.deleteTag('app', 'late', T0);
      // Used since (a pull or push touched it after usedBefore): kept.
      await push({ ...untagged, now: T0 + 5 });
      assert.equal(await store.removeRepositoryManifest(ref, T0 + 1), false);
      assert.equal(await store.removeRepositoryManifest(ref, T0 + 10), true);
      assert.equal(await store.removeRepositoryManifest(ref, T0 + 10), false, 'once');
      assert.equal(await metadata.getManifestByDigest('app', untagged.digest), null);
      assert.deepEqual(await metadata.listReferrers('app', untagged.digest), [{ digest: signature.digest, mediaType: signature.mediaType, size: signature.content.byteLength, artifactType: 'application/vnd.example.sig', annotations: null }], 'its referrers are unlinked on their own turn');
    });

    it('orphanManifests and deleteOrphanManifest: only manifests no repository links, unused since the time', async () => {
      const linked = await push(manifest('app', { blobs: [blobDigest('l')], tag: 'v1', now: T0 }));
      const orphan = await push(manifest('app', { blobs: [blobDigest('o')], now: T0 }));
      await metadata.deleteManifest('app', orphan.digest, T0);
      assert.deepEqual(await store.orphanManifests(T0 + 1), [{ digest: orphan.digest, size: orphan.content.byteLength }]);
      assert.deepEqual(await store.orphanManifests(T0), [], 'not before it was last used');
      assert.equal(await store.deleteOrphanManifest(linked.digest, T0 + 1), false, 'a linked manifest is kept');
      // Pushed again meanwhile (linked, and used): kept.
      await push({ ...orphan, now: T0 + 5 });
      assert.equal(await store.deleteOrphanManifest(orphan.digest, T0 + 1), false);
      await metadata.deleteManifest('app', orphan.digest, T0 + 5);
      assert.equal(await store.deleteOrphanManifest(orphan.digest, T0 + 10), true);
      assert.equal(await store.deleteOrphanManifest(orphan.digest, T0 + 10), false, 'once');
      assert.deepEqual(await store.orphanManifests(T0 + 10), []);
    });

    it('deleteBlobs removes the content and records of blobs still unreferenced and unused, in one go; a failed removal keeps the records', async () => {
      const referenced = blobDigest('referenced');
      const recent = blobDigest('recent');
      const doomed = [blobDigest('d1'), blobDigest('d2')];
      await push(manifest('app', { blobs: [referenced], tag: 'v1', now: T0 }));
      for (const digest of doomed) await metadata.linkBlob('app', digest, 7, T0);
      await metadata.linkBlob('app', recent, 7, T0 + 50);
      const candidates = [referenced, recent, ...doomed, blobDigest('no-record')];
      await assert.rejects(store.deleteBlobs(candidates, T0 + 10, async () => {
        throw new Error('storage says no');
      }), /storage says no/);
      for (const digest of doomed) assert.notEqual(await metadata.findBlob(digest), null, 'rolled back');
      const removedContent: Digest[][] = [];
      const removed = await store.deleteBlobs(candidates, T0 + 10, async (digests) => void removedContent.push(digests));
      assert.deepEqual([...removed].sort(), [...doomed].sort());
      assert.deepEqual(removedContent.map((batch) => [...batch].sort()), [[...doomed].sort()], 'one storage call for the batch');
      for (const digest of doomed) {
        assert.equal(await metadata.findBlob(digest), null);
        assert.equal(await metadata.findRepositoryBlob('app', digest), null);
      }
      assert.notEqual(await metadata.findBlob(referenced), null);
      assert.notEqual(await metadata.findBlob(recent), null);
      assert.deepEqual(await store.deleteBlobs([], T0 + 10, async () => assert.fail('nothing to remove')), []);
      assert.deepEqual(await store.deleteBlobs([recent], T0 + 10, async () => assert.fail('nothing to remove')), []);
    });

    it('deleteUnrecordedContents removes content no record knows, in one storage call, and leaves no row', async () => {
      const recorded = blobDigest('recorded');
      await metadata.linkBlob('app', recorded, 10, T0);
      const strays = [blobDigest('s2'), blobDigest('s1')];
      const calls: Digest[][] = [];
      const removed = await store.deleteUnrecordedContents([recorded, ...strays], async (digests) => void calls.push(digests));
      assert.deepEqual([...removed].sort(), [...strays].sort());
      assert.deepEqual(calls.map((batch) => [...batch].sort()), [[...strays].sort()]);
      for (const digest of strays) assert.equal(await metadata.findBlob(digest), null);
      assert.equal((await metadata.findBlob(recorded))?.size, 10);
      assert.deepEqual(await store.deleteUnrecordedContents([recorded], async () => assert.fail('recorded content is kept')), []);
    });

    it('knownBlobs tells which digests have a record, across batches', async () => {
      const known = Array.from({ length: 620 }, (_, index) => blobDigest(`k${index}`));
      for (const digest of known) await metadata.linkBlob('app', digest, 1, T0);
      const asked = [...known, ...Array.from({ length: 30 }, (_, index) => blobDigest(`unknown${index}`))];
      assert.deepEqual([...(await store.knownBlobs(asked))].sort(), [...known].sort());
      assert.deepEqual([...(await store.knownBlobs([]))], []);
    });

    it('blobStillLinked: recorded and linked, not after the last unlink or for an unknown digest', async () => {
      const digest = blobDigest('still');
      await metadata.linkBlob('app', digest, 1, T0);
      assert.equal(await store.blobStillLinked(digest), true);
      await metadata.unlinkBlob('app', digest);
      assert.equal(await store.blobStillLinked(digest), false);
      assert.equal(await store.blobStillLinked(blobDigest('never')), false);
    });

    it('fsck reads: tags without their manifest, references with their links, every manifest and blob row in pages, upload ids', async () => {
      const layer = blobDigest('layer');
      const image = await push(manifest('app', { blobs: [layer], tag: 'v1', now: T0 }));
      const index = await push(manifest('app', { manifests: [image.digest], tag: 'multi', now: T0 }));
      const loose = await push(manifest('app', { blobs: [blobDigest('loose')], tag: 'loose', now: T0 }));
      assert.deepEqual(await store.tagsWithoutManifest(), []);
      assert.deepEqual(
        (await store.manifestReferences()).map((row) => [row.repository, row.digest, row.childDigest, row.kind, row.linked]).sort(),
        [
          ['app', image.digest, layer, 'blob', true],
          ['app', index.digest, image.digest, 'manifest', true],
          ['app', loose.digest, blobDigest('loose'), 'blob', true],
        ].sort(),
      );
      // Corruption fsck exists to find: a link gone under a tag, a blob unlinked under a manifest.
      await sql.run('DELETE FROM repository_manifests WHERE digest = ?', [loose.digest]);
      await sql.run('DELETE FROM repository_blobs WHERE digest = ?', [layer]);
      assert.deepEqual(await store.tagsWithoutManifest(), [{ repository: 'app', tag: 'loose', digest: loose.digest }]);
      const references = await store.manifestReferences();
      assert.equal(references.find((row) => row.childDigest === layer)?.linked, false);
      assert.equal(references.some((row) => row.digest === loose.digest), false, 'only linked manifests are read');

      // Pages: more manifests than one page (200), more blobs than one page (500).
      for (let n = 0; n < 210; n++) await push(manifest('bulk', { blobs: [], now: T0 }));
      for (let n = 0; n < 510; n++) await metadata.linkBlob('bulk', blobDigest(`bulk${n}`), n, T0);
      const manifests = await collect(store.manifestContents());
      assert.equal(manifests.length, 213);
      assert.equal(new Set(manifests.map((entry) => entry.digest)).size, 213);
      assert.ok(manifests.every((entry, position) => position === 0 || manifests[position - 1]!.digest < entry.digest), 'in digest order');
      const own = manifests.find((entry) => entry.digest === image.digest)!;
      assert.equal(own.size, image.content.byteLength);
      assert.deepEqual(Buffer.from(own.content), Buffer.from(image.content));
      const blobs = await collect(store.blobRows());
      assert.equal(blobs.length, 512);
      const layerRow = blobs.find((row) => row.digest === layer)!;
      assert.deepEqual(layerRow, { digest: layer, size: 100, refCount: 1, linkCount: 0 }, 'a reference count fsck finds wrong');

      await metadata.createUpload('u1', 'app', T0);
      await metadata.createUpload('u2', 'app', T0);
      assert.deepEqual([...(await store.uploadIds())].sort(), ['u1', 'u2']);
    });

    if (options.openReplica) {
      it('deleteBlobs passes over a blob row a push holds instead of waiting for it', async () => {
        const replica = await options.openReplica!(sql);
        let release!: () => void;
        const released = new Promise<void>((resolve) => (release = resolve));
        let holding: Promise<void> | undefined;
        try {
          const [held, free] = [blobDigest('held'), blobDigest('free')];
          await metadata.linkBlob('app', held, 1, T0);
          await metadata.linkBlob('app', free, 1, T0);
          await metadata.unlinkBlob('app', held);
          await metadata.unlinkBlob('app', free);
          // A push in another replica touches (locks) the row of a blob it references.
          const locked = new Promise<void>((resolve, reject) => {
            holding = replica
              .transaction(async (tx) => {
                await tx.query('SELECT digest FROM blobs WHERE digest = ? FOR UPDATE', [held]);
                resolve();
                await released;
              })
              .catch(reject);
          });
          await locked;
          let timer: NodeJS.Timeout | undefined;
          const waited = new Promise<'waited'>((resolve) => (timer = setTimeout(() => resolve('waited'), 10_000)));
          const removed = await Promise.race([store.deleteBlobs([held, free], T0 + 1, async () => {}), waited]);
          clearTimeout(timer);
          assert.notEqual(removed, 'waited', 'the batch waited for the locked row');
          assert.deepEqual(removed, [free]);
          release();
          await holding;
          assert.notEqual(await metadata.findBlob(held), null, 'the held blob is left for the next collection');
        } finally {
          release();
          await holding?.catch(() => {});
          await replica.close();
        }
      });
    }
  });
}
