// Explore: the front page. Search by name, description, title or vendor; filter by
// namespace, grade, signature, OS, architecture and push age; sort; page through.
import { html, queryString, type Html } from '../html.ts';
import type { SearchQuery, SearchResult } from '../../catalog/catalog-search.ts';
import { emptyState, gradeBadge, repositoryPath, severityCounts, signatureLabel, when } from '../layout.ts';

function select(name: string, label: string, value: string | undefined, options: readonly (readonly [string, string])[]): Html {
  return html`<div><label for="f-${name}">${label}</label><select id="f-${name}" name="${name}">
    ${options.map(([optionValue, text]) => html`<option value="${optionValue}"${optionValue === (value ?? '') ? html` selected` : ''}>${text}</option>`)}
  </select></div>`;
}

export function explorePage(query: SearchQuery, result: SearchResult, signedIn: boolean): Html {
  const filters: Record<string, string | number | undefined> = {
    q: query.text, namespace: query.namespace, grade: query.grade, signed: query.signed, os: query.os, arch: query.arch, pushed: query.pushedWithinDays, sort: query.sort,
  };
  const pages = Math.max(1, Math.ceil(result.total / result.perPage));
  const form = html`<form class="custody-filters" method="get" action="/" role="search" aria-label="Repositories">
  <div class="custody-row">
    <div class="custody-grow"><label for="f-q">Search repositories</label><input id="f-q" type="search" name="q" value="${query.text ?? ''}" placeholder="name, description or vendor"></div>
    ${select('namespace', 'Namespace', query.namespace, [['', 'All'], ...result.namespaces.map((ns) => [ns, ns] as const)])}
    ${select('grade', 'Grade', query.grade, [['', 'Any'], ...['A', 'B', 'C', 'D', 'E', 'F'].map((g) => [g, g] as const)])}
    ${select('signed', 'Signature', query.signed, [['', 'Any'], ['yes', 'Signed'], ['no', 'Unsigned']])}
    ${select('os', 'OS', query.os, [['', 'Any'], ...result.platforms.os.map((os) => [os, os] as const)])}
    ${select('arch', 'Architecture', query.arch, [['', 'Any'], ...result.platforms.arch.map((arch) => [arch, arch] as const)])}
    ${select('pushed', 'Pushed within', query.pushedWithinDays === undefined ? undefined : String(query.pushedWithinDays), [['', 'Any time'], ['1', '1 day'], ['7', '7 days'], ['30', '30 days'], ['365', '1 year']])}
    ${select('sort', 'Sort by', query.sort, [['name', 'Name'], ['pushed', 'Last push'], ['grade', 'Grade']])}
    <div><button class="pf-v6-c-button pf-m-primary" type="submit"><span class="pf-v6-c-button__text">Search</span></button></div>
  </div>
</form>`;
  const rows = result.items.map((info) => {
    const latest = info.latest;
    return html`<tr>
  <td data-label="Repository"><a href="${repositoryPath(info.name)}"><strong>${info.name}</strong></a>
    ${info.visibility === 'private' ? html` <span class="pf-v6-c-label pf-m-outline pf-m-compact"><span class="pf-v6-c-label__content"><span class="pf-v6-c-label__text">private</span></span></span>` : ''}
    ${info.description ? html`<div class="custody-muted">${info.description.split('\n')[0]!.slice(0, 200)}</div>` : ''}
    ${info.vendor ? html`<div class="custody-muted">Vendor (claimed): ${info.vendor}</div>` : ''}</td>
  <td data-label="Latest tag">${latest ? html`<span class="custody-mono">${latest.tag}</span>` : html`<span class="custody-muted">no tags</span>`}</td>
  <td data-label="Grade">${latest ? gradeBadge(latest.grade, latest.status) : ''}</td>
  <td data-label="Findings" class="custody-hide-narrow">${latest ? severityCounts(latest.counts) : ''}</td>
  <td data-label="Signature">${latest ? signatureLabel(latest.signature) : ''}</td>
  <td data-label="Last push">${latest ? when(latest.pushedAt) : ''}</td>
</tr>`;
  });
  const pager = pages > 1
    ? html`<nav class="custody-row" aria-label="Pages">
        ${result.page > 1 ? html`<a class="pf-v6-c-button pf-m-secondary" href="/${queryString({ ...filters, page: result.page - 1 })}"><span class="pf-v6-c-button__text">Previous</span></a>` : ''}
        <span>Page ${result.page} of ${pages}</span>
        ${result.page < pages ? html`<a class="pf-v6-c-button pf-m-secondary" href="/${queryString({ ...filters, page: result.page + 1 })}"><span class="pf-v6-c-button__text">Next</span></a>` : ''}
      </nav>`
    : '';
  const empty = result.total === 0
    ? emptyState('No repositories found', signedIn ? 'Nothing you may read matches. Clear the filters or push an image.' : html`Nothing public matches. <a href="/login">Log in</a> to see the repositories you may read.`)
    : html`<section class="pf-v6-c-card"><div class="pf-v6-c-card__body custody-table-wrap"><table class="pf-v6-c-table pf-m-grid-md" aria-label="Repositories">
  <thead><tr><th scope="col">Repository</th><th scope="col">Latest tag</th><th scope="col">Grade</th><th scope="col" class="custody-hide-narrow">Findings</th><th scope="col">Signature</th><th scope="col">Last push</th></tr></thead>
  <tbody>${rows}</tbody></table></div></section>`;
  return html`<h1 class="pf-v6-c-title pf-m-2xl">Explore images</h1>
<p class="custody-muted">Find an image, judge it by its health grade, findings and signatures, and copy the command to pull it.</p>
<section class="pf-v6-c-card"><div class="pf-v6-c-card__body">${form}</div></section>
<p role="status">${result.total} ${result.total === 1 ? 'repository' : 'repositories'}</p>
${empty}
${pager}`;
}
