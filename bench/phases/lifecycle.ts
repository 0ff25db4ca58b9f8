// The lifecycle phase (issue 14), in process over SQLite on a temporary directory:
// - manifest PUT (by tag) and DELETE (by tag) through the Registry with the lifecycle
//   guards on (an immutability rule that does not match, a quota set) against the same
//   Registry without guards: the "Distribution" column holds the guards-off figure;
// - a retention dry run over 100,000 tags of one repository (policy: keep the 10 newest).
// Custody's modules are loaded from --custody-dir, like the other in-process phases.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createHash, randomBytes } from 'node:crypto';
import { rows, raw, log } from '../lib/measure.ts';
import { median } from '../lib/stats.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const TAGS = 100_000;

async function load<T>(custodyDir: string, path: string): Promise<T> {
  return (await import(join(custodyDir, 'src', ...path.split('/')))) as T;
}

export async function lifecyclePhase(rounds: number, quick: boolean, parent: string, custodyDir: string): Promise<void> {
  const work = join(parent, 'lifecycle');
  mkdirSync(work, { recursive: true });
  try {
    const { SqliteClient } = await load<any>(custodyDir, 'metadata/sqlite-client.ts');
    const { migrate } = await load<any>(custodyDir, 'metadata/migrations.ts');
    const { SqlMetadataStore } = await load<any>(custodyDir, 'metadata/sql-metadata-store.ts');
    const { FilesystemBlobStore } = await load<any>(custodyDir, 'storage/filesystem-blob-store.ts');
    const { CoreRegistry: Registry } = await load<any>(custodyDir, 'registry/registry.ts');
    const { lifecycleGuards } = await load<any>(custodyDir, 'lifecycle/install-lifecycle.ts');
    const { Retention } = await load<any>(custodyDir, 'lifecycle/retention.ts');

    const count = quick ? 300 : 1000;
    const measure = async (guarded: boolean, round: number): Promise<{ put: number; del: number }> => {
      const dir = join(work, `${guarded ? 'on' : 'off'}-${round}`);
      const sql = new SqliteClient(join(dir, 'custody.db'));
      await migrate(sql);
      const metadata = new SqlMetadataStore(sql);
      const blobs = new FilesystemBlobStore(join(dir, 'blobs'));
      await blobs.init();
      const guards = lifecycleGuards(sql, metadata);
      if (guarded) {
        await guards.store.addImmutabilityRule({ namespace: 'bench', repositoryPattern: 'bench/**', tagPattern: 'release-*', now: Date.now() });
        await guards.quotas.setQuota('bench', 1e12, 2e12, Date.now());
      }
      const registry = new Registry(blobs, metadata, { maxManifestBytes: 4 << 20, maxPageSize: 1000, automaticMount: true, guards: guarded ? guards.guards : [] });
      const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
      const configDigest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
      await registry.uploadMonolithic('bench/app', configDigest, (await import('node:stream')).Readable.from([config]), config.length);
      const manifests = Array.from({ length: count }, (_, i) =>
        Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length }, layers: [], annotations: { n: String(i), salt: randomBytes(4).toString('hex') } })),
      );
      let started = performance.now();
      for (let i = 0; i < count; i++) await registry.putManifest('bench/app', `t${i}`, OCI_MANIFEST, manifests[i]);
      const put = count / ((performance.now() - started) / 1000);
      started = performance.now();
      for (let i = 0; i < count; i++) await registry.deleteManifest('bench/app', `t${i}`);
      const del = count / ((performance.now() - started) / 1000);
      await sql.close();
      return { put, del };
    };
    const on: Array<{ put: number; del: number }> = [];
    const off: Array<{ put: number; del: number }> = [];
    for (let round = 0; round < Math.max(rounds, 3); round++) {
      // Alternate the order so neither side always runs on a warmer process.
      if (round % 2 === 0) {
        off.push(await measure(false, round));
        on.push(await measure(true, round));
      } else {
        on.push(await measure(true, round));
        off.push(await measure(false, round));
      }
    }
    const section = 'lifecycle (in process, SQLite): guards on vs off';
    rows.push({ section, metric: 'manifest PUT by tag, immutability + quota guards on', unit: 'ops/s', distribution: [median(off.map((r) => r.put))], custody: [median(on.map((r) => r.put))], higherIsBetter: true, baseline: 'guards off' });
    rows.push({ section, metric: 'tag DELETE, immutability + quota guards on', unit: 'ops/s', distribution: [median(off.map((r) => r.del))], custody: [median(on.map((r) => r.del))], higherIsBetter: true, baseline: 'guards off' });

    // Retention dry run over 100,000 tags.
    const dir = join(work, 'retention');
    const sql = new SqliteClient(join(dir, 'custody.db'));
    await migrate(sql);
    const metadata = new SqlMetadataStore(sql);
    const manifest = Buffer.from('{"schemaVersion":2}');
    const now = Date.now();
    await sql.transaction(async (tx: any) => {
      await tx.run('INSERT INTO repositories (name, created_at) VALUES (?, ?)', ['bench/many', now]);
      for (let i = 0; i < TAGS; i += 500) {
        const values: unknown[] = [];
        const tagValues: unknown[] = [];
        const batch = Math.min(500, TAGS - i);
        for (let j = 0; j < batch; j++) {
          const digest = `sha256:${createHash('sha256').update(`m${i + j}`).digest('hex')}`;
          values.push(digest, OCI_MANIFEST, manifest.length, manifest, now, now);
          tagValues.push(`t${i + j}`, digest, now - (i + j) * 1000);
        }
        await tx.run(`INSERT INTO manifests (digest, media_type, size, content, created_at, last_used_at) VALUES ${new Array(batch).fill('(?, ?, ?, ?, ?, ?)').join(', ')}`, values);
        await tx.run(`INSERT INTO tags (repository_id, name, digest, updated_at) VALUES ${new Array(batch).fill('(1, ?, ?, ?)').join(', ')}`, tagValues);
      }
    });
    const registry = new Registry(new FilesystemBlobStore(join(dir, 'blobs')), metadata, { maxManifestBytes: 4 << 20, maxPageSize: 1000, automaticMount: true });
    const { SqlRetentionStore } = await load<any>(custodyDir, 'metadata/sql-retention-store.ts');
    const retention = new Retention(registry, new SqlRetentionStore(sql));
    await retention.setPolicy('repository', 'bench/many', { keepLast: 10 }, null);
    const times: number[] = [];
    let removed = 0;
    for (let round = 0; round < Math.max(rounds, 3); round++) {
      const started = performance.now();
      const report = await retention.run('repository', 'bench/many', true);
      times.push(performance.now() - started);
      removed = report.removed.length;
    }
    await sql.close();
    rows.push({ section: 'lifecycle (in process, SQLite): retention', metric: `retention dry run over ${TAGS.toLocaleString('en')} tags (keep the 10 newest)`, unit: 'ms', distribution: [], custody: [median(times)], higherIsBetter: null, note: 'issue 14 asks under 2000 ms' });
    raw.lifecycle = { on, off, retentionMs: times, removed };
    log(`lifecycle: PUT ${median(on.map((r) => r.put)).toFixed(0)}/s guarded vs ${median(off.map((r) => r.put)).toFixed(0)}/s; retention dry run ${median(times).toFixed(0)} ms over ${TAGS} tags (${removed} would go)`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
