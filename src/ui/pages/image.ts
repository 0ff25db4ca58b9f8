// An image, by tag or digest, in tabs: Overview, Containerfile, Layers, Packages,
// Security, Health, Signatures, Referrers. A tag selector switches version, a platform
// selector picks an image of an index. Everything shown came from the image's author
// or the scanner and is escaped by the template.
import { html, type Html } from '../html.ts';
import type { ImageRecord, TagRow } from '../../catalog/catalog-service.ts';
import type { Severity } from '../../core/quality.ts';
import type { DescriptorJson } from '../../core/manifest-reader.ts';
import type { Finding, ImageIndex } from '../../core/quality.ts';
import type { GradeView } from '../../scan/coverage.ts';
import type { ErrataReport } from '../../scan/matching/errata.ts';
import type { SignatureStatus } from '../../trust/registry-signing-policy.ts';
import type { ReferrerRecord } from '../../metadata/metadata-store.ts';
import { claimedOrigin, layersWithSteps, platformName, reconstructContainerfile } from '../../catalog/image-config.ts';
import { ago, card, emptyState, gradeBadge, healthMeter, imagePath, repositoryPath, severityCounts, shortDigest, signatureLabel, size, when } from '../layout.ts';
import { signatureStateOf, zeroCounts, type SignatureState } from '../../catalog/catalog-service.ts';
import { commandList } from './repository.ts';

export const TABS = ['overview', 'containerfile', 'layers', 'packages', 'security', 'health', 'signatures', 'referrers'] as const;
export type Tab = (typeof TABS)[number];
const TAB_LABELS: Readonly<Record<Tab, string>> = {
  overview: 'Overview', containerfile: 'Containerfile', layers: 'Layers', packages: 'Packages', security: 'Security', health: 'Health', signatures: 'Signatures', referrers: 'Referrers',
};

export interface Quality {
  readonly status: string;
  readonly index: ImageIndex | null;
  readonly findings: { findings: readonly Finding[]; unfixed: readonly Finding[]; computedAt: number } | null;
  readonly errata: ErrataReport | null;
  readonly grade: GradeView | null;
  /** When the advisory data was last imported/matched. */
  readonly databaseRevision: number | null;
}

export interface ImagePageData {
  readonly repository: string;
  /** What the visitor asked for (a tag or a digest). */
  readonly reference: string;
  readonly tag: string | null;
  readonly tags: readonly string[];
  /** The index when the reference names one; `image` is then the chosen platform's. */
  readonly index: ImageRecord | null;
  readonly platforms: readonly DescriptorJson[];
  readonly image: ImageRecord;
  readonly tab: Tab;
  readonly quality: Quality;
  readonly signatures: { policies: number; signatures: readonly SignatureStatus[]; satisfied: boolean | null } | null;
  readonly referrers: readonly ReferrerRecord[];
  readonly host: string;
  readonly row: TagRow | null;
  /** The build files the image ships (/root/buildinfo/), read for the Containerfile tab only. */
  readonly buildFiles: readonly { readonly path: string; readonly content: string }[];
}

function dl(entries: readonly (readonly [string, Html | string | null | undefined])[]): Html {
  return html`<dl class="custody-dl">${entries.filter(([, value]) => value !== null && value !== undefined && value !== '').map(([term, value]) => html`<dt>${term}</dt><dd>${value}</dd>`)}</dl>`;
}

function notIndexed(quality: Quality): Html {
  return emptyState('Not scanned yet', `The registry has not indexed this image (${quality.status}). Reload in a moment.`);
}

