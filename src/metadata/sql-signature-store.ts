// SignatureStore over the SqlClient seam (migration 5), one code path for SQLite and
// PostgreSQL; a foreign key with ON DELETE CASCADE removes a signature with its manifest link.
import { createHash } from 'node:crypto';
import { Conflict, LimitReached, NotFound } from '../core/errors.ts';
import type { SqlClient } from './sql-client.ts';
import { MAX_SIGNATURES_PER_MANIFEST, type NewSignature, type SignatureStore, type StoredSignature, type StoredSignatureKind } from './signature-store.ts';

interface Row {
  name: string;
  kind: StoredSignatureKind;
  content: Uint8Array;
  created_at: number | string | bigint;
}

export class SqlSignatureStore implements SignatureStore {
  private readonly sql: SqlClient;

  constructor(sql: SqlClient) {
    this.sql = sql;
  }

  private async repositoryId(repository: string, manifestDigest: string, executor = this.sql as Pick<SqlClient, 'query'>): Promise<number> {
    const rows = await executor.query<{ repository_id: number | string }>(
      'SELECT rm.repository_id FROM repositories r JOIN repository_manifests rm ON rm.repository_id = r.id WHERE r.name = ? AND rm.digest = ?',
      [repository, manifestDigest],
    );
    if (rows.length === 0) throw new NotFound('manifest', `manifest ${manifestDigest} is not in repository ${repository}`);
    return Number(rows[0]!.repository_id);
  }

  async list(repository: string, manifestDigest: string): Promise<StoredSignature[]> {
    const repositoryId = await this.repositoryId(repository, manifestDigest);
    const rows = await this.sql.query<Row>(
      'SELECT name, kind, content, created_at FROM signatures WHERE repository_id = ? AND manifest_digest = ? ORDER BY id',
      [repositoryId, manifestDigest],
    );
    return rows.map((row) => ({ name: row.name, kind: row.kind, content: Buffer.from(row.content), createdAt: Number(row.created_at) }));
  }

  async add(repository: string, manifestDigest: string, signature: NewSignature): Promise<{ created: boolean; name: string }> {
    const contentDigest = `sha256:${createHash('sha256').update(signature.content).digest('hex')}`;
    return await this.sql.transaction(async (tx) => {
      const repositoryId = await this.repositoryId(repository, manifestDigest, tx);
      // Lock the manifest link so a concurrent unlink cannot race the insert (PostgreSQL;
      // SQLite transactions are serialised already).
      if (tx.dialect === 'postgres') {
        await tx.query('SELECT 1 FROM repository_manifests WHERE repository_id = ? AND digest = ? FOR UPDATE', [repositoryId, manifestDigest]);
      }
      const existing = await tx.query<{ name: string; content_digest: string }>(
        'SELECT name, content_digest FROM signatures WHERE repository_id = ? AND manifest_digest = ? AND (name = ? OR content_digest = ?)',
        [repositoryId, manifestDigest, signature.name, contentDigest],
      );
      const same = existing.find((row) => row.content_digest === contentDigest);
      if (same !== undefined) return { created: false, name: same.name };
      if (existing.length > 0) throw new Conflict('signature', `a different signature named ${signature.name} exists`);
      const count = await tx.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM signatures WHERE repository_id = ? AND manifest_digest = ?', [repositoryId, manifestDigest]);
      if (Number(count[0]?.n ?? 0) >= MAX_SIGNATURES_PER_MANIFEST) {
        throw new LimitReached('signature', `manifest ${manifestDigest} already has ${MAX_SIGNATURES_PER_MANIFEST} signatures`);
      }
      await tx.run(
        'INSERT INTO signatures (repository_id, manifest_digest, kind, name, content, content_digest, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [repositoryId, manifestDigest, signature.kind, signature.name, signature.content, contentDigest, Date.now()],
      );
      return { created: true, name: signature.name };
    });
  }

  async remove(repository: string, manifestDigest: string, name: string): Promise<boolean> {
    const result = await this.sql.run(
      'DELETE FROM signatures WHERE manifest_digest = ? AND name = ? AND repository_id = (SELECT id FROM repositories WHERE name = ?)',
      [manifestDigest, name, repository],
    );
    return result.changes > 0;
  }

  async counts(repository: string, manifestDigests: readonly string[]): Promise<Map<string, number>> {
    const result = new Map<string, number>();
    if (manifestDigests.length === 0) return result;
    const placeholders = manifestDigests.map(() => '?').join(', ');
    const rows = await this.sql.query<{ manifest_digest: string; n: number | string }>(
      `SELECT s.manifest_digest, COUNT(*) AS n FROM signatures s JOIN repositories r ON r.id = s.repository_id
       WHERE r.name = ? AND s.manifest_digest IN (${placeholders}) GROUP BY s.manifest_digest`,
      [repository, ...manifestDigests],
    );
    for (const row of rows) result.set(row.manifest_digest, Number(row.n));
    return result;
  }
}
