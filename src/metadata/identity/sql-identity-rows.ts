// What the SQL identity stores share: the account row and how it becomes an Account,
// security stamps, unique-violation detection on both engines, and what removing a
// grantee means for the two permission tables.
import { randomBytes } from 'node:crypto';
import type { Account, AccountKind } from '../../core/identity.ts';
import type { SqlExecutor } from '../sql-client.ts';

export interface AccountRow {
  id: number;
  name: string;
  kind: AccountKind;
  email: string | null;
  superuser: number;
  owner_id: number | null;
  description: string | null;
  ldap_dn: string | null;
  disabled: number;
  created_at: number;
  security_stamp: string;
}

export const ACCOUNT_COLUMNS = 'a.id, a.name, a.kind, a.email, a.superuser, a.owner_id, a.description, a.ldap_dn, a.disabled, a.created_at, a.security_stamp';

export function toAccount(row: AccountRow): Account {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    email: row.email,
    superuser: Number(row.superuser) === 1,
    ownerId: row.owner_id,
    description: row.description,
    ldapDn: row.ldap_dn,
    disabled: Number(row.disabled) === 1,
    createdAt: row.created_at,
    securityStamp: row.security_stamp,
  };
}

/** A fresh security stamp: registry tokens and remembered logins issued under the old one end. */
export function newStamp(): string {
  return randomBytes(12).toString('base64url');
}

export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  const message = (error as Error).message ?? '';
  return code === '23505' || /UNIQUE constraint failed/i.test(message);
}

/**
 * Removes every permission granted to an account or team. Permissions name grantees by id
 * without a foreign key (the id may be a team's or an account's), so deleting a grantee
 * must do this in its transaction.
 */
export async function removeGrantee(tx: SqlExecutor, kind: 'account' | 'team', id: number): Promise<void> {
  await tx.run('DELETE FROM repository_permissions WHERE grantee_kind = ? AND grantee_id = ?', [kind, id]);
  await tx.run('DELETE FROM default_permissions WHERE grantee_kind = ? AND grantee_id = ?', [kind, id]);
}
