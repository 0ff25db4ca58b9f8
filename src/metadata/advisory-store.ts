// The advisory seam: the local advisory database. Importers hand it feed documents; the
// matcher asks it, in bulk, which advisories concern a list of package names. SQL
// implementation (SQLite and PostgreSQL, migration 3): sql-advisory-store.ts.
import type { Advisory, AdvisorySource, AffectedPackage, Ecosystem } from '../core/quality.ts';

/** An advisory without its affected packages: what a lookup hit points at. Hits of one
 * lookup that share an advisory share this object. */
export type AdvisoryRecord = Omit<Advisory, 'affected'>;

/** One affected package of one advisory, as `affectedFor` returns it. */
export interface AffectedHit {
  readonly advisory: AdvisoryRecord;
  readonly affected: AffectedPackage;
}

/** The unit of import: one publisher document (a CSAF file, a secdb YAML, the tracker
 * JSON...). `hash` is of the document's content: an unchanged hash is skipped. */
export interface FeedDocument {
  readonly source: AdvisorySource;
  /** Stable name of the document across imports: `redhat:RHSA-2024:0010`, `alpine:v3.15/main`... */
  readonly key: string;
  readonly hash: string;
  readonly advisories: readonly Advisory[];
}

export interface DocumentImport {
  readonly key: string;
  /** true when the document's hash was unchanged and nothing was read into the database. */
  readonly skipped: boolean;
  readonly added: number;
  readonly updated: number;
  readonly removed: number;
  readonly unchanged: number;
}

export interface SourceStatus {
  readonly source: string;
  readonly documents: number;
  readonly advisories: number;
  readonly affected: number;
  readonly lastImport: number | null;
  /** The data's age: the newest updated (or issued) date of any advisory of the source. */
  readonly newest: number | null;
}

export interface VulnDbStatus {
  readonly revision: number;
  readonly sources: readonly SourceStatus[];
}

export interface StoredDocument {
  readonly id: number;
  readonly source: AdvisorySource;
  readonly key: string;
  readonly hash: string;
  readonly importedAt: number;
}

export interface AdvisoryStore {
  /** The database revision: increases with every change to advisories or affected rows. */
  revision(): Promise<number>;
  /**
   * Every affected-package entry for `names` in one ecosystem and distribution release
   * (`debian:12`, `rhel:9`, `alpine:3.19`; null for language ecosystems, whose entries
   * have no distro), with its advisory. Names are source package names for deb. Order is
   * unspecified; an advisory listing a package twice yields two hits, the same entry
   * carried by two documents one.
   */
  affectedFor(ecosystem: Ecosystem, distro: string | null, names: readonly string[]): Promise<AffectedHit[]>;
  /** One advisory with every affected package, or null. */
  getAdvisory(source: AdvisorySource, id: string): Promise<Advisory | null>;
  /**
   * Imports one document: skipped when its hash is unchanged; otherwise, atomically, its
   * advisories are upserted, each advisory's rows from this document are replaced when
   * they changed, advisories the document no longer carries lose its rows (and go when no
   * document carries them), and the revision is bumped if anything changed.
   */
  importDocument(document: FeedDocument, now?: number): Promise<DocumentImport>;
  /** Sources with their counts, last import and the age of their data. */
  status(): Promise<VulnDbStatus>;
  /**
   * The source whose data covers an ecosystem in a distribution release (null distro for
   * language ecosystems): one that holds at least one affected entry there; null when
   * none does (no grade can then be given for such packages).
   */
  coveringSource(ecosystem: Ecosystem, distro: string | null): Promise<AdvisorySource | null>;
  /** Records that a source's data was checked against its publisher at `now` and is
   * current (an update that found nothing new): its age starts again. */
  markCurrent(source: AdvisorySource, now: number): Promise<void>;
  /** Every stored document, in import order (for export). */
  documents(): Promise<StoredDocument[]>;
  /** The advisories one document carries, each with that document's affected rows only,
   * read in pages so a large document is never held whole. */
  documentAdvisories(documentId: number, pageSize?: number): AsyncGenerator<Advisory>;
}
