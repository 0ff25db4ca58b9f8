// MetadataStore over any SqlClient: the one data-access code path for SQLite and PostgreSQL.
import { InvalidInput, NotFound } from '../core/errors.ts';
import type { Digest } from '../core/digest.ts';
import type { SqlClient, SqlExecutor, SqlValue } from './sql-client.ts';
import type {
  BlobRecord,
  ManifestHead,
  ManifestRecord,
  MetadataStore,
  NewManifest,
  Page,
  ReferrerRecord,
  TagHistoryEntry,
  UploadRecord,
} from './metadata-store.ts';

interface ManifestRow {
  digest: string;
  media_type: string;
  size: number;
  content: Uint8Array;
}

interface UploadRow {
  id: string;
  repository: string;
  size: number;
  created_at: number;
  updated_at: number;
}

/** Longest IN (...) list sent at once; far under both engines' parameter limits. */
const IN_LIST_CHUNK = 500;

function placeholders(count: number): string {
  return new Array<string>(count).fill('?').join(', ');
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}

function toManifestRecord(row: ManifestRow | undefined): ManifestRecord | null {
  if (!row) return null;
  return { digest: row.digest as Digest, mediaType: row.media_type, size: row.size, content: row.content };
}

function toManifestHead(row: ManifestRow | undefined): ManifestHead | null {
  return row ? { digest: row.digest as Digest, mediaType: row.media_type, size: row.size } : null;
}

function toUploadRecord(row: UploadRow): UploadRecord {
  return { id: row.id, repository: row.repository, size: row.size, createdAt: row.created_at, updatedAt: row.updated_at };
}

export async function ensureRepository(tx: SqlExecutor, name: string, now: number): Promise<number> {
  const existing = await tx.query<{ id: number }>('SELECT id FROM repositories WHERE name = ?', [name]);
  if (existing[0]) return existing[0].id;
  await tx.run('INSERT INTO repositories (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING', [name, now]);
  const created = await tx.query<{ id: number }>('SELECT id FROM repositories WHERE name = ?', [name]);
  return created[0]!.id;
}

async function recordTagChange(tx: SqlExecutor, repositoryId: number, tag: string, digest: string | null, previous: string | null, now: number): Promise<void> {
  await tx.run('INSERT INTO tag_history (repository_id, tag, digest, previous_digest, changed_at) VALUES (?, ?, ?, ?, ?)', [repositoryId, tag, digest, previous, now]);
}

const REFERENCED_TABLES = {
  blob: { rows: 'blobs', links: 'repository_blobs', what: 'manifest references blob' },
  manifest: { rows: 'manifests', links: 'repository_manifests', what: 'index references manifest' },
} as const;

/**
 * Inside a manifest push: touches what the manifest references and checks the repository
 * links all of it. Touching last_used_at both locks those rows against a concurrent
 * garbage collection and tells the collector they are in use.
 */
async function requireInRepository(
  tx: SqlExecutor,
  kind: 'blob' | 'manifest',
  digests: readonly string[],
  repositoryId: number,
  repository: string,
  now: number,
  declaredSizes?: ReadonlyMap<string, number>,
): Promise<void> {
  const table = REFERENCED_TABLES[kind];
  for (const batch of chunks(digests, IN_LIST_CHUNK)) {
    await tx.run(`UPDATE ${table.rows} SET last_used_at = ? WHERE digest IN (${placeholders(batch.length)})`, [now, ...batch]);
    const present = await tx.query<{ digest: string; size: number }>(
      `SELECT l.digest, r.size FROM ${table.links} l JOIN ${table.rows} r ON r.digest = l.digest
        WHERE l.repository_id = ? AND l.digest IN (${placeholders(batch.length)})`,
      [repositoryId, ...batch],
    );
    if (present.length !== batch.length) {
      const found = new Set(present.map((row) => row.digest));
      const missing = batch.find((entry) => !found.has(entry));
      throw new NotFound('manifest-reference', `${table.what} ${missing} which is not in repository ${repository}`, { detail: { digest: missing } });
    }
    for (const row of present) {
      const declared = declaredSizes?.get(row.digest);
      if (declared !== undefined && declared !== row.size) {
        throw new InvalidInput('manifest', `descriptor for ${row.digest} says ${declared} bytes, the ${kind} has ${row.size}`);
      }
    }
  }
}

export class SqlMetadataStore implements MetadataStore {
  readonly sql: SqlClient;

  constructor(sql: SqlClient) {
    this.sql = sql;
  }

