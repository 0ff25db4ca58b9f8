// AdvisoryStore over the SqlClient seam (migration 3), one code path for SQLite and
// PostgreSQL.
import { createHash } from 'node:crypto';
import type { SqlClient, SqlExecutor, SqlValue } from './sql-client.ts';
import type { Advisory, AdvisoryKind, AdvisorySource, AffectedPackage, AffectedRange, Ecosystem, FixState, Severity } from '../core/quality.ts';
import type { AdvisoryRecord, AdvisoryStore, AffectedHit, DocumentImport, FeedDocument, SourceStatus, StoredDocument, VulnDbStatus } from './advisory-store.ts';

// Bound parameters per statement stay well under SQLite's and PostgreSQL's limits, and
// IN lists of this size keep one index probe per name.
const LOOKUP_CHUNK = 500;
const INSERT_ROWS = 200;

interface AffectedRow {
  readonly advisory: number;
  readonly ecosystem: string;
  readonly distro: string;
  readonly name: string;
  readonly cpe: string | null;
  readonly module: string | null;
  readonly arch: string | null;
  readonly introduced: string | null;
  readonly fixed: string | null;
  readonly last_affected: string | null;
  readonly ranges: string | null;
  readonly fix_state: string | null;
  readonly fix_statement: string | null;
}

interface AdvisoryRow {
  readonly id: number;
  readonly source: string;
  readonly advisory_id: string;
  readonly kind: string;
  readonly title: string | null;
  readonly severity: string;
  readonly vendor_severity: string | null;
  readonly issued: number | null;
  readonly updated: number | null;
  readonly cves: string;
  readonly refs: string;
  readonly statement: string | null;
}

export class SqlAdvisoryStore implements AdvisoryStore {
  private readonly sql: SqlClient;

  constructor(sql: SqlClient) {
    this.sql = sql;
  }

  /** The database revision: increases with every change to advisories or affected rows. */
  async revision(): Promise<number> {
    const rows = await this.sql.query<{ revision: number }>('SELECT revision FROM vulndb_state WHERE singleton = 1');
    return Number(rows[0]?.revision ?? 0);
  }

  /**
   * Every affected-package entry for `names` in one ecosystem and distribution release
   * (`debian:12`, `rhel:9`, `alpine:3.19`; null for language ecosystems, whose entries
   * have no distro), with its advisory. Names are source package names for deb. Order is
   * unspecified; an advisory listing a package twice yields two hits.
   */
  async affectedFor(ecosystem: Ecosystem, distro: string | null, names: readonly string[]): Promise<AffectedHit[]> {
    const unique = [...new Set(names)];
    const rows: AffectedRow[] = [];
    for (let start = 0; start < unique.length; start += LOOKUP_CHUNK) {
      const chunk = unique.slice(start, start + LOOKUP_CHUNK);
      const found = await this.sql.query<AffectedRow>(
        `SELECT advisory, ecosystem, distro, name, cpe, module, arch, introduced, fixed, last_affected, ranges, fix_state, fix_statement
           FROM vulndb_affected WHERE ecosystem = ? AND distro = ? AND name IN (${placeholders(chunk.length)})`,
        [ecosystem, distro ?? '', ...chunk],
      );
      for (const row of found) rows.push(row);
    }
    const advisories = await this.advisoriesByKey([...new Set(rows.map((row) => Number(row.advisory)))]);
    // The same entry contributed by two documents (a feed and a bundle of it) counts once.
    const seen = new Set<string>();
    const hits: AffectedHit[] = [];
    for (const row of rows) {
      const advisory = advisories.get(Number(row.advisory));
      if (!advisory) continue;
      const key = `${row.advisory}\u0000${row.name}\u0000${row.cpe}\u0000${row.module}\u0000${row.arch}\u0000${row.introduced}\u0000${row.fixed}\u0000${row.last_affected}\u0000${row.ranges}\u0000${row.fix_state}\u0000${row.fix_statement}`;
      if (seen.has(key)) continue;
      seen.add(key);
      hits.push({ advisory, affected: toAffected(row) });
    }
    return hits;
  }

