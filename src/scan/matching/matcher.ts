// Matches an image's installed packages against advisories. Each ecosystem is keyed the
// way its publisher files advisories:
// - deb: by source package and source version, within the image's release (debian:12):
//   the tracker and DSAs name source packages, and a binNMU's binary version
//   (5.2.15-2+b13) is not the version the fix is stated in;
// - rpm: by binary package name and epoch:version-release within the product stream
//   (rhel:9), as Red Hat's CSAF lists binary NEVRAs; a modular fix applies only to
//   packages built for that module stream, and a non-modular fix never to a modular
//   package (the same name is a different build line); entries that name a source rpm
//   (arch `src`) match every binary whose SOURCERPM it is, compared in the source's EVR;
// - apk: by origin (secdb's key) or package name, within the Alpine branch;
// - language ecosystems: by name across every distribution.
// A package is affected iff some range holds its version: introduced ≤ v < fixed, or
// introduced ≤ v ≤ lastAffected; a range with neither bound means "no fix yet".
import type { Advisory, AffectedPackage, AffectedRange, Ecosystem, Finding, ImageIndex, InstalledPackage, Severity } from '../../core/quality.ts';
import { SEVERITIES } from '../../core/quality.ts';
import { normalizePypiName } from '../analyzers/purl.ts';
import { versionSatisfies } from '../versions/compare-versions.ts';
import { distroKeys } from './distro.ts';

/** An advisory without its affected list: what a database hit points at. */
export type AdvisoryHeader = Omit<Advisory, 'affected'>;

/** One affected-package entry with its advisory (the advisory store's lookup result). */
export interface AffectedHit {
  readonly advisory: AdvisoryHeader;
  readonly affected: AffectedPackage;
}

/** What the matcher needs from the advisory database: every entry for one of `names` in
 * the ecosystem and release (`distro` null: language ecosystems, entries without one). */
export interface AdvisoryLookup {
  affectedFor(ecosystem: Ecosystem, distro: string | null, names: readonly string[]): Promise<readonly AffectedHit[]>;
}

export interface MatchResult {
  /** Advisories with a fix the image has not applied. */
  readonly findings: Finding[];
  /** Vulnerabilities without a fix (yet): listed apart, they are nothing to apply. */
  readonly unfixed: Finding[];
}

export type ImagePackages = Pick<ImageIndex, 'os' | 'packages'>;

const OS_ECOSYSTEMS: ReadonlySet<Ecosystem> = new Set<Ecosystem>(['deb', 'rpm', 'apk']);

/** The name an advisory entry is filed under, compared in the ecosystem's own case rules. */
export function advisoryName(ecosystem: Ecosystem, name: string): string {
  if (ecosystem === 'pypi') return normalizePypiName(name);
  if (ecosystem === 'npm') return name.toLowerCase();
  return name;
}

/** The names a package can be found under in the advisory database. */
function lookupNames(pkg: InstalledPackage): string[] {
  switch (pkg.ecosystem) {
    case 'deb': return [pkg.sourceName ?? pkg.name];
    case 'rpm': return pkg.sourceName && pkg.sourceName !== pkg.name ? [pkg.name, pkg.sourceName] : [pkg.name];
    case 'apk': return pkg.sourceName && pkg.sourceName !== pkg.name ? [pkg.sourceName, pkg.name] : [pkg.name];
    default: return [advisoryName(pkg.ecosystem, pkg.name)];
  }
}

/** The version advisories state fixes in, for this package. */
export function comparableVersion(pkg: InstalledPackage): string {
  if (pkg.ecosystem === 'deb') {
    if (pkg.sourceVersion) return pkg.sourceVersion;
    // No Source version recorded: a binNMU suffix is the only difference dpkg allows
    // between a binary's version and its source's without saying so.
    return pkg.version.replace(/\+b\d+$/, '');
  }
  if (pkg.ecosystem === 'rpm' && pkg.epoch !== undefined && pkg.epoch !== 0 && !pkg.version.includes(':')) return `${pkg.epoch}:${pkg.version}`;
  return pkg.version;
}

