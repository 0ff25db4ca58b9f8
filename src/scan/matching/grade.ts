// The Container Health Index grade (Red Hat's, as published for the Red Hat Ecosystem
// Catalog): from the unapplied Critical and Important security errata, by the age of
// each; the image gets the worst grade any of them gives. Moderate and Low errata never
// lower it, and neither do vulnerabilities without a fix (nothing can be applied).
//
// Red Hat's table, and the exact thresholds implemented (age in whole days since the
// erratum was released: an erratum issued 7 days and 23 hours ago is 7 days old):
//
//   grade  Red Hat's wording                                      Critical      Important
//   A      no unapplied Critical or Important errata              —             —
//   B      Critical no older than 7 days, Important 30 days       0–7 days      0–30 days
//   C      Critical no older than 30 days, Important 90 days      8–30          31–90
//   D      Critical no older than 90 days, Important 12 months    31–90         91–365
//   E      Critical or Important no older than 12 months          91–365        (D already)
//   F      Critical or Important older than 12 months             366 and more  366 and more
//
// E only ever comes from a Critical erratum: an Important one is still D until it is
// 12 months old, and F after. 12 months is 365 days.
//
// Severity: Red Hat's own rating (vendorSeverity Critical/Important) for Red Hat
// advisories; for other publishers the normalised severity, Critical → Critical and
// High → Important.
import type { Finding, GradeLetter, GradeReport } from '../../core/quality.ts';

export const DAY_MS = 86_400_000;

export type ChiSeverity = 'Critical' | 'Important';

/** For each severity: the last day (age) of each grade, in order B, C, D, E; older is F. */
export const GRADE_THRESHOLDS: Readonly<Record<ChiSeverity, readonly { readonly grade: GradeLetter; readonly maxDays: number }[]>> = {
  Critical: [
    { grade: 'B', maxDays: 7 },
    { grade: 'C', maxDays: 30 },
    { grade: 'D', maxDays: 90 },
    { grade: 'E', maxDays: 365 },
  ],
  Important: [
    { grade: 'B', maxDays: 30 },
    { grade: 'C', maxDays: 90 },
    { grade: 'D', maxDays: 365 },
  ],
};

const ORDER: readonly GradeLetter[] = ['A', 'B', 'C', 'D', 'E', 'F'];

function worse(a: GradeLetter, b: GradeLetter): GradeLetter {
  return ORDER.indexOf(a) >= ORDER.indexOf(b) ? a : b;
}

/** The health-index severity of a finding, or null when it cannot lower the grade. */
export function chiSeverity(finding: Pick<Finding, 'source' | 'severity' | 'vendorSeverity'>): ChiSeverity | null {
  if (finding.source === 'redhat') {
    const vendor = (finding.vendorSeverity ?? '').trim().toLowerCase();
    if (vendor === 'critical') return 'Critical';
    if (vendor === 'important') return 'Important';
    // A Red Hat advisory without Red Hat's rating: fall back to the normalised one.
    if (vendor !== '') return null;
  }
  if (finding.severity === 'Critical') return 'Critical';
  if (finding.severity === 'High') return 'Important';
  return null;
}

/** Whole days from `issued` to `at` (0 on the day of release and before it). */
export function ageInDays(issued: number, at: number): number {
  return Math.max(0, Math.floor((at - issued) / DAY_MS));
}

/** The grade one erratum gives at an age. */
export function gradeForAge(severity: ChiSeverity, days: number): GradeLetter {
  for (const step of GRADE_THRESHOLDS[severity]) if (days <= step.maxDays) return step.grade;
  return 'F';
}

export interface DecidingErratum {
  readonly advisoryId: string;
  readonly severity: ChiSeverity;
  /** Release date; null when neither the publisher nor the caller can date it. */
  readonly issued: number | null;
}

/**
 * The unapplied Critical and Important security errata among findings, one per advisory.
 * `issuedFallback` dates an advisory without a release date (the time it was first
 * seen applying to the image, say), so that it ages like the others; without one it
 * stays undated, never "today".
 */
export function decidingErrata(findings: readonly Finding[], issuedFallback: (finding: Finding) => number | null = () => null): DecidingErratum[] {
  const byId = new Map<string, DecidingErratum>();
  for (const finding of findings) {
    if (finding.kind !== 'security' || finding.fixedVersion === null) continue;
    const severity = chiSeverity(finding);
    if (severity === null) continue;
    const key = `${finding.source}\u0000${finding.advisoryId}`;
    if (byId.has(key)) continue;
    byId.set(key, { advisoryId: finding.advisoryId, severity, issued: finding.issued ?? issuedFallback(finding) });
  }
  // Undated ones last: their age is unknown.
  return [...byId.values()].sort((a, b) => (a.issued ?? Infinity) - (b.issued ?? Infinity) || a.advisoryId.localeCompare(b.advisoryId));
}

/** An undated erratum counts with the age it has at least: 0 days. It does not age, as
 * nothing says when it was released; the registry dates it by when it first applied. */
function gradeAt(errata: readonly DecidingErratum[], at: number): GradeLetter {
  let grade: GradeLetter = 'A';
  for (const erratum of errata) grade = worse(grade, gradeForAge(erratum.severity, erratum.issued === null ? 0 : ageInDays(erratum.issued, at)));
  return grade;
}

/** The grade for `asOf`, and every change ahead if nothing is applied. */
export function gradeErrata(errata: readonly DecidingErratum[], asOf: number): GradeReport {
  // Each erratum's grade changes at the first instant of the day after each threshold.
  const instants = new Set<number>();
  for (const erratum of errata) {
    if (erratum.issued === null) continue;
    for (const step of GRADE_THRESHOLDS[erratum.severity]) {
      const at = erratum.issued + (step.maxDays + 1) * DAY_MS;
      if (at > asOf) instants.add(at);
    }
  }
  const grade = gradeAt(errata, asOf);
  const timeline: { from: number; grade: GradeLetter }[] = [{ from: asOf, grade }];
  for (const at of [...instants].sort((a, b) => a - b)) {
    const next = gradeAt(errata, at);
    if (next !== timeline[timeline.length - 1]!.grade) timeline.push({ from: at, grade: next });
  }
  const next = timeline[1];
  return {
    grade,
    asOf,
    next: next === undefined ? null : { grade: next.grade, at: next.from },
    timeline,
    deciding: errata.map((erratum) => ({ advisoryId: erratum.advisoryId, severity: erratum.severity, issued: erratum.issued })),
  };
}

/** The grade of an image from its findings. */
export function gradeFindings(findings: readonly Finding[], asOf: number, issuedFallback?: (finding: Finding) => number | null): GradeReport {
  return gradeErrata(decidingErrata(findings, issuedFallback), asOf);
}

/** The grade a stored report gives at another instant (its timeline covers every change). */
export function gradeOn(report: GradeReport, at: number): GradeLetter {
  if (at < report.asOf) return gradeAt(report.deciding, at);
  let grade = report.grade;
  for (const step of report.timeline) if (step.from <= at) grade = step.grade;
  return grade;
}
