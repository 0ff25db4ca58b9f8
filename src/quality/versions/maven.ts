// Maven's version order (ComparableVersion, simplified): items split at `.`, `-` and
// digit/letter changes; numbers compare numerically; known qualifiers order
// alpha < beta < milestone < rc < snapshot < (release) < sp, unknown ones after, as text;
// trailing zeros and release qualifiers (ga, final, release) do not count.
import type { Comparison } from './compare-versions.ts';

const QUALIFIERS: Readonly<Record<string, number>> = { alpha: 0, a: 0, beta: 1, b: 1, milestone: 2, m: 2, rc: 3, cr: 3, snapshot: 4, '': 5, ga: 5, final: 5, release: 5, sp: 6 };

type Item = number | string;

function items(version: string): Item[] {
  const parts = version.trim().toLowerCase().match(/\d+|[a-z]+/g) ?? [];
  const result: Item[] = parts.map((part) => (/^\d/.test(part) ? Number(part) : part));
  while (result.length > 0 && (result.at(-1) === 0 || QUALIFIERS[result.at(-1) as string] === 5)) result.pop();
  return result;
}

function compareItem(a: Item | undefined, b: Item | undefined): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  // A missing item is 0 against numbers and the release qualifier against strings.
  if (a === undefined) return typeof b === 'number' ? -(b as number) : -compareItem(b, undefined);
  if (b === undefined) return typeof a === 'number' ? a : rank(a) - 5 || 1;
  if (typeof a === 'number') return 1;
  if (typeof b === 'number') return -1;
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  return a < b ? -1 : a > b ? 1 : 0;
}

function rank(qualifier: string): number {
  return QUALIFIERS[qualifier] ?? 7;
}

export function compareMaven(a: string, b: string): Comparison {
  const x = items(a);
  const y = items(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const result = compareItem(x[i], y[i]);
    if (result !== 0) return result < 0 ? -1 : 1;
  }
  return 0;
}

export function isValidMaven(version: string): boolean {
  return /^[0-9A-Za-z][0-9A-Za-z._-]*$/.test(version.trim());
}
