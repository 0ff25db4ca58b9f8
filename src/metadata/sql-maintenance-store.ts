// MaintenanceStore over any SqlClient, one code path for SQLite and PostgreSQL. Deletions
// re-check their condition under a row lock inside their transaction.
import type { Digest } from '../core/digest.ts';
import type { SqlClient, SqlExecutor } from './sql-client.ts';
import type { BlobRow, MaintenanceStore, ManifestReferenceRow, RepositoryManifestRef } from './maintenance-store.ts';

function forUpdate(tx: SqlExecutor): string {
  return tx.dialect === 'postgres' ? ' FOR UPDATE' : '';
}

/**
 * For a batch: rows a push holds are skipped, not waited for. A push locks the blobs of its
 * manifest in the manifest's order, a batch in digest order; waiting could deadlock, and a
 * blob a push holds is in use anyway (the next collection looks at it again).
 */
function forUpdateSkipLocked(tx: SqlExecutor): string {
  return tx.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
}

export class SqlMaintenanceStore implements MaintenanceStore {
  private readonly sql: SqlClient;

  constructor(sql: SqlClient) {
    this.sql = sql;
  }

  /** Manifests in a repository that no tag reaches, directly, through an index, or as a referrer. */
  async unreachableManifests(createdBefore: number): Promise<RepositoryManifestRef[]> {
    const rows = await this.sql.query<{ repository_id: number; name: string; digest: string }>(
      `WITH RECURSIVE edges (repository_id, parent, child) AS (
         SELECT rm.repository_id, mr.manifest_digest, mr.child_digest
           FROM manifest_references mr JOIN repository_manifests rm ON rm.digest = mr.manifest_digest
          WHERE mr.kind = 'manifest'
         UNION ALL
         SELECT repository_id, subject_digest, referrer_digest FROM referrers
       ),
       reachable (repository_id, digest) AS (
         SELECT repository_id, digest FROM tags
         UNION
         SELECT e.repository_id, e.child FROM reachable r JOIN edges e ON e.repository_id = r.repository_id AND e.parent = r.digest
       )
       SELECT rm.repository_id, rp.name, rm.digest
         FROM repository_manifests rm JOIN repositories rp ON rp.id = rm.repository_id
        WHERE rm.created_at < ?
          AND NOT EXISTS (SELECT 1 FROM reachable r WHERE r.repository_id = rm.repository_id AND r.digest = rm.digest)
        ORDER BY rp.name, rm.digest`,
      [createdBefore],
    );
    return rows.map((row) => ({ repositoryId: row.repository_id, repository: row.name, digest: row.digest as Digest }));
  }

