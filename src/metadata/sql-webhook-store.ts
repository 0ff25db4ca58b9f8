// WebhookStore over the SqlClient seam (migration 13), one code path for SQLite and
// PostgreSQL.
import type { DomainEventType } from '../core/events.ts';
import type { SqlClient, SqlExecutor } from './sql-client.ts';
import type { AttemptOutcome, DeliveryRecord, DeliveryStatus, NewDelivery, NewWebhook, WebhookFormat, WebhookRecord, WebhookStore } from './webhook-store.ts';

interface HookRow {
  id: number | string;
  name: string;
  namespace: string | null;
  repository: string | null;
  url: string;
  format: string;
  events: string;
  secret: string | null;
  enabled: number | string;
  failures: number | string;
  disabled_reason: string | null;
  origin: string;
  created_by: string | null;
  created_at: number | string;
}

interface DeliveryRow {
  id: number | string;
  webhook_id: number | string;
  event_id: string;
  event_type: string;
  order_key: string;
  payload: string;
  status: string;
  attempts: number | string;
  next_attempt_at: number | string;
  created_at: number | string;
  updated_at: number | string;
  last_status: number | string | null;
  last_latency_ms: number | string | null;
  last_error: string | null;
}

const HOOK_COLUMNS = 'id, name, namespace, repository, url, format, events, secret, enabled, failures, disabled_reason, origin, created_by, created_at';
const DELIVERY_COLUMNS = 'id, webhook_id, event_id, event_type, order_key, payload, status, attempts, next_attempt_at, created_at, updated_at, last_status, last_latency_ms, last_error';
/** Errors are kept short: a receiver's message is not ours to store at length. */
const MAX_ERROR = 500;

export class SqlWebhookStore implements WebhookStore {
  private readonly sql: SqlClient;

  constructor(sql: SqlClient) {
    this.sql = sql;
  }

  async create(hook: NewWebhook): Promise<WebhookRecord> {
    return insertHook(this.sql, hook);
  }

  async get(id: number): Promise<WebhookRecord | null> {
    const rows = await this.sql.query<HookRow>(`SELECT ${HOOK_COLUMNS} FROM webhooks WHERE id = ?`, [id]);
    return rows[0] ? hookFromRow(rows[0]) : null;
  }

  async list(filter: { readonly namespace?: string | undefined; readonly repository?: string | undefined } = {}): Promise<WebhookRecord[]> {
    if (filter.repository !== undefined) {
      return (await this.sql.query<HookRow>(`SELECT ${HOOK_COLUMNS} FROM webhooks WHERE repository = ? ORDER BY id`, [filter.repository])).map(hookFromRow);
    }
    if (filter.namespace !== undefined) {
      return (await this.sql.query<HookRow>(`SELECT ${HOOK_COLUMNS} FROM webhooks WHERE namespace = ? ORDER BY id`, [filter.namespace])).map(hookFromRow);
    }
    return (await this.sql.query<HookRow>(`SELECT ${HOOK_COLUMNS} FROM webhooks ORDER BY id`)).map(hookFromRow);
  }

  async delete(id: number): Promise<boolean> {
    return (await this.sql.run('DELETE FROM webhooks WHERE id = ?', [id])).changes > 0;
  }

  async setEnabled(id: number, enabled: boolean, reason: string | null = null): Promise<boolean> {
    const result = await this.sql.run('UPDATE webhooks SET enabled = ?, failures = 0, disabled_reason = ? WHERE id = ?', [enabled ? 1 : 0, enabled ? null : reason, id]);
    return result.changes > 0;
  }