/** `name:stream` of an rpm modularity label (name:stream:version:context). */
function moduleStream(label: string | undefined): string | undefined {
  if (!label) return undefined;
  const [name, stream] = label.split(':');
  return stream === undefined ? name : `${name}:${stream}`;
}

function isFrom(version: string | undefined): version is string {
  // OSV writes "0" for "from the first version"; not every ordering knows a version 0.
  return version !== undefined && version !== '' && version !== '0';
}

/** The range that holds `version`, or null. */
export function affectingRange(ecosystem: Ecosystem, version: string, ranges: readonly AffectedRange[]): AffectedRange | null {
  for (const range of ranges) {
    if (isFrom(range.introduced) && !versionSatisfies(ecosystem, version, '>=', range.introduced)) continue;
    if (range.fixed !== undefined && range.fixed !== '') {
      if (versionSatisfies(ecosystem, version, '<', range.fixed)) return range;
      continue;
    }
    if (range.lastAffected !== undefined && range.lastAffected !== '') {
      if (versionSatisfies(ecosystem, version, '<=', range.lastAffected)) return range;
      continue;
    }
    return range; // no upper bound: every version from `introduced` on, no fix
  }
  return null;
}

/** Red Hat's extended-support streams (EUS, E4S, AUS, TUS) carry their own builds of a
 * minor release; images (UBI included) follow the main stream, whose fix is the one that
 * applies. One RHSA often lists both (sudo for 9.0 EUS and for 9). */
const EXTENDED_STREAM = /:rhel_(?:eus|e4s|aus|tus)(?::|$)/;

/** An rpm entry naming a source rpm: it concerns every binary whose SOURCERPM it is. */
function isSourceEntry(entry: AffectedPackage): boolean {
  return entry.ecosystem === 'rpm' && (entry.arch === 'src' || entry.arch === 'nosrc');
}

/** Whether an advisory's entry concerns this installed package (name, stream, module). */
function entryApplies(pkg: InstalledPackage, entry: AffectedPackage, distros: ReadonlySet<string>): boolean {
  if (entry.ecosystem !== pkg.ecosystem) return false;
  if (OS_ECOSYSTEMS.has(pkg.ecosystem)) {
    if (entry.distro === undefined || !distros.has(entry.distro)) return false;
  }
  const name = advisoryName(pkg.ecosystem, entry.name);
  switch (pkg.ecosystem) {
    case 'deb':
      return name === (pkg.sourceName ?? pkg.name);
    case 'rpm': {
      if (entry.cpe !== undefined && EXTENDED_STREAM.test(entry.cpe)) return false;
      if (isSourceEntry(entry) ? name !== (pkg.sourceName ?? pkg.name) : name !== pkg.name) return false;
      return moduleStream(entry.module) === moduleStream(pkg.module);
    }
    case 'apk':
      return name === pkg.name || name === pkg.sourceName;
    default:
      return name === advisoryName(pkg.ecosystem, pkg.name);
  }
}

/** Publishers reuse ids (a CVE id is Debian's and Alpine's advisory id alike). */
function advisoryKey(advisory: AdvisoryHeader): string {
  return `${advisory.source}\u0000${advisory.id}`;
}

const SEVERITY_RANK = new Map<Severity, number>(SEVERITIES.map((severity, index) => [severity, index]));

function byImportance(a: Finding, b: Finding): number {
  return (SEVERITY_RANK.get(a.severity)! - SEVERITY_RANK.get(b.severity)!)
    || a.advisoryId.localeCompare(b.advisoryId)
    || a.package.name.localeCompare(b.package.name)
    || a.package.path.localeCompare(b.package.path);
}

function finding(advisory: AdvisoryHeader, entry: AffectedPackage, pkg: InstalledPackage, fixed: string | null): Finding {
  return {
    advisoryId: advisory.id,
    source: advisory.source,
    kind: advisory.kind,
    cves: advisory.cves,
    severity: advisory.severity,
    ...(advisory.vendorSeverity === undefined ? {} : { vendorSeverity: advisory.vendorSeverity }),
    ...(advisory.title === undefined ? {} : { title: advisory.title }),
    issued: advisory.issued,
    package: {
      name: pkg.name,
      version: pkg.version,
      ecosystem: pkg.ecosystem,
      ...(pkg.sourceName === undefined ? {} : { sourceName: pkg.sourceName }),
      layer: pkg.layer,
      path: pkg.path,
    },
    fixedVersion: fixed,
    ...(fixed === null && entry.fixState !== undefined ? { fixState: entry.fixState } : {}),
    ...(fixed === null && entry.fixStatement !== undefined ? { fixStatement: entry.fixStatement } : {}),
    ...(advisory.statement === undefined ? {} : { statement: advisory.statement }),
  };
}

