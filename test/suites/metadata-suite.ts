// The metadata contract: MetadataStore (and MaintenanceStore's marking queries) over any
// SqlClient, after migrate(). Each test gets a fresh, empty database from `openClient`
// and the stores from the factories (SQL ones, or a decorator of them); the suite closes
// the store afterwards.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { digestOf, type Digest } from '../../src/core/digest.ts';
import { ociError, type DomainError } from '../../src/core/errors.ts';
import { MediaType } from '../../src/core/media-types.ts';
import { migrate, MIGRATIONS } from '../../src/metadata/migrations.ts';
import type { MaintenanceStore } from '../../src/metadata/maintenance-store.ts';
import type { SqlClient } from '../../src/metadata/sql-client.ts';
import type { MetadataStore, NewManifest } from '../../src/metadata/metadata-store.ts';
import type { StoreFactories } from '../support/sql-stores.ts';

const T0 = 1_700_000_000_000;

export function blobDigest(name: string): Digest {
  return digestOf(`blob:${name}`);
}

let manifestCounter = 0;

/** A manifest-shaped record; the store does not parse content, only keeps it. */
export function manifest(repository: string, options: Partial<Omit<NewManifest, 'repository' | 'digest' | 'content'>> & { label?: string } = {}): NewManifest {
  const label = options.label ?? `m${++manifestCounter}`;
  const content = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, label, blobs: options.blobs ?? [], manifests: options.manifests ?? [], note: 'ünïcødé ✓' }));
  return {
    repository,
    digest: digestOf(content),
    mediaType: options.mediaType ?? (options.manifests?.length ? MediaType.OciIndex : MediaType.OciManifest),
    content,
    artifactType: options.artifactType,
    subject: options.subject,
    annotations: options.annotations,
    blobs: options.blobs ?? [],
    manifests: options.manifests ?? [],
    tag: options.tag,
    now: options.now ?? T0,
  };
}

/** Stores a manifest as a push does: its blobs linked first, then the manifest. */
export async function pushManifest(metadata: MetadataStore, entry: NewManifest): Promise<NewManifest> {
  for (const blob of entry.blobs) await metadata.linkBlob(entry.repository, blob, 100, entry.now);
  await metadata.putManifest(entry);
  return entry;
}

function isCode(code: string): (error: unknown) => boolean {
  return (error: unknown) => {
    // What the client is answered: the typed error through the one table of OCI codes.
    const answered = ociError(error);
    assert.ok(answered, `expected a typed error, got ${String(error)}`);
    assert.equal(answered.code, code);
    return true;
  };
}

