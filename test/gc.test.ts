// Garbage collection and fsck at the domain level: a real Registry over the filesystem
// blob store and SQLite or PostgreSQL. The registry's clock makes content "old"; files
// are aged with utimes.
import { describe, it, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { digestOf, parseDigest, type Digest } from '../src/core/digest.ts';
import { ociError } from '../src/core/errors.ts';
import { EMPTY_JSON_DIGEST, MediaType } from '../src/core/media-types.ts';
import { FilesystemBlobStore } from '../src/storage/filesystem-blob-store.ts';
import type { BlobStore } from '../src/storage/blob-store.ts';
import { SqliteClient } from '../src/metadata/sqlite-client.ts';
import { migrate } from '../src/metadata/migrations.ts';
import { SqlMetadataStore } from '../src/metadata/sql-metadata-store.ts';
import { SqlMaintenanceStore } from '../src/metadata/sql-maintenance-store.ts';
import type { SqlClient } from '../src/metadata/sql-client.ts';
import { CoreRegistry, type Registry } from '../src/registry/registry.ts';
import { GarbageCollector, type CollectOptions, type CollectReport } from '../src/registry/garbage-collector.ts';
import { fsck } from '../src/registry/fsck.ts';
import { silentLogger } from '../src/observability/logger.ts';
import { createTestDatabase, openSchemaClient, type TestDatabase } from './support/postgres.ts';

const HOUR = 3_600_000;

interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
}

interface Pushed {
  readonly repository: string;
  readonly tag: string | undefined;
  readonly digest: Digest;
  readonly size: number;
  readonly mediaType: string;
  /** Blobs this manifest references. */
  readonly blobs: readonly Descriptor[];
}

class Environment {
  readonly directory: string;
  readonly blobs: FilesystemBlobStore;
  readonly sql: SqlClient;
  readonly metadata: SqlMetadataStore;
  readonly registry: Registry;
  readonly collector: GarbageCollector;
  readonly maintenance: SqlMaintenanceStore;
  /** Added to the wall clock for everything the registry records. */
  offset = 0;

  /** Runs once, after the named storage call of the registry resolves (to stage a race). */
  readonly hooks = new Map<keyof BlobStore, () => Promise<void>>();

