// The management API's webhook routes (part of MANAGEMENT_ROUTES in routes.ts): create,
// list, get, enable/disable, delete, send a test event, and the delivery log.
import { RegistryError } from '../core/errors.ts';
import type { NewWebhookInput } from '../webhooks/webhooks.ts';
import type { ManagementRoute, RouteContext } from './routes.ts';

const id = (context: RouteContext): number => Number(context.params.id);
const optional = (query: URLSearchParams, name: string): string | undefined => query.get(name) ?? undefined;

function limit(query: URLSearchParams): number {
  const raw = query.get('n');
  if (raw === null) return 50;
  if (!/^[0-9]{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > 1000) throw new RegistryError('INVALID_REQUEST', 'n must be an integer from 1 to 1000');
  return Number(raw);
}

function before(query: URLSearchParams): number | undefined {
  const raw = query.get('before');
  if (raw === null) return undefined;
  if (!/^[0-9]{1,15}$/.test(raw)) throw new RegistryError('INVALID_REQUEST', 'before must be a delivery id');
  return Number(raw);
}

export function webhookRoutes(): ManagementRoute[] {
  const tag = 'webhooks';
  const who = 'repository admins for a repository, namespace owners and organization admins for a namespace, superusers for registry-wide hooks';
  return [
    {
      operationId: 'createWebhook',
      method: 'POST',
      path: '/api/v1/webhooks',
      tag,
      summary: `Create a webhook on a repository or a namespace, with an event filter and a format; the answer shows its signing secret once (${who})`,
      auth: true,
      body: 'NewWebhook',
      status: 201,
      response: 'CreatedWebhook',
      handle: (s, c) => s.webhooks.createWebhook(c.caller, c.body as NewWebhookInput),
    },
    {
      operationId: 'listWebhooks',
      method: 'GET',
      path: '/api/v1/webhooks',
      tag,
      summary: 'The webhooks of a namespace (its repositories included) or of a repository; superusers may ask for all',
      auth: true,
      query: [
        { name: 'namespace', description: 'a user or organization', schema: { type: 'string' } },
        { name: 'repository', description: 'a repository', schema: { type: 'string' } },
      ],
      status: 200,
      response: '[Webhook]',
      handle: (s, c) => s.webhooks.listWebhooks(c.caller, { namespace: optional(c.query, 'namespace'), repository: optional(c.query, 'repository') }),
    },
    { operationId: 'getWebhook', method: 'GET', path: '/api/v1/webhooks/{id}', tag, summary: 'A webhook (never its secret)', auth: true, status: 200, response: 'Webhook', handle: (s, c) => s.webhooks.getWebhook(c.caller, id(c)) },
    {
      operationId: 'updateWebhook',
      method: 'PATCH',
      path: '/api/v1/webhooks/{id}',
      tag,
      summary: 'Enable (resuming its pending deliveries) or disable a webhook',
      auth: true,
      body: 'WebhookChanges',
      status: 200,
      response: 'Webhook',
      handle: (s, c) => s.webhooks.updateWebhook(c.caller, id(c), c.body as { enabled?: unknown }),
    },
    { operationId: 'deleteWebhook', method: 'DELETE', path: '/api/v1/webhooks/{id}', tag, summary: 'Delete a webhook and its delivery log', auth: true, status: 204, handle: (s, c) => s.webhooks.deleteWebhook(c.caller, id(c)) },
    {
      operationId: 'testWebhook',
      method: 'POST',
      path: '/api/v1/webhooks/{id}/test',
      tag,
      summary: 'Send a test event now (once, no retries) and answer with the attempt: status, response code, latency',
      auth: true,
      status: 200,
      response: 'WebhookDelivery',
      handle: (s, c) => s.webhooks.testWebhook(c.caller, id(c)),
    },
    {
      operationId: 'listWebhookDeliveries',
      method: 'GET',
      path: '/api/v1/webhooks/{id}/deliveries',
      tag,
      summary: "A webhook's delivery log, newest first: event, status, attempts, last response code and latency",
      auth: true,
      query: [
        { name: 'n', description: 'how many, 1 to 1000 (default 50)', schema: { type: 'integer', minimum: 1, maximum: 1000 } },
        { name: 'before', description: 'only deliveries older than this id (the next page)', schema: { type: 'integer' } },
      ],
      status: 200,
      response: '[WebhookDelivery]',
      handle: (s, c) => s.webhooks.listDeliveries(c.caller, id(c), { limit: limit(c.query), before: before(c.query) }),
    },
  ];
}