  /** Unlinks an untagged manifest from its repository unless it was used or tagged meanwhile. */
  async removeRepositoryManifest(ref: RepositoryManifestRef, usedBefore: number): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      const manifest = await tx.query<{ last_used_at: number }>(`SELECT last_used_at FROM manifests WHERE digest = ?${forUpdate(tx)}`, [ref.digest]);
      if (!manifest[0] || manifest[0].last_used_at >= usedBefore) return false;
      // Reachable now? A tag on it, or on an index or subject above it, may have been
      // committed since the candidates were listed (a push touching it with a `now`
      // older than usedBefore is not caught by last_used_at). Pushes that make it a
      // child lock its row first, so this check under the lock is race-free for them.
      const reachable = await tx.query<{ name: string }>(
        `WITH RECURSIVE edges (parent, child) AS (
           SELECT mr.manifest_digest, mr.child_digest
             FROM manifest_references mr JOIN repository_manifests rm ON rm.digest = mr.manifest_digest AND rm.repository_id = ?
            WHERE mr.kind = 'manifest'
           UNION ALL
           SELECT subject_digest, referrer_digest FROM referrers WHERE repository_id = ?
         ),
         ancestors (digest) AS (
           SELECT ?
           UNION
           SELECT e.parent FROM ancestors a JOIN edges e ON e.child = a.digest
         )
         SELECT t.name FROM tags t JOIN ancestors a ON a.digest = t.digest WHERE t.repository_id = ? LIMIT 1`,
        [ref.repositoryId, ref.repositoryId, ref.digest, ref.repositoryId],
      );
      if (reachable.length > 0) return false;
      await tx.run('DELETE FROM referrers WHERE repository_id = ? AND referrer_digest = ?', [ref.repositoryId, ref.digest]);
      const removed = await tx.run('DELETE FROM repository_manifests WHERE repository_id = ? AND digest = ?', [ref.repositoryId, ref.digest]);
      return removed.changes > 0;
    });
  }

  /** Manifests no repository links any more. */
  async orphanManifests(usedBefore: number): Promise<Array<{ digest: Digest; size: number }>> {
    const rows = await this.sql.query<{ digest: string; size: number }>(
      `SELECT m.digest, m.size FROM manifests m
        WHERE m.last_used_at < ? AND NOT EXISTS (SELECT 1 FROM repository_manifests rm WHERE rm.digest = m.digest)
        ORDER BY m.digest`,
      [usedBefore],
    );
    return rows.map((row) => ({ digest: row.digest as Digest, size: row.size }));
  }

  async deleteOrphanManifest(digest: Digest, usedBefore: number): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      const manifest = await tx.query<{ last_used_at: number }>(`SELECT last_used_at FROM manifests WHERE digest = ?${forUpdate(tx)}`, [digest]);
      if (!manifest[0] || manifest[0].last_used_at >= usedBefore) return false;
      const linked = await tx.query<{ digest: string }>('SELECT digest FROM repository_manifests WHERE digest = ?', [digest]);
      if (linked.length > 0) return false;
      await tx.run('DELETE FROM referrers WHERE referrer_digest = ?', [digest]);
      const removed = await tx.run('DELETE FROM manifests WHERE digest = ?', [digest]);
      return removed.changes > 0;
    });
  }

  /** Blobs no manifest references, unused since `usedBefore`. */
  async unreferencedBlobs(usedBefore: number): Promise<Array<{ digest: Digest; size: number }>> {
    const rows = await this.sql.query<{ digest: string; size: number }>(
      `SELECT b.digest, b.size FROM blobs b
        WHERE b.last_used_at < ?
          AND NOT EXISTS (SELECT 1 FROM manifest_references mr WHERE mr.child_digest = b.digest AND mr.kind = 'blob')
        ORDER BY b.digest`,
      [usedBefore],
    );
    return rows.map((row) => ({ digest: row.digest as Digest, size: row.size }));
  }

  /**
   * Deletes the records and links of those `digests` still unreferenced and unused, running
   * `removeContent` (one batch delete in storage) on them while their rows are locked,
   * before commit. Returns the digests removed.
   */
  async deleteBlobs(digests: readonly Digest[], usedBefore: number, removeContent: (digests: Digest[]) => Promise<void>): Promise<Digest[]> {
    if (digests.length === 0) return [];
    return this.sql.transaction(async (tx) => {
      const list = digests.map(() => '?').join(', ');
      const rows = await tx.query<{ digest: string; last_used_at: number }>(`SELECT digest, last_used_at FROM blobs WHERE digest IN (${list}) ORDER BY digest${forUpdateSkipLocked(tx)}`, [...digests]);
      const referenced = await tx.query<{ child_digest: string }>(`SELECT DISTINCT child_digest FROM manifest_references WHERE kind = 'blob' AND child_digest IN (${list})`, [...digests]);
      const inUse = new Set(referenced.map((row) => row.child_digest));
      const doomed = rows.filter((row) => row.last_used_at < usedBefore && !inUse.has(row.digest)).map((row) => row.digest as Digest);
      if (doomed.length === 0) return [];
      await removeContent(doomed);
      const doomedList = doomed.map(() => '?').join(', ');
      await tx.run(`DELETE FROM repository_blobs WHERE digest IN (${doomedList})`, doomed);
      await tx.run(`DELETE FROM blobs WHERE digest IN (${doomedList})`, doomed);
      return doomed;
    });
  }

  /**
   * Deletes stored content that has no record, unless one appears meanwhile. Each digest is
   * claimed with a placeholder row for the length of the transaction: a push linking the
   * same digest waits for it, then finds the content gone when it re-checks, and restores
   * it or reports it. Without the claim, a row inserted between the check and the delete
   * would end up pointing at nothing. Returns the digests whose content was removed.
   */
  async deleteUnrecordedContents(digests: readonly Digest[], removeContent: (digests: Digest[]) => Promise<void>): Promise<Digest[]> {
    if (digests.length === 0) return [];
    return this.sql.transaction(async (tx) => {
      const claimed: Digest[] = [];
      for (const digest of [...digests].sort()) {
        const claim = await tx.run('INSERT INTO blobs (digest, size, created_at, last_used_at, ref_count) VALUES (?, 0, 0, 0, 0) ON CONFLICT (digest) DO NOTHING', [digest]);
        if (claim.changes > 0) claimed.push(digest);
      }
      if (claimed.length === 0) return [];
      await removeContent(claimed);
      await tx.run(`DELETE FROM blobs WHERE digest IN (${claimed.map(() => '?').join(', ')})`, claimed);
      return claimed;
    });
  }

  /** deleteUnrecordedContents for one digest. */
  async deleteUnrecordedContent(digest: Digest, removeContent: () => Promise<void>): Promise<boolean> {
    return (await this.deleteUnrecordedContents([digest], removeContent)).length === 1;
  }

  /** Which of these digests have a blob record. */
  async blobStillLinked(digest: Digest): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      // FOR SHARE waits for a collector's batch holding the row; SQLite's transactions
      // are serialised (BEGIN IMMEDIATE), which waits the same.
      const rows = await tx.query<{ digest: string }>(`SELECT digest FROM blobs WHERE digest = ?${tx.dialect === 'postgres' ? ' FOR SHARE' : ''}`, [digest]);
      if (rows.length === 0) return false;
      const links = await tx.query<{ digest: string }>('SELECT digest FROM repository_blobs WHERE digest = ? LIMIT 1', [digest]);
      return links.length > 0;
    });
  }

  async knownBlobs(digests: readonly Digest[]): Promise<Set<string>> {
    const known = new Set<string>();
    for (let i = 0; i < digests.length; i += 500) {
      const batch = digests.slice(i, i + 500);
      const rows = await this.sql.query<{ digest: string }>(`SELECT digest FROM blobs WHERE digest IN (${batch.map(() => '?').join(', ')})`, batch);
      for (const row of rows) known.add(row.digest);
    }
    return known;
  }

  // ---- fsck ---------------------------------------------------------------------------

  async tagsWithoutManifest(): Promise<Array<{ repository: string; tag: string; digest: Digest }>> {
    const rows = await this.sql.query<{ name: string; tag: string; digest: string }>(
      `SELECT rp.name, t.name AS tag, t.digest FROM tags t JOIN repositories rp ON rp.id = t.repository_id
        WHERE NOT EXISTS (SELECT 1 FROM repository_manifests rm WHERE rm.repository_id = t.repository_id AND rm.digest = t.digest)
        ORDER BY rp.name, t.name`,
    );
    return rows.map((row) => ({ repository: row.name, tag: row.tag, digest: row.digest as Digest }));
  }

  /** Every reference of every linked manifest, with whether its target is linked in the same repository. */
  async manifestReferences(): Promise<ManifestReferenceRow[]> {
    const rows = await this.sql.query<{ repository_id: number; name: string; digest: string; child_digest: string; kind: 'blob' | 'manifest'; linked: number }>(
      `SELECT rm.repository_id, rp.name, rm.digest, mr.child_digest, mr.kind,
              CASE WHEN mr.kind = 'blob'
                   THEN (SELECT COUNT(*) FROM repository_blobs rb WHERE rb.repository_id = rm.repository_id AND rb.digest = mr.child_digest)
                   ELSE (SELECT COUNT(*) FROM repository_manifests c WHERE c.repository_id = rm.repository_id AND c.digest = mr.child_digest)
              END AS linked
         FROM repository_manifests rm
         JOIN repositories rp ON rp.id = rm.repository_id
         JOIN manifest_references mr ON mr.manifest_digest = rm.digest
        ORDER BY rp.name, rm.digest`,
    );
    return rows.map((row) => ({
      repositoryId: row.repository_id,
      repository: row.name,
      digest: row.digest as Digest,
      childDigest: row.child_digest as Digest,
      kind: row.kind,
      linked: Number(row.linked) > 0,
    }));
  }

  async *manifestContents(): AsyncIterable<{ digest: Digest; size: number; content: Uint8Array }> {
    let last = '';
    for (;;) {
      const rows = await this.sql.query<{ digest: string; size: number; content: Uint8Array }>(
        'SELECT digest, size, content FROM manifests WHERE digest > ? ORDER BY digest LIMIT 200',
        [last],
      );
      for (const row of rows) yield { digest: row.digest as Digest, size: row.size, content: row.content };
      if (rows.length < 200) return;
      last = rows[rows.length - 1]!.digest;
    }
  }

  async *blobRows(): AsyncIterable<BlobRow> {
    let last = '';
    for (;;) {
      const rows = await this.sql.query<{ digest: string; size: number; ref_count: number; links: number }>(
        `SELECT b.digest, b.size, b.ref_count, (SELECT COUNT(*) FROM repository_blobs rb WHERE rb.digest = b.digest) AS links
           FROM blobs b WHERE b.digest > ? ORDER BY b.digest LIMIT 500`,
        [last],
      );
      for (const row of rows) yield { digest: row.digest as Digest, size: row.size, refCount: row.ref_count, linkCount: Number(row.links) };
      if (rows.length < 500) return;
      last = rows[rows.length - 1]!.digest;
    }
  }

  async uploadIds(): Promise<Set<string>> {
    const rows = await this.sql.query<{ id: string }>('SELECT id FROM uploads');
    return new Set(rows.map((row) => row.id));
  }
}
