// Explore: search, filter, sort and page the repositories a caller may read; find which
// images ship a package; compare two tags. Every list starts from the names AccessControl
// says the caller may read, so nothing private is counted, suggested or shown.
import type { Principal } from '../core/identity.ts';
import type { Finding, GradeLetter, InstalledPackage } from '../core/quality.ts';
import type { CatalogService, RepositoryInfo } from './catalog-service.ts';
import type { DomainEventType, EventSubscriber } from '../core/events.ts';
import type { CatalogIndexStore } from '../metadata/catalog-index-store.ts';

export type SortOrder = 'name' | 'pushed' | 'grade';

export interface SearchQuery {
  readonly text?: string | undefined;
  readonly namespace?: string | undefined;
  readonly grade?: GradeLetter | undefined;
  /** 'yes': signed (verified or not); 'no': unsigned. */
  readonly signed?: 'yes' | 'no' | undefined;
  readonly os?: string | undefined;
  readonly arch?: string | undefined;
  readonly pushedWithinDays?: number | undefined;
  readonly sort?: SortOrder | undefined;
  readonly page?: number | undefined;
  readonly perPage?: number | undefined;
}

export interface SearchResult {
  readonly total: number;
  readonly page: number;
  readonly perPage: number;
  readonly items: readonly RepositoryInfo[];
  /** Values present among the readable repositories, for the filter menus. */
  readonly namespaces: readonly string[];
  readonly platforms: { readonly os: readonly string[]; readonly arch: readonly string[] };
}

/** How long a summary serves without an event about its repository (with the event bus,
 * a push, tag change, scan or signature drops it at once). */
const CACHE_MS = 30_000;
const INVALIDATING_EVENTS: readonly DomainEventType[] = ['manifest.pushed', 'tag.moved', 'tag.deleted', 'manifest.deleted', 'scan.completed', 'grade.dropped', 'signature.added'];
const DAY = 86_400_000;

/** Runs `work` over `items`, at most `width` at a time, in order. */
async function mapLimited<T, R>(items: readonly T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) {
      const at = next++;
      results[at] = await work(items[at]!);
    }
  });
  await Promise.all(lanes);
  return results;
}

export class CatalogSearch {
  private readonly catalog: CatalogService;
  /** Summaries for a few seconds: a page of filters should not re-judge every tag each time. */
  private readonly cache = new Map<string, { info: Promise<RepositoryInfo>; until: number; version: number | undefined }>();
  private readonly now: () => number;

  /** The SQL search index; without it, every readable repository is summarised in memory. */
  private readonly index: CatalogIndexStore | undefined;
  /** Waits for this replica's index writes in flight (read your own pushes). */
  private readonly settled: (() => Promise<void>) | undefined;

  constructor(catalog: CatalogService, options: { clock?: () => number; events?: EventSubscriber | undefined; index?: CatalogIndexStore | undefined; settled?: (() => Promise<void>) | undefined } = {}) {
    this.catalog = catalog;
    this.now = options.clock ?? Date.now;
    this.index = options.index;
    this.settled = options.settled;
    options.events?.subscribe((event) => {
      const repository = (event.data as { repository?: string }).repository;
      if (repository !== undefined) this.cache.delete(repository);
    }, INVALIDATING_EVENTS);
  }

  /** `version`: the index row's write time; a summary cached before another write (on any replica) is stale. */
  private summary(name: string, version?: number): Promise<RepositoryInfo> {
    const now = this.now();
    const cached = this.cache.get(name);
    if (cached && cached.until > now && cached.version === version) return cached.info;
    const info = this.catalog.repository(name);
    if (this.cache.size > 50_000) this.cache.clear();
    this.cache.set(name, { info, until: now + CACHE_MS, version });
    info.catch(() => this.cache.delete(name));
    return info;
  }

