// The page shell every catalog page shares (masthead, skip link, main landmark) and the
// small pieces several pages show: grades, the health meter, severity counts, signature
// states, sizes and dates.
import { html, type Html } from './html.ts';
import type { UiAssets } from './assets.ts';
import { SEVERITIES, type GradeLetter, type Severity } from '../core/quality.ts';
import type { SignatureState } from '../catalog/catalog-service.ts';
import { formatBytes } from '../core/size.ts';

export interface Viewer {
  /** null: anonymous. */
  readonly name: string | null;
  readonly csrfToken: string | null;
  /** Whether a login form makes sense (authentication is on). */
  readonly canLogIn: boolean;
}

export interface PageOptions {
  readonly title: string;
  readonly viewer: Viewer;
  readonly assets: UiAssets;
  readonly body: Html;
  /** Pre-fills the masthead search. */
  readonly search?: string;
}

export function page(options: PageOptions): Html {
  const { viewer, assets } = options;
  const account = viewer.name !== null
    ? html`<a href="/settings/tokens">${viewer.name}</a>
        <form method="post" action="/logout"><input type="hidden" name="csrf" value="${viewer.csrfToken ?? ''}"><button class="pf-v6-c-button pf-m-secondary pf-m-small" type="submit"><span class="pf-v6-c-button__text">Log out</span></button></form>`
    : viewer.canLogIn
      ? html`<a class="pf-v6-c-button pf-m-primary pf-m-small" href="/login"><span class="pf-v6-c-button__text">Log in</span></a>`
      : '';
  return html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · Custody</title>
<link rel="stylesheet" href="${assets.stylesheet.path}">
<link rel="icon" href="data:,">
<link rel="preload" href="${assets.font.path}" as="font" type="font/woff2" crossorigin>
<script src="${assets.script.path}" defer></script>
</head>
<body>
<a class="custody-skip" href="#main">Skip to content</a>
<header class="pf-v6-c-masthead">
  <div class="pf-v6-c-masthead__main"><a class="custody-brand" href="/">Custody</a></div>
  <div class="pf-v6-c-masthead__content">
    <nav class="custody-masthead-links" aria-label="Main">
      <a href="/">Explore</a>
      <a href="/packages">Packages</a>
      ${account}
    </nav>
  </div>
</header>
<main id="main" class="custody-main" tabindex="-1">
${options.body}
</main>
</body>
</html>`;
}

const GRADES: readonly GradeLetter[] = ['A', 'B', 'C', 'D', 'E', 'F'];

/** A grade letter on its colour; "?" while not graded, with the reason as text. */
export function gradeBadge(grade: GradeLetter | null, status = 'not graded'): Html {
  if (grade === null) return html`<span class="custody-grade g-none" title="${status}">?</span> <span class="custody-muted">${status}</span>`;
  return html`<span class="custody-grade g-${grade}" title="Health grade ${grade}">${grade}</span>`;
}

/** The six boxes A to F, the current one marked, exposed as a meter with its letter. */
export function healthMeter(grade: GradeLetter): Html {
  const value = GRADES.indexOf(grade) + 1;
  return html`<div class="custody-health" role="meter" aria-valuemin="1" aria-valuemax="6" aria-valuenow="${value}" aria-valuetext="Grade ${grade} (A is best, F is worst)" aria-label="Health index">
  ${GRADES.map((letter) => html`<span class="g-${letter}${letter === grade ? ' current' : ''}"${letter === grade ? html` aria-current="true"` : ''}>${letter}</span>`)}
</div>`;
}

export function severityCounts(counts: Readonly<Record<Severity, number>> | null): Html {
  if (counts === null) return html`<span class="custody-muted">–</span>`;
  if (SEVERITIES.every((severity) => counts[severity] === 0)) return html`<span class="custody-muted">none known</span>`;
  // Only the severities present, in words: "2 Critical 1 High" reads without a legend.
  return html`<span class="custody-counts">${SEVERITIES.filter((severity) => counts[severity] > 0).map((severity) => html`<span class="custody-sev s-${severity}">${counts[severity]} ${severity}</span>`)}</span>`;
}

export function signatureLabel(state: SignatureState): Html {
  switch (state) {
    case 'verified':
      return html`<span class="pf-v6-c-label pf-m-green"><span class="pf-v6-c-label__content"><span class="pf-v6-c-label__text">Signed, verified</span></span></span>`;
    case 'signed':
      return html`<span class="pf-v6-c-label pf-m-blue"><span class="pf-v6-c-label__content"><span class="pf-v6-c-label__text">Signed</span></span></span>`;
    case 'invalid':
      return html`<span class="pf-v6-c-label pf-m-red"><span class="pf-v6-c-label__content"><span class="pf-v6-c-label__text">Signature invalid</span></span></span>`;
    default:
      return html`<span class="pf-v6-c-label"><span class="pf-v6-c-label__content"><span class="pf-v6-c-label__text">Unsigned</span></span></span>`;
  }
}

export function size(bytes: number): string {
  return formatBytes(bytes);
}

export function when(ms: number | null): Html {
  if (ms === null) return html`<span class="custody-muted">unknown</span>`;
  const iso = new Date(ms).toISOString();
  return html`<time datetime="${iso}" title="${iso}">${ago(ms)}</time>`;
}

export function ago(ms: number, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - ms) / 1000));
  if (seconds < 90) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes} minutes ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 36) return `${hours} hours ago`;
  const days = Math.round(hours / 24);
  if (days < 60) return `${days} days ago`;
  return new Date(ms).toISOString().slice(0, 10);
}

export function shortDigest(digest: string): string {
  const colon = digest.indexOf(':');
  return colon < 0 ? digest.slice(0, 12) : digest.slice(colon + 1, colon + 13);
}

/** Path of a repository page (names hold slashes; each part is encoded). */
export function repositoryPath(name: string): string {
  return `/r/${name.split('/').map(encodeURIComponent).join('/')}`;
}

export function imagePath(repository: string, reference: string, tab?: string, extra: Record<string, string> = {}): string {
  const search = new URLSearchParams({ ...(tab && tab !== 'overview' ? { tab } : {}), ...extra }).toString();
  return `${repositoryPath(repository)}/-/image/${encodeURIComponent(reference)}${search ? `?${search}` : ''}`;
}

export function emptyState(title: string, body: Html | string): Html {
  return html`<div class="pf-v6-c-empty-state"><div class="pf-v6-c-empty-state__content"><div class="pf-v6-c-empty-state__header"><div class="pf-v6-c-empty-state__title"><h2 class="pf-v6-c-empty-state__title-text">${title}</h2></div></div><div class="pf-v6-c-empty-state__body">${body}</div></div></div>`;
}

export function card(title: string | Html, body: Html, headingLevel: 2 | 3 = 2): Html {
  const heading = headingLevel === 2 ? html`<h2 class="pf-v6-c-title pf-m-lg">${title}</h2>` : html`<h3 class="pf-v6-c-title pf-m-md">${title}</h3>`;
  return html`<section class="pf-v6-c-card"><div class="pf-v6-c-card__title">${heading}</div><div class="pf-v6-c-card__body">${body}</div></section>`;
}
