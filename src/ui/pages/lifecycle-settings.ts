// The lifecycle parts of a repository's settings page: its webhooks (create with the secret
// shown once, enable/disable, delete, "Send test event", the delivery log) and its
// namespace's quota. Every read and change is a call of the management services, the same
// ones /api/v1 answers with: who may manage a hook or read a quota is decided there, so a
// caller they refuse simply does not see the section.
import type { Caller, ManagementService } from '../../management/management-service.ts';
import { WEBHOOK_EVENT_TYPES, WEBHOOK_FORMATS, type DeliveryView, type WebhookView } from '../../webhooks/webhooks.ts';
import type { WebhookFormat } from '../../metadata/webhook-store.ts';
import { formatBytes } from '../../core/size.ts';
import { SIGNATURE_HEADER } from '../../webhooks/signature.ts';
import { html, type Html } from '../html.ts';
import { card, repositoryPath } from '../layout.ts';
import { alert, button, csrf, label } from './forms.ts';

const DELIVERIES_SHOWN = 10;

/** What a webhook action leaves to show: the secret of a new hook (once), a test's result. */
export interface WebhookOutcome {
  readonly created?: { readonly webhook: WebhookView; readonly secret: string | null };
  readonly tested?: DeliveryView;
}

/** Runs a webhook form action; null when the form is not one. */
export async function webhookAction(management: ManagementService, caller: Caller, repository: string, form: URLSearchParams): Promise<WebhookOutcome | null> {
  const action = form.get('action') ?? '';
  const id = Number(form.get('id'));
  switch (action) {
    case 'webhook-create': {
      const secret = form.get('secret-mode') === 'none' ? '' : undefined;
      const events = form.getAll('events').filter((event) => event !== '');
      const created = await management.webhooks.createWebhook(caller, {
        repository,
        name: form.get('name') ?? undefined,
        url: form.get('url') ?? '',
        format: (form.get('format') ?? 'cloudevents') as WebhookFormat,
        events,
        secret,
      });
      return { created };
    }
    case 'webhook-enable':
    case 'webhook-disable':
      await management.webhooks.updateWebhook(caller, id, { enabled: action === 'webhook-enable' });
      return {};
    case 'webhook-delete':
      await management.webhooks.deleteWebhook(caller, id);
      return {};
    case 'webhook-test':
      return { tested: await management.webhooks.testWebhook(caller, id) };
    default:
      return null;
  }
}

function deliveryStatus(delivery: DeliveryView): Html {
  const color = delivery.status === 'delivered' ? 'green' : delivery.status === 'pending' ? 'blue' : 'red';
  return label(delivery.status, color);
}

function deliveryLog(hook: WebhookView, deliveries: readonly DeliveryView[]): Html {
  if (deliveries.length === 0) return html`<p class="custody-muted">No deliveries yet.</p>`;
  return html`<div class="custody-table-wrap"><table class="pf-v6-c-table pf-m-compact" aria-label="Deliveries of webhook ${hook.name}">
<thead><tr><th scope="col">Time</th><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Response</th><th scope="col">Latency</th><th scope="col">Attempts</th><th scope="col">Error</th></tr></thead><tbody>
${deliveries.map((d) => html`<tr><td><time datetime="${d.updatedAt}">${d.updatedAt.slice(0, 19).replace('T', ' ')}</time></td><td class="custody-mono">${d.event}</td><td>${deliveryStatus(d)}</td><td>${d.responseCode ?? '–'}</td><td>${d.latencyMs === null ? '–' : `${d.latencyMs} ms`}</td><td>${d.attempts}</td><td>${d.error ?? ''}</td></tr>`)}
</tbody></table></div>`;
}

function hookCard(action: string, token: string, hook: WebhookView, deliveries: readonly DeliveryView[]): Html {
  const small = (name: string, text: string, kind: 'secondary' | 'danger', aria: string): Html => html`<form method="post" action="${action}">${csrf(token)}<input type="hidden" name="action" value="${name}"><input type="hidden" name="id" value="${hook.id}">${button(text, kind, aria, true)}</form>`;
  const state = hook.enabled ? label('enabled', 'green') : label('disabled', 'orange', hook.disabledReason ?? undefined);
  return html`<section class="custody-webhook" aria-labelledby="hook-${hook.id}">
<div class="custody-row"><h3 class="pf-v6-c-title pf-m-md custody-grow" id="hook-${hook.id}">${hook.name} ${state}</h3>
${small('webhook-test', 'Send test event', 'secondary', `Send test event to ${hook.name}`)}
${small(hook.enabled ? 'webhook-disable' : 'webhook-enable', hook.enabled ? 'Disable' : 'Enable', 'secondary', `${hook.enabled ? 'Disable' : 'Enable'} ${hook.name}`)}
${hook.origin === 'api' ? small('webhook-delete', 'Delete', 'danger', `Delete ${hook.name}`) : ''}</div>
<dl class="custody-dl"><dt>URL</dt><dd class="custody-mono">${hook.url}</dd><dt>Format</dt><dd>${hook.format}</dd>
<dt>Events</dt><dd>${hook.events.length === 0 ? 'every event' : hook.events.join(', ')}</dd><dt>Signed</dt><dd>${hook.signed ? 'yes (HMAC-SHA256)' : 'no'}</dd>
${hook.failures > 0 ? html`<dt>Failures in a row</dt><dd>${hook.failures}</dd>` : ''}</dl>
<h4 class="pf-v6-c-title pf-m-md custody-subheading">Recent deliveries</h4>${deliveryLog(hook, deliveries)}</section>`;
}

