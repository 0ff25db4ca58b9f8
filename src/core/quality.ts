// The quality model: what an image contains (its operating system, packages and
// committed secrets), what is known about those packages (advisories), what applies
// (findings, errata) and the grade. Pure types shared by the indexer, the advisory
// database, the matcher and the API; nothing here does I/O.

/** Package ecosystems, as the Package URL types name them where one exists. */
export type Ecosystem = 'deb' | 'rpm' | 'apk' | 'npm' | 'pypi' | 'golang' | 'maven';

/** The operating system of an image, from /etc/os-release (or the older release files). */
export interface OsRelease {
  /** os-release ID: debian, ubuntu, rhel, centos, fedora, alpine, rocky, almalinux, ... */
  readonly id: string;
  readonly idLike: readonly string[];
  readonly versionId: string | null;
  readonly versionCodename: string | null;
  readonly name: string | null;
  readonly prettyName: string | null;
  /** CPE_NAME where given (Red Hat: cpe:/o:redhat:enterprise_linux:9::baseos). */
  readonly cpe: string | null;
  /** The file it was read from (etc/os-release, usr/lib/os-release, etc/alpine-release...). */
  readonly source: string;
}

/** A package installed in the image. */
export interface InstalledPackage {
  readonly ecosystem: Ecosystem;
  readonly name: string;
  /** The full version as the ecosystem writes it: deb `[epoch:]upstream[-revision]`,
   * rpm `[epoch:]version-release`, apk `version-rN`, others as published. */
  readonly version: string;
  readonly epoch?: number | undefined;
  readonly arch?: string | undefined;
  /** Source package (deb Source:, rpm SOURCERPM name) and its version, when it differs or is known. */
  readonly sourceName?: string | undefined;
  readonly sourceVersion?: string | undefined;
  /** rpm modularity label (name:stream:version:context). */
  readonly module?: string | undefined;
  readonly licenses?: readonly string[] | undefined;
  /** Where it was found: the package database or manifest path (no leading slash). */
  readonly path: string;
  /** Digest of the layer that introduced this version of the package (the last layer
   * that wrote its database entry or manifest). */
  readonly layer: string;
  /** Package URL (purl), for SBOMs and OSV matching. */
  readonly purl: string;
}

export type SecretSeverity = 'critical' | 'high' | 'medium' | 'low';

/** A secret committed to a layer. The matched text itself is never kept, only a hint. */
export interface SecretFinding {
  readonly rule: string;
  readonly description: string;
  readonly severity: SecretSeverity;
  readonly path: string;
  readonly layer: string;
  readonly line?: number | undefined;
  /** A redacted hint of the match (first and last characters), never the secret. */
  readonly hint: string;
  /** Set when a later layer deleted (or replaced) the file: the bytes are still in the image. */
  readonly removedInLayer?: string | undefined;
}

export interface IndexedLayer {
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
}

/** Everything the indexer learned about one image manifest. */
export interface ImageIndex {
  readonly manifestDigest: string;
  readonly os: OsRelease | null;
  readonly packages: readonly InstalledPackage[];
  readonly secrets: readonly SecretFinding[];
  readonly layers: readonly IndexedLayer[];
  readonly indexerVersion: string;
  readonly indexedAt: number;
}

/** Normalised severity, as Clair, Trivy and Grype show it. */
export type Severity = 'Critical' | 'High' | 'Medium' | 'Low' | 'Negligible' | 'Unknown';
export const SEVERITIES: readonly Severity[] = ['Critical', 'High', 'Medium', 'Low', 'Negligible', 'Unknown'];

/** Red Hat's errata types: security fixes, bug fixes, enhancements. */
export type AdvisoryKind = 'security' | 'bugfix' | 'enhancement';

export type AdvisorySource = 'redhat' | 'debian' | 'alpine' | 'osv';

/** One version range of an affected package: affected from `introduced` (inclusive,
 * absent = from the beginning) until `fixed` (exclusive) or through `lastAffected`. */
export interface AffectedRange {
  readonly introduced?: string | undefined;
  readonly fixed?: string | undefined;
  readonly lastAffected?: string | undefined;
}

/** What the vendor says of an affected package that has no fix (CSAF VEX product status
 * known_affected with its remediation): affected, a fix may come; fix deferred; will not
 * fix; out of support scope. */
export type FixState = 'affected' | 'fix-deferred' | 'will-not-fix' | 'out-of-support';