  async search(principal: Principal, query: SearchQuery): Promise<SearchResult> {
    if (this.index) return this.indexedSearch(this.index, principal, query);
    const names = await this.catalog.readableRepositories(principal);
    const namespaces = [...new Set(names.map((name) => (name.includes('/') ? name.slice(0, name.indexOf('/')) : '')).filter((ns) => ns !== ''))].sort();
    const candidates = query.namespace ? names.filter((name) => name.startsWith(`${query.namespace}/`)) : names;
    const perPage = Math.min(100, Math.max(1, query.perPage ?? 20));
    const text = query.text?.trim().toLowerCase() ?? '';
    // Browsing by name without a filter that needs what is inside the repositories (the
    // front page): only the page's repositories are summarised.
    const browsing = text === '' && !query.grade && !query.signed && !query.os && !query.arch && query.pushedWithinDays === undefined && (query.sort ?? 'name') === 'name';
    if (browsing) {
      const sorted = [...candidates].sort((a, b) => a.localeCompare(b));
      const pages = Math.max(1, Math.ceil(sorted.length / perPage));
      const page = Math.min(pages, Math.max(1, query.page ?? 1));
      const slice = sorted.slice((page - 1) * perPage, page * perPage);
      const items = (await mapLimited(slice, 8, (name) => this.summary(name).catch(() => null))).filter((info): info is RepositoryInfo => info !== null);
      return { total: sorted.length, page, perPage, items, namespaces, platforms: this.platformsOf(items) };
    }
    const infos = (await mapLimited(candidates, 8, (name) => this.summary(name).catch(() => null))).filter((info): info is RepositoryInfo => info !== null);
    const now = this.now();
    const matches = infos.filter((info) => {
      if (text !== '' && ![info.name, info.description, info.title, info.vendor].some((field) => field?.toLowerCase().includes(text))) return false;
      const latest = info.latest;
      if (query.grade && latest?.grade !== query.grade) return false;
      if (query.signed === 'yes' && (!latest || latest.signature === 'unsigned')) return false;
      if (query.signed === 'no' && latest && latest.signature !== 'unsigned') return false;
      if (query.os && !info.tags.some((tag) => tag.platforms.some((p) => p.split('/')[0] === query.os))) return false;
      if (query.arch && !info.tags.some((tag) => tag.platforms.some((p) => p.split('/')[1] === query.arch))) return false;
      if (query.pushedWithinDays !== undefined && (latest?.pushedAt ?? 0) < now - query.pushedWithinDays * DAY) return false;
      return true;
    });
    const sort = query.sort ?? 'name';
    matches.sort((a, b) => {
      if (sort === 'pushed') return (b.latest?.pushedAt ?? 0) - (a.latest?.pushedAt ?? 0) || a.name.localeCompare(b.name);
      if (sort === 'grade') return (a.latest?.grade ?? 'Z').localeCompare(b.latest?.grade ?? 'Z') || a.name.localeCompare(b.name);
      return a.name.localeCompare(b.name);
    });
    const pages = Math.max(1, Math.ceil(matches.length / perPage));
    const page = Math.min(pages, Math.max(1, query.page ?? 1));
    return {
      total: matches.length,
      page,
      perPage,
      items: matches.slice((page - 1) * perPage, page * perPage),
      namespaces,
      platforms: this.platformsOf(infos),
    };
  }

