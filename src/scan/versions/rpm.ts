// rpm's version order: rpmvercmp (rpm 4.18, rpmio/rpmvercmp.c) on each of epoch, version
// and release, split and combined as rpm's rpmio/rpmver.c does. Segments are runs of
// digits or of letters; other characters only separate, except `~` (sorts before everything, even the end: pre-releases) and `^`
// (sorts after the end but before anything else: post-release snapshots).
import type { Comparison } from './compare-versions.ts';

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

/** An EVR split as rpm splits it (rpmverParse): leading digits followed by `:` are the
 * epoch (an empty one is "0"), the release is what follows the last `-`. Absent parts
 * are null: rpm tells "no release" apart from an empty one (`1.0-`). */
export interface RpmEvr {
  readonly epoch: string | null;
  readonly version: string;
  readonly release: string | null;
}

export function parseRpmEvr(evr: string): RpmEvr {
  let digits = 0;
  while (isDigit(evr[digits])) digits++;
  const hasEpoch = evr[digits] === ':';
  const epoch = hasEpoch ? (digits === 0 ? '0' : evr.slice(0, digits)) : null;
  const rest = hasEpoch ? evr.slice(digits + 1) : evr;
  const dash = rest.lastIndexOf('-');
  return dash >= 0 ? { epoch, version: rest.slice(0, dash), release: rest.slice(dash + 1) } : { epoch, version: rest, release: null };
}

export function isValidRpm(evr: string): boolean {
  return /^(\d+:)?[A-Za-z0-9._+~^]+(-[A-Za-z0-9._+~^]+)?$/.test(evr.trim());
}

/** A part that one side lacks is older than any value of it (rpm's compare_values). */
function compareParts(a: string | null, b: string | null): Comparison {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  return rpmvercmp(a, b);
}

/**
 * EVR order exactly as rpm 4.18 orders two EVR strings (`rpm.vercmp`, rpmverCmp): a
 * missing epoch is 0, epochs compare as rpmvercmp strings, and a missing release is
 * older than any release (`2.27` < `2.27-0.4`), so two builds are never taken for the
 * same one. Where a feed's bound names every release of a version, use
 * `rpmSatisfies`, rpm's own reading of dependency ranges, instead.
 */
export function compareRpmEvr(a: string, b: string): Comparison {
  const x = parseRpmEvr(a);
  const y = parseRpmEvr(b);
  return compareParts(x.epoch ?? '0', y.epoch ?? '0') || compareParts(x.version, y.version) || compareParts(x.release, y.release);
}

export type RpmOperator = '<' | '<=' | '>=' | '>' | '=';

const LESS = 1;
const GREATER = 2;
const EQUAL = 4;
const SENSE: Readonly<Record<RpmOperator, number>> = { '<': LESS, '<=': LESS | EQUAL, '=': EQUAL, '>=': GREATER | EQUAL, '>': GREATER };

const present = (part: string | null): part is string => part !== null && part !== '';

/**
 * Whether the package `evr` (what it provides, `= evr`) satisfies `operator bound` the way
 * rpm matches a versioned dependency (rpmverOverlap): a bound written without a release
 * stands for every release of its version when the operator includes equality, so
 * `<= 2.27` holds for 2.27-0.4, while `< 2.27` does not. Affected ranges are such
 * bounds: introduced (>=), fixed (<), last affected (<=).
 */
export function rpmSatisfies(evr: string, operator: RpmOperator, bound: string): boolean {
  const x = parseRpmEvr(evr);
  const y = parseRpmEvr(bound);
  const f1 = EQUAL;
  const f2 = SENSE[operator];
  let sense: number = 0;
  if (present(x.epoch) && present(y.epoch)) sense = rpmvercmp(x.epoch, y.epoch);
  else if (present(x.epoch) && BigInt(x.epoch) > 0n) sense = 1;
  else if (present(y.epoch) && BigInt(y.epoch) > 0n) sense = -1;
  if (sense === 0) {
    sense = rpmvercmp(x.version, y.version);
    if (sense === 0) {
      if (present(x.release) && present(y.release)) sense = rpmvercmp(x.release, y.release);
      else if ((present(x.release) && (f2 & EQUAL) !== 0) || (present(y.release) && (f1 & EQUAL) !== 0)) return true;
    }
  }
  if (sense < 0) return (f1 & GREATER) !== 0 || (f2 & LESS) !== 0;
  if (sense > 0) return (f1 & LESS) !== 0 || (f2 & GREATER) !== 0;
  return ((f1 & EQUAL) !== 0 && (f2 & EQUAL) !== 0) || ((f1 & LESS) !== 0 && (f2 & LESS) !== 0) || ((f1 & GREATER) !== 0 && (f2 & GREATER) !== 0);
}
