// Mirrors and their runs in SQL, one code path for SQLite and PostgreSQL. Glob lists are
// JSON text; times are milliseconds in BIGINT columns (PostgreSQL returns them as strings).
import { Conflict } from '../core/errors.ts';
import type { SqlClient } from './sql-client.ts';
import type { MirrorDefinition, MirrorRecord, MirrorRun, MirrorRunOutcome, MirrorRunStatus, MirrorStore } from './mirror-store.ts';

interface MirrorRow {
  repository: string;
  remote_registry: string;
  remote_repository: string;
  include_tags: string;
  exclude_tags: string;
  interval_ms: number | string;
  username: string | null;
  sealed_secret: string | null;
  enabled: number | string;
  created_at: number | string;
  last_run_at: number | string | null;
  last_status: string | null;
  last_error: string | null;
}

interface RunRow {
  id: number | string;
  repository: string;
  started_at: number | string;
  finished_at: number | string | null;
  status: string;
  tags_copied: number | string;
  bytes: number | string;
  error: string | null;
}

const COLUMNS = 'repository, remote_registry, remote_repository, include_tags, exclude_tags, interval_ms, username, sealed_secret, enabled, created_at, last_run_at, last_status, last_error';

export class SqlMirrorStore implements MirrorStore {
  private readonly sql: SqlClient;

  constructor(sql: SqlClient) {
    this.sql = sql;
  }

  async create(definition: MirrorDefinition, now: number): Promise<MirrorRecord> {
    const result = await this.sql.run(
      `INSERT INTO mirrors (repository, remote_registry, remote_repository, include_tags, exclude_tags, interval_ms, username, sealed_secret, enabled, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (repository) DO NOTHING`,
      [
        definition.repository,
        definition.remoteRegistry,
        definition.remoteRepository,
        JSON.stringify(definition.include),
        JSON.stringify(definition.exclude),
        definition.intervalMs,
        definition.username ?? null,
        definition.sealedSecret ?? null,
        definition.enabled ? 1 : 0,
        now,
      ],
    );
    if (result.changes !== 1) throw new Conflict('repository', `repository ${definition.repository} is a mirror already`);
    return (await this.get(definition.repository))!;
  }

  async get(repository: string): Promise<MirrorRecord | null> {
    const rows = await this.sql.query<MirrorRow>(`SELECT ${COLUMNS} FROM mirrors WHERE repository = ?`, [repository]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async list(): Promise<MirrorRecord[]> {
    return (await this.sql.query<MirrorRow>(`SELECT ${COLUMNS} FROM mirrors ORDER BY repository`)).map(toRecord);
  }

  async delete(repository: string): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      // Explicitly, not by cascade: SQLite enforces foreign keys only when told to.
      await tx.run('DELETE FROM mirror_runs WHERE repository = ?', [repository]);
      return (await tx.run('DELETE FROM mirrors WHERE repository = ?', [repository])).changes === 1;
    });
  }

  async due(now: number): Promise<MirrorRecord[]> {
    const rows = await this.sql.query<MirrorRow>(
      `SELECT ${COLUMNS} FROM mirrors WHERE enabled = 1 AND (last_run_at IS NULL OR last_run_at + interval_ms <= ?) ORDER BY repository`,
      [now],
    );
    return rows.map(toRecord);
  }

  async startRun(repository: string, now: number): Promise<number> {
    return this.sql.transaction(async (tx) => {
      // A run still 'running' was cut short (its process died): one sync of a mirror runs at a time.
      await tx.run(`UPDATE mirror_runs SET status = 'failed', finished_at = ?, error = 'interrupted' WHERE repository = ? AND status = 'running'`, [now, repository]);
      await tx.run(`UPDATE mirrors SET last_run_at = ?, last_status = 'running', last_error = NULL WHERE repository = ?`, [now, repository]);
      const [row] = await tx.query<{ id: number | string }>(`INSERT INTO mirror_runs (repository, started_at, status) VALUES (?, ?, 'running') RETURNING id`, [repository, now]);
      return Number(row!.id);
    });
  }

  async finishRun(id: number, outcome: MirrorRunOutcome): Promise<void> {
    await this.sql.transaction(async (tx) => {
      await tx.run('UPDATE mirror_runs SET finished_at = ?, status = ?, tags_copied = ?, bytes = ?, error = ? WHERE id = ?', [
        outcome.finishedAt,
        outcome.status,
        outcome.tagsCopied,
        outcome.bytes,
        outcome.error ?? null,
        id,
      ]);
      await tx.run('UPDATE mirrors SET last_status = ?, last_error = ? WHERE repository = (SELECT repository FROM mirror_runs WHERE id = ?)', [outcome.status, outcome.error ?? null, id]);
    });
  }

  async listRuns(repository: string, limit: number): Promise<MirrorRun[]> {
    const rows = await this.sql.query<RunRow>(
      'SELECT id, repository, started_at, finished_at, status, tags_copied, bytes, error FROM mirror_runs WHERE repository = ? ORDER BY id DESC LIMIT ?',
      [repository, limit],
    );
    return rows.map((row) => ({
      id: Number(row.id),
      repository: row.repository,
      startedAt: Number(row.started_at),
      finishedAt: row.finished_at === null ? undefined : Number(row.finished_at),
      status: row.status as MirrorRunStatus,
      tagsCopied: Number(row.tags_copied),
      bytes: Number(row.bytes),
      error: row.error ?? undefined,
    }));
  }
}

function toRecord(row: MirrorRow): MirrorRecord {
  return {
    repository: row.repository,
    remoteRegistry: row.remote_registry,
    remoteRepository: row.remote_repository,
    include: JSON.parse(row.include_tags) as string[],
    exclude: JSON.parse(row.exclude_tags) as string[],
    intervalMs: Number(row.interval_ms),
    username: row.username ?? undefined,
    sealedSecret: row.sealed_secret ?? undefined,
    enabled: Number(row.enabled) === 1,
    createdAt: Number(row.created_at),
    lastRunAt: row.last_run_at === null ? undefined : Number(row.last_run_at),
    lastStatus: (row.last_status ?? undefined) as MirrorRunStatus | undefined,
    lastError: row.last_error ?? undefined,
  };
}