  async syncConfigured(name: string, hook: Omit<NewWebhook, 'name' | 'origin'> | null): Promise<WebhookRecord | null> {
    return this.sql.transaction(async (tx) => {
      const rows = await tx.query<HookRow>(`SELECT ${HOOK_COLUMNS} FROM webhooks WHERE origin = 'config' AND name = ? ORDER BY id`, [name]);
      const existing = rows[0] ? hookFromRow(rows[0]) : null;
      if (hook === null) {
        if (existing) await tx.run('DELETE FROM webhooks WHERE id = ?', [existing.id]);
        return null;
      }
      if (!existing) return insertHook(tx, { ...hook, name, origin: 'config' });
      // The configuration is the truth: a hook it declares is (re-)enabled with its settings.
      await tx.run('UPDATE webhooks SET namespace = ?, repository = ?, url = ?, format = ?, events = ?, secret = ?, enabled = 1, failures = 0, disabled_reason = NULL WHERE id = ?', [
        hook.namespace,
        hook.repository,
        hook.url,
        hook.format,
        JSON.stringify(hook.events),
        hook.secret,
        existing.id,
      ]);
      return { ...existing, ...hook, events: [...hook.events], enabled: true, failures: 0, disabledReason: null };
    });
  }

  async matching(namespace: string | null, repository: string | null): Promise<WebhookRecord[]> {
    const rows = await this.sql.query<HookRow>(
      `SELECT ${HOOK_COLUMNS} FROM webhooks WHERE enabled = 1 AND (namespace IS NULL OR namespace = ?) AND (repository IS NULL OR repository = ?) ORDER BY id`,
      [namespace, repository],
    );
    return rows.map(hookFromRow);
  }

  async enqueue(deliveries: readonly NewDelivery[]): Promise<number> {
    if (deliveries.length === 0) return 0;
    return this.sql.transaction(async (tx) => {
      let inserted = 0;
      for (const delivery of deliveries) {
        const result = await tx.run(
          `INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, order_key, payload, status, attempts, next_attempt_at, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?) ON CONFLICT (webhook_id, event_id) DO NOTHING`,
          [delivery.webhookId, delivery.eventId, delivery.eventType, delivery.orderKey, delivery.payload, delivery.createdAt, delivery.createdAt, delivery.createdAt],
        );
        inserted += result.changes;
      }
      return inserted;
    });
  }

  async due(now: number, limit: number): Promise<DeliveryRecord[]> {
    // One aggregate finds each queue's head (index webhook_deliveries_queue); the queues
    // whose head is due, of enabled hooks, then give their pending rows in id order.
    const rows = await this.sql.query<DeliveryRow>(
      `WITH heads AS (
         SELECT webhook_id, order_key, MIN(id) AS head FROM webhook_deliveries WHERE status = 'pending' GROUP BY webhook_id, order_key
       )
       SELECT ${DELIVERY_COLUMNS.split(', ').map((column) => `d.${column}`).join(', ')}
       FROM heads h
       JOIN webhook_deliveries hd ON hd.id = h.head
       JOIN webhooks w ON w.id = h.webhook_id
       JOIN webhook_deliveries d ON d.webhook_id = h.webhook_id AND d.order_key = h.order_key AND d.status = 'pending'
       WHERE w.enabled = 1 AND hd.next_attempt_at <= ?
       ORDER BY d.id LIMIT ?`,
      [now, limit],
    );
    return rows.map(deliveryFromRow);
  }

  async recordAttempt(deliveryId: number, outcome: AttemptOutcome): Promise<{ readonly hookDisabled: boolean }> {
    const rows = await this.sql.query<{ webhook_id: number | string }>('SELECT webhook_id FROM webhook_deliveries WHERE id = ?', [deliveryId]);
    if (!rows[0]) return { hookDisabled: false };
    const disabled = await this.recordAttempts([{ deliveryId, webhookId: Number(rows[0].webhook_id), outcome }]);
    return { hookDisabled: disabled.size > 0 };
  }

