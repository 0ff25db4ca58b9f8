// The match phase's data: a generated advisory database of N affected-package records
// (spread over Debian, Ubuntu, RHEL and Alpine releases and npm, like a full import of
// the real feeds), and the timing of the matcher's bulk lookup of an image's package
// names. Exported for the matcher's own end-to-end timing on the same database.
import { performance } from 'node:perf_hooks';
import type { Advisory, AffectedPackage, Ecosystem, InstalledPackage, OsRelease } from '../../src/core/quality.ts';
import { matchImage } from '../../src/scan/matching/matcher.ts';
import type { SqlClient } from '../../src/metadata/sql-client.ts';
import { migrate } from '../../src/metadata/migrations.ts';
import type { AdvisoryStore } from '../../src/metadata/advisory-store.ts';
import { SqlAdvisoryStore } from '../../src/metadata/sql-advisory-store.ts';

export interface MatchDatabase {
  readonly store: AdvisoryStore;
  /** Distinct package names per (ecosystem, distro) stream. */
  readonly namesPerStream: number;
  readonly streams: readonly { readonly ecosystem: Ecosystem; readonly distro: string | null }[];
  readonly records: number;
  readonly advisories: number;
}

const STREAMS: readonly { ecosystem: Ecosystem; distro: string | null }[] = [
  { ecosystem: 'deb', distro: 'debian:11' },
  { ecosystem: 'deb', distro: 'debian:12' },
  { ecosystem: 'deb', distro: 'ubuntu:22.04' },
  { ecosystem: 'rpm', distro: 'rhel:8' },
  { ecosystem: 'rpm', distro: 'rhel:9' },
  { ecosystem: 'apk', distro: 'alpine:3.19' },
  { ecosystem: 'npm', distro: null },
  { ecosystem: 'pypi', distro: null },
];

/** A package name of the generated data (the same names in every stream). */
export function packageName(index: number): string {
  return `pkg${index.toString(36).padStart(4, '0')}`;
}

/**
 * Fills `sql` with `records` affected rows: each advisory names one package in every
 * stream (8 rows), packages drawn so each has about records / (8 × namesPerStream)
 * advisories, as popular packages do in real feeds. Not timed; a few seconds per 100k rows.
 */
export async function generateAdvisoryDatabase(sql: SqlClient, records: number, namesPerStream = 20_000, onProgress?: (done: number) => void): Promise<MatchDatabase> {
  await migrate(sql);
  const store = new SqlAdvisoryStore(sql);
  const advisories = Math.ceil(records / STREAMS.length);
  const perDocument = 20_000;
  let state = 0x9e3779b9;
  const random = (): number => {
    // xorshift32: the same database on every run.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x100000000;
  };
  for (let start = 0, document = 0; start < advisories; start += perDocument, document++) {
    const batch: Advisory[] = [];
    for (let i = start; i < Math.min(advisories, start + perDocument); i++) {
      const name = packageName(Math.floor(random() * namesPerStream));
      const affected: AffectedPackage[] = STREAMS.map((stream) => ({
        ecosystem: stream.ecosystem,
        ...(stream.distro ? { distro: stream.distro } : {}),
        name,
        ranges: [{ fixed: `${1 + (i % 7)}.${i % 13}.${i % 5}-${1 + (i % 3)}` }],
      }));
      batch.push({ id: `BENCH-${i}`, source: 'osv', kind: 'security', severity: 'Medium', issued: Date.UTC(2024, 0, 1) + i * 1000, cves: [`CVE-2024-${10000 + i}`], affected });
    }
    await store.importDocument({ source: 'osv', key: `bench:${document}`, hash: `bench-${document}-${batch.length}`, advisories: batch });
    onProgress?.(Math.min(advisories, start + perDocument) * STREAMS.length);
  }
  return { store, namesPerStream, streams: STREAMS, records: advisories * STREAMS.length, advisories };
}

export interface LookupTiming {
  readonly seconds: number;
  readonly hits: number;
}

/** One bulk lookup of `count` distinct package names (half of them with advisories, as
 * in an image whose packages are partly in the feeds) in one stream. */
export async function timeAffectedLookup(database: MatchDatabase, count = 1000, stream = database.streams[1]!): Promise<LookupTiming> {
  const names: string[] = [];
  for (let i = 0; i < count; i++) names.push(i % 2 === 0 ? packageName((i * 7919) % database.namesPerStream) : `absent-${i}`);
  const started = performance.now();
  const hits = await database.store.affectedFor(stream.ecosystem, stream.distro, names);
  return { seconds: (performance.now() - started) / 1000, hits: hits.length };
}

/**
 * The whole match of an image of `count` Debian 12 packages (half of them named in the
 * advisories): the bulk lookup plus the version decisions, as a push or `custody scan` does.
 */
export async function timeFullMatch(database: MatchDatabase, count = 1000): Promise<{ seconds: number; findings: number }> {
  const packages: InstalledPackage[] = [];
  for (let i = 0; i < count; i++) {
    const name = i % 2 === 0 ? packageName((i * 7919) % database.namesPerStream) : `absent-${i}`;
    const version = `${1 + (i % 7)}.${i % 11}.0-1`;
    packages.push({ ecosystem: 'deb', name, version, sourceName: name, sourceVersion: version, arch: 'amd64', path: 'var/lib/dpkg/status', layer: 'sha256:bench', purl: `pkg:deb/debian/${name}@${version}` });
  }
  const os: OsRelease = { id: 'debian', idLike: [], versionId: '12', versionCodename: 'bookworm', name: 'Debian GNU/Linux', prettyName: null, cpe: null, source: 'etc/os-release' };
  const started = performance.now();
  const result = await matchImage({ os, packages }, database.store);
  return { seconds: (performance.now() - started) / 1000, findings: result.findings.length + result.unfixed.length };
}