  /** One advisory with every affected package, or null. */
  async getAdvisory(source: AdvisorySource, id: string): Promise<Advisory | null> {
    const rows = await this.sql.query<AdvisoryRow>('SELECT * FROM vulndb_advisories WHERE source = ? AND advisory_id = ?', [source, id]);
    const row = rows[0];
    if (!row) return null;
    const affected = await this.sql.query<AffectedRow>('SELECT * FROM vulndb_affected WHERE advisory = ? ORDER BY document_id, name', [row.id]);
    return { ...toRecord(row), affected: dedupeAffected(affected.map(toAffected)) };
  }

  /**
   * Imports one document: skipped when its hash is unchanged; otherwise, in one
   * transaction, its advisories are upserted, each advisory's rows from this document are
   * replaced when they changed, advisories the document no longer carries lose its rows
   * (and go when no document carries them), and the revision is bumped if anything changed.
   */
  async importDocument(document: FeedDocument, now: number = Date.now()): Promise<DocumentImport> {
    return this.sql.transaction(async (tx) => {
      const existing = (await tx.query<{ id: number; hash: string }>('SELECT id, hash FROM vulndb_documents WHERE document_key = ?', [document.key]))[0];
      await touchFeed(tx, document.source, now);
      if (existing && existing.hash === document.hash) {
        return { key: document.key, skipped: true, added: 0, updated: 0, removed: 0, unchanged: 0 };
      }
      const advisories = mergeDuplicates(document.advisories);
      const newest = newestDate(advisories);
      let documentId: number;
      if (existing) {
        documentId = Number(existing.id);
        await tx.run('UPDATE vulndb_documents SET hash = ?, imported_at = ?, newest = ? WHERE id = ?', [document.hash, now, newest, documentId]);
      } else {
        const inserted = await tx.query<{ id: number }>(
          'INSERT INTO vulndb_documents (source, document_key, hash, imported_at, newest) VALUES (?, ?, ?, ?, ?) RETURNING id',
          [document.source, document.key, document.hash, now, newest],
        );
        documentId = Number(inserted[0]!.id);
      }
      const links = new Map<number, string>();
      for (const link of await tx.query<{ advisory: number; affected_hash: string }>('SELECT advisory, affected_hash FROM vulndb_document_advisories WHERE document_id = ?', [documentId])) {
        links.set(Number(link.advisory), link.affected_hash);
      }
      let added = 0;
      let updated = 0;
      let unchanged = 0;
      const pendingRows: SqlValue[][] = [];
      for (const advisory of advisories) {
        const headerHash = hashOf(headerOf(advisory));
        const affectedHash = hashOf(advisory.affected);
        const found = (await tx.query<{ id: number; hash: string }>('SELECT id, hash FROM vulndb_advisories WHERE source = ? AND advisory_id = ?', [advisory.source, advisory.id]))[0];
        let key: number;
        let changed = false;
        if (!found) {
          const inserted = await tx.query<{ id: number }>(
            `INSERT INTO vulndb_advisories (source, advisory_id, kind, title, severity, vendor_severity, issued, updated, cves, refs, statement, hash)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
            [advisory.source, advisory.id, ...headerValues(advisory), headerHash],
          );
          key = Number(inserted[0]!.id);
          added++;
          changed = true;
        } else {
          key = Number(found.id);
          if (found.hash !== headerHash) {
            await tx.run(
              'UPDATE vulndb_advisories SET kind = ?, title = ?, severity = ?, vendor_severity = ?, issued = ?, updated = ?, cves = ?, refs = ?, statement = ?, hash = ? WHERE id = ?',
              [...headerValues(advisory), headerHash, key],
            );
            changed = true;
          }
        }
        const previous = links.get(key);
        links.delete(key);
        if (previous !== affectedHash) {
          if (previous !== undefined) {
            await tx.run('DELETE FROM vulndb_affected WHERE advisory = ? AND document_id = ?', [key, documentId]);
            await tx.run('UPDATE vulndb_document_advisories SET affected_hash = ? WHERE document_id = ? AND advisory = ?', [affectedHash, documentId, key]);
          } else {
            await tx.run('INSERT INTO vulndb_document_advisories (document_id, advisory, affected_hash) VALUES (?, ?, ?)', [documentId, key, affectedHash]);
          }
          for (const affected of advisory.affected) pendingRows.push(affectedValues(key, documentId, affected));
          if (pendingRows.length >= INSERT_ROWS) await flushAffected(tx, pendingRows);
          changed = true;
        }
        if (changed && found) updated++;
        else if (!changed) unchanged++;
      }
      await flushAffected(tx, pendingRows);
      // What the document no longer carries.
      let removed = 0;
      for (const key of links.keys()) {
        await tx.run('DELETE FROM vulndb_affected WHERE advisory = ? AND document_id = ?', [key, documentId]);
        await tx.run('DELETE FROM vulndb_document_advisories WHERE document_id = ? AND advisory = ?', [documentId, key]);
        const others = await tx.query<{ n: number }>('SELECT COUNT(*) AS n FROM vulndb_document_advisories WHERE advisory = ?', [key]);
        if (Number(others[0]?.n ?? 0) === 0) await tx.run('DELETE FROM vulndb_advisories WHERE id = ?', [key]);
        removed++;
      }
      if (added + updated + removed > 0) await tx.run('UPDATE vulndb_state SET revision = revision + 1 WHERE singleton = 1');
      return { key: document.key, skipped: false, added, updated, removed, unchanged };
    });
  }

  /** Sources with their counts, last import and the age of their data. */
  async status(): Promise<VulnDbStatus> {
    const revision = await this.revision();
    const feeds = await this.sql.query<{ source: string; last_import: number | null }>('SELECT source, last_import FROM vulndb_feeds ORDER BY source');
    const documents = await this.sql.query<{ source: string; n: number; newest: number | null }>('SELECT source, COUNT(*) AS n, MAX(newest) AS newest FROM vulndb_documents GROUP BY source');
    const advisories = await this.sql.query<{ source: string; n: number }>('SELECT source, COUNT(*) AS n FROM vulndb_advisories GROUP BY source');
    const affected = await this.sql.query<{ source: string; n: number }>(
      'SELECT d.source AS source, COUNT(*) AS n FROM vulndb_affected a JOIN vulndb_documents d ON d.id = a.document_id GROUP BY d.source',
    );
    const names = new Set([...feeds.map((row) => row.source), ...documents.map((row) => row.source), ...advisories.map((row) => row.source)]);
    const sources = [...names].sort().map((source): SourceStatus => {
      const document = documents.find((row) => row.source === source);
      const feed = feeds.find((row) => row.source === source);
      return {
        source,
        documents: Number(document?.n ?? 0),
        advisories: Number(advisories.find((row) => row.source === source)?.n ?? 0),
        affected: Number(affected.find((row) => row.source === source)?.n ?? 0),
        lastImport: feed?.last_import == null ? null : Number(feed.last_import),
        newest: document?.newest == null ? null : Number(document.newest),
      };
    });
    return { revision, sources };
  }

  /** Every stored document, in import order (for export). */
  async coveringSource(ecosystem: Ecosystem, distro: string | null): Promise<AdvisorySource | null> {
    // One index probe (ecosystem, distro, ...): the first entry names its document's source.
    const rows = await this.sql.query<{ source: string }>(
      `SELECT d.source AS source FROM vulndb_documents d
        WHERE d.id = (SELECT a.document_id FROM vulndb_affected a WHERE a.ecosystem = ? AND a.distro = ? LIMIT 1)`,
      [ecosystem, distro ?? ''],
    );
    return (rows[0]?.source as AdvisorySource | undefined) ?? null;
  }

  async markCurrent(source: AdvisorySource, now: number): Promise<void> {
    await this.sql.transaction((tx) => touchFeed(tx, source, now));
  }

  async documents(): Promise<StoredDocument[]> {
    const rows = await this.sql.query<{ id: number; source: string; document_key: string; hash: string; imported_at: number }>(
      'SELECT id, source, document_key, hash, imported_at FROM vulndb_documents ORDER BY id',
    );
    return rows.map((row) => ({ id: Number(row.id), source: row.source as AdvisorySource, key: row.document_key, hash: row.hash, importedAt: Number(row.imported_at) }));
  }

  /** The advisories one document carries, each with that document's affected rows only,
   * read in pages so a large document is never held whole. */
  async *documentAdvisories(documentId: number, pageSize = 1000): AsyncGenerator<Advisory> {
    let after = -1;
    for (;;) {
      const page = await this.sql.query<AdvisoryRow>(
        `SELECT a.* FROM vulndb_advisories a JOIN vulndb_document_advisories l ON l.advisory = a.id
          WHERE l.document_id = ? AND a.id > ? ORDER BY a.id LIMIT ?`,
        [documentId, after, pageSize],
      );
      if (page.length === 0) return;
      after = Number(page[page.length - 1]!.id);
      const ids = page.map((row) => Number(row.id));
      const affected = await this.sql.query<AffectedRow>(
        `SELECT * FROM vulndb_affected WHERE document_id = ? AND advisory IN (${placeholders(ids.length)})`,
        [documentId, ...ids],
      );
      const byAdvisory = new Map<number, AffectedPackage[]>();
      for (const row of affected) {
        const list = byAdvisory.get(Number(row.advisory)) ?? [];
        list.push(toAffected(row));
        byAdvisory.set(Number(row.advisory), list);
      }
      for (const row of page) yield { ...toRecord(row), affected: byAdvisory.get(Number(row.id)) ?? [] };
    }
  }

  private async advisoriesByKey(keys: readonly number[]): Promise<Map<number, AdvisoryRecord>> {
    const result = new Map<number, AdvisoryRecord>();
    for (let start = 0; start < keys.length; start += LOOKUP_CHUNK) {
      const chunk = keys.slice(start, start + LOOKUP_CHUNK);
      const rows = await this.sql.query<AdvisoryRow>(
        `SELECT id, source, advisory_id, kind, title, severity, vendor_severity, issued, updated, cves, refs, statement FROM vulndb_advisories WHERE id IN (${placeholders(chunk.length)})`,
        chunk,
      );
      for (const row of rows) result.set(Number(row.id), toRecord(row));
    }
    return result;
  }
}

function placeholders(count: number): string {
  return new Array<string>(count).fill('?').join(', ');
}

async function touchFeed(tx: SqlExecutor, source: string, now: number): Promise<void> {
  await tx.run('INSERT INTO vulndb_feeds (source, last_import) VALUES (?, ?) ON CONFLICT (source) DO UPDATE SET last_import = excluded.last_import', [source, now]);
}

async function flushAffected(tx: SqlExecutor, rows: SqlValue[][]): Promise<void> {
  if (rows.length === 0) return;
  const batch = rows.splice(0, rows.length);
  const row = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
  await tx.run(
    `INSERT INTO vulndb_affected (advisory, document_id, ecosystem, distro, name, cpe, module, arch, introduced, fixed, last_affected, ranges, fix_state, fix_statement)
     VALUES ${new Array<string>(batch.length).fill(row).join(', ')}`,
    batch.flat(),
  );
}

function affectedValues(advisory: number, documentId: number, affected: AffectedPackage): SqlValue[] {
  // One range (the usual case) goes in columns; several in JSON.
  const single = affected.ranges.length === 1 ? affected.ranges[0]! : null;
  return [
    advisory,
    documentId,
    affected.ecosystem,
    affected.distro ?? '',
    affected.name,
    affected.cpe ?? null,
    affected.module ?? null,
    affected.arch ?? null,
    single?.introduced ?? null,
    single?.fixed ?? null,
    single?.lastAffected ?? null,
    single ? null : JSON.stringify(affected.ranges.map(compactRange)),
    affected.fixState ?? null,
    affected.fixStatement ?? null,
  ];
}

function compactRange(range: AffectedRange): AffectedRange {
  const result: { introduced?: string; fixed?: string; lastAffected?: string } = {};
  if (range.introduced !== undefined) result.introduced = range.introduced;
  if (range.fixed !== undefined) result.fixed = range.fixed;
  if (range.lastAffected !== undefined) result.lastAffected = range.lastAffected;
  return result;
}

function toAffected(row: AffectedRow): AffectedPackage {
  let ranges: AffectedRange[];
  if (row.ranges !== null) ranges = JSON.parse(row.ranges) as AffectedRange[];
  else ranges = [compactRange({ introduced: row.introduced ?? undefined, fixed: row.fixed ?? undefined, lastAffected: row.last_affected ?? undefined })];
  const result: { -readonly [K in keyof AffectedPackage]: AffectedPackage[K] } = { ecosystem: row.ecosystem as Ecosystem, name: row.name, ranges };
  if (row.distro !== '') result.distro = row.distro;
  if (row.cpe !== null) result.cpe = row.cpe;
  if (row.module !== null) result.module = row.module;
  if (row.arch !== null) result.arch = row.arch;
  if (row.fix_state != null) result.fixState = row.fix_state as FixState;
  if (row.fix_statement != null) result.fixStatement = row.fix_statement;
  return result;
}

function toRecord(row: AdvisoryRow): AdvisoryRecord {
  const refs = JSON.parse(row.refs) as string[];
  const record: { -readonly [K in keyof AdvisoryRecord]: AdvisoryRecord[K] } = {
    id: row.advisory_id,
    source: row.source as AdvisorySource,
    kind: row.kind as AdvisoryKind,
    severity: row.severity as Severity,
    issued: row.issued == null ? null : Number(row.issued),
    cves: JSON.parse(row.cves) as string[],
  };
  if (row.title !== null) record.title = row.title;
  if (row.vendor_severity !== null) record.vendorSeverity = row.vendor_severity;
  if (row.updated != null) record.updated = Number(row.updated);
  if (refs.length > 0) record.references = refs;
  if (row.statement != null) record.statement = row.statement;
  return record;
}

function headerOf(advisory: Advisory): unknown {
  const header: unknown[] = [advisory.kind, advisory.title ?? null, advisory.severity, advisory.vendorSeverity ?? null, advisory.issued, advisory.updated ?? null, advisory.cves, advisory.references ?? []];
  // Appended only when present, so that the hashes of advisories without one stay as they were.
  if (advisory.statement !== undefined) header.push(advisory.statement);
  return header;
}

function headerValues(advisory: Advisory): SqlValue[] {
  return [
    advisory.kind,
    advisory.title ?? null,
    advisory.severity,
    advisory.vendorSeverity ?? null,
    advisory.issued,
    advisory.updated ?? null,
    JSON.stringify(advisory.cves),
    JSON.stringify(advisory.references ?? []),
    advisory.statement ?? null,
  ];
}

function hashOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 32);
}

function newestDate(advisories: readonly Advisory[]): number | null {
  let newest: number | null = null;
  for (const advisory of advisories) {
    const date = advisory.updated ?? advisory.issued;
    if (date !== null && date !== undefined && (newest === null || date > newest)) newest = date;
  }
  return newest;
}

/** A document naming one advisory twice (an Alpine CVE fixed in two packages) is one
 * advisory with both packages. */
function mergeDuplicates(advisories: readonly Advisory[]): Advisory[] {
  const byId = new Map<string, Advisory>();
  for (const advisory of advisories) {
    const key = `${advisory.source}\u0000${advisory.id}`;
    const seen = byId.get(key);
    if (!seen) byId.set(key, advisory);
    else byId.set(key, { ...seen, cves: [...new Set([...seen.cves, ...advisory.cves])], affected: [...seen.affected, ...advisory.affected] });
  }
  return [...byId.values()];
}

function dedupeAffected(list: readonly AffectedPackage[]): AffectedPackage[] {
  const seen = new Set<string>();
  return list.filter((entry) => {
    const key = JSON.stringify(entry);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