/** A package an advisory concerns, in one distribution release or ecosystem. */
export interface AffectedPackage {
  readonly ecosystem: Ecosystem;
  /** Distribution release the entry applies to: `debian:12`, `rhel:9`, `alpine:3.19`,
   * `ubuntu:22.04`; absent for language ecosystems. */
  readonly distro?: string | undefined;
  /** Red Hat product stream CPE (cpe:/o:redhat:enterprise_linux:9::baseos), where given. */
  readonly cpe?: string | undefined;
  /** For deb: the source package name (advisories are keyed by source). */
  readonly name: string;
  readonly ranges: readonly AffectedRange[];
  /** rpm modularity stream (name:stream) the fix is for, where given. */
  readonly module?: string | undefined;
  /** rpm: `src` (or `nosrc`) when the entry names a source rpm, which concerns every
   * binary built from it; absent for binaries (every architecture of a build shares its EVR). */
  readonly arch?: string | undefined;
  /** For an entry without a fix: the vendor's fix state, and its own words for it (the
   * VEX remediation details: "Will not fix", "Out of support scope", "Affected"...). */
  readonly fixState?: FixState | undefined;
  readonly fixStatement?: string | undefined;
}

export interface Advisory {
  /** RHSA-2024:1234, DSA-5555-1, DLA-..., CVE-2024-1234 (Debian/Alpine per CVE), GHSA-..., OSV ids. */
  readonly id: string;
  readonly source: AdvisorySource;
  readonly kind: AdvisoryKind;
  readonly title?: string | undefined;
  readonly severity: Severity;
  /** The vendor's own rating: Red Hat Critical/Important/Moderate/Low, Debian urgency... */
  readonly vendorSeverity?: string | undefined;
  /** Release date (ms since the epoch); null when unknown. */
  readonly issued: number | null;
  readonly updated?: number | null | undefined;
  readonly cves: readonly string[];
  readonly references?: readonly string[] | undefined;
  /** The vendor's statement on the vulnerability (Red Hat's "Statement"), where given. */
  readonly statement?: string | undefined;
  readonly affected: readonly AffectedPackage[];
}

/** An advisory that applies to an installed package. */
export interface Finding {
  readonly advisoryId: string;
  readonly source: AdvisorySource;
  readonly kind: AdvisoryKind;
  readonly cves: readonly string[];
  readonly severity: Severity;
  readonly vendorSeverity?: string | undefined;
  readonly title?: string | undefined;
  readonly issued: number | null;
  readonly package: { readonly name: string; readonly version: string; readonly ecosystem: Ecosystem; readonly sourceName?: string | undefined; readonly layer: string; readonly path: string };
  /** The version that fixes it; null when no fix exists (listed apart). */
  readonly fixedVersion: string | null;
  /** Without a fix: what the vendor says of one (will not fix...), in its own words too. */
  readonly fixState?: FixState | undefined;
  readonly fixStatement?: string | undefined;
  /** The vendor's statement on the vulnerability, where given. */
  readonly statement?: string | undefined;
}

export type GradeLetter = 'A' | 'B' | 'C' | 'D' | 'E' | 'F';

export interface GradeReport {
  readonly grade: GradeLetter;
  /** The day the grade is for (ms). */
  readonly asOf: number;
  /** When the grade drops next if nothing is applied, and to what; null when it cannot drop. */
  readonly next: { readonly grade: GradeLetter; readonly at: number } | null;
  /** Every change ahead: the grade from each instant on. */
  readonly timeline: readonly { readonly from: number; readonly grade: GradeLetter }[];
  /** The unapplied Critical and Important security errata that decide it. */
  readonly deciding: readonly { readonly advisoryId: string; readonly severity: 'Critical' | 'Important'; readonly issued: number | null }[];
}

/** What a grade shows: a letter, or `?` when the data behind it cannot back one. */
export type ShownGrade = GradeLetter | '?';

/** The advisory data behind a grade: which sources it needed, how old each is, and
 * whether together they can back a grade at all. */
export interface DataCoverage {
  /** False when no grade may be given: an OS or ecosystem no source covers, data
   * missing, or data older than the limit. */
  readonly covered: boolean;
  /** Why not (one line per problem, joined), null when covered. */
  readonly reason: string | null;
  /** The sources the image needs, each with when its data was last known current (ms). */
  readonly sources: readonly { readonly source: string; readonly updatedAt: number | null }[];
  /** The oldest of those instants: the age of the data behind the grade; null when none. */
  readonly dataAsOf: number | null;
  /** The staleness limit applied (ms). */
  readonly maxAgeMs: number;
}
