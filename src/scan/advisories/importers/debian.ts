// The Debian security tracker's JSON (source package → CVE → release → status, fixed
// version, urgency) and its DSA/DLA list files. The tracker yields one advisory per CVE
// (affected rows keyed by source package and release); a list yields one advisory per
// DSA/DLA. A stable release's fix often exists only in the list (the tracker still says
// open while the DSA went out), so CVE rows without a fix take the version of a DSA that
// fixed that CVE in that release for that package.
import type { Advisory, AffectedPackage, Severity } from '../../../core/quality.ts';
import { debianDistro } from '../distros.ts';
import { maxSeverity, severityFromWord } from '../severity.ts';

interface TrackerRelease {
  readonly status?: string;
  readonly fixed_version?: string;
  readonly urgency?: string;
}

type Tracker = Record<string, Record<string, { readonly description?: string; readonly releases?: Record<string, TrackerRelease> | unknown[] }>>;

/** One DSA/DLA entry of a list file. */
export interface ListEntry {
  readonly id: string;
  readonly issued: number | null;
  readonly title: string;
  readonly cves: readonly string[];
  /** release codename → package → fixed version (only real versions). */
  readonly fixes: readonly { readonly release: string; readonly name: string; readonly version: string }[];
}

const MONTHS: Readonly<Record<string, number>> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

/** Whether text looks like a DSA/DLA list: it starts with `[01 Aug 2002] DSA-141 ...`. */
export function isDebianList(text: string): boolean {
  return /^\[\d{1,2} [A-Z][a-z]{2} \d{4}\] D[SL]A-\d+/.test(text.trimStart());
}

/** Whether a parsed JSON value is the tracker's document: packages mapping to CVE maps. */
export function isDebianTracker(value: unknown): value is Tracker {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const first = Object.values(value as Record<string, unknown>).find((entry) => typeof entry === 'object' && entry !== null && Object.keys(entry).length > 0);
  if (!first) return false;
  return Object.entries(first as Record<string, unknown>).some(([key, entry]) => /^(CVE|TEMP)-/.test(key) && typeof entry === 'object' && entry !== null && 'releases' in entry);
}

export function parseDebianList(text: string): ListEntry[] {
  const entries: ListEntry[] = [];
  let current: { id: string; issued: number | null; title: string; cves: string[]; fixes: { release: string; name: string; version: string }[] } | null = null;
  for (const line of text.split('\n')) {
    const head = /^\[(\d{1,2}) ([A-Z][a-z]{2}) (\d{4})\] (D[SL]A-[\d-]+)\s*(.*)$/.exec(line);
    if (head) {
      if (current) entries.push(current);
      const month = MONTHS[head[2]!];
      current = {
        id: head[4]!,
        issued: month === undefined ? null : Date.UTC(Number(head[3]), month, Number(head[1])),
        title: head[5]!.trim(),
        cves: [],
        fixes: [],
      };
      continue;
    }
    if (!current) continue;
    const cves = /^\s+\{([^}]*)\}/.exec(line);
    if (cves) {
      current.cves.push(...cves[1]!.split(/\s+/).filter((cve) => /^CVE-\d+-\d+$/.test(cve)));
      continue;
    }
    // `[bookworm] - sope 5.8.0-1+deb12u1`; `<not-affected>`, `<unfixed>`... are no fix.
    const fix = /^\s+\[([a-z]+)\]\s+-\s+(\S+)\s+(\S+)/.exec(line);
    if (fix && !fix[3]!.startsWith('<')) current.fixes.push({ release: fix[1]!, name: fix[2]!, version: fix[3]! });
  }
  if (current) entries.push(current);
  return entries;
}

/** Advisories of a DSA/DLA list; severity from the tracker's urgencies of their CVEs
 * when the tracker is at hand (a DSA carries none itself). */
export function listAdvisories(entries: readonly ListEntry[], cveSeverity: ReadonlyMap<string, Severity> = new Map()): Advisory[] {
  const advisories: Advisory[] = [];
  for (const entry of entries) {
    const affected: AffectedPackage[] = [];
    for (const fix of entry.fixes) {
      const distro = debianDistro(fix.release);
      if (distro) affected.push({ ecosystem: 'deb', distro, name: fix.name, ranges: [{ fixed: fix.version }] });
    }
    // Notices without a package (key changes, end of life) advise nothing to match.
    if (affected.length === 0) continue;
    let severity: Severity = 'Unknown';
    for (const cve of entry.cves) severity = maxSeverity(severity, cveSeverity.get(cve) ?? 'Unknown');
    advisories.push({
      id: entry.id,
      source: 'debian',
      kind: 'security',
      title: entry.title,
      severity,
      issued: entry.issued,
      cves: [...entry.cves],
      references: [`https://security-tracker.debian.org/tracker/${entry.id}`],
      affected,
    });
  }
  return advisories;
}

