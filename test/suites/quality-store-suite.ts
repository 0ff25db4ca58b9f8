// The QualityStore contract over any SqlClient, after migrate(): the indexing job queue
// (enqueue, claim with leases, complete, fail and retry), the stored index, findings and
// grades. Each test gets a fresh database from `openClient` and the store from the
// factories. With `openReplica` (PostgreSQL), the queue is also claimed from a second
// client on the same database, as a second replica would: no job is claimed twice, and a
// claim passes over a row another transaction holds (FOR UPDATE SKIP LOCKED) instead of
// waiting for it.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { migrate } from '../../src/metadata/migrations.ts';
import type { SqlClient } from '../../src/metadata/sql-client.ts';
import type { IndexJob, QualityStore, StoredMatch } from '../../src/metadata/quality-store.ts';
import type { Finding, GradeReport, ImageIndex } from '../../src/core/quality.ts';
import type { StoreFactories } from '../support/sql-stores.ts';
import { blobDigest, manifest } from './metadata-suite.ts';

const T0 = 1_700_000_000_000;
const LEASE = 60_000;

export interface QualitySuiteOptions {
  /** Another client on the database `first` is on (a second replica), closed by the suite. */
  readonly openReplica?: (first: SqlClient) => Promise<SqlClient>;
}

/** A digest nothing stores. */
function unknownDigest(label: string): string {
  return blobDigest(`unknown ${label}`);
}

function index(manifestDigest: string, indexedAt: number): ImageIndex {
  return {
    manifestDigest,
    os: { id: 'debian', idLike: [], versionId: '12', versionCodename: 'bookworm', name: 'Debian GNU/Linux', prettyName: null, cpe: null, source: 'etc/os-release' },
    packages: [{ name: 'openssl', version: '3.0.11-1', ecosystem: 'deb', layer: 'sha256:1', path: 'var/lib/dpkg/status', purl: 'pkg:deb/debian/openssl@3.0.11-1' }],
    secrets: [],
    layers: [{ digest: 'sha256:1', mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: 10 }],
    indexerVersion: 'test-1',
    indexedAt,
  };
}

function finding(id: string): Finding {
  return {
    advisoryId: id,
    source: 'debian',
    kind: 'security',
    cves: [id],
    severity: 'High',
    issued: T0,
    package: { name: 'openssl', version: '3.0.11-1', ecosystem: 'deb', layer: 'sha256:1', path: 'var/lib/dpkg/status' },
    fixedVersion: '3.0.12-1',
  };
}

function report(grade: GradeReport['grade'], nextAt: number | null): GradeReport {
  return { grade, asOf: T0, next: nextAt === null ? null : { grade: 'F', at: nextAt }, timeline: [{ from: T0, grade }], deciding: [] };
}