function overview(data: ImagePageData): Html {
  const { image } = data;
  const facts = image.facts;
  const claimed = claimedOrigin(facts.labels, image.annotations);
  const signers = (data.signatures?.signatures ?? []).map((s) => `${s.identity ?? 'unknown signer'}${s.verified === true ? ' (verified)' : s.verified === false ? ' (does not verify)' : ' (not verified: no policy)'}`);
  const labels = Object.entries(facts.labels);
  return html`${card('Image', dl([
    ['Digest', html`<span class="custody-digest">${image.digest}</span>`],
    ['Created', facts.created ? html`${facts.created} <span class="custody-muted">(${ago(Date.parse(facts.created))})</span>` : null],
    ['OS / architecture', platformName(facts)],
    ['Size', size(image.size)],
    ['Entrypoint', facts.entrypoint ? html`<code>${JSON.stringify(facts.entrypoint)}</code>` : null],
    ['Command', facts.cmd ? html`<code>${JSON.stringify(facts.cmd)}</code>` : null],
    ['User', facts.user],
    ['Working directory', facts.workingDir],
    ['Exposed ports', facts.exposedPorts.join(', ')],
  ]))}
${card(html`Get this image${data.tag ? html` <span class="custody-muted">(${data.tag})</span>` : ''}`, commandList(data.host, data.repository, data.tag ?? 'latest', (data.index ?? image).digest))}
${card('Who made it', dl([
    ['Vendor (claimed)', claimed.vendor ?? html`<span class="custody-muted">not stated</span>`],
    ['Source (claimed)', claimed.source ?? html`<span class="custody-muted">not stated</span>`],
    ['Signed by', signers.length > 0 ? signers.join('; ') : html`<span class="custody-muted">nobody: no signature found</span>`],
  ]))}
${card(`Labels (${labels.length})`, labels.length === 0 ? html`<p class="custody-muted">No labels.</p>` : html`<div class="custody-table-wrap"><table class="pf-v6-c-table pf-m-compact" aria-label="Labels"><thead><tr><th scope="col">Label</th><th scope="col">Value</th></tr></thead><tbody>${labels.map(([key, value]) => html`<tr><td class="custody-mono">${key}</td><td>${value}</td></tr>`)}</tbody></table></div>`)}
${card(`Environment (${facts.env.length})`, facts.env.length === 0 ? html`<p class="custody-muted">No variables.</p>` : html`<pre class="custody-pre">${facts.env.join('\n')}</pre>`)}`;
}

function containerfile(data: ImagePageData): Html {
  const copyable = (id: string, text: string): Html => html`<div class="custody-command"><pre class="custody-pre custody-grow" id="${id}">${text}</pre><button class="pf-v6-c-button pf-m-secondary pf-m-small" type="button" data-copy="${id}"><span class="pf-v6-c-button__text">Copy</span></button></div>`;
  const reconstructed = reconstructContainerfile(data.image.facts);
  if (data.buildFiles.length > 0) {
    return html`${data.buildFiles.map((file, index) => card(html`Containerfile <span class="custody-muted custody-mono">${file.path}</span>`, html`<p class="custody-muted">The build file the image ships.</p>${copyable(`containerfile${index === 0 ? '' : `-${index}`}`, file.content)}`))}
${card('From the build history', html`<details><summary>Show the instructions reconstructed from the history</summary>${copyable('containerfile-history', reconstructed)}</details>`)}`;
  }
  return card('Containerfile', html`<p class="custody-muted">Reconstructed from the image's build history (the image ships no build file under /root/buildinfo/); the base image's steps come first and build arguments are not recorded.</p>
${copyable('containerfile', reconstructed)}`);
}

function layers(data: ImagePageData): Html {
  const packagesByLayer = new Map<string, number>();
  for (const found of data.quality.index?.packages ?? []) packagesByLayer.set(found.layer, (packagesByLayer.get(found.layer) ?? 0) + 1);
  const rows = layersWithSteps(data.image.manifest, data.image.facts);
  return card(`Layers (${rows.length})`, html`<div class="custody-table-wrap"><table class="pf-v6-c-table pf-m-compact" aria-label="Layers"><thead><tr><th scope="col">#</th><th scope="col">Digest</th><th scope="col">Size</th><th scope="col">Made by</th><th scope="col">Packages</th></tr></thead><tbody>
${rows.map(({ descriptor, step }, index) => html`<tr><td>${index + 1}</td><td><span class="custody-digest" title="${descriptor.digest}">${shortDigest(descriptor.digest)}</span></td><td>${size(descriptor.size ?? 0)}</td><td class="custody-mono">${step ?? html`<span class="custody-muted">not recorded</span>`}</td>
<td>${data.quality.index ? html`<a href="${imagePath(data.repository, data.reference, 'packages', { layer: descriptor.digest })}">${packagesByLayer.get(descriptor.digest) ?? 0}</a>` : '–'}</td></tr>`)}
</tbody></table></div>`);
}

