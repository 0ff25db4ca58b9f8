// Migration 13: webhooks and their deliveries.
//
// A delivery row is written by the event bus subscriber in the step it hears the event,
// one per matching hook, so nothing heard is lost to a restart; the dispatcher sends the
// oldest pending row of each (hook, order_key) queue, which keeps one repository's events
// in order while repositories proceed independently. The delivery row is also the log
// (status, attempts, latency, last response code). `secret` is the HMAC key: it must be
// read to sign, so unlike credentials it cannot be stored as a hash; the API shows it
// only when the hook is created.
import type { Migration } from '../migrations.ts';

export const WEBHOOKS_MIGRATION: Migration = {
  version: 13,
  description: 'webhooks and their persisted deliveries',
  statements: [
    `CREATE TABLE webhooks (
      id {id},
      name TEXT NOT NULL,
      namespace {name},
      repository {name},
      url TEXT NOT NULL,
      format TEXT NOT NULL CHECK (format IN ('cloudevents', 'slack', 'distribution', 'quality-notice')),
      events TEXT NOT NULL,
      secret TEXT,
      enabled BIGINT NOT NULL DEFAULT 1,
      failures BIGINT NOT NULL DEFAULT 0,
      disabled_reason TEXT,
      origin TEXT NOT NULL CHECK (origin IN ('api', 'config')),
      created_by TEXT,
      created_at BIGINT NOT NULL
    )`,
    `CREATE INDEX webhooks_scope ON webhooks (namespace, repository)`,
    `CREATE TABLE webhook_deliveries (
      id {id},
      webhook_id BIGINT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
      event_id TEXT NOT NULL,
      event_type TEXT NOT NULL,
      order_key TEXT NOT NULL,
      payload TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
      attempts BIGINT NOT NULL DEFAULT 0,
      next_attempt_at BIGINT NOT NULL,
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL,
      last_status BIGINT,
      last_latency_ms BIGINT,
      last_error TEXT,
      UNIQUE (webhook_id, event_id)
    )`,
    // The queues: pending deliveries only (a partial index on both engines), so a delivery
    // leaves it once sent and the heads' aggregate reads what is waiting, not the log.
    `CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (webhook_id, order_key, id) WHERE status = 'pending'`,
    `CREATE INDEX webhook_deliveries_log ON webhook_deliveries (webhook_id, id)`,
    // The purge of old log entries.
    `CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (updated_at) WHERE status <> 'pending'`,
  ],
};