  /**
   * The search in SQL: the index filters, sorts, counts and pages under the caller's read
   * rule (AccessControl's scope, applied by the identity store's own SQL condition); only
   * the page's repositories are summarised for display.
   */
  private async indexedSearch(index: CatalogIndexStore, principal: Principal, query: SearchQuery): Promise<SearchResult> {
    const perPage = Math.min(100, Math.max(1, query.perPage ?? 20));
    const scope = this.catalog.readScope(principal);
    if (scope === null) return { total: 0, page: 1, perPage, items: [], namespaces: [], platforms: { os: [], arch: [] } };
    await this.settled?.();
    const asked = {
      text: query.text,
      namespace: query.namespace,
      grade: query.grade,
      signed: query.signed,
      os: query.os,
      arch: query.arch,
      pushedSince: query.pushedWithinDays === undefined ? undefined : this.now() - query.pushedWithinDays * DAY,
      sort: query.sort ?? 'name',
      limit: perPage,
    } as const;
    let page = Math.max(1, query.page ?? 1);
    let found = await index.search(scope, { ...asked, offset: (page - 1) * perPage });
    const pages = Math.max(1, Math.ceil(found.total / perPage));
    if (page > pages) {
      // Past the end: the last page, as the in-memory search answers.
      page = pages;
      found = await index.search(scope, { ...asked, offset: (page - 1) * perPage });
    }
    const items = (await mapLimited(found.hits, 8, (hit) => this.summary(hit.repository, hit.updatedAt).catch(() => null))).filter((info): info is RepositoryInfo => info !== null);
    return { total: found.total, page, perPage, items, namespaces: found.namespaces, platforms: { os: found.os, arch: found.arch } };
  }

  /** The OS and architecture values present, for the filter menus. */
  private platformsOf(infos: readonly RepositoryInfo[]): { os: string[]; arch: string[] } {
    const os = new Set<string>();
    const arch = new Set<string>();
    for (const info of infos) for (const tag of info.tags) for (const platform of tag.platforms) {
      const [o, a] = platform.split('/');
      if (o) os.add(o);
      if (a) arch.add(a);
    }
    return { os: [...os].sort(), arch: [...arch].sort() };
  }

  /** Two tags (or digests) compared; null while either image is not scanned. */
  async compare(repository: string, from: string, to: string): Promise<Comparison | null> {
    const quality = this.catalog.quality;
    if (!quality) return null;
    const judged = async (reference: string): Promise<{ packages: readonly InstalledPackage[]; findings: readonly Finding[]; grade: GradeLetter | null } | null> => {
      const image = await this.catalog.platformImage(repository, await this.catalog.image(repository, reference), null);
      try {
        const [index, current, grade] = [await quality.index(repository, image.digest), await quality.findings(repository, image.digest), await quality.grade(repository, image.digest)];
        return { packages: index.packages, findings: current.findings, grade: grade.grade === '?' ? null : grade.grade };
      } catch {
        return null;
      }
    };
    const [a, b] = await Promise.all([judged(from), judged(to)]);
    return a && b ? compareImages(a, b) : null;
  }

  /** Which images (by tag) ship a package whose name contains `name`, and in which version. */
  async packages(principal: Principal, name: string, limit = 500): Promise<{ repository: string; tag: string; digest: string; package: InstalledPackage }[]> {
    const needle = name.trim().toLowerCase();
    if (needle === '' || !this.catalog.quality) return [];
    const quality = this.catalog.quality;
    const hits: { repository: string; tag: string; digest: string; package: InstalledPackage }[] = [];
    for (const repository of await this.catalog.readableRepositories(principal)) {
      const info = await this.summary(repository).catch(() => null);
      for (const tag of info?.tags ?? []) {
        if (tag.status !== 'indexed') continue;
        const index = await quality.index(repository, tag.imageDigest).catch(() => null);
        for (const found of index?.packages ?? []) {
          if (!found.name.toLowerCase().includes(needle)) continue;
          hits.push({ repository, tag: tag.tag, digest: tag.imageDigest, package: found });
          if (hits.length >= limit) return hits;
        }
      }
    }
    return hits;
  }
}

const GRADE_LETTERS = new Set(['A', 'B', 'C', 'D', 'E', 'F']);