function packages(data: ImagePageData, layerFilter: string | null): Html {
  const index = data.quality.index;
  if (!index) return notIndexed(data.quality);
  const list = [...index.packages].filter((p) => layerFilter === null || p.layer === layerFilter).sort((a, b) => a.name.localeCompare(b.name));
  return card(`Packages (${list.length})`, html`<form class="custody-filters custody-row" role="search" aria-label="Packages">
  <div class="custody-grow"><label for="pkg-filter">Filter packages</label><input id="pkg-filter" type="search" data-filter="packages" placeholder="name, version, source"></div>
  <p class="custody-muted" id="packages-count" role="status">${list.length} shown</p></form>
${layerFilter ? html`<p>Only layer <span class="custody-digest">${shortDigest(layerFilter)}</span>. <a href="${imagePath(data.repository, data.reference, 'packages')}">Show all</a></p>` : ''}
<div class="custody-table-wrap"><table class="pf-v6-c-table pf-m-compact" id="packages" aria-label="Packages"><thead><tr><th scope="col">Type</th><th scope="col">Name</th><th scope="col">Version</th><th scope="col">Source package</th><th scope="col">Layer</th></tr></thead><tbody>
${list.map((p) => html`<tr><td>${p.ecosystem}</td><td>${p.name}</td><td class="custody-mono">${p.version}</td><td>${p.sourceName ? html`${p.sourceName}${p.sourceVersion ? html` <span class="custody-mono">${p.sourceVersion}</span>` : ''}` : ''}</td><td><span class="custody-digest">${shortDigest(p.layer)}</span></td></tr>`)}
</tbody></table></div>`);
}

export function advisoryLink(id: string): Html {
  if (/^CVE-\d{4}-\d+$/.test(id)) return html`<a href="https://www.cve.org/CVERecord?id=${id}" rel="noopener noreferrer">${id}</a>`;
  if (/^RH[SBE]A-\d{4}:\d+$/.test(id)) return html`<a href="https://access.redhat.com/errata/${id}" rel="noopener noreferrer">${id}</a>`;
  if (/^(DSA|DLA)-\d+(-\d+)?$/.test(id)) return html`<a href="https://security-tracker.debian.org/tracker/${id}" rel="noopener noreferrer">${id}</a>`;
  if (/^GHSA-[\w-]+$/.test(id)) return html`<a href="https://github.com/advisories/${id}" rel="noopener noreferrer">${id}</a>`;
  return html`${id}`;
}

function findingRows(findings: readonly Finding[]): Html {
  return html`<div class="custody-table-wrap"><table class="pf-v6-c-table pf-m-compact" aria-label="Findings"><thead><tr><th scope="col">Severity</th><th scope="col">Advisory</th><th scope="col">CVEs</th><th scope="col">Package</th><th scope="col">Installed</th><th scope="col">Fixed in</th></tr></thead><tbody>
${findings.map((f) => html`<tr><td><span class="custody-sev s-${f.severity}">${f.severity}</span>${f.vendorSeverity ? html` <span class="custody-muted">${f.vendorSeverity}</span>` : ''}</td><td>${advisoryLink(f.advisoryId)}${f.title ? html`<div class="custody-muted">${f.title}</div>` : ''}</td><td>${f.cves.map((cve, i) => html`${i > 0 ? ', ' : ''}${advisoryLink(cve)}`)}</td><td>${f.package.name}</td><td class="custody-mono">${f.package.version}</td><td class="custody-mono">${f.fixedVersion ?? html`<span class="custody-muted">${f.fixState ?? 'no fix'}</span>`}</td></tr>`)}
</tbody></table></div>`;
}

