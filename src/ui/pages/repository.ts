// A repository: its description (Markdown, rendered safely), the tag table with each
// tag judged, and "Get this image" commands by tag and pinned by digest.
import { html, type Html } from '../html.ts';
import type { RepositoryInfo, TagRow } from '../../catalog/catalog-service.ts';
import { renderMarkdown } from '../markdown.ts';
import { card, emptyState, gradeBadge, imagePath, repositoryPath, severityCounts, shortDigest, signatureLabel, size, when } from '../layout.ts';

export function pullCommands(host: string, repository: string, tag: string, digest: string): { id: string; label: string; command: string }[] {
  const byTag = `${host}/${repository}:${tag}`;
  const byDigest = `${host}/${repository}@${digest}`;
  return [
    { id: 'cmd-podman-digest', label: 'podman, pinned by digest', command: `podman pull ${byDigest}` },
    { id: 'cmd-podman-tag', label: 'podman, by tag', command: `podman pull ${byTag}` },
    { id: 'cmd-skopeo-digest', label: 'skopeo, pinned by digest', command: `skopeo copy docker://${byDigest} oci:${repository.split('/').pop()}:${tag}` },
    { id: 'cmd-skopeo-tag', label: 'skopeo, by tag', command: `skopeo copy docker://${byTag} oci:${repository.split('/').pop()}:${tag}` },
    { id: 'cmd-docker-digest', label: 'docker, pinned by digest', command: `docker pull ${byDigest}` },
    { id: 'cmd-docker-tag', label: 'docker, by tag', command: `docker pull ${byTag}` },
    { id: 'cmd-custody-digest', label: 'custody, pinned by digest', command: `custody pull ${byDigest}` },
    { id: 'cmd-custody-tag', label: 'custody, by tag', command: `custody pull ${byTag}` },
  ];
}

export function commandList(host: string, repository: string, tag: string, digest: string): Html {
  const line = (entry: { id: string; label: string; command: string }): Html => html`<div class="custody-command"><span class="pf-v6-screen-reader">${entry.label}</span><code id="${entry.id}" title="${entry.label}">${entry.command}</code>
      <button class="pf-v6-c-button pf-m-secondary pf-m-small" type="button" data-copy="${entry.id}" aria-label="Copy: ${entry.label}"><span class="pf-v6-c-button__text">Copy</span></button></div>`;
  const [pinned, byTag, ...others] = pullCommands(host, repository, tag, digest);
  return html`<p class="custody-muted">Pinned by digest: always this exact image.</p>${line(pinned!)}
<p class="custody-muted">By tag: whatever the tag points to when you pull.</p>${line(byTag!)}
<details><summary>skopeo, docker and custody</summary>${others.map(line)}</details>`;
}

/** Per tag, from the lifecycle service: when it expires, and the immutability rule holding it. */
export type TagStates = ReadonlyMap<string, { readonly expiresIn: string | null; readonly expiresAt: string | null; readonly immutableBy: string | null }>;

function expiryCell(state: { expiresIn: string | null; expiresAt: string | null } | undefined): Html {
  if (!state?.expiresIn) return html`<span class="custody-muted">never</span>`;
  const text = state.expiresIn.startsWith('in ') ? `expires ${state.expiresIn}` : `expired ${state.expiresIn}`;
  return html`<time datetime="${state.expiresAt ?? ''}" title="${state.expiresAt ?? ''}">${text}</time>`;
}

function tagRow(repository: string, row: TagRow, states: TagStates | null): Html {
  const state = states?.get(row.tag);
  return html`<tr>
  <td data-label="Tag"><a href="${imagePath(repository, row.tag)}" class="custody-mono">${row.tag}</a>${state?.immutableBy ? html` <span class="pf-v6-c-label pf-m-compact pf-m-purple" title="Immutable (rule ${state.immutableBy}): never moved or deleted"><span class="pf-v6-c-label__content"><span class="pf-v6-c-label__text">immutable</span></span></span>` : ''}</td>
  <td data-label="Digest"><span class="custody-digest" title="${row.digest}">${shortDigest(row.digest)}</span></td>
  <td data-label="Platforms">${row.platforms.length === 0 ? html`<span class="custody-muted">–</span>` : row.platforms.join(', ')}</td>
  <td data-label="Size">${size(row.size)}</td>
  <td data-label="Pushed">${when(row.pushedAt)}</td>
  <td data-label="Grade">${gradeBadge(row.grade, row.status)}</td>
  <td data-label="Signature">${signatureLabel(row.signature)}</td>
  <td data-label="Findings">${severityCounts(row.counts)}</td>
  ${states ? html`<td data-label="Expires">${expiryCell(state)}</td>` : ''}
</tr>`;
}