  async recordAttempts(attempts: readonly { readonly deliveryId: number; readonly webhookId: number; readonly outcome: AttemptOutcome }[]): Promise<ReadonlySet<number>> {
    if (attempts.length === 0) return new Set();
    return this.sql.transaction(async (tx) => {
      const disabledHooks = new Set<number>();
      for (const { deliveryId, webhookId, outcome } of attempts) {
        const status: DeliveryStatus = outcome.delivered ? 'delivered' : outcome.retryAt === null ? 'failed' : 'pending';
        await tx.run(
          `UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, next_attempt_at = ?, updated_at = ?, last_status = ?, last_latency_ms = ?, last_error = ? WHERE id = ?`,
          [status, outcome.delivered || outcome.retryAt === null ? outcome.now : outcome.retryAt, outcome.now, outcome.status ?? null, outcome.latencyMs, outcome.delivered ? null : (outcome.error ?? 'failed').slice(0, MAX_ERROR), deliveryId],
        );
        if (outcome.delivered) {
          await tx.run('UPDATE webhooks SET failures = 0 WHERE id = ? AND failures <> 0', [webhookId]);
          continue;
        }
        await tx.run('UPDATE webhooks SET failures = failures + 1 WHERE id = ?', [webhookId]);
        const disabled = await tx.run(`UPDATE webhooks SET enabled = 0, disabled_reason = ? WHERE id = ? AND enabled = 1 AND failures >= ?`, [
          `disabled after ${outcome.disableAfter} failed deliveries in a row (last: ${(outcome.error ?? 'failed').slice(0, 200)})`,
          webhookId,
          outcome.disableAfter,
        ]);
        if (disabled.changes > 0) disabledHooks.add(webhookId);
      }
      return disabledHooks;
    });
  }

  async getDelivery(id: number): Promise<DeliveryRecord | null> {
    const rows = await this.sql.query<DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = ?`, [id]);
    return rows[0] ? deliveryFromRow(rows[0]) : null;
  }

  async deliveries(webhookId: number, options: { readonly limit: number; readonly before?: number | undefined }): Promise<DeliveryRecord[]> {
    const rows = await this.sql.query<DeliveryRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = ? AND id < ? ORDER BY id DESC LIMIT ?`,
      [webhookId, options.before ?? Number.MAX_SAFE_INTEGER, options.limit],
    );
    return rows.map(deliveryFromRow);
  }

  async purge(before: number): Promise<number> {
    return (await this.sql.run("DELETE FROM webhook_deliveries WHERE status <> 'pending' AND updated_at < ?", [before])).changes;
  }
}

async function insertHook(executor: SqlExecutor, hook: NewWebhook): Promise<WebhookRecord> {
  const rows = await executor.query<{ id: number | string }>(
    `INSERT INTO webhooks (name, namespace, repository, url, format, events, secret, enabled, failures, origin, created_by, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, 1, 0, ?, ?, ?) RETURNING id`,
    [hook.name, hook.namespace, hook.repository, hook.url, hook.format, JSON.stringify(hook.events), hook.secret, hook.origin, hook.createdBy, hook.createdAt],
  );
  return { ...hook, events: [...hook.events], id: Number(rows[0]!.id), enabled: true, failures: 0, disabledReason: null };
}

function hookFromRow(row: HookRow): WebhookRecord {
  return {
    id: Number(row.id),
    name: row.name,
    namespace: row.namespace,
    repository: row.repository,
    url: row.url,
    format: row.format as WebhookFormat,
    events: JSON.parse(row.events) as DomainEventType[],
    secret: row.secret,
    enabled: Number(row.enabled) === 1,
    failures: Number(row.failures),
    disabledReason: row.disabled_reason,
    origin: row.origin as 'api' | 'config',
    createdBy: row.created_by,
    createdAt: Number(row.created_at),
  };
}

function deliveryFromRow(row: DeliveryRow): DeliveryRecord {
  return {
    id: Number(row.id),
    webhookId: Number(row.webhook_id),
    eventId: row.event_id,
    eventType: row.event_type,
    orderKey: row.order_key,
    payload: row.payload,
    status: row.status as DeliveryStatus,
    attempts: Number(row.attempts),
    nextAttemptAt: Number(row.next_attempt_at),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    lastStatus: row.last_status === null ? null : Number(row.last_status),
    lastLatencyMs: row.last_latency_ms === null ? null : Number(row.last_latency_ms),
    lastError: row.last_error,
  };
}