function security(data: ImagePageData): Html {
  const current = data.quality.findings;
  if (!current) return notIndexed(data.quality);
  const order = ['Critical', 'High', 'Medium', 'Low', 'Negligible', 'Unknown'];
  const fixed = current.findings.filter((f) => f.fixedVersion !== null).sort((a, b) => order.indexOf(a.severity) - order.indexOf(b.severity) || a.advisoryId.localeCompare(b.advisoryId));
  const groups = order.map((severity) => ({ severity, findings: fixed.filter((f) => f.severity === severity) })).filter((group) => group.findings.length > 0);
  const errata = data.quality.errata;
  const erratumGroup = (title: string, group: ErrataReport['security']): Html => card(`${title} (${group.errata.length})`, group.errata.length === 0 ? html`<p class="custody-muted">None.</p>` : html`<ul>${group.errata.map((e) => html`<li>${advisoryLink(e.id)} <span class="custody-sev s-${e.severity}">${e.vendorSeverity ?? e.severity}</span> ${e.title ?? ''} <span class="custody-muted">updates ${e.packages.map((p) => `${p.name} ${p.installed} → ${p.fixed}`).join(', ')}</span></li>`)}</ul>`, 3);
  return html`${card(`Findings with a fix (${fixed.length})`, groups.length === 0 ? html`<p class="custody-good">No known vulnerability with a fix.</p>` : html`${groups.map((group) => html`<h3 class="pf-v6-c-title pf-m-md">${group.severity} (${group.findings.length})</h3>${findingRows(group.findings)}`)}`)}
${card(`Without a fix (${current.unfixed.length})`, current.unfixed.length === 0 ? html`<p class="custody-muted">None.</p>` : findingRows(current.unfixed))}
${errata ? html`<h2 class="pf-v6-c-title pf-m-lg">Errata (as yum updateinfo groups them)</h2>${erratumGroup('Security fixes', errata.security)}${erratumGroup('Bug fixes', errata.bugfix)}${erratumGroup('Enhancements', errata.enhancement)}` : ''}`;
}

function health(data: ImagePageData): Html {
  const grade = data.quality.grade;
  if (!grade) return notIndexed(data.quality);
  // No letter without data behind it: `?` and why, never an A by default.
  if (grade.grade === '?') {
    return card('Health index', html`<p><strong>No grade (?)</strong>: ${grade.reason ?? 'no advisory data covers this image'}.</p>
${dl([
      ['Advisory data', grade.data.dataAsOf ? html`as of ${when(grade.data.dataAsOf)}` : 'none'],
      ['Scanned', data.quality.index ? when(data.quality.index.indexedAt) : null],
    ])}
<p class="custody-muted">A grade needs current advisory data from a source that covers the image's operating system and package types. Until then Custody does not call the image healthy.</p>`);
  }
  const letter = grade.grade;
  const oldest = [...grade.deciding].sort((a, b) => (a.issued ?? Infinity) - (b.issued ?? Infinity))[0];
  return card('Health index', html`<div class="custody-row">${healthMeter(letter)} <p><strong>Grade ${letter}</strong></p></div>
${dl([
    ['Why', oldest ? html`The oldest unapplied ${oldest.severity} security erratum is ${advisoryLink(oldest.advisoryId)}${oldest.issued ? html`, issued ${when(oldest.issued)}` : ', undated'}.` : 'No Critical or Important security erratum is waiting to be applied.'],
    ['Next drop', grade.next ? html`To <strong>${grade.next.grade}</strong> on ${new Date(grade.next.at).toISOString().slice(0, 10)} if nothing is applied` : 'It cannot drop with the errata known today'],
    ['Advisory data', data.quality.findings ? html`matched ${when(data.quality.findings.computedAt)} (database revision ${data.quality.databaseRevision ?? '?'})${grade.data.dataAsOf ? html`; the publishers' data is as of ${when(grade.data.dataAsOf)}` : ''}` : 'not matched yet'],
    ['Scanned', data.quality.index ? when(data.quality.index.indexedAt) : null],
  ])}
<p class="custody-muted">A: no unapplied Critical or Important security errata. B–F: the older the oldest one, the lower the grade (Critical: B up to 7 days, C 30, D 90, E 12 months, F older; Important: B up to 30 days, C 90, D 12 months). Moderate and Low never lower it.</p>`);
}