/** Every advisory's entries as hits. */
export function hitsOf(advisories: Iterable<Advisory>): AffectedHit[] {
  const hits: AffectedHit[] = [];
  for (const advisory of advisories) for (const affected of advisory.affected) hits.push({ advisory, affected });
  return hits;
}

/** Matches packages against whole advisories (tests, the CLI's in-memory database). */
export function matchPackages(image: ImagePackages, advisories: Iterable<Advisory>): MatchResult {
  return matchHits(image, hitsOf(advisories));
}

/**
 * Matches packages against candidate entries (any superset of the relevant ones: the
 * rules above decide). Pure and synchronous, so stored package lists are re-matched
 * cheaply whenever the advisory database changes.
 */
export function matchHits(image: ImagePackages, hits: Iterable<AffectedHit>): MatchResult {
  const distros = new Set(distroKeys(image.os));
  // Candidate entries by ecosystem and name: each package looks at its own names only.
  const byName = new Map<string, AffectedHit[]>();
  for (const hit of hits) {
    const key = `${hit.affected.ecosystem}\u0000${advisoryName(hit.affected.ecosystem, hit.affected.name)}`;
    let list = byName.get(key);
    if (!list) byName.set(key, (list = []));
    list.push(hit);
  }
  const findings: Finding[] = [];
  const unfixed: Finding[] = [];
  for (const pkg of image.packages) {
    const version = comparableVersion(pkg);
    // One finding per advisory and package: several entries (per architecture, per
    // stream) may describe the same fix.
    const done = new Set<string>();
    for (const name of lookupNames(pkg)) {
      for (const { advisory, affected: entry } of byName.get(`${pkg.ecosystem}\u0000${name}`) ?? []) {
        const key = advisoryKey(advisory);
        if (done.has(key) || !entryApplies(pkg, entry, distros)) continue;
        // A source rpm's fix is stated in the source's EVR (a subpackage may carry its
        // own version); the binary's epoch is the spec's, so it is the source's too.
        const range = affectingRange(pkg.ecosystem, isSourceEntry(entry) ? pkg.sourceVersion ?? version : version, entry.ranges);
        if (range === null) continue;
        done.add(key);
        const fixed = range.fixed !== undefined && range.fixed !== '' ? range.fixed : null;
        (fixed === null ? unfixed : findings).push(finding(advisory, entry, pkg, fixed));
      }
    }
  }
  findings.sort(byImportance);
  unfixed.sort(byImportance);
  return { findings, unfixed };
}

/** Looks up the candidates for an image's packages, one query per ecosystem and release,
 * then matches them. */
export async function matchImage(image: ImagePackages, lookup: AdvisoryLookup): Promise<MatchResult> {
  const distros = distroKeys(image.os);
  const names = new Map<Ecosystem, Set<string>>();
  for (const pkg of image.packages) {
    let set = names.get(pkg.ecosystem);
    if (!set) names.set(pkg.ecosystem, (set = new Set()));
    for (const name of lookupNames(pkg)) set.add(name);
    // Language advisories may spell the name differently from the package manifest.
    if (!OS_ECOSYSTEMS.has(pkg.ecosystem)) set.add(pkg.name);
  }
  const candidates: AffectedHit[] = [];
  for (const [ecosystem, set] of names) {
    const list = [...set];
    if (OS_ECOSYSTEMS.has(ecosystem)) {
      for (const distro of distros) for (const hit of await lookup.affectedFor(ecosystem, distro, list)) candidates.push(hit);
    } else {
      for (const hit of await lookup.affectedFor(ecosystem, null, list)) candidates.push(hit);
    }
  }
  return matchHits(image, candidates);
}