/** The tracker's CVE advisories, with fixes the lists supply merged in. The tracker
 * dates nothing: a CVE is dated by the first DSA/DLA that fixed it, and otherwise stays
 * undated (issued null), never "today". */
export function trackerAdvisories(tracker: Tracker, lists: readonly ListEntry[] = []): Advisory[] {
  // (CVE, package, release) → the earliest DSA/DLA fix of it.
  const listFixes = new Map<string, { version: string; issued: number | null }>();
  // CVE → the date of the first DSA/DLA naming it.
  const firstAnnounced = new Map<string, number>();
  for (const entry of lists) {
    if (entry.issued !== null) {
      for (const cve of entry.cves) firstAnnounced.set(cve, Math.min(firstAnnounced.get(cve) ?? Infinity, entry.issued));
    }
    for (const fix of entry.fixes) {
      for (const cve of entry.cves) {
        const key = `${cve}\u0000${fix.name}\u0000${fix.release}`;
        const known = listFixes.get(key);
        if (!known || (entry.issued ?? Infinity) < (known.issued ?? Infinity)) listFixes.set(key, { version: fix.version, issued: entry.issued });
      }
    }
  }
  const byCve = new Map<string, { description?: string | undefined; severity: Severity; urgency?: string | undefined; affected: AffectedPackage[] }>();
  for (const [name, cves] of Object.entries(tracker)) {
    if (typeof cves !== 'object' || cves === null) continue;
    for (const [cve, entry] of Object.entries(cves)) {
      if (!/^CVE-\d+-\d+$/.test(cve)) continue;
      const advisory = byCve.get(cve) ?? { description: entry.description, severity: 'Unknown' as Severity, affected: [] };
      byCve.set(cve, advisory);
      const releases = entry.releases && !Array.isArray(entry.releases) ? entry.releases : {};
      for (const [codename, release] of Object.entries(releases)) {
        const distro = debianDistro(codename);
        if (!distro) continue;
        const urgency = release.urgency;
        const severity = severityFromWord(urgency);
        if (severity !== 'Unknown' && (advisory.severity === 'Unknown' || maxSeverity(advisory.severity, severity) === severity)) {
          advisory.severity = severity;
          advisory.urgency = urgency?.replace(/\*+$/, '');
        }
        let fixed: string | undefined;
        if (release.status === 'resolved') {
          // fixed_version 0: the release never had the vulnerable code.
          if (!release.fixed_version || release.fixed_version === '0') continue;
          fixed = release.fixed_version;
        } else if (release.status === 'open' || release.status === 'undetermined') {
          fixed = listFixes.get(`${cve}\u0000${name}\u0000${codename}`)?.version;
        } else {
          continue;
        }
        advisory.affected.push({ ecosystem: 'deb', distro, name, ranges: [fixed ? { fixed } : {}] });
      }
    }
  }
  const advisories: Advisory[] = [];
  for (const [cve, entry] of byCve) {
    if (entry.affected.length === 0) continue;
    advisories.push({
      id: cve,
      source: 'debian',
      kind: 'security',
      title: entry.description,
      severity: entry.severity,
      vendorSeverity: entry.urgency,
      issued: firstAnnounced.get(cve) ?? null,
      cves: [cve],
      references: [`https://security-tracker.debian.org/tracker/${cve}`],
      affected: entry.affected,
    });
  }
  return advisories;
}

/** CVE → the tracker's most severe urgency, for rating DSAs. */
export function trackerSeverities(tracker: Tracker): Map<string, Severity> {
  const result = new Map<string, Severity>();
  for (const cves of Object.values(tracker)) {
    if (typeof cves !== 'object' || cves === null) continue;
    for (const [cve, entry] of Object.entries(cves)) {
      const releases = entry.releases && !Array.isArray(entry.releases) ? entry.releases : {};
      for (const release of Object.values(releases)) result.set(cve, maxSeverity(result.get(cve) ?? 'Unknown', severityFromWord(release.urgency)));
    }
  }
  return result;
}