function signatures(data: ImagePageData): Html {
  const found = data.signatures;
  if (!found) return card('Signatures', html`<p class="custody-muted">Signature checks are not enabled on this registry.</p>`);
  const policy = found.policies === 0 ? 'No signing policy applies to this repository: signatures are listed, not verified.' : found.satisfied ? 'The registry signing policy is satisfied.' : 'The registry signing policy is NOT satisfied.';
  return card(`Signatures (${found.signatures.length})`, html`<p>${policy}</p>${found.signatures.length === 0 ? html`<p class="custody-muted">No signature found.</p>` : html`<div class="custody-table-wrap"><table class="pf-v6-c-table pf-m-compact" aria-label="Signatures"><thead><tr><th scope="col">Format</th><th scope="col">Signer</th><th scope="col">Key</th><th scope="col">Verifies</th><th scope="col">Found as</th></tr></thead><tbody>
${found.signatures.map((s) => html`<tr><td>${s.format}</td><td>${s.identity ?? html`<span class="custody-muted">not named</span>`}</td><td class="custody-mono">${s.keyId ?? '–'}${s.trustedBy.length > 0 ? html`<div class="custody-muted">trusted by ${s.trustedBy.join(', ')}</div>` : ''}</td><td>${s.verified === true ? html`<span class="custody-good">yes</span>` : s.verified === false ? html`<span class="custody-error">no</span>${s.reason ? html`<div class="custody-muted">${s.reason}</div>` : ''}` : html`<span class="custody-muted">not checked</span>`}</td><td>${s.source} <span class="custody-digest">${shortDigest(s.signatureManifest)}</span></td></tr>`)}
</tbody></table></div>`}`);
}

function referrers(data: ImagePageData, sbomBase: string): Html {
  const sbom = data.quality.index
    ? html`<p>Download the software bill of materials: <a class="pf-v6-c-button pf-m-secondary pf-m-small" href="${sbomBase}?format=spdx" download><span class="pf-v6-c-button__text">SPDX 2.3 (JSON)</span></a> <a class="pf-v6-c-button pf-m-secondary pf-m-small" href="${sbomBase}?format=cyclonedx" download><span class="pf-v6-c-button__text">CycloneDX 1.6 (JSON)</span></a></p>`
    : html`<p class="custody-muted">The SBOM is available once the image is scanned.</p>`;
  return html`${card('SBOM', sbom)}${card(`Attached artifacts (${data.referrers.length})`, data.referrers.length === 0 ? html`<p class="custody-muted">Nothing is attached to this image.</p>` : html`<div class="custody-table-wrap"><table class="pf-v6-c-table pf-m-compact" aria-label="Referrers"><thead><tr><th scope="col">Artifact type</th><th scope="col">Digest</th><th scope="col">Size</th></tr></thead><tbody>
${data.referrers.map((r) => html`<tr><td>${r.artifactType ?? r.mediaType}</td><td><span class="custody-digest" title="${r.digest}">${shortDigest(r.digest)}</span></td><td>${size(r.size)}</td></tr>`)}</tbody></table></div>`)}`;
}