/** The Webhooks card of a repository's settings; null when the caller may not manage them. */
export async function webhooksCard(management: ManagementService, caller: Caller, repository: string, token: string, outcome: WebhookOutcome | null): Promise<Html | null> {
  let hooks: WebhookView[];
  try {
    hooks = await management.webhooks.listWebhooks(caller, { repository });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'DENIED' || code === 'UNSUPPORTED') return null;
    throw error;
  }
  const action = `${repositoryPath(repository)}/-/settings`;
  const logs = await Promise.all(hooks.map((hook) => management.webhooks.listDeliveries(caller, hook.id, { limit: DELIVERIES_SHOWN })));
  const created = outcome?.created;
  const shown = created
    ? alert('success', `Webhook "${created.webhook.name}" created.`, created.secret
      ? html`<p>Its signing secret, shown only this once: verify the <code>${SIGNATURE_HEADER}</code> header with it.</p><div class="custody-command"><code id="new-webhook-secret">${created.secret}</code><button class="pf-v6-c-button pf-m-secondary pf-m-small" type="button" data-copy="new-webhook-secret"><span class="pf-v6-c-button__text">Copy</span></button></div>`
      : html`<p>Unsigned: its deliveries carry no signature.</p>`)
    : '';
  const tested = outcome?.tested;
  const testResult = tested
    ? alert(tested.status === 'delivered' ? 'success' : 'danger', `Test event ${tested.status}${tested.responseCode !== null ? `: HTTP ${tested.responseCode}` : ''}${tested.latencyMs !== null ? ` in ${tested.latencyMs} ms` : ''}`, tested.error ? html`<p>${tested.error}</p>` : undefined)
    : '';
  const form = html`<form method="post" action="${action}" class="custody-filters">${csrf(token)}<input type="hidden" name="action" value="webhook-create">
<div class="custody-row">
  <div class="custody-grow"><label for="wh-url">Receiver URL</label><input id="wh-url" type="text" name="url" required maxlength="2048" placeholder="https://ci.example/hooks/custody"></div>
  <div><label for="wh-name">Name (optional)</label><input id="wh-name" type="text" name="name" maxlength="200"></div>
  <div><label for="wh-format">Format</label><select id="wh-format" name="format">${WEBHOOK_FORMATS.filter((f) => f !== 'quality-notice').map((f) => html`<option>${f}</option>`)}</select></div>
  <div><label for="wh-secret">Signature</label><select id="wh-secret" name="secret-mode"><option value="generate">generate a secret</option><option value="none">unsigned</option></select></div>
</div>
<fieldset class="custody-events"><legend>Events (none ticked: every event)</legend>
${WEBHOOK_EVENT_TYPES.map((event, i) => html`<label for="wh-ev-${i}"><input id="wh-ev-${i}" type="checkbox" name="events" value="${event}"> <span class="custody-mono">${event}</span></label>`)}</fieldset>
<div>${button('Create webhook')}</div></form>`;
  return card(`Webhooks (${hooks.length})`, html`${shown}${testResult}
${hooks.length === 0 ? html`<p class="custody-muted">No webhooks for this repository.</p>` : hooks.map((hook, i) => hookCard(action, token, hook, logs[i]!))}
<details${hooks.length === 0 || created ? html` open` : ''}><summary>Add a webhook</summary>${form}</details>`);
}

/** The namespace's quota (usage / warn / reject) for those who administer the namespace; null otherwise. */
export async function quotaCard(management: ManagementService, caller: Caller, namespace: string): Promise<Html | null> {
  let quota: Awaited<ReturnType<ManagementService['lifecycle']['getQuota']>>;
  try {
    quota = await management.lifecycle.getQuota(caller, namespace);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'DENIED' || code === 'UNSUPPORTED') return null;
    throw error;
  }
  const limit = quota.rejectBytes ?? quota.warnBytes;
  const percent = limit ? Math.min(100, Math.round((quota.usedBytes / limit) * 100)) : null;
  const state = quota.rejectBytes !== null && quota.usedBytes >= quota.rejectBytes ? label('over the rejection threshold', 'red')
    : quota.warnBytes !== null && quota.usedBytes >= quota.warnBytes ? label('over the warning threshold', 'orange') : label('within quota', 'green');
  const meter = percent === null ? '' : html`<p><label for="quota-meter">${formatBytes(quota.usedBytes)} of ${formatBytes(limit!)} (${percent}% of the ${quota.rejectBytes !== null ? 'rejection' : 'warning'} threshold)</label><br><meter id="quota-meter" class="custody-quota" min="0" max="${limit!}" low="${quota.warnBytes ?? limit!}" high="${quota.warnBytes ?? limit!}" optimum="0" value="${quota.usedBytes}">${percent}%</meter></p>`;
  return card(html`Quota of namespace <span class="custody-mono">${namespace}</span>`, html`${quota.warnBytes === null && quota.rejectBytes === null ? html`<p class="custody-muted">No quota is set for this namespace (superusers set one with <code>custody admin quota set ${namespace}</code>).</p>` : html`<p>${state}</p>${meter}`}
<dl class="custody-dl"><dt>Used</dt><dd>${formatBytes(quota.usedBytes)} <span class="custody-muted">(${quota.usedBytes} bytes; each blob counted once in the namespace)</span></dd>
<dt>Warning at</dt><dd>${quota.warnBytes === null ? 'none' : formatBytes(quota.warnBytes)}</dd>
<dt>Rejected above</dt><dd>${quota.rejectBytes === null ? 'none' : formatBytes(quota.rejectBytes)}</dd>
<dt>Garbage collection will reclaim</dt><dd>${formatBytes(quota.reclaimableBytes)}</dd></dl>`);
}