export function repositoryPage(info: RepositoryInfo, host: string, mayAdminister: boolean, states: TagStates | null = null): Html {
  const latest = info.latest;
  const description = info.description
    ? html`<div class="custody-description">${renderMarkdown(info.description)}</div>`
    : html`<p class="custody-muted">No description. ${mayAdminister ? html`<a href="${repositoryPath(info.name)}/-/settings">Add one</a>, or set the <code>org.opencontainers.image.description</code> annotation when you push.` : ''}</p>`;
  const tags = info.tags.length === 0
    ? emptyState('No tags yet', html`Push an image: <code>podman push IMAGE ${host}/${info.name}:latest</code>`)
    : html`<div class="custody-table-wrap"><table class="pf-v6-c-table pf-m-grid-lg pf-m-compact" aria-label="Tags">
  <thead><tr><th scope="col">Tag</th><th scope="col">Digest</th><th scope="col">Platforms</th><th scope="col">Size</th><th scope="col">Pushed</th><th scope="col">Grade</th><th scope="col">Signature</th><th scope="col">Findings</th>${states ? html`<th scope="col">Expires</th>` : ''}</tr></thead>
  <tbody>${info.tags.map((row) => tagRow(info.name, row, states))}</tbody></table></div>`;
  const compare = info.tags.length >= 2
    ? html`<form method="get" action="${repositoryPath(info.name)}/-/compare" class="custody-filters custody-row">
        <div><label for="cmp-from">Compare</label><select id="cmp-from" name="from">${info.tags.map((row, i) => html`<option${i === 1 ? html` selected` : ''}>${row.tag}</option>`)}</select></div>
        <div><label for="cmp-to">with</label><select id="cmp-to" name="to">${info.tags.map((row, i) => html`<option${i === 0 ? html` selected` : ''}>${row.tag}</option>`)}</select></div>
        <div><button class="pf-v6-c-button pf-m-secondary" type="submit"><span class="pf-v6-c-button__text">Compare tags</span></button></div>
      </form>`
    : '';
  return html`<nav class="pf-v6-c-breadcrumb" aria-label="Breadcrumb"><ol class="pf-v6-c-breadcrumb__list"><li class="pf-v6-c-breadcrumb__item"><a class="pf-v6-c-breadcrumb__link" href="/">Explore</a></li><li class="pf-v6-c-breadcrumb__item"><span class="pf-v6-c-breadcrumb__item-divider">/</span><span aria-current="page">${info.name}</span></li></ol></nav>
<div class="custody-row"><h1 class="pf-v6-c-title pf-m-2xl custody-grow">${info.name}</h1>
  ${info.visibility ? html`<span class="pf-v6-c-label pf-m-outline"><span class="pf-v6-c-label__content"><span class="pf-v6-c-label__text">${info.visibility}</span></span></span>` : ''}
  ${states ? html`<a class="pf-v6-c-button pf-m-secondary" href="${repositoryPath(info.name)}/-/history"><span class="pf-v6-c-button__text">Tag history</span></a>` : ''}
  ${mayAdminister ? html`<a class="pf-v6-c-button pf-m-secondary" href="${repositoryPath(info.name)}/-/settings"><span class="pf-v6-c-button__text">Settings</span></a>` : ''}</div>
${info.vendor ? html`<p>Vendor (as the image claims): <strong>${info.vendor}</strong></p>` : ''}
${card('About', description)}
${latest ? card(html`Get this image <span class="custody-muted">(${latest.tag})</span>`, commandList(host, info.name, latest.tag, latest.digest)) : ''}
${card(`Tags (${info.tags.length})`, html`${compare}${tags}`)}`;
}
