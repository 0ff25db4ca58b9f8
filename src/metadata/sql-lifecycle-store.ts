// LifecycleStore over any SqlClient: one code path for SQLite and PostgreSQL.
import type { Digest } from '../core/digest.ts';
import type { SqlClient } from './sql-client.ts';
import type { ImmutabilityRule, LifecycleStore, NewImmutabilityRule, TagExpiry } from './lifecycle-store.ts';

interface RuleRow {
  id: number;
  namespace: string;
  repository_pattern: string;
  tag_pattern: string;
  created_by: string | null;
  created_at: number;
}

function toRule(row: RuleRow): ImmutabilityRule {
  return {
    id: Number(row.id),
    namespace: row.namespace,
    repositoryPattern: row.repository_pattern,
    tagPattern: row.tag_pattern,
    createdBy: row.created_by,
    createdAt: Number(row.created_at),
  };
}

const RULE_COLUMNS = 'id, namespace, repository_pattern, tag_pattern, created_by, created_at';

export class SqlLifecycleStore implements LifecycleStore {
  private readonly sql: SqlClient;

  constructor(sql: SqlClient) {
    this.sql = sql;
  }

  async addImmutabilityRule(rule: NewImmutabilityRule): Promise<ImmutabilityRule> {
    await this.sql.run(
      `INSERT INTO immutability_rules (namespace, repository_pattern, tag_pattern, created_by, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (namespace, repository_pattern, tag_pattern) DO NOTHING`,
      [rule.namespace, rule.repositoryPattern, rule.tagPattern, rule.createdBy ?? null, rule.now],
    );
    const rows = await this.sql.query<RuleRow>(`SELECT ${RULE_COLUMNS} FROM immutability_rules WHERE namespace = ? AND repository_pattern = ? AND tag_pattern = ?`, [
      rule.namespace,
      rule.repositoryPattern,
      rule.tagPattern,
    ]);
    return toRule(rows[0]!);
  }

  async immutabilityRules(namespace?: string): Promise<ImmutabilityRule[]> {
    const rows =
      namespace === undefined
        ? await this.sql.query<RuleRow>(`SELECT ${RULE_COLUMNS} FROM immutability_rules ORDER BY id`)
        : await this.sql.query<RuleRow>(`SELECT ${RULE_COLUMNS} FROM immutability_rules WHERE namespace = ? ORDER BY id`, [namespace]);
    return rows.map(toRule);
  }

  async removeImmutabilityRule(namespace: string, id: number): Promise<boolean> {
    return (await this.sql.run('DELETE FROM immutability_rules WHERE namespace = ? AND id = ?', [namespace, id])).changes > 0;
  }

  async timeMachineWindow(namespace: string): Promise<number | null> {
    const rows = await this.sql.query<{ time_machine_ms: number | null }>('SELECT time_machine_ms FROM namespace_lifecycle WHERE namespace = ?', [namespace]);
    const value = rows[0]?.time_machine_ms;
    return value === undefined || value === null ? null : Number(value);
  }

  async setTimeMachineWindow(namespace: string, windowMs: number | null, now: number): Promise<void> {
    await this.sql.run(
      `INSERT INTO namespace_lifecycle (namespace, time_machine_ms, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (namespace) DO UPDATE SET time_machine_ms = excluded.time_machine_ms, updated_at = excluded.updated_at`,
      [namespace, windowMs, now],
    );
  }

  async setTagExpiry(repository: string, tag: string, expiresAt: number | null, ifDigest?: Digest): Promise<boolean> {
    const result = await this.sql.run(
      `UPDATE tags SET expires_at = ? WHERE name = ? AND repository_id = (SELECT id FROM repositories WHERE name = ?)${ifDigest === undefined ? '' : ' AND digest = ?'}`,
      ifDigest === undefined ? [expiresAt, tag, repository] : [expiresAt, tag, repository, ifDigest],
    );
    return result.changes > 0;
  }

  async tagExpiry(repository: string, tag: string): Promise<number | null> {
    const rows = await this.sql.query<{ expires_at: number | null }>(
      'SELECT t.expires_at FROM tags t JOIN repositories r ON r.id = t.repository_id WHERE r.name = ? AND t.name = ?',
      [repository, tag],
    );
    const value = rows[0]?.expires_at;
    return value === undefined || value === null ? null : Number(value);
  }

  async tagExpiries(repository: string): Promise<Map<string, number>> {
    const rows = await this.sql.query<{ name: string; expires_at: number }>(
      'SELECT t.name, t.expires_at FROM tags t JOIN repositories r ON r.id = t.repository_id WHERE r.name = ? AND t.expires_at IS NOT NULL',
      [repository],
    );
    return new Map(rows.map((row) => [row.name, Number(row.expires_at)]));
  }

  async tagsPointingAt(repository: string, digest: Digest): Promise<string[]> {
    const rows = await this.sql.query<{ name: string }>('SELECT t.name FROM tags t JOIN repositories r ON r.id = t.repository_id WHERE r.name = ? AND t.digest = ? ORDER BY t.name', [repository, digest]);
    return rows.map((row) => row.name);
  }

  async expiredTags(now: number, limit: number): Promise<TagExpiry[]> {
    const rows = await this.sql.query<{ repository: string; tag: string; digest: string; expires_at: number }>(
      `SELECT r.name AS repository, t.name AS tag, t.digest, t.expires_at FROM tags t JOIN repositories r ON r.id = t.repository_id
        WHERE t.expires_at IS NOT NULL AND t.expires_at <= ? ORDER BY t.expires_at, r.name, t.name LIMIT ?`,
      [now, limit],
    );
    return rows.map((row) => ({ repository: row.repository, tag: row.tag, digest: row.digest as Digest, expiresAt: Number(row.expires_at) }));
  }
}
