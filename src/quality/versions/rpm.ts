// rpm's version order: rpmvercmp (rpm 4.18, lib/rpmvercmp.c) on each of epoch, version
// and release. Segments are runs of digits or of letters; other characters only
// separate, except `~` (sorts before everything, even the end: pre-releases) and `^`
// (sorts after the end but before anything else: post-release snapshots).
import type { Comparison } from './compare-versions.ts';

export interface RpmEvr {
  readonly epoch: number;
  readonly version: string;
  readonly release: string | null;
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isAlpha = (c: string | undefined): boolean => c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
const isAlnum = (c: string | undefined): boolean => isDigit(c) || isAlpha(c);

/** The raw rpmvercmp() of one version or release string. */
export function rpmvercmp(a: string, b: string): Comparison {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (i < a.length && !isAlnum(a[i]) && a[i] !== '~' && a[i] !== '^') i++;
    while (j < b.length && !isAlnum(b[j]) && b[j] !== '~' && b[j] !== '^') j++;
    if (a[i] === '~' || b[j] === '~') {
      if (a[i] !== '~') return 1;
      if (b[j] !== '~') return -1;
      i++;
      j++;
      continue;
    }
    if (a[i] === '^' || b[j] === '^') {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (a[i] !== '^') return 1;
      if (b[j] !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (i >= a.length || j >= b.length) break;
    const numeric = isDigit(a[i]);
    const test = numeric ? isDigit : isAlpha;
    let endA = i;
    let endB = j;
    while (endA < a.length && test(a[endA])) endA++;
    while (endB < b.length && test(b[endB])) endB++;
    // A numeric segment is newer than an alphabetic one.
    if (endB === j) return numeric ? 1 : -1;
    let segA = a.slice(i, endA);
    let segB = b.slice(j, endB);
    if (numeric) {
      segA = segA.replace(/^0+/, '');
      segB = segB.replace(/^0+/, '');
      if (segA.length !== segB.length) return segA.length > segB.length ? 1 : -1;
    }
    if (segA !== segB) return segA < segB ? -1 : 1;
    i = endA;
    j = endB;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

/** `[epoch:]version[-release]`; the release is whatever follows the last `-`. */
export function parseRpmEvr(evr: string): RpmEvr {
  const text = evr.trim();
  const colon = text.indexOf(':');
  const epoch = colon >= 0 ? Number.parseInt(text.slice(0, colon), 10) || 0 : 0;
  const rest = colon >= 0 ? text.slice(colon + 1) : text;
  const dash = rest.lastIndexOf('-');
  return dash >= 0 ? { epoch, version: rest.slice(0, dash), release: rest.slice(dash + 1) } : { epoch, version: rest, release: null };
}

export function isValidRpm(evr: string): boolean {
  return /^(\d+:)?[A-Za-z0-9._+~^]+(-[A-Za-z0-9._+~^]+)?$/.test(evr.trim());
}

/** EVR order as rpm compares dependencies: a missing epoch is 0, and a release is only
 * compared when both sides have one (a bare version names every release of it). */
export function compareRpmEvr(a: string, b: string): Comparison {
  const x = parseRpmEvr(a);
  const y = parseRpmEvr(b);
  if (x.epoch !== y.epoch) return x.epoch < y.epoch ? -1 : 1;
  const version = rpmvercmp(x.version, y.version);
  if (version !== 0 || x.release === null || y.release === null) return version;
  return rpmvercmp(x.release, y.release);
}
