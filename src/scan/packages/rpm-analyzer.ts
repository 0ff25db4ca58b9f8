// The indexer's rpm analyzer: asks the layer walker for the rpm database files and turns
// the final database into packages, each attributed to the layer that introduced it.
//
// One database per image. When several are present (a `Packages` left behind after a
// conversion to sqlite, or copies in both rpm directories), the newest format wins
// (sqlite, then ndb, then Berkeley DB), because a converted system uses the new one and
// rpm never converts back; at equal format, /var/lib/rpm (the classic %_dbpath) wins.
// A symlinked directory (/var/lib/rpm -> ../../usr/lib/sysimage/rpm on Fedora and SUSE)
// is one database: files are taken by their real path.
//
// Layer attribution: the database is rewritten by every layer that installs anything,
// so each version of the file is parsed, oldest first, and a package (name, EVR, arch)
// keeps the layer of the first version it appears in, as long as it stays in every
// later one. An older version the walker could not keep (larger than its cap) or that
// does not parse is skipped: a package present on both sides of it keeps its older layer.
import type { InstalledPackage } from '../../core/quality.ts';
import type { Analyzer, AnalyzerContext, AnalyzerResult, FinalFile, FinalFiles } from '../indexer/analyzer.ts';
import {
  detectRpmDatabaseFormat,
  isGpgPubkey,
  isRpmDatabasePath,
  parseRpmDatabase,
  RPM_DATABASE_PATHS,
  RpmDatabaseError,
  rpmPackageKey,
  toInstalledPackage,
  type RpmDatabaseFormat,
} from './rpm.ts';

const FORMAT_PREFERENCE: readonly RpmDatabaseFormat[] = ['sqlite', 'ndb', 'bdb'];

/** The rpm database files of the final filesystem, by real path, best first. */
function databases(files: FinalFiles): FinalFile[] {
  const byPath = new Map<string, FinalFile>();
  for (const path of RPM_DATABASE_PATHS) {
    const file = files.file(path);
    if (file !== undefined) byPath.set(file.path, file);
  }
  for (const file of files.wantedFiles()) if (isRpmDatabasePath(file.path)) byPath.set(file.path, file);
  const rank = (file: FinalFile): number => {
    const format = file.content === null ? null : detectRpmDatabaseFormat(file.content);
    const formatRank = format === null ? FORMAT_PREFERENCE.length : FORMAT_PREFERENCE.indexOf(format);
    const directoryRank = file.path.startsWith('var/lib/rpm/') ? 0 : 1;
    return formatRank * 2 + directoryRank;
  };
  return [...byPath.values()].filter((file) => file.content === null || file.content.length > 0).sort((a, b) => rank(a) - rank(b));
}

async function analyze(files: FinalFiles, context: AnalyzerContext): Promise<AnalyzerResult> {
  const file = databases(files)[0];
  if (file === undefined) return { packages: [] };
  if (file.content === null) {
    throw new RpmDatabaseError(`${file.path}: the rpm database (${file.size} bytes) is larger than the indexer keeps in memory`);
  }
  const final = await parseRpmDatabase(file.path, file.content);

  // Which layer introduced each (name, EVR, arch): see the header comment.
  let introducedIn = new Map<string, string>();
  const earlier = file.versions.slice(0, -1);
  for (const version of earlier) {
    if (version.content === null) continue;
    let listed;
    try {
      listed = await parseRpmDatabase(file.path, version.content);
    } catch {
      continue;
    }
    const next = new Map<string, string>();
    for (const pkg of listed) {
      const key = rpmPackageKey(pkg);
      next.set(key, introducedIn.get(key) ?? version.layer.digest);
    }
    introducedIn = next;
  }
  const lastLayer = file.versions.at(-1)?.layer.digest ?? file.layer.digest;

  const packages: InstalledPackage[] = [];
  for (const pkg of final) {
    if (isGpgPubkey(pkg)) continue;
    const layer = introducedIn.get(rpmPackageKey(pkg)) ?? lastLayer;
    packages.push(toInstalledPackage(pkg, { layer, os: context.os }));
  }
  packages.sort((a, b) => cmp(a.name, b.name) || cmp(a.version, b.version) || cmp(a.arch ?? '', b.arch ?? ''));
  return { packages };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The rpm analyzer: stateless, so one object serves every walk. */
export const rpmAnalyzer: Analyzer = {
  name: 'rpm',
  wants: isRpmDatabasePath,
  finish: analyze,
};
