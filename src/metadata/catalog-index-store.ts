// The web catalog's search index: one row per repository with what Explore searches,
// filters and sorts on (from the latest tag), so a search is one SQL query whatever the
// number of repositories, and every replica reads the same rows.
import type { ReadScope } from './identity/repository-access-store.ts';

export interface CatalogIndexRow {
  readonly repository: string;
  readonly namespace: string | null;
  readonly description: string | null;
  readonly title: string | null;
  readonly vendor: string | null;
  readonly latestTag: string | null;
  readonly latestDigest: string | null;
  /** When the latest tag was last pointed at a manifest. */
  readonly pushedAt: number | null;
  /** The latest tag's grade letter; null while not graded. */
  readonly grade: string | null;
  /** Whether the latest tag's image carries a signature; null without a latest tag. */
  readonly signed: boolean | null;
  /** Every OS and architecture among the repository's tags. */
  readonly os: readonly string[];
  readonly arch: readonly string[];
}

export interface CatalogIndexQuery {
  /** Matched case-insensitively as a substring of the name, description, title or vendor. */
  readonly text?: string | undefined;
  readonly namespace?: string | undefined;
  readonly grade?: string | undefined;
  readonly signed?: 'yes' | 'no' | undefined;
  readonly os?: string | undefined;
  readonly arch?: string | undefined;
  /** Latest push at or after this time (ms since the epoch). */
  readonly pushedSince?: number | undefined;
  readonly sort: 'name' | 'pushed' | 'grade';
  readonly offset: number;
  readonly limit: number;
}

export interface CatalogIndexPage {
  /** Matching repositories the scope may read. */
  readonly total: number;
  /** The page's repositories in the query's order, each with when its row was last written (a version for caches). */
  readonly hits: readonly { readonly repository: string; readonly updatedAt: number }[];
  /** Values among every readable repository, for the filter menus. */
  readonly namespaces: readonly string[];
  readonly os: readonly string[];
  readonly arch: readonly string[];
}

export interface CatalogIndexStore {
  /** Inserts or replaces a repository's row. */
  put(row: CatalogIndexRow): Promise<void>;
  remove(repository: string): Promise<void>;
  get(repository: string): Promise<CatalogIndexRow | null>;
  /** One page of the repositories `scope` may read (the read rule applied in SQL, counts included). */
  search(scope: ReadScope, query: CatalogIndexQuery): Promise<CatalogIndexPage>;
}
