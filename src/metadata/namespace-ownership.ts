// Who owns a namespace. Roles follow the repository's first path component to the
// account of that name, so a namespace that holds repositories must always have an
// account: otherwise whoever creates an account of that name next would administer
// repositories someone else pushed. The rules, for every SQL engine:
//   - an account whose name matches a namespace holding repositories is refused, unless
//     it is an organization adopting them on purpose (a superuser's push or creation);
//   - an organization is created together with its owners team and first owner, in one
//     transaction, so no organization ever exists without the people meant to run it;
//   - upgrading, every namespace that holds repositories but has no account becomes an
//     organization owned by the first superuser (migration 8).
import { OWNERS_TEAM } from '../core/identity.ts';
import type { SqlExecutor } from './sql-client.ts';
import { newStamp } from './identity/sql-identity-rows.ts';

/**
 * The bytewise range of repository names inside a namespace: `ns/` <= name < `ns0`
 * ('0' follows '/'), so the names' unique index answers it, on both engines (names sort
 * bytewise: BINARY in SQLite, COLLATE "C" in PostgreSQL).
 */
export function namespaceRange(namespace: string): readonly [string, string] {
  return [`${namespace}/`, `${namespace}0`];
}

/** The SQL condition "column names a repository in the namespace"; parameters: namespaceRange. */
export function inNamespace(column: string): string {
  return `${column} >= ? AND ${column} < ?`;
}

export async function namespaceHoldsRepositories(executor: SqlExecutor, namespace: string): Promise<boolean> {
  const rows = await executor.query<{ name: string }>(`SELECT name FROM repositories WHERE ${inNamespace('name')} LIMIT 1`, namespaceRange(namespace));
  return rows.length > 0;
}

export interface NewOrganizationRow {
  readonly name: string;
  readonly email?: string | null;
  readonly description?: string | null;
}

/**
 * Inserts an organization, its owners team (role admin) and, when given, its first owner
 * as a member of that team. Returns the organization's id, or null when the name is
 * taken (by any account). Runs inside the caller's transaction.
 */
export async function insertOrganization(tx: SqlExecutor, organization: NewOrganizationRow, ownerId: number | null, now: number): Promise<number | null> {
  const inserted = await tx.query<{ id: number }>(
    `INSERT INTO accounts (name, kind, email, password_hash, superuser, owner_id, description, ldap_dn, disabled, created_at, security_stamp)
     VALUES (?, 'organization', ?, NULL, 0, NULL, ?, NULL, 0, ?, ?)
     ON CONFLICT (name) DO NOTHING
     RETURNING id`,
    [organization.name, organization.email ?? null, organization.description ?? null, now, newStamp()],
  );
  const id = inserted[0]?.id;
  if (id === undefined) return null;
  const team = await tx.query<{ id: number }>('INSERT INTO teams (organization_id, name, role, description, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id', [
    id,
    OWNERS_TEAM,
    'admin',
    'administrators of the organization',
    now,
  ]);
  if (ownerId !== null) await tx.run('INSERT INTO team_members (team_id, account_id, synced, created_at) VALUES (?, ?, 0, ?)', [team[0]!.id, ownerId, now]);
  return Number(id);
}

/** The namespaces (first path components) that hold repositories but have no account. */
export async function unownedNamespaces(executor: SqlExecutor): Promise<string[]> {
  const rows = await executor.query<{ name: string }>('SELECT name FROM repositories ORDER BY name');
  const namespaces = new Set<string>();
  for (const { name } of rows) {
    const slash = name.indexOf('/');
    if (slash > 0) namespaces.add(name.slice(0, slash));
  }
  const unowned: string[] = [];
  for (const namespace of namespaces) {
    const account = await executor.query<{ id: number }>('SELECT id FROM accounts WHERE name = ?', [namespace]);
    if (account.length === 0) unowned.push(namespace);
  }
  return unowned;
}

/**
 * The upgrade step (migration 8): every namespace holding repositories without an account
 * becomes an organization whose owners team holds the first superuser (the oldest
 * enabled one, else the oldest). With no superuser at all the owners team starts empty
 * and superusers (who administer everything) add owners later. Returns the namespaces
 * adopted.
 */
export async function adoptUnownedNamespaces(tx: SqlExecutor, now: number): Promise<string[]> {
  const superusers = await tx.query<{ id: number }>("SELECT id FROM accounts WHERE kind = 'user' AND superuser = 1 ORDER BY disabled, id LIMIT 1");
  const ownerId = superusers[0] === undefined ? null : Number(superusers[0].id);
  const adopted: string[] = [];
  for (const namespace of await unownedNamespaces(tx)) {
    const description = 'created on upgrade: it holds repositories that had no account';
    if ((await insertOrganization(tx, { name: namespace, description }, ownerId, now)) !== null) adopted.push(namespace);
  }
  return adopted;
}