function bytewise(values: readonly string[]): string[] {
  return [...values].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

async function count(sql: SqlClient, table: string): Promise<number> {
  const rows = await sql.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${table}`);
  return Number(rows[0]!.n);
}

export function metadataSuite(name: string, openClient: () => Promise<SqlClient>, stores: StoreFactories): void {
  describe(`MetadataStore contract: ${name}`, () => {
    let sql: SqlClient;
    let store: MetadataStore;
    let maintenance: MaintenanceStore;

    beforeEach(async () => {
      sql = await openClient();
      assert.equal(await migrate(sql), MIGRATIONS.filter((migration) => migration.statements.length > 0 || migration.data !== undefined).length);
      store = stores.metadata(sql);
      maintenance = stores.maintenance(sql);
    });
    afterEach(async () => {
      await store.close();
    });

    /** Links the blobs and stores the manifest. */
    async function push(entry: NewManifest): Promise<NewManifest> {
      for (const blob of entry.blobs) await store.linkBlob(entry.repository, blob, 100, entry.now);
      await store.putManifest(entry);
      return entry;
    }

    it('migrate() is idempotent and keeps data', async () => {
      await store.linkBlob('library/app', blobDigest('a'), 5, T0);
      assert.equal(await migrate(sql), 0);
      assert.equal(await migrate(sql), 0);
      assert.equal((await store.findRepositoryBlob('library/app', blobDigest('a')))?.size, 5);
      const versions = await sql.query<{ version: number | string }>('SELECT version FROM schema_migrations');
      const byNumber = (x: number, y: number): number => x - y;
      assert.deepEqual(versions.map((row) => Number(row.version)).sort(byNumber), MIGRATIONS.filter((migration) => migration.statements.length > 0 || migration.data !== undefined).map((migration) => migration.version).sort(byNumber));
    });

    it('linkBlob records the blob, creates the repository and counts repository links', async () => {
      const digest = blobDigest('shared');
      assert.equal(await store.findBlob(digest), null);
      assert.equal(await store.repositoryExists('one'), false);
      await store.linkBlob('one', digest, 1234, T0);
      assert.equal(await store.repositoryExists('one'), true);
      assert.deepEqual(await store.findBlob(digest), { digest, size: 1234, refCount: 1, lastUsedAt: T0 });
      // Linking again into the same repository is not another reference, but it is a use.
      await store.linkBlob('one', digest, 1234, T0 + 10);
      assert.deepEqual(await store.findBlob(digest), { digest, size: 1234, refCount: 1, lastUsedAt: T0 + 10 });
      await store.linkBlob('two', digest, 1234, T0 + 20);
      await store.linkBlob('three/nested', digest, 1234, T0 + 30);
      assert.equal((await store.findBlob(digest))?.refCount, 3);

      assert.equal(await store.unlinkBlob('two', digest), true);
      assert.equal(await store.unlinkBlob('two', digest), false);
      assert.equal(await store.unlinkBlob('never-existed', digest), false);
      assert.equal(await store.unlinkBlob('one', blobDigest('other')), false);
      assert.equal((await store.findBlob(digest))?.refCount, 2);
      assert.equal(await store.unlinkBlob('one', digest), true);
      assert.equal(await store.unlinkBlob('three/nested', digest), true);
      const blob = await store.findBlob(digest);
      assert.equal(blob?.refCount, 0);
      // The record stays (gc removes it); the links are gone.
      assert.equal(await store.findRepositoryBlob('one', digest), null);
      assert.equal(await count(sql, 'repository_blobs'), 0);
    });

    it('findRepositoryBlob sees only the repository the blob is linked into', async () => {
      const a = blobDigest('a');
      const b = blobDigest('b');
      await store.linkBlob('team/a', a, 10, T0);
      await store.linkBlob('team/b', b, 20, T0);
      assert.equal((await store.findRepositoryBlob('team/a', a))?.size, 10);
      assert.equal(await store.findRepositoryBlob('team/a', b), null);
      assert.equal(await store.findRepositoryBlob('team/b', a), null);
      assert.equal((await store.findRepositoryBlob('team/b', b))?.size, 20);
      assert.equal(await store.findRepositoryBlob('team', a), null);
      assert.equal(await store.findRepositoryBlob('nope', a), null);
    });

    it('uploads: create, read, resize, list stale ones, delete', async () => {
      assert.equal(await store.getUpload('u1'), null);
      await store.createUpload('u1', 'library/app', T0);
      await store.createUpload('u2', 'library/other', T0 + 100);
      await store.createUpload('u3', 'library/app', T0 + 200);
      assert.deepEqual(await store.getUpload('u1'), { id: 'u1', repository: 'library/app', size: 0, createdAt: T0, updatedAt: T0 });
      assert.equal(await store.setUploadSize('u1', 5_000_000_000, T0 + 500), true);
      assert.deepEqual(await store.getUpload('u1'), { id: 'u1', repository: 'library/app', size: 5_000_000_000, createdAt: T0, updatedAt: T0 + 500 });
      // Compare-and-set: only from the size recorded (two replicas cannot both advance it).
      assert.equal(await store.setUploadSize('u3', 100, T0 + 300, 0), true);
      assert.equal(await store.setUploadSize('u3', 150, T0 + 400, 0), false);
      assert.equal((await store.getUpload('u3'))?.size, 100);
      assert.equal(await store.setUploadSize('u3', 200, T0 + 200, 100), true);
      assert.equal(await store.setUploadSize('missing', 1, T0, 0), false);
      // Oldest first, strictly before the time, at most `limit`.
      assert.deepEqual((await store.uploadsUpdatedBefore(T0 + 1000, 10)).map((upload) => upload.id), ['u2', 'u3', 'u1']);
      assert.deepEqual((await store.uploadsUpdatedBefore(T0 + 1000, 2)).map((upload) => upload.id), ['u2', 'u3']);
      assert.deepEqual((await store.uploadsUpdatedBefore(T0 + 200, 10)).map((upload) => upload.id), ['u2']);
      assert.deepEqual(await store.uploadsUpdatedBefore(T0, 10), []);
      await store.deleteUpload('u2');
      await store.deleteUpload('u2');
      assert.equal(await store.getUpload('u2'), null);
      assert.deepEqual((await store.uploadsUpdatedBefore(T0 + 1000, 10)).map((upload) => upload.id), ['u3', 'u1']);
      await assert.rejects(store.createUpload('u1', 'library/app', T0));
    });

    it('putManifest stores content, links it into the repository and resolves tags', async () => {
      const config = blobDigest('config');
      const layer = blobDigest('layer');
      const entry = await push(manifest('library/app', { blobs: [config, layer], tag: 'v1', annotations: { 'org.example': 'x' } }));
      const byDigest = await store.getManifestByDigest('library/app', entry.digest);
      assert.ok(byDigest);
      assert.equal(byDigest.digest, entry.digest);
      assert.equal(byDigest.mediaType, MediaType.OciManifest);
      assert.equal(byDigest.size, entry.content.byteLength);
      assert.ok(Buffer.from(byDigest.content).equals(Buffer.from(entry.content)));
      const byTag = await store.getManifestByTag('library/app', 'v1');
      assert.ok(byTag && Buffer.from(byTag.content).equals(Buffer.from(entry.content)));
      assert.deepEqual(await store.headManifestByTag('library/app', 'v1'), { digest: entry.digest, mediaType: MediaType.OciManifest, size: entry.content.byteLength });
      assert.deepEqual(await store.headManifestByDigest('library/app', entry.digest), { digest: entry.digest, mediaType: MediaType.OciManifest, size: entry.content.byteLength });
      assert.equal(await store.getManifestByTag('library/app', 'v2'), null);
      assert.equal(await store.headManifestByTag('library/app', 'v2'), null);
      // Other repositories do not see it, by digest or tag.
      await store.linkBlob('library/other', config, 100, T0);
      assert.equal(await store.getManifestByDigest('library/other', entry.digest), null);
      assert.equal(await store.headManifestByDigest('library/other', entry.digest), null);
      assert.equal(await store.getManifestByTag('library/other', 'v1'), null);
      // Putting it again is idempotent; tagging it again with another tag adds the tag.
      await store.putManifest({ ...entry, tag: 'v1-again', now: T0 + 5 });
      await store.putManifest({ ...entry, tag: undefined, now: T0 + 6 });
      assert.equal((await store.headManifestByTag('library/app', 'v1-again'))?.digest, entry.digest);
      assert.deepEqual(await store.listTags('library/app', { limit: 10 }), ['v1', 'v1-again']);
      assert.equal(await count(sql, 'manifests'), 1);
      assert.equal(await count(sql, 'repository_manifests'), 1);
      assert.equal(await count(sql, 'manifest_references'), 2);
    });

    it('putManifest of an index needs its child manifests in the repository', async () => {
      const child1 = await push(manifest('multi', { blobs: [blobDigest('c1')] }));
      const child2 = await push(manifest('multi', { blobs: [blobDigest('c2')] }));
      const index = manifest('multi', { manifests: [child1.digest, child2.digest], tag: 'latest', mediaType: MediaType.OciIndex });
      await store.putManifest(index);
      assert.equal((await store.headManifestByTag('multi', 'latest'))?.mediaType, MediaType.OciIndex);
      // The same index in a repository without the children is refused.
      await store.linkBlob('elsewhere', blobDigest('c1'), 100, T0);
      await assert.rejects(store.putManifest({ ...index, repository: 'elsewhere' }), isCode('MANIFEST_BLOB_UNKNOWN'));
      assert.equal(await store.getManifestByDigest('elsewhere', index.digest), null);
    });

    it('putManifest refuses with MANIFEST_INVALID when a descriptor declares another size than the stored blob, and writes nothing', async () => {
      const blob = blobDigest('sized');
      await store.linkBlob('sized/repo', blob, 100, T0);
      const entry = manifest('sized/repo', { blobs: [blob], tag: 'latest' });
      await assert.rejects(store.putManifest({ ...entry, blobSizes: new Map([[blob, 101]]) }), (error: unknown) => {
        isCode('MANIFEST_INVALID')(error);
        assert.match((error as Error).message, /says 101 bytes, the blob has 100/);
        return true;
      });
      assert.equal(await count(sql, 'manifests'), 0);
      await store.putManifest({ ...entry, blobSizes: new Map([[blob, 100]]) });
      assert.equal((await store.getManifestByTag('sized/repo', 'latest'))?.digest, entry.digest);
    });

    it('putManifest refuses with MANIFEST_BLOB_UNKNOWN when a blob is not linked in that repository, and writes nothing', async () => {
      const present = blobDigest('present');
      const missing = blobDigest('missing');
      await store.linkBlob('other/repo', missing, 100, T0);
      const entry = manifest('fresh/repo', { blobs: [present, missing], tag: 'latest' });
      await store.linkBlob('fresh/repo', present, 100, T0);
      const before = await store.findBlob(present);
      await assert.rejects(store.putManifest(entry), (error: unknown) => {
        isCode('MANIFEST_BLOB_UNKNOWN')(error);
        assert.match((error as Error).message, new RegExp(missing));
        assert.deepEqual((error as DomainError).detail, { digest: missing });
        return true;
      });
      assert.equal(await store.getManifestByDigest('fresh/repo', entry.digest), null);
      assert.equal(await store.getManifestByTag('fresh/repo', 'latest'), null);
      assert.deepEqual(await store.listTags('fresh/repo', { limit: 10 }), []);
      assert.deepEqual(await store.tagHistory('fresh/repo'), []);
      for (const table of ['manifests', 'manifest_references', 'repository_manifests', 'tags', 'tag_history', 'referrers']) {
        assert.equal(await count(sql, table), 0, table);
      }
      // Not even last_used_at moved: the transaction rolled back.
      assert.deepEqual(await store.findBlob(present), before);

      // A brand-new repository is not created by a refused push either.
      await assert.rejects(store.putManifest(manifest('brand/new', { blobs: [present] })), isCode('MANIFEST_BLOB_UNKNOWN'));
      assert.equal(await store.repositoryExists('brand/new'), false);

      // A child manifest that is not in the repository.
      const unknownChild = digestOf('no such manifest');
      await assert.rejects(store.putManifest(manifest('fresh/repo', { manifests: [unknownChild], tag: 'index' })), (error: unknown) => {
        isCode('MANIFEST_BLOB_UNKNOWN')(error);
        assert.match((error as Error).message, new RegExp(unknownChild));
        return true;
      });
      assert.equal(await count(sql, 'manifests'), 0);
    });

    it('tags: upsert with history rows for create, update and delete; none when re-tagging the same digest', async () => {
      const first = await push(manifest('app', { blobs: [blobDigest('x')], tag: 'latest', now: T0 + 1 }));
      const second = await push(manifest('app', { blobs: [blobDigest('y')], tag: 'latest', now: T0 + 2 }));
      await store.putManifest({ ...second, now: T0 + 3 });
      await push(manifest('app', { blobs: [blobDigest('z')], tag: 'stable', now: T0 + 4 }));
      assert.equal((await store.headManifestByTag('app', 'latest'))?.digest, second.digest);
      assert.equal(await store.deleteTag('app', 'latest', T0 + 5), true);
      assert.equal(await store.deleteTag('app', 'latest', T0 + 6), false);
      assert.equal(await store.deleteTag('no-repo', 'latest', T0 + 6), false);
      assert.equal(await store.getManifestByTag('app', 'latest'), null);
      // The manifest itself stays reachable by digest.
      assert.ok(await store.getManifestByDigest('app', second.digest));
      assert.deepEqual(await store.tagHistory('app', 'latest'), [
        { tag: 'latest', digest: first.digest, previousDigest: null, changedAt: T0 + 1, reason: 'push', actor: null },
        { tag: 'latest', digest: second.digest, previousDigest: first.digest, changedAt: T0 + 2, reason: 'push', actor: null },
        { tag: 'latest', digest: null, previousDigest: second.digest, changedAt: T0 + 5, reason: 'delete', actor: null },
      ]);
      assert.equal((await store.tagHistory('app')).length, 4);
      assert.deepEqual(await store.tagHistory('other'), []);
      assert.deepEqual(await store.listTags('app', { limit: 10 }), ['stable']);
    });

    it('deleteManifest removes it from the repository with the tags pointing at it and its referrer rows', async () => {
      const subject = await push(manifest('app', { blobs: [blobDigest('s')], tag: 'v1' }));
      const target = await push(manifest('app', { blobs: [blobDigest('t')], tag: 'v2', subject: subject.digest, artifactType: 'application/vnd.example.sig' }));
      await store.putManifest({ ...target, tag: 'v2-alias' });
      // The same manifest in another repository is not affected.
      await push({ ...target, repository: 'mirror', tag: 'v2' });
      assert.equal((await store.listReferrers('app', subject.digest)).length, 1);

      assert.equal(await store.deleteManifest('app', target.digest, T0 + 50), true);
      assert.equal(await store.deleteManifest('app', target.digest, T0 + 51), false);
      assert.equal(await store.deleteManifest('no-repo', target.digest, T0 + 51), false);
      assert.equal(await store.getManifestByDigest('app', target.digest), null);
      assert.equal(await store.headManifestByTag('app', 'v2'), null);
      assert.deepEqual(await store.listTags('app', { limit: 10 }), ['v1']);
      assert.deepEqual(await store.listReferrers('app', subject.digest), []);
      const history = await store.tagHistory('app');
      assert.deepEqual(
        history.filter((entry) => entry.digest === null).map((entry) => [entry.tag, entry.previousDigest, entry.changedAt]).sort(),
        [
          ['v2', target.digest, T0 + 50],
          ['v2-alias', target.digest, T0 + 50],
        ],
      );
      assert.ok(await store.getManifestByDigest('mirror', target.digest));
      assert.equal((await store.headManifestByTag('mirror', 'v2'))?.digest, target.digest);
      assert.equal((await store.listReferrers('mirror', subject.digest)).length, 1);
    });

    it('listTags and listRepositories sort bytewise, with limit and last', async () => {
      const names = ['B', 'a', 'a-b', 'a.b', 'a_b', 'ab', 'Z', 'a0', 'a/b', 'b', '_x', 'A-b'];
      const expected = bytewise(names);
      assert.deepEqual(expected.slice(0, 6), ['A-b', 'B', 'Z', '_x', 'a', 'a-b']);
      const base = await push(manifest('repo', { blobs: [blobDigest('base')] }));
      for (const tag of [...names].reverse()) await store.putManifest({ ...base, tag });
      assert.deepEqual(await store.listTags('repo', { limit: 100 }), expected);
      assert.deepEqual(await store.listTags('repo', { limit: 3 }), expected.slice(0, 3));
      assert.deepEqual(await store.listTags('repo', { limit: 3, last: expected[2] }), expected.slice(3, 6));
      assert.deepEqual(await store.listTags('repo', { limit: 100, last: 'a' }), expected.slice(expected.indexOf('a') + 1));
      // `last` need not be an existing entry.
      assert.deepEqual(await store.listTags('repo', { limit: 100, last: 'a.' }), expected.slice(expected.indexOf('a.b')));
      assert.deepEqual(await store.listTags('repo', { limit: 100, last: expected[expected.length - 1] }), []);
      // Paging through gives every entry once.
      const paged: string[] = [];
      let last: string | undefined;
      for (;;) {
        const page = (await store.listTags('repo', { limit: 5, last })) ?? [];
        paged.push(...page);
        if (page.length < 5) break;
        last = page[page.length - 1];
      }
      assert.deepEqual(paged, expected);
      assert.equal(await store.listTags('unknown', { limit: 10 }), null);
      await store.linkBlob('empty', blobDigest('e'), 1, T0);
      assert.deepEqual(await store.listTags('empty', { limit: 10 }), []);

      const repositories = names.map((entry) => `r/${entry}`);
      for (const repository of [...repositories].reverse()) await store.linkBlob(repository, blobDigest('shared'), 1, T0);
      const all = bytewise([...repositories, 'repo', 'empty']);
      assert.deepEqual(await store.listRepositories({ limit: 100 }), all);
      assert.deepEqual(await store.listRepositories({ limit: 4 }), all.slice(0, 4));
      assert.deepEqual(await store.listRepositories({ limit: 4, last: all[3] }), all.slice(4, 8));
      assert.deepEqual(await store.listRepositories({ limit: 100, last: 'r/a' }), all.slice(all.indexOf('r/a') + 1));
      assert.deepEqual(await store.listRepositories({ limit: 100, last: 'zzz' }), []);
    });

    it('listReferrers lists a subject\'s referrers in the repository, filtered by artifactType', async () => {
      const subject = await push(manifest('app', { blobs: [blobDigest('s')], tag: 'v1' }));
      const signature = await push(
        manifest('app', { blobs: [blobDigest('sig')], subject: subject.digest, artifactType: 'application/vnd.example.signature', annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' }, now: T0 + 1 }),
      );
      const sbom = await push(manifest('app', { blobs: [blobDigest('sbom')], subject: subject.digest, artifactType: 'application/spdx+json', now: T0 + 2 }));
      // Same subject in another repository: not listed here.
      await push(manifest('other', { blobs: [blobDigest('sig2')], subject: subject.digest, artifactType: 'application/vnd.example.signature' }));
      // A referrer whose subject is not pushed (allowed by the spec).
      const dangling = digestOf('not pushed');
      await push(manifest('app', { blobs: [blobDigest('d')], subject: dangling, artifactType: 'application/vnd.example.signature' }));

      const all = await store.listReferrers('app', subject.digest);
      assert.deepEqual(new Set(all.map((entry) => entry.digest)), new Set([signature.digest, sbom.digest]));
      const signatureEntry = all.find((entry) => entry.digest === signature.digest);
      assert.deepEqual(signatureEntry, {
        digest: signature.digest,
        mediaType: MediaType.OciManifest,
        size: signature.content.byteLength,
        artifactType: 'application/vnd.example.signature',
        annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' },
      });
      assert.equal(all.find((entry) => entry.digest === sbom.digest)?.annotations, null);
      assert.deepEqual((await store.listReferrers('app', subject.digest, 'application/spdx+json')).map((entry) => entry.digest), [sbom.digest]);
      assert.deepEqual(await store.listReferrers('app', subject.digest, 'application/none'), []);
      assert.deepEqual((await store.listReferrers('app', dangling)).length, 1);
      assert.deepEqual(await store.listReferrers('nope', subject.digest), []);
    });

    it('text holding a NUL character is refused with a typed 400, never an engine error, and writes nothing', async () => {
      // PostgreSQL cannot store or compare NUL in text; SQLite could. The contract is the
      // same for both: a typed error the HTTP layer answers 400, whatever the input.
      const subject = await push(manifest('app', { tag: 'v1' }));
      const refused = (error: unknown): boolean => {
        const answered = ociError(error);
        assert.ok(answered, `expected a typed error, got ${String(error)}`);
        assert.equal(answered.status, 400);
        return true;
      };
      await assert.rejects(store.listTags('app', { limit: 10, last: '\0' }), refused);
      await assert.rejects(store.listTags('app', { limit: 10, last: 'a\0b' }), refused);
      await assert.rejects(store.listRepositories({ limit: 10, last: '\0' }), refused);
      await assert.rejects(store.listReferrers('app', subject.digest, '\0'), refused);
      await assert.rejects(store.repositoryExists('a\0b'), refused);
      await assert.rejects(store.getManifestByTag('app', 'v\0'), refused);
      await assert.rejects(store.getUpload('id\0'), refused);
      await assert.rejects(store.createUpload('upload\0', 'app', T0), refused);
      await assert.rejects(store.linkBlob('nul\0repo', blobDigest('nul'), 1, T0), refused);
      await assert.rejects(push(manifest('app', { tag: 'v2', artifactType: 'application/x\0' })), refused);
      assert.deepEqual(await store.listRepositories({ limit: 10 }), ['app']);
      assert.deepEqual(await store.listTags('app', { limit: 10 }), ['v1']);
      assert.equal(await count(sql, 'uploads'), 0);
    });

    it('concurrent transactions keep reference counts consistent', async () => {
      const shared = blobDigest('shared');
      // 50 links of one blob into 10 repositories, all at once: 10 references.
      await Promise.all(Array.from({ length: 50 }, (_, i) => store.linkBlob(`concurrent/r${i % 10}`, shared, 42, T0 + i)));
      assert.equal((await store.findBlob(shared))?.refCount, 10);
      assert.equal(await count(sql, 'repositories'), 10);

      // 50 manifests on one repository at once, each with its own tag and layer plus the shared blob.
      const entries = Array.from({ length: 50 }, (_, i) => manifest('concurrent/r0', { blobs: [shared, blobDigest(`layer-${i}`)], tag: `t${String(i).padStart(2, '0')}`, now: T0 + 100 + i }));
      await Promise.all(entries.map(async (entry) => {
        await store.linkBlob('concurrent/r0', entry.blobs[1]!, 7, entry.now);
        await store.putManifest(entry);
      }));
      const tags = await store.listTags('concurrent/r0', { limit: 100 });
      assert.equal(tags?.length, 50);
      for (const entry of entries) assert.equal((await store.headManifestByTag('concurrent/r0', entry.tag!))?.digest, entry.digest);
      assert.equal((await store.findBlob(shared))?.refCount, 10);
      assert.equal(await count(sql, 'tag_history'), 50);

      // The same manifest pushed 20 times at once under one tag: one row each, one history row.
      const same = manifest('concurrent/r1', { blobs: [shared], tag: 'same' });
      await Promise.all(Array.from({ length: 20 }, () => store.putManifest(same)));
      assert.equal((await store.headManifestByTag('concurrent/r1', 'same'))?.digest, same.digest);
      assert.equal((await store.tagHistory('concurrent/r1', 'same')).length, 1);

      // Different manifests racing for one tag: the history is one unbroken chain.
      const racers = Array.from({ length: 20 }, (_, i) => manifest('concurrent/r2', { blobs: [blobDigest(`racer-${i}`)], tag: 'contested', now: T0 + 1000 + i }));
      for (const racer of racers) await store.linkBlob('concurrent/r2', racer.blobs[0]!, 7, T0);
      await Promise.all(racers.map((racer) => store.putManifest(racer)));
      const chain = await store.tagHistory('concurrent/r2', 'contested');
      assert.equal(chain.length, 20);
      const byPrevious = new Map(chain.map((entry) => [entry.previousDigest, entry.digest]));
      assert.equal(byPrevious.size, 20, 'every change has a distinct previous digest');
      let cursor: Digest | null = null;
      for (let i = 0; i < 20; i++) cursor = byPrevious.get(cursor) ?? null;
      assert.equal(cursor, (await store.headManifestByTag('concurrent/r2', 'contested'))?.digest, 'the chain ends at the current digest');
      // Deletes of one tag racing: one succeeds, one history row.
      const deleted = await Promise.all(Array.from({ length: 10 }, () => store.deleteTag('concurrent/r2', 'contested', T0 + 5000)));
      assert.equal(deleted.filter(Boolean).length, 1);
      assert.equal((await store.tagHistory('concurrent/r2', 'contested')).length, 21);

      // Unlinks racing: exactly one per repository succeeds.
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.unlinkBlob(`concurrent/r${i % 10}`, shared)));
      assert.equal(results.filter(Boolean).length, 10);
      assert.equal((await store.findBlob(shared))?.refCount, 0);
      for await (const row of maintenance.blobRows()) assert.equal(row.refCount, row.linkCount, row.digest);
    });

    it('MaintenanceStore.unreachableManifests follows tags, index children and referrers', async () => {
      const child1 = await push(manifest('app', { blobs: [blobDigest('c1')] }));
      const child2 = await push(manifest('app', { blobs: [blobDigest('c2')] }));
      const index = await push(manifest('app', { manifests: [child1.digest, child2.digest], tag: 'latest' }));
      // A signature of a child: reachable through the index.
      const childSignature = await push(manifest('app', { blobs: [blobDigest('cs')], subject: child1.digest, artifactType: 'application/vnd.example.sig' }));
      // A signature of the signature: reachable through referrers of referrers.
      const nested = await push(manifest('app', { blobs: [blobDigest('ns')], subject: childSignature.digest, artifactType: 'application/vnd.example.sig' }));
      const tagged = await push(manifest('app', { blobs: [blobDigest('t')], tag: 'v1' }));
      const taggedSignature = await push(manifest('app', { blobs: [blobDigest('ts')], subject: tagged.digest, artifactType: 'application/vnd.example.sig' }));
      // Untagged, and a signature of the untagged one.
      const untagged = await push(manifest('app', { blobs: [blobDigest('u')] }));
      const untaggedSignature = await push(manifest('app', { blobs: [blobDigest('us')], subject: untagged.digest, artifactType: 'application/vnd.example.sig' }));
      // Tagged in one repository, untagged in another: unreachable only in the other.
      await push({ ...tagged, repository: 'mirror', tag: undefined });

      const unreachable = await maintenance.unreachableManifests(T0 + 1);
      assert.deepEqual(
        unreachable.map((ref) => `${ref.repository}@${ref.digest}`).sort(),
        [`app@${untagged.digest}`, `app@${untaggedSignature.digest}`, `mirror@${tagged.digest}`].sort(),
      );
      for (const ref of unreachable) assert.equal(typeof ref.repositoryId, 'number');
      // Only what was created before the time.
      assert.deepEqual(await maintenance.unreachableManifests(T0), []);

      // Removing the tag makes everything behind it unreachable.
      await store.deleteTag('app', 'latest', T0 + 10);
      const after = new Set((await maintenance.unreachableManifests(T0 + 1)).map((ref) => ref.digest));
      for (const entry of [index, child1, child2, childSignature, nested]) assert.ok(after.has(entry.digest), entry.digest);
      assert.ok(!after.has(taggedSignature.digest));
      assert.deepEqual(
        (await maintenance.unreachableManifests(T0 + 1)).filter((ref) => ref.digest === tagged.digest).map((ref) => ref.repository),
        ['mirror'],
      );
    });

    it('MaintenanceStore.deleteUnrecordedContent removes content only while no record exists, and leaves no row', async () => {
      const recorded = blobDigest('recorded');
      await store.linkBlob('app', recorded, 10, T0);
      let removed = 0;
      assert.equal(await maintenance.deleteUnrecordedContent(recorded, async () => void removed++), false);
      assert.equal(removed, 0, 'content with a record is kept');
      assert.equal((await store.findBlob(recorded))?.refCount, 1);

      const orphan = blobDigest('orphan');
      assert.equal(await maintenance.deleteUnrecordedContent(orphan, async () => void removed++), true);
      assert.equal(removed, 1);
      assert.equal(await store.findBlob(orphan), null, 'the claim row is gone');
      // A failed removal rolls the claim back too.
      await assert.rejects(maintenance.deleteUnrecordedContent(orphan, async () => {
        throw new Error('disk says no');
      }));
      assert.equal(await store.findBlob(orphan), null);
    });

    it('MaintenanceStore.unreferencedBlobs respects manifest references and last_used_at', async () => {
      const referenced = blobDigest('referenced');
      const oldUnreferenced = blobDigest('old');
      const recentUnreferenced = blobDigest('recent');
      await push(manifest('app', { blobs: [referenced], tag: 'v1', now: T0 }));
      await store.linkBlob('app', oldUnreferenced, 11, T0);
      await store.linkBlob('app', recentUnreferenced, 22, T0 + 5000);
      assert.deepEqual(await maintenance.unreferencedBlobs(T0 + 1000), [{ digest: oldUnreferenced, size: 11 }]);
      assert.deepEqual(
        (await maintenance.unreferencedBlobs(T0 + 10_000)).map((blob) => blob.digest).sort(),
        [oldUnreferenced, recentUnreferenced].sort(),
      );
      // Re-linking is a use: it moves last_used_at.
      await store.linkBlob('other', oldUnreferenced, 11, T0 + 2000);
      assert.deepEqual(await maintenance.unreferencedBlobs(T0 + 1000), []);
      // A blob referenced only by a manifest that was deleted from its repository is
      // still referenced until the manifest record itself goes.
      const gone = await push(manifest('app', { blobs: [blobDigest('gone')], now: T0 }));
      await store.deleteManifest('app', gone.digest, T0);
      assert.deepEqual(await maintenance.orphanManifests(T0 + 1000), [{ digest: gone.digest, size: gone.content.byteLength }]);
      assert.ok(!(await maintenance.unreferencedBlobs(T0 + 1000)).some((blob) => blob.digest === blobDigest('gone')));
      assert.equal(await maintenance.deleteOrphanManifest(gone.digest, T0 + 1000), true);
      assert.deepEqual(await maintenance.unreferencedBlobs(T0 + 1000), [{ digest: blobDigest('gone'), size: 100 }]);
    });
  });
}
