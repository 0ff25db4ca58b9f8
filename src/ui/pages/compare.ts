// Compare two tags, as the Red Hat catalog describes a new version against the previous
// one: packages added, removed and updated, advisories fixed and introduced, grade change.
import { html, type Html } from '../html.ts';
import type { Comparison, PackageChange } from '../../catalog/catalog-search.ts';
import { card, emptyState, gradeBadge, imagePath, repositoryPath } from '../layout.ts';
import { advisoryLink } from './image.ts';

function changes(title: string, list: readonly PackageChange[]): Html {
  return card(`${title} (${list.length})`, list.length === 0 ? html`<p class="custody-muted">None.</p>` : html`<div class="custody-table-wrap"><table class="pf-v6-c-table pf-m-compact" aria-label="${title}"><thead><tr><th scope="col">Type</th><th scope="col">Package</th><th scope="col">Before</th><th scope="col">After</th></tr></thead><tbody>
${list.map((c) => html`<tr><td>${c.ecosystem}</td><td>${c.name}</td><td class="custody-mono">${c.from ?? '–'}</td><td class="custody-mono">${c.to ?? '–'}</td></tr>`)}</tbody></table></div>`, 2);
}

function advisories(title: string, list: Comparison['fixed']): Html {
  return card(`${title} (${list.length})`, list.length === 0 ? html`<p class="custody-muted">None.</p>` : html`<ul>${list.map((a) => html`<li><span class="custody-sev s-${a.severity}">${a.severity}</span> ${advisoryLink(a.advisoryId)} <span class="custody-muted">${a.packages.join(', ')}</span></li>`)}</ul>`);
}

export function comparePage(repository: string, from: string, to: string, tags: readonly string[], comparison: Comparison | null): Html {
  const picker = html`<form method="get" action="${repositoryPath(repository)}/-/compare" class="custody-filters custody-row">
  <div><label for="cmp-from">From</label><select id="cmp-from" name="from">${tags.map((tag) => html`<option${tag === from ? html` selected` : ''}>${tag}</option>`)}</select></div>
  <div><label for="cmp-to">To</label><select id="cmp-to" name="to">${tags.map((tag) => html`<option${tag === to ? html` selected` : ''}>${tag}</option>`)}</select></div>
  <div><button class="pf-v6-c-button pf-m-secondary" type="submit"><span class="pf-v6-c-button__text">Compare</span></button></div></form>`;
  const head = html`<nav class="pf-v6-c-breadcrumb" aria-label="Breadcrumb"><ol class="pf-v6-c-breadcrumb__list"><li class="pf-v6-c-breadcrumb__item"><a class="pf-v6-c-breadcrumb__link" href="/">Explore</a></li><li class="pf-v6-c-breadcrumb__item"><span class="pf-v6-c-breadcrumb__item-divider">/</span><a class="pf-v6-c-breadcrumb__link" href="${repositoryPath(repository)}">${repository}</a></li><li class="pf-v6-c-breadcrumb__item"><span class="pf-v6-c-breadcrumb__item-divider">/</span><span aria-current="page">Compare</span></li></ol></nav>
<h1 class="pf-v6-c-title pf-m-2xl">Compare <a href="${imagePath(repository, from)}">${from}</a> with <a href="${imagePath(repository, to)}">${to}</a></h1>${picker}`;
  if (!comparison) return html`${head}${emptyState('Not scanned yet', 'Both images must be scanned before they can be compared. Reload in a moment.')}`;
  const summary = html`<p>Grade ${gradeBadge(comparison.grade.from)} → ${gradeBadge(comparison.grade.to)} ·
    ${comparison.added.length} added, ${comparison.removed.length} removed, ${comparison.updated.length} updated packages ·
    ${comparison.fixed.length} advisories fixed, ${comparison.introduced.length} introduced</p>`;
  return html`${head}${card('Summary', summary)}${advisories('Advisories fixed', comparison.fixed)}${advisories('Advisories introduced', comparison.introduced)}${changes('Packages added', comparison.added)}${changes('Packages removed', comparison.removed)}${changes('Packages updated', comparison.updated)}`;
}