export function qualityStoreSuite(name: string, openClient: () => Promise<SqlClient>, stores: StoreFactories, options: QualitySuiteOptions = {}): void {
  describe(`QualityStore contract: ${name}`, () => {
    let sql: SqlClient;
    let store: QualityStore;
    const images = new Map<string, string>();

    beforeEach(async () => {
      sql = await openClient();
      await migrate(sql);
      store = stores.quality(sql);
      images.clear();
    });

    /** The digest of an image manifest pushed to repository `r` (quality rows follow stored manifests). */
    async function digest(label: string): Promise<string> {
      const known = images.get(label);
      if (known) return known;
      const metadata = stores.metadata(sql);
      const entry = manifest('r', { blobs: [blobDigest(label)], label, now: T0 });
      await metadata.linkBlob('r', blobDigest(label), 10, T0);
      await metadata.putManifest(entry);
      images.set(label, entry.digest);
      return entry.digest;
    }
    afterEach(async () => {
      await sql.close();
    });

    it('enqueue: once per digest while queued or indexed; again when failed, or with force', async () => {
      const a = await digest('a');
      assert.equal(await store.enqueue('library/app', a, T0), true);
      assert.equal(await store.enqueue('other/app', a, T0 + 1), false, 'content addressed: the same digest is not queued twice');
      assert.equal((await store.getImage(a))?.status, 'queued');
      assert.equal((await store.getImage(a))?.repository, 'library/app');
      assert.equal(await store.enqueue('other/app', a, T0 + 2, { force: true }), true);
      assert.equal((await store.getImage(a))?.repository, 'other/app');
      const job = (await store.claimJob('w1', T0 + 3, LEASE))!;
      await store.failJob(job, 'broken', T0 + 4, null);
      assert.deepEqual([(await store.getImage(a))?.status, (await store.getImage(a))?.error], ['failed', 'broken']);
      assert.equal(await store.enqueue('library/app', a, T0 + 5), true, 'a failed image is queued again');
      assert.deepEqual([(await store.getImage(a))?.status, (await store.getImage(a))?.error], ['queued', null]);
      assert.equal(await store.getImage(unknownDigest('never')), null);
    });

    it('claimJob: oldest due first, none before its time, a live claim is not taken, an expired one is (attempts count)', async () => {
      const [a, b] = [await digest('a'), await digest('b')];
      await store.enqueue('r', b, T0 + 10);
      await store.enqueue('r', a, T0);
      assert.equal(await store.claimJob('w1', T0 - 1, LEASE), null, 'nothing is due yet');
      const first = (await store.claimJob('w1', T0 + 20, LEASE))!;
      assert.deepEqual({ ...first, id: 0 }, { id: 0, manifestDigest: a, repository: 'r', attempts: 1 });
      assert.equal((await store.getImage(a))?.status, 'indexing');
      const second = (await store.claimJob('w2', T0 + 20, LEASE))!;
      assert.equal(second.manifestDigest, b);
      assert.equal(await store.claimJob('w3', T0 + 30, LEASE), null, 'claimed jobs are held for the lease');
      const again = (await store.claimJob('w3', T0 + 20 + LEASE + 1, LEASE))!;
      assert.equal(again.manifestDigest, a, 'the claim of a worker that died expires');
      assert.equal(again.attempts, 2);
      await store.releaseClaims();
      assert.equal((await store.claimJob('w4', T0 + 21 + LEASE, LEASE))?.manifestDigest, a, 'released claims are due again at once');
    });

    it('completeJob stores the index, drops findings of an older index and removes the job', async () => {
      const a = await digest('a');
      await store.enqueue('r', a, T0);
      const job = (await store.claimJob('w', T0, LEASE))!;
      await store.saveMatch(a, { revision: 1, findings: [finding('CVE-1')], unfixed: [], firstSeen: {}, computedAt: T0 }, report('B', null));
      await store.completeJob(job, index(a, T0 + 5), T0 + 6);
      const image = (await store.getImage(a))!;
      assert.equal(image.status, 'indexed');
      assert.deepEqual(image.index, index(a, T0 + 5));
      assert.equal(image.updatedAt, T0 + 6);
      assert.equal(await store.getMatch(a), null, 'findings of an older index no longer describe the packages');
      assert.equal(await store.claimJob('w', T0 + 10 * LEASE, LEASE), null, 'the job is gone');
      assert.deepEqual(await store.statusCounts(), { queued: 0, indexing: 0, indexed: 1, failed: 0 });
    });

    it('storedNeeds: the distinct operating systems and package ecosystems of indexed images only', async () => {
      assert.deepEqual(await store.storedNeeds(), { oses: [], ecosystems: [] });
      const [a, b, c] = [await digest('needs-a'), await digest('needs-b'), await digest('needs-c')];
      for (const name of [a, b, c]) await store.enqueue('r', name, T0);
      await store.completeJob((await store.claimJob('w', T0, LEASE))!, index(a, T0), T0);
      const alpine = { ...index(b, T0), os: { ...index(b, T0).os!, id: 'alpine', versionId: '3.19.1', versionCodename: null, name: 'Alpine Linux' } };
      await store.completeJob((await store.claimJob('w', T0, LEASE))!, { ...alpine, packages: [{ name: 'left-pad', version: '1.0.0', ecosystem: 'npm', layer: 'sha256:1', path: 'app/package.json', purl: 'pkg:npm/left-pad@1.0.0' }] }, T0);
      // c is still queued: it needs nothing yet.
      const needs = await store.storedNeeds();
      assert.deepEqual(needs.oses.map((os) => `${os.id}:${os.versionId}`).sort(), ['alpine:3.19.1', 'debian:12']);
      assert.deepEqual(needs.ecosystems, ['deb', 'npm']);
      void c;
    });

    it('reindexCandidates: image manifests never queued, and those indexed by another indexer version, in digest order', async () => {
      const [a, b, c] = [await digest('re-a'), await digest('re-b'), await digest('re-c')];
      await store.enqueue('r', a, T0);
      await store.completeJob((await store.claimJob('w', T0, LEASE))!, index(a, T0), T0);
      await store.enqueue('r', b, T0);
      // c was stored before indexing existed; b is queued (not a candidate); a has test-1.
      const sorted = (items: { digest: string }[]): string[] => items.map((item) => item.digest);
      assert.deepEqual(await store.reindexCandidates('test-1', null, 10), [{ digest: c, repository: 'r', indexed: false }]);
      const both = await store.reindexCandidates('test-2', null, 10);
      assert.deepEqual(sorted(both), [a, c].sort());
      assert.deepEqual(both.find((item) => item.digest === a), { digest: a, repository: 'r', indexed: true });
      const first = await store.reindexCandidates('test-2', null, 1);
      assert.deepEqual(sorted(await store.reindexCandidates('test-2', first[0]!.digest, 10)), [a, c].sort().slice(1));
    });

    it('failJob: retried at the time given, or given up', async () => {
      const a = await digest('a');
      await store.enqueue('r', a, T0);
      const job = (await store.claimJob('w', T0, LEASE))!;
      await store.failJob(job, 'registry unreachable', T0 + 1, T0 + 1000);
      assert.deepEqual([(await store.getImage(a))?.status, (await store.getImage(a))?.error], ['queued', 'registry unreachable']);
      assert.equal(await store.claimJob('w', T0 + 999, LEASE), null, 'not before its retry time');
      const retry = (await store.claimJob('w', T0 + 1000, LEASE))!;
      assert.equal(retry.attempts, 2);
      await store.failJob(retry, 'still broken', T0 + 1001, null);
      assert.deepEqual(await store.statusCounts(), { queued: 0, indexing: 0, indexed: 0, failed: 1 });
      assert.equal(await store.claimJob('w', T0 + 10 * LEASE, LEASE), null);
    });

    it('matches and grades: stored and read back, stale ones found by revision, due grades by time, notices remembered', async () => {
      const [a, b, c] = [await digest('a'), await digest('b'), await digest('c')];
      for (const image of [a, b, c]) {
        await store.enqueue('r', image, T0);
        await store.completeJob((await store.claimJob('w', T0, LEASE))!, index(image, T0), T0);
      }
      assert.deepEqual(await store.staleImages(1, 10), [a, b, c].sort(), 'no findings yet: all stale');
      const match: StoredMatch = { revision: 3, findings: [finding('CVE-1')], unfixed: [finding('CVE-2')], firstSeen: { 'debian\u0000CVE-1': T0 }, computedAt: T0 + 1 };
      await store.saveMatch(a, match, report('C', T0 + 100));
      await store.saveMatch(b, { ...match, revision: 1 }, report('A', null));
      assert.deepEqual(await store.getMatch(a), match);
      assert.deepEqual(await store.staleImages(3, 10), [b, c].sort());
      assert.deepEqual(await store.staleImages(3, 1), [[b, c].sort()[0]], 'a page at a time');
      assert.deepEqual(await store.getGrade(a), { report: report('C', T0 + 100), notifiedGrade: null, notifiedCriticals: [] });
      await store.saveGrade(c, report('B', T0 + 50));
      assert.deepEqual(await store.gradesDue(T0 + 49, 10), []);
      assert.deepEqual(await store.gradesDue(T0 + 100, 10), [c, a], 'earliest first');
      assert.deepEqual(await store.gradesDue(T0 + 100, 1), [c]);
      await store.markNotified(a, 'C', ['CVE-9']);
      assert.deepEqual(await store.getGrade(a), { report: report('C', T0 + 100), notifiedGrade: 'C', notifiedCriticals: ['CVE-9'] });
      assert.equal(await store.getGrade(unknownDigest('none')), null);
    });

    it('concurrent claimers never claim the same job, and between them claim every one', async () => {
      const replica = options.openReplica ? await options.openReplica(sql) : undefined;
      try {
        const others = replica ? stores.quality(replica) : store;
        const jobs = 40;
        for (let n = 0; n < jobs; n++) await store.enqueue('r', await digest(`job${n}`), T0);
        const claimed: IndexJob[] = [];
        const worker = async (on: QualityStore, label: string): Promise<void> => {
          // Each claims until it finds nothing due; claims from both sides interleave.
          for (let job = await on.claimJob(label, T0 + 1, LEASE); job; job = await on.claimJob(label, T0 + 1, LEASE)) claimed.push(job);
        };
        await Promise.all([worker(store, 'a1'), worker(store, 'a2'), worker(store, 'a3'), worker(others, 'b1'), worker(others, 'b2'), worker(others, 'b3')]);
        const digests = claimed.map((job) => job.manifestDigest);
        assert.equal(new Set(digests).size, digests.length, 'a job was claimed twice');
        assert.equal(digests.length, jobs, 'every job was claimed once');
        assert.deepEqual(await store.statusCounts(), { queued: 0, indexing: jobs, indexed: 0, failed: 0 });
      } finally {
        await replica?.close();
      }
    });

    if (options.openReplica) {
      it('a claim passes over a job another transaction holds locked instead of waiting for it', async () => {
        const replica = await options.openReplica!(sql);
        let release!: () => void;
        const released = new Promise<void>((resolve) => (release = resolve));
        let holding!: Promise<void>;
        try {
          const [a, b] = [await digest('a'), await digest('b')];
          await store.enqueue('r', a, T0);
          await store.enqueue('r', b, T0 + 1);
          // Another replica is in the middle of claiming the oldest job: its row is locked.
          const locked = new Promise<void>((resolve, reject) => {
            holding = replica
              .transaction(async (tx) => {
                const rows = await tx.query<{ id: number }>('SELECT id FROM quality_jobs WHERE manifest_digest = ? FOR UPDATE', [a]);
                assert.equal(rows.length, 1);
                resolve();
                await released;
              })
              .catch(reject);
          });
          await locked;
          let timer: NodeJS.Timeout | undefined;
          const waited = new Promise<'waited'>((resolve) => (timer = setTimeout(() => resolve('waited'), 10_000)));
          const job = await Promise.race([store.claimJob('w', T0 + 2, LEASE), waited]);
          clearTimeout(timer);
          assert.notEqual(job, 'waited', 'the claim waited for the locked row');
          assert.equal((job as IndexJob | null)?.manifestDigest, b, 'the next due job, not the locked one');
          release();
          await holding;
          assert.equal((await store.claimJob('w', T0 + 2, LEASE))?.manifestDigest, a, 'once the lock is gone the job is claimable');
        } finally {
          release();
          await holding?.catch(() => {});
          await replica.close();
        }
      });
    }
  });
}
