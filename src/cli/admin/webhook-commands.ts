// `custody admin webhook …`: webhooks of repositories and namespaces, their delivery logs
// and test events (the management route table's webhook operations).
import { UsageError } from '../../core/errors.ts';
import { table } from '../output.ts';
import { fields, SHOW_JSON, type AdminCommand, type AdminInput, type AdminOutput } from './command-spec.ts';

type WebhookView = { id: number; name: string; namespace: string | null; repository: string | null; url: string; format: string; events: string[]; enabled: boolean; failures: number; signed: boolean };
type DeliveryView = { id: number; event: string; status: string; attempts: number; responseCode: number | null; latencyMs: number | null; error: string | null; createdAt: string };

/** Where a hook listens: exactly one of --namespace, --repository, --all (registry-wide). */
function scope(input: AdminInput, allowAll: boolean): Record<string, string> {
  const given = [input.flags.namespace !== undefined, input.flags.repository !== undefined, input.flags.all === true].filter(Boolean).length;
  if (given !== 1 && !(given === 0 && allowAll)) throw new UsageError(`give exactly one of --namespace, --repository${allowAll ? '' : ' or --all'}`);
  return fields({ namespace: input.flags.namespace, repository: input.flags.repository }) as Record<string, string>;
}

function checkId({ args }: AdminInput): void {
  if (!/^[0-9]{1,15}$/.test(args.id ?? '')) throw new UsageError('a webhook id is a number (see `custody admin webhook list`)');
}

/** The URL without its path, query and credentials: Slack-style URLs hold their secret there. */
function shownUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname.length > 1 ? '/…' : '/'}`;
  } catch {
    return '?';
  }
}

const HOOKS: AdminOutput = {
  out: (hooks: WebhookView[]) =>
    table([
      ['ID', 'SCOPE', 'FORMAT', 'EVENTS', 'URL', 'STATE'],
      ...hooks.map((hook) => [
        String(hook.id),
        hook.repository ?? hook.namespace ?? '(registry)',
        hook.format,
        hook.events.length === 0 ? 'all but pulls' : hook.events.join(','),
        shownUrl(hook.url),
        hook.enabled ? (hook.failures > 0 ? `failing (${hook.failures})` : 'enabled') : 'disabled',
      ]),
    ]),
};

const DELIVERY_ROW = (delivery: DeliveryView): string[] => [
  String(delivery.id),
  delivery.createdAt,
  delivery.event,
  delivery.status,
  String(delivery.attempts),
  delivery.responseCode === null ? '-' : String(delivery.responseCode),
  delivery.latencyMs === null ? '-' : `${delivery.latencyMs} ms`,
  delivery.error ?? '',
];
const DELIVERY_HEADER = ['ID', 'TIME', 'EVENT', 'STATUS', 'ATTEMPTS', 'CODE', 'LATENCY', 'ERROR'];

export const WEBHOOK_COMMANDS: readonly AdminCommand[] = [
  {
    words: 'webhook create',
    args: ['url'],
    usage: 'URL',
    options: '--namespace NS | --repository REPO | --all  [--format cloudevents|slack|distribution] [--events TYPE,...] [--secret S] [--name NAME]',
    flags: ['namespace', 'repository', 'all', 'format', 'events', 'secret', 'name'],
    operations: ['createWebhook'],
    check: (input) => void scope(input, false),
    body: (input) =>
      fields({
        ...scope(input, false),
        url: input.args.url,
        format: input.flags.format,
        events: input.flags.events?.split(',').map((type) => type.trim()).filter((type) => type !== ''),
        secret: input.flags.secret,
        name: input.flags.name,
      }),
    print: {
      note: (created: { webhook: WebhookView }) => `created webhook ${created.webhook.id} (${created.webhook.format})${created.webhook.signed ? '; its signing secret is shown once, below' : ''}`,
      out: (created: { secret: string | null }) => created.secret ?? undefined,
    },
  },
  {
    words: 'webhook list',
    args: [],
    options: '[--namespace NS | --repository REPO]',
    flags: ['namespace', 'repository'],
    operations: ['listWebhooks'],
    check: (input) => void scope(input, true),
    query: (input) => scope(input, true),
    print: HOOKS,
  },
  { words: 'webhook get', args: ['id'], usage: 'ID', operations: ['getWebhook'], check: checkId, print: SHOW_JSON },
  { words: 'webhook delete', args: ['id'], usage: 'ID', operations: ['deleteWebhook'], check: checkId, print: { note: (_answer, { args }) => `deleted webhook ${args.id}` } },
  {
    words: 'webhook enable',
    args: ['id'],
    usage: 'ID',
    remark: 'resumes its pending deliveries',
    operations: ['updateWebhook'],
    check: checkId,
    body: () => ({ enabled: true }),
    print: { note: (_answer, { args }) => `webhook ${args.id} enabled` },
  },
  { words: 'webhook disable', args: ['id'], usage: 'ID', operations: ['updateWebhook'], check: checkId, body: () => ({ enabled: false }), print: { note: (_answer, { args }) => `webhook ${args.id} disabled` } },
  {
    words: 'webhook test',
    args: ['id'],
    usage: 'ID',
    remark: 'sends a test event now and shows the answer',
    operations: ['testWebhook'],
    check: checkId,
    print: {
      note: (delivery: DeliveryView) => (delivery.status === 'delivered' ? `test event delivered (HTTP ${delivery.responseCode}, ${delivery.latencyMs} ms)` : `test event failed: ${delivery.error ?? 'no answer'}`),
      out: (delivery: DeliveryView) => table([DELIVERY_HEADER, DELIVERY_ROW(delivery)]),
    },
  },
  {
    words: 'webhook deliveries',
    args: ['id'],
    usage: 'ID',
    remark: 'the delivery log, newest first',
    operations: ['listWebhookDeliveries'],
    check: checkId,
    print: { out: (deliveries: DeliveryView[]) => table([DELIVERY_HEADER, ...deliveries.map(DELIVERY_ROW)]) },
  },
];
