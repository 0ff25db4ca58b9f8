// The time machine in the catalog: every change of a repository's tags (time, tag, how,
// digest, who), newest first, and for writers a "Restore" form per digest a tag held
// within the window. Reading and restoring go through the management LifecycleService,
// the same calls /api/v1 makes, so the rules (read to see, write to restore, the window)
// are decided there and only there; this page renders and forwards.
import type { ManagementService } from '../../management/management-service.ts';
import type { CatalogService } from '../../catalog/catalog-service.ts';
import { isTag } from '../../core/names.ts';
import { requestContext } from '../../server/request-auth.ts';
import { html, queryString, type Html } from '../html.ts';
import { card, emptyState, repositoryPath, shortDigest, when } from '../layout.ts';
import type { WebAuth } from '../web-auth.ts';
import { redirect } from '../web-response.ts';
import type { PageRequest } from '../ui-pages.ts';
import { alert, button, csrf, label, problemOf } from './forms.ts';

type HistoryEntry = Awaited<ReturnType<ManagementService['lifecycle']['tagHistory']>>[number];

const HOW: Readonly<Record<string, { text: string; color?: 'blue' | 'orange' | 'red' | 'green' | 'purple' }>> = {
  push: { text: 'push', color: 'blue' },
  delete: { text: 'delete', color: 'red' },
  expire: { text: 'expired', color: 'orange' },
  restore: { text: 'restore', color: 'green' },
  retention: { text: 'retention', color: 'purple' },
};

export function historyPath(repository: string, tag?: string | null, extra: Record<string, string> = {}): string {
  return `${repositoryPath(repository)}/-/history${queryString({ tag: tag ?? undefined, ...extra })}`;
}

function digestCell(digest: string | null): Html {
  return digest === null ? html`<span class="custody-muted">none</span>` : html`<span class="custody-digest custody-mono" title="${digest}">${shortDigest(digest)}</span>`;
}

/** One restore form per (tag, digest) pair, on its newest restorable change; none for what the tag holds now. */
function restorable(entries: readonly HistoryEntry[]): Set<HistoryEntry> {
  const current = new Map<string, string | null>();
  for (const entry of entries) if (!current.has(entry.tag)) current.set(entry.tag, entry.digest);
  const seen = new Set<string>();
  const offered = new Set<HistoryEntry>();
  for (const entry of entries) {
    if (!entry.restorable || entry.previousDigest === null || current.get(entry.tag) === entry.previousDigest) continue;
    const key = `${entry.tag}@${entry.previousDigest}`;
    if (seen.has(key)) continue;
    seen.add(key);
    offered.add(entry);
  }
  return offered;
}