/** A search from URL parameters (the explore page's and the API's): q, namespace, grade, signed, os, arch, pushed, sort, page, perPage. */
export function searchQueryFrom(query: URLSearchParams): SearchQuery {
  const text = (name: string): string | undefined => {
    const value = query.get(name)?.trim();
    return value ? value.slice(0, 200) : undefined;
  };
  const grade = text('grade');
  const signed = text('signed');
  const sort = text('sort');
  const pushed = Number(text('pushed'));
  const pageNumber = Number(text('page'));
  return {
    text: text('q'),
    namespace: text('namespace'),
    grade: grade && GRADE_LETTERS.has(grade) ? (grade as GradeLetter) : undefined,
    signed: signed === 'yes' || signed === 'no' ? signed : undefined,
    os: text('os'),
    arch: text('arch'),
    pushedWithinDays: Number.isFinite(pushed) && pushed > 0 ? pushed : undefined,
    sort: sort === 'pushed' || sort === 'grade' || sort === 'name' ? sort : undefined,
    page: Number.isSafeInteger(pageNumber) && pageNumber > 0 ? pageNumber : undefined,
    perPage: Number.isSafeInteger(Number(text('perPage'))) && Number(text('perPage')) > 0 ? Number(text('perPage')) : undefined,
  };
}

export interface PackageChange {
  readonly ecosystem: string;
  readonly name: string;
  readonly from: string | null;
  readonly to: string | null;
}

export interface Comparison {
  readonly added: readonly PackageChange[];
  readonly removed: readonly PackageChange[];
  readonly updated: readonly PackageChange[];
  /** Advisories of the first image that the second no longer has. */
  readonly fixed: readonly { readonly advisoryId: string; readonly severity: string; readonly packages: readonly string[] }[];
  readonly introduced: readonly { readonly advisoryId: string; readonly severity: string; readonly packages: readonly string[] }[];
  readonly grade: { readonly from: GradeLetter | null; readonly to: GradeLetter | null };
}

/** What changed from one image to another: packages, advisories and the grade. */
export function compareImages(
  from: { packages: readonly InstalledPackage[]; findings: readonly Finding[]; grade: GradeLetter | null },
  to: { packages: readonly InstalledPackage[]; findings: readonly Finding[]; grade: GradeLetter | null },
): Comparison {
  const key = (p: InstalledPackage): string => `${p.ecosystem}\u0000${p.name}\u0000${p.arch ?? ''}`;
  const before = new Map(from.packages.map((p) => [key(p), p]));
  const after = new Map(to.packages.map((p) => [key(p), p]));
  const added: PackageChange[] = [];
  const removed: PackageChange[] = [];
  const updated: PackageChange[] = [];
  for (const [k, p] of after) {
    const old = before.get(k);
    if (!old) added.push({ ecosystem: p.ecosystem, name: p.name, from: null, to: p.version });
    else if (old.version !== p.version) updated.push({ ecosystem: p.ecosystem, name: p.name, from: old.version, to: p.version });
  }
  for (const [k, p] of before) if (!after.has(k)) removed.push({ ecosystem: p.ecosystem, name: p.name, from: p.version, to: null });
  const advisories = (findings: readonly Finding[]): Map<string, { advisoryId: string; severity: string; packages: string[] }> => {
    const map = new Map<string, { advisoryId: string; severity: string; packages: string[] }>();
    for (const finding of findings) {
      const entry = map.get(finding.advisoryId) ?? { advisoryId: finding.advisoryId, severity: finding.severity, packages: [] };
      if (!entry.packages.includes(finding.package.name)) entry.packages.push(finding.package.name);
      map.set(finding.advisoryId, entry);
    }
    return map;
  };
  const a = advisories(from.findings);
  const b = advisories(to.findings);
  const byName = (x: { name: string }, y: { name: string }): number => x.name.localeCompare(y.name);
  return {
    added: added.sort(byName),
    removed: removed.sort(byName),
    updated: updated.sort(byName),
    fixed: [...a.values()].filter((entry) => !b.has(entry.advisoryId)).sort((x, y) => x.advisoryId.localeCompare(y.advisoryId)),
    introduced: [...b.values()].filter((entry) => !a.has(entry.advisoryId)).sort((x, y) => x.advisoryId.localeCompare(y.advisoryId)),
    grade: { from: from.grade, to: to.grade },
  };
}
