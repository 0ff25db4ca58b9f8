// Errata, as `yum updateinfo` lists them: the advisories with an update the image has
// not applied, one entry per advisory (however many packages it fixes), grouped as
// security fixes, bug fixes and enhancements, with counts by severity. Vulnerabilities
// without a fix are not errata: there is nothing to apply.
import type { AdvisoryKind, AdvisorySource, Finding, Severity } from '../../core/quality.ts';
import { SEVERITIES } from '../../core/quality.ts';

export interface Erratum {
  readonly id: string;
  readonly source: AdvisorySource;
  readonly kind: AdvisoryKind;
  readonly severity: Severity;
  readonly vendorSeverity?: string | undefined;
  readonly title?: string | undefined;
  readonly issued: number | null;
  readonly cves: readonly string[];
  /** The packages it updates: installed → fixed version. */
  readonly packages: readonly { readonly name: string; readonly installed: string; readonly fixed: string }[];
}

export interface ErrataGroup {
  readonly kind: AdvisoryKind;
  readonly errata: readonly Erratum[];
  /** Count per normalised severity (every severity present, zeros included). */
  readonly bySeverity: Readonly<Record<Severity, number>>;
  /** Count per the label yum shows: the vendor's rating (Important, Moderate) where given,
   * in one spelling whatever the publisher's case. */
  readonly byVendorSeverity: Readonly<Record<string, number>>;
}

export interface ErrataReport {
  readonly security: ErrataGroup;
  readonly bugfix: ErrataGroup;
  readonly enhancement: ErrataGroup;
  readonly total: number;
}

const KINDS: readonly AdvisoryKind[] = ['security', 'bugfix', 'enhancement'];
const SEVERITY_RANK = new Map<Severity, number>(SEVERITIES.map((severity, index) => [severity, index]));

/** A severity word as one label whatever its case: Debian writes `high`, a DSA rated
 * from the tracker is `High`, GHSA writes `MODERATE`; they count together. */
export function severityLabel(word: string): string {
  const trimmed = word.trim().toLowerCase();
  return trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
}

/** The version a binary package is updated to. A Debian fix is stated in its source's
 * version, which carries no epoch where the binary has one of its own (bsdutils
 * 1:2.38.1-5+deb12u3 from util-linux 2.38.1-5+deb12u3): the binary's epoch is kept, so
 * the line names the version apt installs. */
function binaryFixedVersion(finding: Finding, fixed: string): string {
  if (finding.package.ecosystem !== 'deb' || /^\d+:/.test(fixed)) return fixed;
  const epoch = /^(\d+):/.exec(finding.package.version)?.[1];
  return epoch === undefined ? fixed : `${epoch}:${fixed}`;
}

function group(kind: AdvisoryKind, errata: Erratum[]): ErrataGroup {
  const bySeverity = Object.fromEntries(SEVERITIES.map((severity) => [severity, 0])) as Record<Severity, number>;
  const byVendorSeverity: Record<string, number> = {};
  for (const erratum of errata) {
    bySeverity[erratum.severity]++;
    const label = severityLabel(erratum.vendorSeverity ?? erratum.severity);
    byVendorSeverity[label] = (byVendorSeverity[label] ?? 0) + 1;
  }
  // Most severe first, then the newest: what to apply first.
  errata.sort((a, b) =>
    (SEVERITY_RANK.get(a.severity)! - SEVERITY_RANK.get(b.severity)!) || (b.issued ?? 0) - (a.issued ?? 0) || a.id.localeCompare(b.id));
  return { kind, errata, bySeverity, byVendorSeverity };
}

/** Groups the fixable findings into errata. */
export function errataFrom(findings: readonly Finding[]): ErrataReport {
  const byAdvisory = new Map<string, { erratum: Erratum; packages: Map<string, { name: string; installed: string; fixed: string }> }>();
  for (const finding of findings) {
    if (finding.fixedVersion === null) continue;
    const key = `${finding.source}\u0000${finding.advisoryId}`;
    let entry = byAdvisory.get(key);
    if (!entry) {
      const packages = new Map<string, { name: string; installed: string; fixed: string }>();
      const erratum: Erratum = {
        id: finding.advisoryId,
        source: finding.source,
        kind: finding.kind,
        severity: finding.severity,
        ...(finding.vendorSeverity === undefined ? {} : { vendorSeverity: severityLabel(finding.vendorSeverity) }),
        ...(finding.title === undefined ? {} : { title: finding.title }),
        issued: finding.issued,
        cves: finding.cves,
        packages: [],
      };
      byAdvisory.set(key, (entry = { erratum, packages }));
    }
    // The same package may sit at several paths (language packages): list it once.
    const packageKey = `${finding.package.name}\u0000${finding.package.version}`;
    if (!entry.packages.has(packageKey)) entry.packages.set(packageKey, { name: finding.package.name, installed: finding.package.version, fixed: binaryFixedVersion(finding, finding.fixedVersion) });
  }
  const lists: Record<AdvisoryKind, Erratum[]> = { security: [], bugfix: [], enhancement: [] };
  for (const { erratum, packages } of byAdvisory.values()) {
    lists[erratum.kind].push({ ...erratum, packages: [...packages.values()].sort((a, b) => a.name.localeCompare(b.name)) });
  }
  const [security, bugfix, enhancement] = KINDS.map((kind) => group(kind, lists[kind])) as [ErrataGroup, ErrataGroup, ErrataGroup];
  return { security, bugfix, enhancement, total: byAdvisory.size };
}