  async findRepositoryBlob(repository: string, digest: Digest): Promise<{ size: number } | null> {
    const rows = await this.sql.query<{ size: number }>(
      `SELECT b.size FROM repositories r
         JOIN repository_blobs rb ON rb.repository_id = r.id
         JOIN blobs b ON b.digest = rb.digest
       WHERE r.name = ? AND rb.digest = ?`,
      [repository, digest],
    );
    return rows[0] ?? null;
  }

  async findBlob(digest: Digest): Promise<BlobRecord | null> {
    const rows = await this.sql.query<{ digest: string; size: number; ref_count: number; last_used_at: number }>(
      'SELECT digest, size, ref_count, last_used_at FROM blobs WHERE digest = ?',
      [digest],
    );
    const row = rows[0];
    return row ? { digest: row.digest as Digest, size: row.size, refCount: row.ref_count, lastUsedAt: row.last_used_at } : null;
  }

  async linkBlob(repository: string, digest: Digest, size: number, now: number): Promise<void> {
    await this.sql.transaction(async (tx) => {
      const repositoryId = await ensureRepository(tx, repository, now);
      await tx.run(
        `INSERT INTO blobs (digest, size, created_at, last_used_at, ref_count) VALUES (?, ?, ?, ?, 0)
         ON CONFLICT (digest) DO UPDATE SET last_used_at = excluded.last_used_at`,
        [digest, size, now, now],
      );
      const linked = await tx.run(
        'INSERT INTO repository_blobs (repository_id, digest, created_at) VALUES (?, ?, ?) ON CONFLICT (repository_id, digest) DO NOTHING',
        [repositoryId, digest, now],
      );
      if (linked.changes > 0) await tx.run('UPDATE blobs SET ref_count = ref_count + 1 WHERE digest = ?', [digest]);
    });
  }

