// Package search: which images ship a package, and in which version.
import { html, type Html } from '../html.ts';
import type { InstalledPackage } from '../../core/quality.ts';
import { emptyState, imagePath, repositoryPath } from '../layout.ts';

export function packagesPage(name: string, hits: readonly { repository: string; tag: string; digest: string; package: InstalledPackage }[]): Html {
  const form = html`<form class="custody-filters custody-row" method="get" action="/packages" role="search" aria-label="Packages">
  <div class="custody-grow"><label for="pkg-name">Package name</label><input id="pkg-name" type="search" name="name" value="${name}" placeholder="openssl, log4j, curl"></div>
  <div><button class="pf-v6-c-button pf-m-primary" type="submit"><span class="pf-v6-c-button__text">Find images</span></button></div></form>`;
  const results = name === ''
    ? html`<p class="custody-muted">Type a package name to see which images ship it, and in which version.</p>`
    : hits.length === 0
      ? emptyState('No image ships it', html`No image you may read contains a package named like <strong>${name}</strong>.`)
      : html`<p role="status">${hits.length} ${hits.length === 1 ? 'match' : 'matches'}</p><div class="custody-table-wrap"><table class="pf-v6-c-table pf-m-compact" aria-label="Images shipping the package"><thead><tr><th scope="col">Repository</th><th scope="col">Tag</th><th scope="col">Package</th><th scope="col">Version</th><th scope="col">Type</th></tr></thead><tbody>
${hits.map((hit) => html`<tr><td><a href="${repositoryPath(hit.repository)}">${hit.repository}</a></td><td><a class="custody-mono" href="${imagePath(hit.repository, hit.tag, 'packages')}">${hit.tag}</a></td><td>${hit.package.name}</td><td class="custody-mono">${hit.package.version}</td><td>${hit.package.ecosystem}</td></tr>`)}</tbody></table></div>`;
  return html`<h1 class="pf-v6-c-title pf-m-2xl">Find a package</h1><section class="pf-v6-c-card"><div class="pf-v6-c-card__body">${form}</div></section>${results}`;
}
