// CatalogIndexStore on SQL: one code path for SQLite and PostgreSQL. The read rule is the
// identity store's own SQL condition (readableRepositoryCondition) joined to the index, so
// totals and filter menus count only what the caller may read.
import type { SqlExecutor, SqlValue } from './sql-client.ts';
import type { CatalogIndexPage, CatalogIndexQuery, CatalogIndexRow, CatalogIndexStore } from './catalog-index-store.ts';
import type { ReadScope } from './identity/repository-access-store.ts';
import { readableRepositoryCondition } from './identity/sql-repository-access-store.ts';

interface Row {
  repository: string;
  namespace: string | null;
  description: string | null;
  title: string | null;
  vendor: string | null;
  latest_tag: string | null;
  latest_digest: string | null;
  pushed_at: number | string | null;
  grade: string | null;
  signed: number | string | null;
  os: string;
  arch: string;
}

/** A set as `,a,b,`: a member is found with LIKE '%,a,%'. */
const setText = (values: readonly string[]): string => `,${[...new Set(values.map((value) => value.replaceAll(',', '')))].sort().join(',')},`;
const setOf = (text: string): string[] => text.split(',').filter((value) => value !== '');
/** A LIKE pattern matching `text` literally (escape character `\`). */
const literal = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);
const lower = (text: string | null): string | null => (text === null ? null : text.toLowerCase());

export class SqlCatalogIndexStore implements CatalogIndexStore {
  private readonly sql: SqlExecutor;

  constructor(sql: SqlExecutor) {
    this.sql = sql;
  }

  async put(row: CatalogIndexRow): Promise<void> {
    await this.sql.run(
      `INSERT INTO catalog_index (repository, namespace, description, title, vendor, name_lower, description_lower, title_lower, vendor_lower, latest_tag, latest_digest, pushed_at, grade, signed, os, arch, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (repository) DO UPDATE SET namespace = excluded.namespace, description = excluded.description, title = excluded.title, vendor = excluded.vendor,
         name_lower = excluded.name_lower, description_lower = excluded.description_lower, title_lower = excluded.title_lower, vendor_lower = excluded.vendor_lower,
         latest_tag = excluded.latest_tag, latest_digest = excluded.latest_digest, pushed_at = excluded.pushed_at, grade = excluded.grade, signed = excluded.signed,
         os = excluded.os, arch = excluded.arch, updated_at = excluded.updated_at`,
      [
        row.repository, row.namespace, row.description, row.title, row.vendor,
        row.repository.toLowerCase(), lower(row.description), lower(row.title), lower(row.vendor),
        row.latestTag, row.latestDigest, row.pushedAt, row.grade, row.signed === null ? null : row.signed ? 1 : 0,
        setText(row.os), setText(row.arch), Date.now(),
      ],
    );
  }

  async remove(repository: string): Promise<void> {
    await this.sql.run('DELETE FROM catalog_index WHERE repository = ?', [repository]);
  }

  async get(repository: string): Promise<CatalogIndexRow | null> {
    const [row] = await this.sql.query<Row>('SELECT * FROM catalog_index WHERE repository = ?', [repository]);
    return row ? toRow(row) : null;
  }

  async search(scope: ReadScope, query: CatalogIndexQuery): Promise<CatalogIndexPage> {
    const readable = readableRepositoryCondition('r', scope.accountId, scope);
    if (readable === null) return { total: 0, hits: [], namespaces: [], os: [], arch: [] };
    const visible = `FROM catalog_index c JOIN repositories r ON r.name = c.repository WHERE ${readable.sql}`;
    const where: string[] = [];
    const params: SqlValue[] = [...readable.params];
    const text = query.text?.trim().toLowerCase() ?? '';
    if (text !== '') {
      where.push(`(c.name_lower LIKE ? ESCAPE '\\' OR c.description_lower LIKE ? ESCAPE '\\' OR c.title_lower LIKE ? ESCAPE '\\' OR c.vendor_lower LIKE ? ESCAPE '\\')`);
      const pattern = `%${literal(text)}%`;
      params.push(pattern, pattern, pattern, pattern);
    }
    if (query.namespace) {
      where.push('c.namespace = ?');
      params.push(query.namespace);
    }
    if (query.grade) {
      where.push('c.grade = ?');
      params.push(query.grade);
    }
    if (query.signed === 'yes') where.push('c.signed = 1');
    if (query.signed === 'no') where.push('(c.signed IS NULL OR c.signed = 0)');
    if (query.os) {
      where.push(`c.os LIKE ? ESCAPE '\\'`);
      params.push(`%,${literal(query.os)},%`);
    }
    if (query.arch) {
      where.push(`c.arch LIKE ? ESCAPE '\\'`);
      params.push(`%,${literal(query.arch)},%`);
    }
    if (query.pushedSince !== undefined) {
      where.push('COALESCE(c.pushed_at, 0) >= ?');
      params.push(query.pushedSince);
    }
    const matching = `${visible}${where.map((clause) => ` AND ${clause}`).join('')}`;
    const order = query.sort === 'pushed' ? 'COALESCE(c.pushed_at, 0) DESC, c.repository' : query.sort === 'grade' ? `COALESCE(c.grade, 'Z'), c.repository` : 'c.repository';
    const [count] = await this.sql.query<{ total: number | string }>(`SELECT COUNT(*) AS total ${matching}`, params);
    const hits = await this.sql.query<{ repository: string; updated_at: number | string }>(`SELECT c.repository, c.updated_at ${matching} ORDER BY ${order} LIMIT ? OFFSET ?`, [...params, query.limit, query.offset]);
    // The filter menus: distinct values over every readable repository (few distinct sets).
    const menus = await this.sql.query<{ namespace: string | null; os: string; arch: string }>(`SELECT DISTINCT c.namespace, c.os, c.arch ${visible}`, readable.params);
    const namespaces = new Set<string>();
    const os = new Set<string>();
    const arch = new Set<string>();
    for (const menu of menus) {
      if (menu.namespace) namespaces.add(menu.namespace);
      for (const value of setOf(menu.os)) os.add(value);
      for (const value of setOf(menu.arch)) arch.add(value);
    }
    return { total: Number(count?.total ?? 0), hits: hits.map((row) => ({ repository: row.repository, updatedAt: Number(row.updated_at) })), namespaces: [...namespaces].sort(), os: [...os].sort(), arch: [...arch].sort() };
  }
}

function toRow(row: Row): CatalogIndexRow {
  return {
    repository: row.repository,
    namespace: row.namespace,
    description: row.description,
    title: row.title,
    vendor: row.vendor,
    latestTag: row.latest_tag,
    latestDigest: row.latest_digest,
    pushedAt: row.pushed_at === null ? null : Number(row.pushed_at),
    grade: row.grade,
    signed: row.signed === null ? null : Number(row.signed) === 1,
    os: setOf(row.os),
    arch: setOf(row.arch),
  };
}