  async unlinkBlob(repository: string, digest: Digest): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      const removed = await tx.run(
        'DELETE FROM repository_blobs WHERE digest = ? AND repository_id = (SELECT id FROM repositories WHERE name = ?)',
        [digest, repository],
      );
      if (removed.changes === 0) return false;
      await tx.run('UPDATE blobs SET ref_count = ref_count - 1 WHERE digest = ?', [digest]);
      return true;
    });
  }

  async createUpload(id: string, repository: string, now: number): Promise<void> {
    await this.sql.run('INSERT INTO uploads (id, repository, size, created_at, updated_at) VALUES (?, ?, 0, ?, ?)', [id, repository, now, now]);
  }

  async getUpload(id: string): Promise<UploadRecord | null> {
    const rows = await this.sql.query<UploadRow>('SELECT id, repository, size, created_at, updated_at FROM uploads WHERE id = ?', [id]);
    return rows[0] ? toUploadRecord(rows[0]) : null;
  }

  async setUploadSize(id: string, size: number, now: number, from?: number): Promise<boolean> {
    const result =
      from === undefined
        ? await this.sql.run('UPDATE uploads SET size = ?, updated_at = ? WHERE id = ?', [size, now, id])
        : await this.sql.run('UPDATE uploads SET size = ?, updated_at = ? WHERE id = ? AND size = ?', [size, now, id, from]);
    return result.changes > 0;
  }

  async deleteUpload(id: string): Promise<void> {
    await this.sql.run('DELETE FROM uploads WHERE id = ?', [id]);
  }

  async uploadsUpdatedBefore(time: number, limit: number): Promise<UploadRecord[]> {
    const rows = await this.sql.query<UploadRow>(
      'SELECT id, repository, size, created_at, updated_at FROM uploads WHERE updated_at < ? ORDER BY updated_at LIMIT ?',
      [time, limit],
    );
    return rows.map(toUploadRecord);
  }

  async getManifestByTag(repository: string, tag: string): Promise<ManifestRecord | null> {
    return toManifestRecord((await this.findManifest(repository, 'tag', tag, true))[0]);
  }

  async getManifestByDigest(repository: string, digest: Digest): Promise<ManifestRecord | null> {
    return toManifestRecord((await this.findManifest(repository, 'digest', digest, true))[0]);
  }

  async headManifestByTag(repository: string, tag: string): Promise<ManifestHead | null> {
    return toManifestHead((await this.findManifest(repository, 'tag', tag, false))[0]);
  }

  async headManifestByDigest(repository: string, digest: Digest): Promise<ManifestHead | null> {
    return toManifestHead((await this.findManifest(repository, 'digest', digest, false))[0]);
  }

  /** One query: the repository, its tag or manifest link, the manifest (bytes only for GET). */
  private findManifest(repository: string, by: 'tag' | 'digest', value: string, withContent: boolean): Promise<ManifestRow[]> {
    const link =
      by === 'tag'
        ? 'JOIN tags t ON t.repository_id = r.id JOIN manifests m ON m.digest = t.digest WHERE r.name = ? AND t.name = ?'
        : 'JOIN repository_manifests rm ON rm.repository_id = r.id JOIN manifests m ON m.digest = rm.digest WHERE r.name = ? AND rm.digest = ?';
    return this.sql.query<ManifestRow>(`SELECT m.digest, m.media_type, m.size${withContent ? ', m.content' : ''} FROM repositories r ${link}`, [repository, value]);
  }

  async putManifest(manifest: NewManifest): Promise<void> {
    const { digest, now } = manifest;
    await this.sql.transaction(async (tx) => {
      const repositoryId = await ensureRepository(tx, manifest.repository, now);
      const blobs = [...new Set(manifest.blobs)];
      const children = [...new Set(manifest.manifests)];
      await requireInRepository(tx, 'blob', blobs, repositoryId, manifest.repository, now, manifest.blobSizes);
      await requireInRepository(tx, 'manifest', children, repositoryId, manifest.repository, now);
      const inserted = await tx.run(
        `INSERT INTO manifests (digest, media_type, size, content, artifact_type, subject_digest, annotations, created_at, last_used_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (digest) DO UPDATE SET last_used_at = excluded.last_used_at`,
        [
          digest,
          manifest.mediaType,
          manifest.content.byteLength,
          manifest.content,
          manifest.artifactType ?? null,
          manifest.subject ?? null,
          manifest.annotations ? JSON.stringify(manifest.annotations) : null,
          now,
          now,
        ],
      );
      if (inserted.changes > 0) {
        const references: Array<[string, 'blob' | 'manifest']> = [
          ...blobs.map((entry): [string, 'blob'] => [entry, 'blob']),
          ...children.map((entry): [string, 'manifest'] => [entry, 'manifest']),
        ];
        for (const batch of chunks(references, IN_LIST_CHUNK)) {
          const values: SqlValue[] = [];
          for (const [child, kind] of batch) values.push(digest, child, kind);
          await tx.run(
            `INSERT INTO manifest_references (manifest_digest, child_digest, kind) VALUES ${batch.map(() => '(?, ?, ?)').join(', ')}
             ON CONFLICT DO NOTHING`,
            values,
          );
        }
      }
      await tx.run(
        'INSERT INTO repository_manifests (repository_id, digest, created_at) VALUES (?, ?, ?) ON CONFLICT (repository_id, digest) DO NOTHING',
        [repositoryId, digest, now],
      );
      if (manifest.subject) {
        await tx.run(
          `INSERT INTO referrers (repository_id, subject_digest, referrer_digest, created_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (repository_id, subject_digest, referrer_digest) DO NOTHING`,
          [repositoryId, manifest.subject, digest, now],
        );
      }
      if (manifest.tag !== undefined) {
        // Create the tag, or lock it (PostgreSQL) before reading it: concurrent re-tags
        // then record an unbroken history, each with the digest it really replaced.
        const created = await tx.run('INSERT INTO tags (repository_id, name, digest, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (repository_id, name) DO NOTHING', [
          repositoryId,
          manifest.tag,
          digest,
          now,
        ]);
        if (created.changes > 0) {
          await recordTagChange(tx, repositoryId, manifest.tag, digest, null, now);
        } else {
          const current = await tx.query<{ digest: string }>(`SELECT digest FROM tags WHERE repository_id = ? AND name = ?${tx.dialect === 'postgres' ? ' FOR UPDATE' : ''}`, [
            repositoryId,
            manifest.tag,
          ]);
          const previous = current[0]?.digest ?? null;
          if (previous !== digest) {
            await tx.run(
              `INSERT INTO tags (repository_id, name, digest, updated_at) VALUES (?, ?, ?, ?)
               ON CONFLICT (repository_id, name) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at`,
              [repositoryId, manifest.tag, digest, now],
            );
            await recordTagChange(tx, repositoryId, manifest.tag, digest, previous, now);
          }
        }
      }
    });
  }

  async deleteManifest(repository: string, digest: Digest, now: number): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      const repository_ = await tx.query<{ id: number }>('SELECT id FROM repositories WHERE name = ?', [repository]);
      const repositoryId = repository_[0]?.id;
      if (repositoryId === undefined) return false;
      // RETURNING: only the tags this statement really removed (not ones re-tagged meanwhile).
      const tags = await tx.query<{ name: string }>('DELETE FROM tags WHERE repository_id = ? AND digest = ? RETURNING name', [repositoryId, digest]);
      for (const { name } of tags) await recordTagChange(tx, repositoryId, name, null, digest, now);
      await tx.run('DELETE FROM referrers WHERE repository_id = ? AND referrer_digest = ?', [repositoryId, digest]);
      const removed = await tx.run('DELETE FROM repository_manifests WHERE repository_id = ? AND digest = ?', [repositoryId, digest]);
      return removed.changes > 0;
    });
  }

  async deleteTag(repository: string, tag: string, now: number): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      const rows = await tx.query<{ repository_id: number; digest: string }>(
        'SELECT t.repository_id, t.digest FROM tags t JOIN repositories r ON r.id = t.repository_id WHERE r.name = ? AND t.name = ?',
        [repository, tag],
      );
      const row = rows[0];
      if (!row) return false;
      // A concurrent delete may have won since the read: record only what this one removed.
      const removed = await tx.query<{ digest: string }>('DELETE FROM tags WHERE repository_id = ? AND name = ? RETURNING digest', [row.repository_id, tag]);
      if (!removed[0]) return false;
      await recordTagChange(tx, row.repository_id, tag, null, removed[0].digest, now);
      return true;
    });
  }

  async tagHistory(repository: string, tag?: string): Promise<TagHistoryEntry[]> {
    const rows = await this.sql.query<{ tag: string; digest: string | null; previous_digest: string | null; changed_at: number }>(
      `SELECT h.tag, h.digest, h.previous_digest, h.changed_at FROM tag_history h JOIN repositories r ON r.id = h.repository_id
       WHERE r.name = ? ${tag === undefined ? '' : 'AND h.tag = ?'} ORDER BY h.changed_at, h.id`,
      tag === undefined ? [repository] : [repository, tag],
    );
    return rows.map((row) => ({
      tag: row.tag,
      digest: row.digest as Digest | null,
      previousDigest: row.previous_digest as Digest | null,
      changedAt: row.changed_at,
    }));
  }

  async repositoryExists(repository: string): Promise<boolean> {
    const rows = await this.sql.query<{ id: number }>('SELECT id FROM repositories WHERE name = ?', [repository]);
    return rows.length > 0;
  }

  async listTags(repository: string, page: Page): Promise<string[] | null> {
    const found = await this.sql.query<{ id: number }>('SELECT id FROM repositories WHERE name = ?', [repository]);
    const repositoryId = found[0]?.id;
    if (repositoryId === undefined) return null;
    const rows = await this.sql.query<{ name: string }>(
      `SELECT name FROM tags WHERE repository_id = ? ${page.last === undefined ? '' : 'AND name > ?'} ORDER BY name LIMIT ?`,
      page.last === undefined ? [repositoryId, page.limit] : [repositoryId, page.last, page.limit],
    );
    return rows.map((row) => row.name);
  }

  async listRepositories(page: Page): Promise<string[]> {
    const rows = await this.sql.query<{ name: string }>(
      `SELECT name FROM repositories ${page.last === undefined ? '' : 'WHERE name > ?'} ORDER BY name LIMIT ?`,
      page.last === undefined ? [page.limit] : [page.last, page.limit],
    );
    return rows.map((row) => row.name);
  }

  async listReferrers(repository: string, subject: Digest, artifactType?: string): Promise<ReferrerRecord[]> {
    const rows = await this.sql.query<{ digest: string; media_type: string; size: number; artifact_type: string | null; annotations: string | null }>(
      `SELECT m.digest, m.media_type, m.size, m.artifact_type, m.annotations FROM repositories r
         JOIN referrers f ON f.repository_id = r.id
         JOIN manifests m ON m.digest = f.referrer_digest
       WHERE r.name = ? AND f.subject_digest = ? ${artifactType === undefined ? '' : 'AND m.artifact_type = ?'}
       ORDER BY f.created_at, m.digest`,
      artifactType === undefined ? [repository, subject] : [repository, subject, artifactType],
    );
    return rows.map((row) => ({
      digest: row.digest as Digest,
      mediaType: row.media_type,
      size: row.size,
      artifactType: row.artifact_type,
      annotations: row.annotations ? (JSON.parse(row.annotations) as Record<string, string>) : null,
    }));
  }

  async close(): Promise<void> {
    await this.sql.close();
  }
}
