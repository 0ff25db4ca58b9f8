// Quota usage, kept in the transaction that links or unlinks a blob: each blob counts once
// per namespace (a repository's first path component), however many of its repositories
// link it. namespace_blobs.links counts those repositories; usage moves when it goes from
// 0 to 1 and back. Every writer of repository_blobs calls these (the metadata store's link
// and unlink, the collector's batch delete), so usage never drifts from the links; the
// reconciliation (recountNamespaceUsage) proves it and repairs what a cascade removed.
import type { SqlExecutor } from './sql-client.ts';

export function namespaceOf(repository: string): string {
  const slash = repository.indexOf('/');
  return slash < 0 ? repository : repository.slice(0, slash);
}

/** SQL for the namespace of a repository name column, per engine. */
export function namespaceExpression(tx: SqlExecutor, column: string): string {
  return tx.dialect === 'postgres' ? `split_part(${column}, '/', 1)` : `CASE WHEN instr(${column}, '/') > 0 THEN substr(${column}, 1, instr(${column}, '/') - 1) ELSE ${column} END`;
}

export async function addNamespaceLink(tx: SqlExecutor, repository: string, digest: string, size: number): Promise<void> {
  const namespace = namespaceOf(repository);
  const [row] = await tx.query<{ links: number }>(
    `INSERT INTO namespace_blobs (namespace, digest, size, links) VALUES (?, ?, ?, 1)
     ON CONFLICT (namespace, digest) DO UPDATE SET links = namespace_blobs.links + 1 RETURNING links`,
    [namespace, digest, size],
  );
  if (Number(row?.links) === 1) {
    await tx.run('INSERT INTO namespace_usage (namespace, bytes) VALUES (?, ?) ON CONFLICT (namespace) DO UPDATE SET bytes = namespace_usage.bytes + excluded.bytes', [namespace, size]);
  }
}

export async function removeNamespaceLink(tx: SqlExecutor, repository: string, digest: string): Promise<void> {
  const namespace = namespaceOf(repository);
  const [row] = await tx.query<{ links: number; size: number }>('UPDATE namespace_blobs SET links = links - 1 WHERE namespace = ? AND digest = ? RETURNING links, size', [namespace, digest]);
  if (!row || Number(row.links) > 0) return;
  await tx.run('DELETE FROM namespace_blobs WHERE namespace = ? AND digest = ?', [namespace, digest]);
  await tx.run('UPDATE namespace_usage SET bytes = bytes - ? WHERE namespace = ?', [row.size, namespace]);
}

/** Blobs deleted outright (the collector): they leave every namespace's usage. */
export async function removeBlobsFromUsage(tx: SqlExecutor, digests: readonly string[]): Promise<void> {
  if (digests.length === 0) return;
  const list = digests.map(() => '?').join(', ');
  const rows = await tx.query<{ namespace: string; bytes: number }>(
    `SELECT namespace, SUM(size) AS bytes FROM namespace_blobs WHERE digest IN (${list}) GROUP BY namespace ORDER BY namespace`,
    [...digests],
  );
  for (const row of rows) await tx.run('UPDATE namespace_usage SET bytes = bytes - ? WHERE namespace = ?', [Number(row.bytes), row.namespace]);
  await tx.run(`DELETE FROM namespace_blobs WHERE digest IN (${list})`, [...digests]);
}

export interface UsageDrift {
  readonly namespace: string;
  readonly recorded: number;
  readonly actual: number;
}

/**
 * Recounts every namespace's usage from the links and rewrites the books in one
 * transaction; returns where they differed. On PostgreSQL the links are locked against
 * writers for the recount (a short pause for pushes), so the count is of one instant.
 */
export async function recountNamespaceUsage(tx: SqlExecutor): Promise<UsageDrift[]> {
  if (tx.dialect === 'postgres') await tx.run('LOCK TABLE repository_blobs IN SHARE ROW EXCLUSIVE MODE');
  const before = new Map((await tx.query<{ namespace: string; bytes: number }>('SELECT namespace, bytes FROM namespace_usage')).map((row) => [row.namespace, Number(row.bytes)]));
  await tx.run('DELETE FROM namespace_blobs');
  await tx.run(
    `INSERT INTO namespace_blobs (namespace, digest, size, links)
     SELECT ${namespaceExpression(tx, 'rp.name')}, rb.digest, MAX(b.size), COUNT(*)
       FROM repository_blobs rb JOIN repositories rp ON rp.id = rb.repository_id JOIN blobs b ON b.digest = rb.digest
      GROUP BY ${namespaceExpression(tx, 'rp.name')}, rb.digest`,
  );
  const after = new Map((await tx.query<{ namespace: string; bytes: number }>('SELECT namespace, SUM(size) AS bytes FROM namespace_blobs GROUP BY namespace')).map((row) => [row.namespace, Number(row.bytes)]));
  await tx.run('DELETE FROM namespace_usage');
  for (const [namespace, bytes] of after) await tx.run('INSERT INTO namespace_usage (namespace, bytes) VALUES (?, ?)', [namespace, bytes]);
  const drift: UsageDrift[] = [];
  for (const namespace of new Set([...before.keys(), ...after.keys()])) {
    const recorded = before.get(namespace) ?? 0;
    const actual = after.get(namespace) ?? 0;
    if (recorded !== actual) drift.push({ namespace, recorded, actual });
  }
  return drift.sort((a, b) => a.namespace.localeCompare(b.namespace));
}