export async function tagHistoryPage(context: PageRequest, repository: string, deps: { catalog: CatalogService; auth: WebAuth; management: ManagementService }): Promise<boolean> {
  if (context.caller.principal.kind !== 'account') {
    // The history names who changed what: the API shows it to logged-in readers only.
    context.request.resume();
    redirect(context.response, `/login?next=${encodeURIComponent(context.path)}`, context.caller.cookies);
    return true;
  }
  const caller = { ...context.caller.principal, ...requestContext(context.request) };
  const lifecycle = deps.management.lifecycle;
  let problem: string | null = null;
  if (context.method === 'POST') {
    const form = await context.readForm();
    deps.auth.checkCsrf(context.caller, context.request, form);
    const tag = form.get('tag') ?? '';
    try {
      const restored = await lifecycle.restoreTag(caller, repository, tag, { digest: form.get('digest') ?? '' });
      redirect(context.response, historyPath(repository, form.get('filter') || null, { restored: `${restored.tag}@${restored.digest}` }));
      return true;
    } catch (error) {
      problem = problemOf(error);
    }
  } else if (context.method !== 'GET' && context.method !== 'HEAD') {
    return false;
  } else context.request.resume();
  const wanted = context.query.get('tag');
  const filter = wanted !== null && isTag(wanted) ? wanted : null;
  const entries = await lifecycle.tagHistory(caller, repository, filter);
  const mayWrite = context.caller.principal.kind === 'account' && (await deps.catalog.mayWrite(context.caller.principal, repository));
  const offered = mayWrite ? restorable(entries) : new Set<HistoryEntry>();
  const done = context.query.get('restored');
  const restoreForm = (entry: HistoryEntry): Html => html`<form method="post" action="${historyPath(repository)}">${csrf(context.caller.csrfToken)}
<input type="hidden" name="tag" value="${entry.tag}"><input type="hidden" name="digest" value="${entry.previousDigest!}"><input type="hidden" name="filter" value="${filter ?? ''}">
${button(`Restore to ${shortDigest(entry.previousDigest!)}`, 'secondary', `Restore to ${shortDigest(entry.previousDigest!)} (tag ${entry.tag})`, true)}</form>`;
  const rows = entries.map((entry) => {
    const how = HOW[entry.how] ?? { text: entry.how };
    return html`<tr>
  <td data-label="Time">${when(Date.parse(entry.time))}</td>
  <td data-label="Tag"><a class="custody-mono" href="${historyPath(repository, entry.tag)}">${entry.tag}</a></td>
  <td data-label="How">${label(how.text, how.color)}</td>
  <td data-label="Now points at">${digestCell(entry.digest)}</td>
  <td data-label="Before">${digestCell(entry.previousDigest)}</td>
  <td data-label="Who">${entry.who ?? html`<span class="custody-muted">the registry</span>`}</td>
  ${mayWrite ? html`<td data-label="Restore">${offered.has(entry) ? restoreForm(entry) : entry.previousDigest !== null && !entry.restorable ? html`<span class="custody-muted">past the window</span>` : ''}</td>` : ''}
</tr>`;
  });
  const table = entries.length === 0
    ? emptyState('No tag changes', filter ? html`Tag <code>${filter}</code> has no recorded changes.` : 'Nothing was pushed, moved or deleted yet.')
    : html`<div class="custody-table-wrap"><table class="pf-v6-c-table pf-m-grid-lg pf-m-compact" aria-label="Tag history">
<thead><tr><th scope="col">Time</th><th scope="col">Tag</th><th scope="col">How</th><th scope="col">Now points at</th><th scope="col">Before</th><th scope="col">Who</th>${mayWrite ? html`<th scope="col">Restore</th>` : ''}</tr></thead>
<tbody>${rows}</tbody></table></div>`;
  const filterForm = html`<form method="get" action="${historyPath(repository)}" class="custody-filters custody-row">
  <div><label for="h-tag">Tag</label><input id="h-tag" type="text" name="tag" value="${filter ?? ''}" maxlength="128" placeholder="every tag"></div>
  <div>${button('Show', 'secondary')}</div>${filter ? html`<div class="custody-inline-link"><a href="${historyPath(repository)}">Every tag</a></div>` : ''}</form>`;
  context.send(problem ? 400 : 200, `Tag history of ${repository}`, html`<nav class="pf-v6-c-breadcrumb" aria-label="Breadcrumb"><ol class="pf-v6-c-breadcrumb__list"><li class="pf-v6-c-breadcrumb__item"><a class="pf-v6-c-breadcrumb__link" href="/">Explore</a></li><li class="pf-v6-c-breadcrumb__item"><span class="pf-v6-c-breadcrumb__item-divider">/</span><a class="pf-v6-c-breadcrumb__link" href="${repositoryPath(repository)}">${repository}</a></li><li class="pf-v6-c-breadcrumb__item"><span class="pf-v6-c-breadcrumb__item-divider">/</span><span aria-current="page">Tag history</span></li></ol></nav>
<h1 class="pf-v6-c-title pf-m-2xl">Tag history of ${repository}</h1>
<p class="custody-muted">Every push, move, deletion, expiry and restore of a tag. Within the namespace's time-machine window, a tag can be pointed back at any digest it held, even after it was deleted or expired.</p>
${problem ? alert('danger', problem) : ''}${done ? alert('success', `Restored ${done}`) : ''}
${card(filter ? html`Changes of <code>${filter}</code> (${entries.length})` : `Changes (${entries.length})`, html`${filterForm}${table}`)}`);
  return true;
}