export function imagePage(data: ImagePageData, query: URLSearchParams): Html {
  const base = imagePath(data.repository, data.reference);
  const platformQuery = query.get('platform');
  const extra: Record<string, string> = platformQuery ? { platform: platformQuery } : {};
  const tabs = html`<nav aria-label="Image sections"><ul class="custody-tabs">${TABS.map((tab) => html`<li><a href="${imagePath(data.repository, data.reference, tab, extra)}"${tab === data.tab ? html` aria-current="page"` : ''}>${TAB_LABELS[tab]}</a></li>`)}</ul></nav>`;
  const selectors = html`<form method="get" action="${repositoryPath(data.repository)}/-/image" class="custody-filters custody-row">
  <input type="hidden" name="tab" value="${data.tab}">
  <div><label for="sel-tag">Tag</label><select id="sel-tag" name="ref" data-autosubmit>${data.tag === null ? html`<option value="${data.reference}" selected>${shortDigest(data.reference)}</option>` : ''}${data.tags.map((tag) => html`<option value="${tag}"${tag === data.tag ? html` selected` : ''}>${tag}</option>`)}</select></div>
  ${data.platforms.length > 0 ? html`<div><label for="sel-platform">Platform</label><select id="sel-platform" name="platform" data-autosubmit>${data.platforms.map((p) => html`<option value="${p.digest}"${p.digest === data.image.digest ? html` selected` : ''}>${p.platform ? platformName(p.platform) : shortDigest(p.digest)}</option>`)}</select></div>` : ''}
  <div><button class="pf-v6-c-button pf-m-secondary" type="submit"><span class="pf-v6-c-button__text">Show</span></button></div>
</form>`;
  const grade = data.quality.grade;
  const sbomBase = `${repositoryPath(data.repository)}/-/sbom/${encodeURIComponent(data.image.digest)}`;
  const body = (() => {
    switch (data.tab) {
      case 'containerfile': return containerfile(data);
      case 'layers': return layers(data);
      case 'packages': return packages(data, query.get('layer'));
      case 'security': return security(data);
      case 'health': return health(data);
      case 'signatures': return signatures(data);
      case 'referrers': return referrers(data, sbomBase);
      default: return overview(data);
    }
  })();
  return html`<nav class="pf-v6-c-breadcrumb" aria-label="Breadcrumb"><ol class="pf-v6-c-breadcrumb__list"><li class="pf-v6-c-breadcrumb__item"><a class="pf-v6-c-breadcrumb__link" href="/">Explore</a></li><li class="pf-v6-c-breadcrumb__item"><span class="pf-v6-c-breadcrumb__item-divider">/</span><a class="pf-v6-c-breadcrumb__link" href="${repositoryPath(data.repository)}">${data.repository}</a></li><li class="pf-v6-c-breadcrumb__item"><span class="pf-v6-c-breadcrumb__item-divider">/</span><span aria-current="page">${data.tag ?? shortDigest(data.reference)}</span></li></ol></nav>
<h1 class="pf-v6-c-title pf-m-2xl">${data.repository}<span class="custody-muted">${data.tag ? `:${data.tag}` : `@${shortDigest(data.reference)}`}</span></h1>
${selectors}
<section class="pf-v6-c-card" aria-label="At a glance"><div class="pf-v6-c-card__body custody-summary">
  <div><span class="custody-term">Health</span>${grade && grade.grade !== '?' ? html`<a href="${imagePath(data.repository, data.reference, 'health', extra)}" class="custody-row">${healthMeter(grade.grade)}<span class="pf-v6-screen-reader">: why this grade</span></a>` : gradeBadge(null, grade ? `no grade: ${grade.reason ?? 'no advisory data'}` : data.quality.status)}</div>
  <div><span class="custody-term">Findings</span><a href="${imagePath(data.repository, data.reference, 'security', extra)}">${severityCounts(countsOf(data.quality))}</a></div>
  <div><span class="custody-term">Signature</span><a href="${imagePath(data.repository, data.reference, 'signatures', extra)}">${signatureLabel(signatureOf(data))}</a></div>
  <div><span class="custody-term">Packages</span><a href="${imagePath(data.repository, data.reference, 'packages', extra)}">${data.quality.index ? String(data.quality.index.packages.length) : '–'}</a></div>
  <div><span class="custody-term">Platform</span><span>${platformName(data.image.facts)}</span></div>
  <div><span class="custody-term">Created</span><span>${data.image.facts.created ? ago(Date.parse(data.image.facts.created)) : 'unknown'}</span></div>
</div></section>
${tabs}
${body}
<p class="custody-muted"><a href="${base}">Permalink by ${data.tag ? 'tag' : 'digest'}</a> · <a href="${imagePath(data.repository, (data.index ?? data.image).digest, data.tab)}">pinned by digest</a></p>`;
}

function countsOf(quality: Quality): Record<Severity, number> | null {
  if (!quality.findings) return null;
  const counts = zeroCounts();
  for (const finding of quality.findings.findings) counts[finding.severity]++;
  return counts;
}

function signatureOf(data: ImagePageData): SignatureState {
  return signatureStateOf(data.signatures?.signatures ?? []);
}
