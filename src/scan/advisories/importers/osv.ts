// OSV JSON (osv.dev schema): one vulnerability per document, affected packages per
// ecosystem with ECOSYSTEM/SEMVER ranges (introduced/fixed/last_affected events) or
// explicit version lists. Carries Debian, Ubuntu, AlmaLinux, Rocky, Alpine, npm, PyPI,
// Go and Maven; other ecosystems and GIT ranges are not matched against packages here.
import type { Advisory, AffectedPackage, AffectedRange, Ecosystem, Severity } from '../../../core/quality.ts';
import { cvssScore, maxSeverity, severityFromScore, severityFromWord } from '../severity.ts';
import { alpineDistro } from '../distros.ts';
import { normalizePypiName } from '../../analyzers/purl.ts';

interface OsvEvent {
  readonly introduced?: string;
  readonly fixed?: string;
  readonly last_affected?: string;
  readonly limit?: string;
}

interface OsvAffected {
  readonly package?: { readonly ecosystem?: string; readonly name?: string };
  readonly ranges?: readonly { readonly type?: string; readonly events?: readonly OsvEvent[] }[];
  readonly versions?: readonly string[];
  readonly severity?: readonly { readonly type?: string; readonly score?: string }[];
  readonly ecosystem_specific?: { readonly severity?: string; readonly urgency?: string };
  readonly database_specific?: { readonly severity?: string };
}

export interface OsvDocument {
  readonly id: string;
  readonly modified?: string;
  readonly published?: string;
  readonly aliases?: readonly string[];
  readonly related?: readonly string[];
  readonly summary?: string;
  readonly details?: string;
  readonly affected?: readonly OsvAffected[];
  readonly severity?: readonly { readonly type?: string; readonly score?: string }[];
  readonly references?: readonly { readonly url?: string }[];
  readonly database_specific?: { readonly severity?: string };
}

export function isOsv(value: unknown): value is OsvDocument {
  const doc = value as OsvDocument | null;
  return typeof doc === 'object' && doc !== null && typeof doc.id === 'string' && (Array.isArray(doc.affected) || typeof doc.modified === 'string') && !('document' in doc);
}

/** OSV ecosystem (`Debian:12`, `Ubuntu:22.04:LTS`, `Rocky Linux:9`, `PyPI`...) → ours. */
export function mapOsvEcosystem(ecosystem: string): { ecosystem: Ecosystem; distro?: string } | null {
  const [base, ...rest] = ecosystem.split(':');
  const release = rest[0];
  switch (base) {
    case 'npm': return { ecosystem: 'npm' };
    case 'PyPI': return { ecosystem: 'pypi' };
    case 'Go': return { ecosystem: 'golang' };
    case 'Maven': return { ecosystem: 'maven' };
    case 'Debian': return release ? { ecosystem: 'deb', distro: `debian:${release}` } : null;
    // Ubuntu Pro fixes are not in the public archive: not what an image can install.
    case 'Ubuntu': return release && release !== 'Pro' ? { ecosystem: 'deb', distro: `ubuntu:${release}` } : null;
    case 'AlmaLinux': return release ? { ecosystem: 'rpm', distro: `almalinux:${release.split('.')[0]}` } : null;
    case 'Rocky Linux': return release ? { ecosystem: 'rpm', distro: `rocky:${release.split('.')[0]}` } : null;
    case 'Red Hat': return null;
    case 'Alpine': {
      const distro = release ? alpineDistro(release) : null;
      return distro ? { ecosystem: 'apk', distro } : null;
    }
    default: return null;
  }
}

/** PyPI names compare normalised (PEP 503): lower case, runs of -_. as one dash. */
function normalizePackageName(ecosystem: Ecosystem, name: string): string {
  return ecosystem === 'pypi' ? normalizePypiName(name) : name;
}

function rangesOf(entry: OsvAffected): AffectedRange[] {
  const ranges: AffectedRange[] = [];
  for (const range of entry.ranges ?? []) {
    if (range.type !== 'ECOSYSTEM' && range.type !== 'SEMVER') continue;
    // Events sorted by the publisher: each introduced opens a range that the next fixed
    // or last_affected closes.
    let open: { introduced?: string } | null = null;
    for (const event of range.events ?? []) {
      if (event.introduced !== undefined) {
        if (open) ranges.push(open);
        open = event.introduced === '0' ? {} : { introduced: event.introduced };
      } else if (event.fixed !== undefined || event.last_affected !== undefined) {
        const base = open ?? {};
        ranges.push(event.fixed !== undefined ? { ...base, fixed: event.fixed } : { ...base, lastAffected: event.last_affected });
        open = null;
      }
    }
    if (open) ranges.push(open);
  }
  // Without usable ranges the enumerated versions are the affected ones.
  if (ranges.length === 0) for (const version of entry.versions ?? []) ranges.push({ introduced: version, lastAffected: version });
  return ranges;
}

function severityOf(doc: OsvDocument): { severity: Severity; vendor?: string | undefined } {
  let word = doc.database_specific?.severity;
  for (const entry of doc.affected ?? []) word ??= entry.ecosystem_specific?.severity ?? entry.ecosystem_specific?.urgency ?? entry.database_specific?.severity;
  for (const score of [...(doc.severity ?? []), ...(doc.affected ?? []).flatMap((entry) => entry.severity ?? [])]) {
    if (score.type === 'Ubuntu' && score.score) word ??= score.score;
  }
  if (word && severityFromWord(word) !== 'Unknown') return { severity: severityFromWord(word), vendor: word };
  let severity: Severity = 'Unknown';
  // CVSS_V3 and CVSS_V4 vectors, of the record and of its packages.
  for (const score of [...(doc.severity ?? []), ...(doc.affected ?? []).flatMap((entry) => entry.severity ?? [])]) {
    const value = score.score ? cvssScore(score.score) : null;
    if (value !== null) severity = maxSeverity(severity, severityFromScore(value));
  }
  return { severity, vendor: word };
}

export function parseOsv(doc: OsvDocument): Advisory {
  const affected: AffectedPackage[] = [];
  for (const entry of doc.affected ?? []) {
    const mapped = entry.package?.ecosystem ? mapOsvEcosystem(entry.package.ecosystem) : null;
    const name = entry.package?.name;
    if (!mapped || !name) continue;
    const ranges = rangesOf(entry);
    if (ranges.length === 0) continue;
    affected.push({ ecosystem: mapped.ecosystem, ...(mapped.distro ? { distro: mapped.distro } : {}), name: normalizePackageName(mapped.ecosystem, name), ranges });
  }
  const cves = [...new Set([doc.id, ...(doc.aliases ?? [])].filter((id) => /^CVE-\d+-\d+$/.test(id)))];
  const { severity, vendor } = severityOf(doc);
  return {
    id: doc.id,
    source: 'osv',
    kind: 'security',
    title: doc.summary ?? doc.details?.split('\n')[0],
    severity,
    vendorSeverity: vendor,
    issued: doc.published ? Date.parse(doc.published) : null,
    updated: doc.modified ? Date.parse(doc.modified) : null,
    cves,
    references: (doc.references ?? []).map((reference) => reference.url).filter((url): url is string => typeof url === 'string'),
    affected,
  };
}