  private constructor(directory: string, sql: SqlClient) {
    this.directory = directory;
    this.blobs = new FilesystemBlobStore(join(directory, 'storage'));
    this.sql = sql;
    this.metadata = new SqlMetadataStore(sql);
    this.maintenance = new SqlMaintenanceStore(sql);
    const hooks = this.hooks;
    const hooked = new Proxy(this.blobs, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const result = (value as (...args: unknown[]) => unknown).apply(target, args);
          const hook = hooks.get(property as keyof BlobStore);
          if (!hook || !(result instanceof Promise)) return result;
          hooks.delete(property as keyof BlobStore);
          return result.then(async (resolved) => {
            await hook();
            return resolved;
          });
        };
      },
    });
    this.registry = new CoreRegistry(hooked, this.metadata, {
      maxManifestBytes: 4 << 20,
      maxPageSize: 1000,
      automaticMount: true,
      clock: () => Date.now() + this.offset,
    });
    this.collector = new GarbageCollector(this.registry, this.maintenance, silentLogger);
  }

  static async open(sql: SqlClient): Promise<Environment> {
    const directory = await mkdtemp(join(tmpdir(), 'custody-gc-'));
    const environment = new Environment(directory, sql);
    await environment.blobs.init();
    await migrate(sql);
    return environment;
  }

  async dispose(): Promise<void> {
    await this.metadata.close();
    await rm(this.directory, { recursive: true, force: true });
  }

  /** Content pushed inside `work` looks `age` ms old to the collector. */
  async aged<T>(age: number, work: () => Promise<T>): Promise<T> {
    const previous = this.offset;
    this.offset = -age;
    try {
      return await work();
    } finally {
      this.offset = previous;
    }
  }

  blobPath(digest: Digest): string {
    const { algorithm, hex } = parseDigest(digest);
    return join(this.blobs.root, 'blobs', algorithm, hex.slice(0, 2), hex);
  }

  async uploadBlob(repository: string, data: Buffer, mediaType: string = MediaType.OciLayerTarGzip): Promise<Descriptor> {
    const digest = digestOf(data);
    await this.registry.uploadMonolithic(repository, digest, Readable.from([data]), data.length);
    return { mediaType, digest, size: data.length };
  }

  async putManifest(repository: string, tag: string | undefined, body: Record<string, unknown>, blobs: readonly Descriptor[]): Promise<Pushed> {
    const content = Buffer.from(JSON.stringify(body));
    const digest = digestOf(content);
    const mediaType = body.mediaType as string;
    await this.registry.putManifest(repository, tag ?? digest, mediaType, content);
    return { repository, tag, digest, size: content.length, mediaType, blobs };
  }

  /** An image: a unique config plus the given layers (uploaded here). */
  async pushImage(repository: string, tag: string | undefined, layers: readonly Buffer[] = [randomBytes(2000)]): Promise<Pushed> {
    const config = await this.uploadBlob(repository, Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', id: randomBytes(8).toString('hex') })), MediaType.OciConfig);
    const layerDescriptors: Descriptor[] = [];
    for (const layer of layers) layerDescriptors.push(await this.uploadBlob(repository, layer));
    return this.putManifest(repository, tag, { schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: layerDescriptors }, [config, ...layerDescriptors]);
  }

  /** A signature-like artifact: the empty config, one layer, a subject. */
  async pushReferrer(repository: string, subject: Pushed, payload: Buffer = randomBytes(300)): Promise<Pushed> {
    const layer = await this.uploadBlob(repository, payload, 'application/vnd.dev.cosign.simplesigning.v1+json');
    const config = { mediaType: MediaType.OciEmpty, digest: EMPTY_JSON_DIGEST as Digest, size: 2 };
    return this.putManifest(
      repository,
      undefined,
      {
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
        config,
        layers: [layer],
        subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      },
      [config, layer],
    );
  }

  async pushIndex(repository: string, tag: string | undefined, children: readonly Pushed[]): Promise<Pushed> {
    return this.putManifest(
      repository,
      tag,
      {
        schemaVersion: 2,
        mediaType: MediaType.OciIndex,
        manifests: children.map((child, i) => ({ mediaType: child.mediaType, digest: child.digest, size: child.size, platform: { architecture: `arch${i}`, os: 'linux' } })),
      },
      [],
    );
  }

  /** Pulls a manifest and every blob it references, checking every digest. */
  async assertPullable(pushed: Pushed): Promise<void> {
    const manifest = await this.registry.getManifest(pushed.repository, pushed.tag ?? pushed.digest);
    assert.equal(manifest.digest, pushed.digest);
    assert.equal(digestOf(manifest.content), pushed.digest);
    for (const blob of pushed.blobs) {
      const read = await this.registry.readBlob(pushed.repository, blob.digest);
      const chunks: Buffer[] = [];
      for await (const chunk of read.body) chunks.push(chunk as Buffer);
      assert.equal(digestOf(Buffer.concat(chunks)), blob.digest, `blob ${blob.digest} of ${pushed.repository}@${pushed.digest}`);
    }
  }

  async assertManifestGone(pushed: Pushed): Promise<void> {
    await assert.rejects(this.registry.getManifest(pushed.repository, pushed.digest), isCode('MANIFEST_UNKNOWN'));
  }

  async assertBlobGone(digest: Digest): Promise<void> {
    assert.equal(await this.blobs.stat(digest), null, `${digest} still in storage`);
    assert.equal(await this.metadata.findBlob(digest), null, `${digest} still recorded`);
  }

  async storedDigests(): Promise<string[]> {
    const digests: string[] = [];
    for await (const blob of this.blobs.list()) digests.push(blob.digest);
    return digests.sort();
  }

  async uploadIds(): Promise<string[]> {
    const ids: string[] = [];
    for await (const upload of this.blobs.listUploads()) ids.push(upload.uploadId);
    return ids.sort();
  }

  async tableCounts(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const table of ['repositories', 'blobs', 'repository_blobs', 'manifests', 'manifest_references', 'repository_manifests', 'referrers', 'tags', 'tag_history', 'uploads']) {
      const rows = await this.sql.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${table}`);
      counts[table] = Number(rows[0]!.n);
    }
    return counts;
  }

  collect(options: Partial<CollectOptions> = {}): Promise<CollectReport> {
    return this.collector.collect({ dryRun: false, deleteUntagged: false, gracePeriodMs: HOUR, ...options });
  }

  /** A collection by another process (its own Registry, as `custody gc` beside the server). */
  collectElsewhere(options: Partial<CollectOptions> = {}): Promise<CollectReport> {
    const other = new CoreRegistry(this.blobs, this.metadata, { maxManifestBytes: 4 << 20, maxPageSize: 1000, automaticMount: true });
    return new GarbageCollector(other, this.maintenance, silentLogger).collect({ dryRun: false, deleteUntagged: false, gracePeriodMs: HOUR, ...options });
  }
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

async function age(path: string, ms: number): Promise<void> {
  const when = new Date(Date.now() - ms);
  await utimes(path, when, when);
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

// ---- the cases, for every metadata engine ------------------------------------------------

function gcSuite(name: string, openClient: () => Promise<SqlClient>, options: { concurrency: boolean }): void {
  describe(`garbage collection and fsck: ${name}`, () => {
    let env: Environment;
    beforeEach(async () => {
      env = await Environment.open(await openClient());
    });
    afterEach(async () => {
      await env.dispose();
    });

    it('removes unreferenced blobs only past the grace period, and keeps what tagged manifests reference', async () => {
      const image = await env.aged(2 * HOUR, () => env.pushImage('library/app', 'v1', [randomBytes(5000), randomBytes(7000)]));
      const old = await env.aged(2 * HOUR, () => env.uploadBlob('library/app', randomBytes(3333)));
      const recent = await env.uploadBlob('library/app', randomBytes(4444));

      const report = await env.collect({ gracePeriodMs: HOUR });
      assert.equal(report.dryRun, false);
      assert.equal(report.blobsDeleted, 1);
      assert.equal(report.manifestsDeleted, 0);
      assert.equal(report.orphanFilesDeleted, 0);
      assert.equal(report.bytesReclaimed, 3333);
      assert.ok(report.durationMs >= 0);
      await env.assertBlobGone(old.digest);
      await assert.rejects(env.registry.statBlob('library/app', old.digest), isCode('BLOB_UNKNOWN'));
      assert.equal((await env.registry.statBlob('library/app', recent.digest)).size, 4444);
      await env.assertPullable(image);

      // Past its grace period, the recent blob goes too; the image still stays.
      const later = await env.collect({ gracePeriodMs: 0 });
      assert.equal(later.blobsDeleted, 1);
      assert.equal(later.bytesReclaimed, 4444);
      await env.assertBlobGone(recent.digest);
      await env.assertPullable(image);
      assert.deepEqual((await fsck(env.maintenance, env.blobs, { verifyContent: true })).problems, []);
    });

    it('keeps blobs a tagged manifest references even when another repository dropped them', async () => {
      const shared = randomBytes(6000);
      const kept = await env.aged(2 * HOUR, () => env.pushImage('team/keep', 'stable', [shared]));
      const dropped = await env.aged(2 * HOUR, () => env.pushImage('team/drop', 'old', [shared]));
      await env.registry.deleteManifest('team/drop', dropped.digest);
      const report = await env.collect({ gracePeriodMs: HOUR });
      // The dropped manifest and its own config go; the shared layer stays.
      assert.equal(report.manifestsDeleted, 1);
      assert.equal(report.blobsDeleted, 1);
      assert.equal(report.bytesReclaimed, dropped.size + dropped.blobs[0]!.size);
      await env.assertBlobGone(dropped.blobs[0]!.digest);
      await env.assertPullable(kept);
      assert.equal((await env.metadata.findBlob(digestOf(shared)))?.refCount, 2);
      assert.deepEqual((await fsck(env.maintenance, env.blobs, { verifyContent: true })).problems, []);
    });

    it('--delete-untagged removes untagged manifests but keeps index children of tagged indexes and referrers of tagged manifests', async () => {
      const { index, children, tagged, signature, signatureOfSignature, untagged, untaggedSignature, retaggedAway, retagged } = await env.aged(2 * HOUR, async () => {
        const children = [await env.pushImage('app', undefined), await env.pushImage('app', undefined)];
        const index = await env.pushIndex('app', 'multi', children);
        const tagged = await env.pushImage('app', 'v1');
        const signature = await env.pushReferrer('app', tagged);
        const signatureOfSignature = await env.pushReferrer('app', signature);
        const untagged = await env.pushImage('app', undefined);
        const untaggedSignature = await env.pushReferrer('app', untagged);
        const retaggedAway = await env.pushImage('app', 'moving');
        const retagged = await env.pushImage('app', 'moving');
        // The tag moved on: this one is only reachable by digest now.
        return { index, children, tagged, signature, signatureOfSignature, untagged, untaggedSignature, retaggedAway: { ...retaggedAway, tag: undefined }, retagged };
      });
      const keep = [index, ...children, tagged, signature, signatureOfSignature, retagged];
      const remove = [untagged, untaggedSignature, retaggedAway];

      // Without --delete-untagged nothing that a manifest references goes.
      const plain = await env.collect({ gracePeriodMs: HOUR });
      assert.deepEqual([plain.untaggedManifestsRemoved, plain.manifestsDeleted, plain.blobsDeleted, plain.bytesReclaimed], [0, 0, 0, 0]);
      for (const pushed of [...keep, ...remove]) await env.assertPullable(pushed);

      // Unique blobs of the removed manifests (the empty config is shared with kept signatures).
      const keptBlobs = new Set(keep.flatMap((pushed) => pushed.blobs.map((blob) => blob.digest)));
      const removedBlobs = new Map(remove.flatMap((pushed) => pushed.blobs).filter((blob) => !keptBlobs.has(blob.digest)).map((blob) => [blob.digest, blob.size]));
      assert.equal(removedBlobs.size, 5);

      const report = await env.collect({ gracePeriodMs: HOUR, deleteUntagged: true });
      assert.equal(report.untaggedManifestsRemoved, 3);
      assert.equal(report.manifestsDeleted, 3);
      assert.equal(report.blobsDeleted, removedBlobs.size);
      assert.equal(report.bytesReclaimed, sum(remove.map((pushed) => pushed.size)) + sum([...removedBlobs.values()]));
      for (const pushed of remove) await env.assertManifestGone(pushed);
      for (const digest of removedBlobs.keys()) await env.assertBlobGone(digest as Digest);
      for (const pushed of keep) await env.assertPullable(pushed);
      assert.deepEqual((await env.registry.listReferrers('app', tagged.digest)).map((entry) => entry.digest), [signature.digest]);
      assert.deepEqual((await env.registry.listTags('app')).entries, ['moving', 'multi', 'v1']);
      assert.deepEqual((await fsck(env.maintenance, env.blobs, { verifyContent: true })).problems, []);

      // Nothing left to do.
      const again = await env.collect({ gracePeriodMs: HOUR, deleteUntagged: true });
      assert.deepEqual([again.untaggedManifestsRemoved, again.manifestsDeleted, again.blobsDeleted, again.bytesReclaimed], [0, 0, 0, 0]);
    });

    it('--delete-untagged spares untagged manifests younger than the grace period', async () => {
      const young = await env.pushImage('app', undefined);
      const report = await env.collect({ gracePeriodMs: HOUR, deleteUntagged: true });
      assert.equal(report.untaggedManifestsRemoved, 0);
      await env.assertPullable(young);
    });

    it('a dry run deletes nothing and reports what a real run removes', async () => {
      await env.aged(2 * HOUR, async () => {
        await env.pushImage('app', 'v1');
        await env.pushImage('app', undefined);
        await env.uploadBlob('app', randomBytes(1000));
        const upload = await env.registry.startUpload('app');
        await env.registry.appendChunk('app', upload.id, Readable.from([randomBytes(100)]));
      });
      const orphan = Buffer.from('orphan file content');
      await env.blobs.putBlob(digestOf(orphan), orphan);
      await age(env.blobPath(digestOf(orphan)), 2 * HOUR);

      const stored = await env.storedDigests();
      const uploads = await env.uploadIds();
      const counts = await env.tableCounts();
      const dry = await env.collect({ gracePeriodMs: HOUR, deleteUntagged: true, dryRun: true });
      assert.equal(dry.dryRun, true);
      assert.equal(dry.untaggedManifestsRemoved, 1);
      assert.equal(dry.blobsDeleted, 1, 'the unreferenced blob (a lower bound: not the untagged manifest\'s blobs)');
      assert.equal(dry.orphanFilesDeleted, 1);
      assert.equal(dry.bytesReclaimed, 1000 + orphan.length);
      assert.deepEqual(await env.storedDigests(), stored);
      assert.deepEqual(await env.uploadIds(), uploads);
      assert.deepEqual(await env.tableCounts(), counts);

      const real = await env.collect({ gracePeriodMs: HOUR, deleteUntagged: true });
      assert.equal(real.dryRun, false);
      assert.equal(real.untaggedManifestsRemoved, 1);
      assert.equal(real.manifestsDeleted, 1);
      assert.equal(real.blobsDeleted, 3);
      assert.equal(real.orphanFilesDeleted, 1);
      assert.equal(real.uploadsExpired, 1);
      assert.ok(real.bytesReclaimed > dry.bytesReclaimed);
      assert.equal((await env.storedDigests()).length, stored.length - 4);
      assert.deepEqual(await env.uploadIds(), []);
    });

    it('removes old files in storage that no record knows, and reports their bytes', async () => {
      const image = await env.aged(2 * HOUR, () => env.pushImage('app', 'v1'));
      const oldOrphan = randomBytes(1234);
      const newOrphan = randomBytes(999);
      await env.blobs.putBlob(digestOf(oldOrphan), oldOrphan);
      await env.blobs.putBlob(digestOf(newOrphan), newOrphan);
      await age(env.blobPath(digestOf(oldOrphan)), 2 * HOUR);
      // A recorded blob whose file is old is not an orphan.
      for (const blob of image.blobs) await age(env.blobPath(blob.digest), 3 * HOUR);

      const report = await env.collect({ gracePeriodMs: HOUR });
      assert.equal(report.orphanFilesDeleted, 1);
      assert.equal(report.blobsDeleted, 0);
      assert.equal(report.bytesReclaimed, 1234);
      assert.equal(await env.blobs.stat(digestOf(oldOrphan)), null);
      assert.equal((await env.blobs.stat(digestOf(newOrphan)))?.size, 999);
      await env.assertPullable(image);
      const check = await fsck(env.maintenance, env.blobs, { verifyContent: true });
      assert.deepEqual(check.problems, []);
      assert.ok(check.notes.some((note) => note.includes(digestOf(newOrphan)) && note.includes('no record')), check.notes.join('\n'));
    });

    it('expires stale uploads, with upload files no record knows', async () => {
      const stale = await env.aged(2 * HOUR, async () => {
        const upload = await env.registry.startUpload('app');
        await env.registry.appendChunk('app', upload.id, Readable.from([randomBytes(500)]));
        return upload;
      });
      const data = randomBytes(800);
      const fresh = await env.registry.startUpload('app');
      await env.registry.appendChunk('app', fresh.id, Readable.from([data]));
      await env.blobs.createUpload('0a1b2c3d-stray-old');
      await age(join(env.blobs.root, 'uploads', '0a1b2c3d-stray-old'), 2 * HOUR);
      await env.blobs.createUpload('0a1b2c3d-stray-new');
      // The stale upload's file was written just now; only its record is old.

      const report = await env.collect({ gracePeriodMs: HOUR });
      assert.equal(report.uploadsExpired, 2);
      assert.equal(await env.metadata.getUpload(stale.id), null);
      assert.equal(await env.blobs.uploadSize(stale.id), null);
      await assert.rejects(env.registry.uploadStatus('app', stale.id), isCode('BLOB_UPLOAD_UNKNOWN'));
      assert.equal(await env.blobs.uploadSize('0a1b2c3d-stray-old'), null);
      assert.equal(await env.blobs.uploadSize('0a1b2c3d-stray-new'), 0);
      // The fresh upload carries on.
      assert.equal((await env.registry.uploadStatus('app', fresh.id)).size, 800);
      const done = await env.registry.completeUpload('app', fresh.id, digestOf(data));
      assert.equal(done.size, 800);
    });

    it('fsck is clean on a healthy store', async () => {
      const children = [await env.pushImage('app', undefined), await env.pushImage('app', undefined)];
      const index = await env.pushIndex('app', 'multi', children);
      const image = await env.pushImage('other/app', 'v1', [randomBytes(10_000), randomBytes(20_000)]);
      await env.pushReferrer('other/app', image);
      await env.registry.mountBlob('third', image.blobs[1]!.digest, 'other/app');
      const report = await fsck(env.maintenance, env.blobs, { verifyContent: true });
      assert.deepEqual(report.problems, []);
      assert.deepEqual(report.notes, []);
      assert.equal(report.manifestsChecked, 5);
      const stored = [];
      for await (const blob of env.blobs.list()) stored.push(blob);
      assert.equal(report.blobsChecked, stored.length);
      assert.equal(report.bytesVerified, sum(stored.map((blob) => blob.size)));
      void index;
    });

    it('fsck reports a missing blob file, corrupted content, a wrong ref_count and a tag whose manifest left the repository', async () => {
      const missing = await env.pushImage('app', 'missing');
      const corrupted = await env.pushImage('app', 'corrupted');
      const miscounted = await env.pushImage('app', 'miscounted');
      const detached = await env.pushImage('app', 'detached');
      const healthy = await env.pushImage('app', 'healthy');

      // (a) a blob file deleted behind the registry's back
      const lost = missing.blobs[1]!;
      await env.blobs.delete(lost.digest);
      // (b) a blob file corrupted: same size, different bytes
      const damaged = corrupted.blobs[1]!;
      await writeFile(env.blobPath(damaged.digest), randomBytes(damaged.size));
      // (c) a ref_count tampered with
      const counted = miscounted.blobs[1]!;
      await env.sql.run('UPDATE blobs SET ref_count = ref_count + 2 WHERE digest = ?', [counted.digest]);
      // (d) a tag pointing at a manifest unlinked from the repository
      await env.sql.run('DELETE FROM repository_manifests WHERE digest = ?', [detached.digest]);

      const report = await fsck(env.maintenance, env.blobs, { verifyContent: true });
      const problems = report.problems.map((problem) => `${problem.kind}: ${problem.message}`).sort();
      assert.equal(problems.length, 4, problems.join('\n'));
      assert.deepEqual(report.problems.map((problem) => problem.kind).sort(), ['blob', 'blob', 'refcount', 'tag']);
      const find = (pattern: string) => problems.find((problem) => problem.includes(pattern));
      assert.match(find(lost.digest) ?? '', /^blob: .* missing from storage/);
      assert.match(find(damaged.digest) ?? '', /^blob: .* has content with digest sha256:/);
      assert.match(find(counted.digest) ?? '', /^refcount: .* records 3 repository links, has 1/);
      assert.match(find(detached.digest) ?? '', /^tag: app:detached points at .* not in the repository/);
      assert.ok(!problems.some((problem) => problem.includes(healthy.digest)));

      // --quick (no re-hashing) does not see the corruption, and sees the rest.
      const quick = await fsck(env.maintenance, env.blobs, { verifyContent: false });
      assert.deepEqual(quick.problems.map((problem) => problem.kind).sort(), ['blob', 'refcount', 'tag']);
      assert.equal(quick.bytesVerified, 0);
    });

    it('fsck reports a manifest referencing a blob unlinked from its repository, and a manifest whose content does not match', async () => {
      const image = await env.pushImage('app', 'v1');
      await env.sql.run('DELETE FROM repository_blobs WHERE digest = ?', [image.blobs[0]!.digest]);
      await env.sql.run('UPDATE blobs SET ref_count = 0 WHERE digest = ?', [image.blobs[0]!.digest]);
      const other = await env.pushImage('app', 'v2');
      await env.sql.run('UPDATE manifests SET content = ? WHERE digest = ?', [new TextEncoder().encode('{"tampered":true}'), other.digest]);
      const report = await fsck(env.maintenance, env.blobs, { verifyContent: true });
      const kinds = report.problems.map((problem) => problem.kind).sort();
      assert.deepEqual(kinds, ['manifest', 'manifest', 'reference'], report.problems.map((problem) => problem.message).join('\n'));
      assert.ok(report.problems.some((problem) => problem.kind === 'reference' && problem.message.includes(image.blobs[0]!.digest)));
      assert.ok(report.problems.some((problem) => problem.kind === 'manifest' && problem.message.includes(other.digest)));
    });

    if (options.concurrency) {
      it('pushes racing a collector with grace 0 end with fsck clean and every pushed tag pullable', async () => {
        const shared = randomBytes(4096);
        const pushed: Pushed[] = [];
        const retried = new Map<string, number>();
        let pushing = true;
        let collections = 0;

        const pushWithRetries = async (repository: string, tag: string): Promise<void> => {
          for (let attempt = 1; ; attempt++) {
            try {
              const layers = [randomBytes(1000 + Math.floor(Math.random() * 4000)), shared];
              if (tag.endsWith('-index')) {
                const child = await env.pushImage(repository, undefined, layers);
                const index = await env.pushIndex(repository, tag, [child]);
                pushed.push(index, { ...child, tag: undefined });
              } else {
                pushed.push(await env.pushImage(repository, tag, layers));
              }
              return;
            } catch (error) {
              // What a client is told when the collector took content it had just sent.
              const code = ociError(error)?.code ?? String(error);
              if (!['MANIFEST_BLOB_UNKNOWN', 'BLOB_UPLOAD_UNKNOWN', 'BLOB_UNKNOWN'].includes(code) || attempt >= 50) throw error;
              retried.set(code, (retried.get(code) ?? 0) + 1);
            }
          }
        };

        const collecting = (async (): Promise<void> => {
          while (pushing) {
            const options = { dryRun: false, deleteUntagged: collections % 2 === 1, gracePeriodMs: 0 };
            // The server's own collector (online gc); the test below stages a collector
            // from another process in the commit-then-record window.
            const report = await env.collector.collect(options);
            collections++;
            assert.equal(report.dryRun, false);
            await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
          }
        })();

        // Every worker runs to its end (a failure must not leave others running on a closed store).
        const workers = await Promise.allSettled(
          Array.from({ length: 4 }, async (_, worker) => {
            for (let i = 0; i < 10; i++) await pushWithRetries(`race/w${worker % 2}`, i % 3 === 2 ? `w${worker}-${i}-index` : `w${worker}-${i}`);
          }),
        );
        pushing = false;
        await collecting;
        assert.ok(retried.size > 0, 'the collector never took content from a push in progress: the race was not exercised');
        for (const worker of workers) if (worker.status === 'rejected') throw worker.reason;
        assert.ok(collections >= 3, `only ${collections} collections ran`);

        const report = await fsck(env.maintenance, env.blobs, { verifyContent: true });
        assert.deepEqual(report.problems, []);
        const tagged = pushed.filter((entry) => entry.tag !== undefined);
        assert.equal(tagged.length, 40);
        for (const entry of tagged) await env.assertPullable(entry);
        for (const entry of pushed.filter((candidate) => candidate.tag === undefined)) await env.assertPullable(entry);
        // And a last collection with everything tagged changes nothing.
        await env.collect({ gracePeriodMs: 0, deleteUntagged: true });
        for (const entry of pushed) await env.assertPullable(entry);
        assert.deepEqual((await fsck(env.maintenance, env.blobs, { verifyContent: true })).problems, []);
      });
    }
  });
}

// SQLite databases live in their own directories, removed when the file's tests end.
const sqliteDirectories: string[] = [];
async function openSqlite(): Promise<SqlClient> {
  const directory = await mkdtemp(join(tmpdir(), 'custody-gc-db-'));
  sqliteDirectories.push(directory);
  return new SqliteClient(join(directory, 'custody.db'));
}
after(() => Promise.all(sqliteDirectories.map((directory) => rm(directory, { recursive: true, force: true }))));

gcSuite('sqlite', openSqlite, { concurrency: true });

describe('postgres', () => {
  let database: TestDatabase | undefined;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database?.drop();
  });
  gcSuite(
    'postgres',
    async () => {
      assert.ok(database, 'the PostgreSQL test database was not created');
      return (await openSchemaClient(database.url)).client;
    },
    { concurrency: true },
  );
});

// Races between the registry's "the content is in storage" and "record it" steps and a
// collection (by another process) running in between, staged deterministically with a
// hook on the registry's storage calls.
describe('collection racing the registry between storage and record (sqlite)', () => {
  let env: Environment;
  beforeEach(async () => {
    env = await Environment.open(await openSqlite());
  });
  afterEach(async () => {
    await env.dispose();
  });

  async function assertConsistent(pushed: Pushed | undefined): Promise<void> {
    assert.deepEqual((await fsck(env.maintenance, env.blobs, { verifyContent: true })).problems, []);
    if (pushed) await env.assertPullable(pushed);
  }

  async function attempt<T>(work: () => Promise<T>): Promise<T | undefined> {
    try {
      return await work();
    } catch (error) {
      if (ociError(error)) return undefined;
      throw error;
    }
  }

  it('re-uploading a blob the collector deletes between the registry\'s check and its link', async () => {
    const layer = randomBytes(3000);
    await env.aged(2 * HOUR, () => env.uploadBlob('app', layer));
    let report: CollectReport | undefined;
    // The registry sees the stored copy; before it links it, the collection removes it.
    env.hooks.set('stat', async () => {
      report = await env.collectElsewhere({ gracePeriodMs: HOUR });
    });
    const uploaded = await attempt(() => env.uploadBlob('app', layer));
    assert.equal(report?.blobsDeleted, 1, 'the collection ran in the window');
    if (uploaded) {
      const read = await env.registry.readBlob('app', uploaded.digest).catch((error: unknown) => error);
      assert.ok(!(read instanceof Error), `uploaded ${uploaded.digest} but cannot read it: ${String(read)}`);
    }
    await assertConsistent(undefined);
  });

  it('mounting a blob the collector deletes between the registry\'s check and its link', async () => {
    const layer = randomBytes(3000);
    const digest = (await env.aged(2 * HOUR, () => env.uploadBlob('source', layer))).digest;
    let report: CollectReport | undefined;
    env.hooks.set('stat', async () => {
      report = await env.collectElsewhere({ gracePeriodMs: HOUR });
    });
    const mounted = await env.registry.mountBlob('target', digest, undefined);
    assert.equal(report?.blobsDeleted, 1, 'the collection ran in the window');
    if (mounted) {
      const read = await env.registry.readBlob('target', digest).catch((error: unknown) => error);
      assert.ok(!(read instanceof Error), `mounted ${digest} but cannot read it: ${String(read)}`);
    }
    await assertConsistent(undefined);
  });

  // completeUpload commits the file, then records it: a collection with grace 0 in
  // between finds a file with no record and removes it. The upload must then fail
  // cleanly (the client uploads again) instead of recording a blob that is not there.
  it('a collection with grace 0 between commit and record', async () => {
    let report: CollectReport | undefined;
    env.hooks.set('commitUpload', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      report = await env.collectElsewhere({ gracePeriodMs: 0 });
    });
    const pushed = await attempt(() => env.pushImage('app', 'v1', [randomBytes(3000)]));
    assert.ok(report, 'the collection ran in the window');
    await assertConsistent(pushed);
  });
});
