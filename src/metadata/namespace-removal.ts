// What becomes of a namespace's repositories when its account (user or organization) is
// deleted: they go with it, in the account's transaction, so the name is free and holds
// nothing of the old owner when someone takes it again. This is the one place that
// decides it. A time-machine window would tombstone here instead (mark the repositories
// deleted, hide them from every lookup, purge them when the window ends, and keep the
// name reserved until then); today there is none, so they are deleted now.
//
// Deleting a repository row cascades to its tags, tag history, manifest and blob links,
// referrers, signatures (through the manifest links) and permissions. What has no foreign
// key to it is handled here: blob reference counts, signing policies (by name) and the
// image quality rows whose reading repository it was. Manifests and blobs that no other
// repository holds are then garbage: the collector reclaims them (and their quality rows,
// which cascade from the manifest). Uploads in progress into the namespace end too (their
// next request is told the upload is unknown; the collector removes files no row knows),
// so an upload begun before the deletion cannot complete into a repository again.
import { inNamespace, namespaceRange } from './namespace-ownership.ts';
import type { SqlExecutor } from './sql-client.ts';

/** Removes every repository of `namespace`; returns their names. Runs inside the caller's transaction. */
export async function removeNamespaceRepositories(tx: SqlExecutor, namespace: string): Promise<string[]> {
  const range = namespaceRange(namespace);
  const repositories = await tx.query<{ name: string }>(`SELECT name FROM repositories WHERE ${inNamespace('name')} ORDER BY name`, range);
  if (repositories.length > 0) {
    // Each link counted once per repository that held it (a blob may be in several).
    await tx.run(
      `UPDATE blobs SET ref_count = ref_count - (
         SELECT COUNT(*) FROM repository_blobs rb JOIN repositories r ON r.id = rb.repository_id
          WHERE rb.digest = blobs.digest AND ${inNamespace('r.name')})
       WHERE digest IN (SELECT rb.digest FROM repository_blobs rb JOIN repositories r ON r.id = rb.repository_id WHERE ${inNamespace('r.name')})`,
      [...range, ...range],
    );
    await tx.run(`DELETE FROM repositories WHERE ${inNamespace('name')}`, range);
    for (const table of ['quality_jobs', 'quality_images'] as const) {
      // Another repository still holding the manifest reads it from now on; otherwise the
      // rows go now rather than wait for the collector.
      await tx.run(
        `UPDATE ${table} SET repository = (
           SELECT MIN(r.name) FROM repository_manifests rm JOIN repositories r ON r.id = rm.repository_id WHERE rm.digest = ${table}.manifest_digest)
         WHERE ${inNamespace('repository')} AND EXISTS (SELECT 1 FROM repository_manifests rm WHERE rm.digest = ${table}.manifest_digest)`,
        range,
      );
      await tx.run(`DELETE FROM ${table} WHERE ${inNamespace('repository')}`, range);
    }
  }
  await tx.run(`DELETE FROM uploads WHERE ${inNamespace('repository')}`, range);
  await tx.run(`DELETE FROM signing_policies WHERE (scope = 'namespace' AND name = ?) OR (scope = 'repository' AND ${inNamespace('name')})`, [namespace, ...range]);
  // Lifecycle: the namespace's books, rules and policies go with it (a new owner of the name starts afresh).
  for (const table of ['namespace_blobs', 'namespace_usage', 'namespace_quotas', 'namespace_lifecycle', 'immutability_rules'] as const) {
    await tx.run(`DELETE FROM ${table} WHERE namespace = ?`, [namespace]);
  }
  await tx.run(`DELETE FROM retention_policies WHERE (scope = 'namespace' AND name = ?) OR (scope = 'repository' AND ${inNamespace('name')})`, [namespace, ...range]);
  return repositories.map((row) => row.name);
}
