// Python versions by PEP 440 (the order of `packaging.version.Version`): epoch, release
// (trailing zeros do not count), then pre-release (a < b < rc), post-release and
// development release, then the local version label. Spellings are normalised first
// (alpha → a, beta → b, c/pre/preview → rc, rev/r → post, `-1` → .post1, case, `v`).
import type { Comparison } from './compare-versions.ts';

export interface Pep440 {
  readonly epoch: number;
  readonly release: readonly number[];
  readonly pre: { readonly label: 'a' | 'b' | 'rc'; readonly number: number } | null;
  readonly post: number | null;
  readonly dev: number | null;
  readonly local: readonly (string | number)[] | null;
}

const PATTERN =
  /^\s*v?(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d+)?)?(?:-(\d+)|[-_.]?(post|rev|r)[-_.]?(\d+)?)?(?:[-_.]?(dev)[-_.]?(\d+)?)?(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$/i;

const PRE_LABELS: Readonly<Record<string, 'a' | 'b' | 'rc'>> = { a: 'a', alpha: 'a', b: 'b', beta: 'b', c: 'rc', rc: 'rc', pre: 'rc', preview: 'rc' };

export function parsePep440(version: string): Pep440 | null {
  const match = PATTERN.exec(version);
  if (!match) return null;
  const [, epoch, release, preLabel, preNumber, postImplicit, postLabel, postNumber, devLabel, devNumber, local] = match;
  return {
    epoch: epoch ? Number(epoch) : 0,
    release: release!.split('.').map(Number),
    pre: preLabel ? { label: PRE_LABELS[preLabel.toLowerCase()]!, number: Number(preNumber ?? 0) } : null,
    post: postImplicit !== undefined ? Number(postImplicit) : postLabel ? Number(postNumber ?? 0) : null,
    dev: devLabel ? Number(devNumber ?? 0) : null,
    local: local ? local.toLowerCase().split(/[-_.]/).map((part) => (/^\d+$/.test(part) ? Number(part) : part)) : null,
  };
}

export function isValidPep440(version: string): boolean {
  return parsePep440(version) !== null;
}

/** The canonical spelling (PEP 440 "Normalization"). */
export function normalizePep440(version: string): string | null {
  const v = parsePep440(version);
  if (!v) return null;
  let text = v.epoch ? `${v.epoch}!` : '';
  text += v.release.join('.');
  if (v.pre) text += `${v.pre.label}${v.pre.number}`;
  if (v.post !== null) text += `.post${v.post}`;
  if (v.dev !== null) text += `.dev${v.dev}`;
  if (v.local) text += `+${v.local.join('.')}`;
  return text;
}

function compareNumbers(a: number, b: number): Comparison {
  return a < b ? -1 : a > b ? 1 : 0;
}

const PRE_RANK = { a: 0, b: 1, rc: 2 } as const;

// Sort key parts where "absent" sits below or above every value, as packaging's
// Infinity/NegativeInfinity do.
function preKey(v: Pep440): [number, number] {
  // 1.0.dev0 sorts before 1.0a0: a bare dev release is below any pre-release.
  if (!v.pre && v.post === null && v.dev !== null) return [-1, 0];
  if (!v.pre) return [3, 0];
  return [PRE_RANK[v.pre.label], v.pre.number];
}

export function compareParsedPep440(x: Pep440, y: Pep440): Comparison {
  if (x.epoch !== y.epoch) return compareNumbers(x.epoch, y.epoch);
  const length = Math.max(x.release.length, y.release.length);
  for (let i = 0; i < length; i++) {
    const result = compareNumbers(x.release[i] ?? 0, y.release[i] ?? 0);
    if (result !== 0) return result;
  }
  const [pa, pn] = preKey(x);
  const [qa, qn] = preKey(y);
  if (pa !== qa) return compareNumbers(pa, qa);
  if (pn !== qn) return compareNumbers(pn, qn);
  const post = compareNumbers(x.post ?? -1, y.post ?? -1);
  if (post !== 0) return post;
  const dev = compareNumbers(x.dev ?? Infinity, y.dev ?? Infinity);
  if (dev !== 0) return dev;
  return compareLocal(x.local, y.local);
}

function compareLocal(a: Pep440['local'], b: Pep440['local']): Comparison {
  if (!a || !b) return a === b ? 0 : a ? 1 : -1;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const p = a[i];
    const q = b[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    // Numeric segments sort above alphanumeric ones.
    if (typeof p === 'number' && typeof q === 'number') {
      if (p !== q) return compareNumbers(p, q);
    } else if (typeof p === 'number') return 1;
    else if (typeof q === 'number') return -1;
    else if (p !== q) return p < q ? -1 : 1;
  }
  return 0;
}

/** Invalid (legacy) versions sort below valid ones, then as strings. */
export function comparePep440(a: string, b: string): Comparison {
  const x = parsePep440(a);
  const y = parsePep440(b);
  if (x && y) return compareParsedPep440(x, y);
  if (x) return 1;
  if (y) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}
