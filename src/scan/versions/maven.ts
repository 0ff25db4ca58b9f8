// Maven's version order, as Maven 3.9's ComparableVersion defines it (maven-artifact,
// org.apache.maven.artifact.versioning; the behaviour of Maven 3.9.16, the current
// release line, checked against the cases of its own ComparableVersionTest in
// test/vectors/maven-3.9.16-comparable-version.tsv). A version is parsed into a list of
// items: numbers, qualifiers and sub-lists. `.` separates items of one list; `-` and a
// change between digits and letters open a sub-list (so `1-1` is [1, [1]] and `1.0a1` is
// [1, [alpha, [1]]]); a qualifier after a dot is read as after a dash (`1.0.0.RC1` <
// `1.0.0-RC2`). Trailing "null" items (0, the release qualifier, empty lists) are dropped
// from each list. Known qualifiers order alpha < beta < milestone < rc = cr < snapshot <
// (release: "", ga, final, release) < sp, then unknown ones as text; one letter followed
// by a digit abbreviates alpha, beta or milestone. Numbers order numerically; a number is
// newer than any qualifier or sub-list at the same place, and a sub-list newer than a
// qualifier. Comparison is case-insensitive.
import type { Comparison } from './compare-versions.ts';

/** Numbers are kept as Maven keeps them: the kind (int up to 9 digits, long up to 18,
 * BigInteger beyond, counted after leading zeros) orders before the value, which only
 * matters for digits other than ASCII ones, which Java's Character.isDigit also accepts. */
type NumberKind = 0 | 1 | 2;

type Item =
  | { readonly type: 'number'; readonly kind: NumberKind; readonly value: bigint }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'list'; readonly items: Item[] };

const QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const ALIASES: Readonly<Record<string, string>> = { ga: '', final: '', release: '', cr: 'rc' };
const RELEASE_INDEX = String(QUALIFIERS.indexOf(''));

/** A qualifier's sort key: known ones by rank, unknown ones after all of them, as text. */
function comparableQualifier(qualifier: string): string {
  const index = QUALIFIERS.indexOf(qualifier);
  return index === -1 ? `${QUALIFIERS.length}-${qualifier}` : String(index);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const DECIMAL_DIGIT = /^\p{Nd}$/u;

/** Java's Character.isDigit on one UTF-16 code unit. */
function isDigit(unit: string): boolean {
  return unit >= '0' && unit <= '9' ? true : unit > '\u007f' && DECIMAL_DIGIT.test(unit);
}

/** The value of a decimal digit: Unicode lays each script's digits out as one run of ten,
 * zero first, so the offset within the run of digits it belongs to gives it. */
function digitValue(unit: string): number {
  if (unit >= '0' && unit <= '9') return unit.charCodeAt(0) - 48;
  let offset = 0;
  for (let code = unit.charCodeAt(0) - 1; offset < 10 && DECIMAL_DIGIT.test(String.fromCharCode(code)); code--) offset++;
  return offset % 10;
}

function numberItem(digits: string): Item {
  // Maven strips ASCII zeros only (and keeps an all-zero run as it is) before choosing
  // the number's kind by its length.
  const stripped = digits === '' ? '0' : /^0*$/.test(digits) ? digits : digits.replace(/^0+/, '');
  let value = 0n;
  for (const unit of stripped) value = value * 10n + BigInt(digitValue(unit));
  const kind: NumberKind = stripped.length <= 9 ? 0 : stripped.length <= 18 ? 1 : 2;
  return { type: 'number', kind, value };
}

function stringItem(text: string, followedByDigit: boolean): Item {
  let value = text;
  if (followedByDigit && value.length === 1) value = value === 'a' ? 'alpha' : value === 'b' ? 'beta' : value === 'm' ? 'milestone' : value;
  return { type: 'string', value: ALIASES[value] ?? value };
}

function parseItem(digits: boolean, text: string): Item {
  return digits ? numberItem(text) : stringItem(text, false);
}

function isNull(item: Item): boolean {
  switch (item.type) {
    case 'number': return item.value === 0n;
    case 'string': return comparableQualifier(item.value) === RELEASE_INDEX;
    case 'list': return item.items.length === 0;
  }
}

/** Drops trailing null items; a non-empty sub-list does not stop the scan. */
function normalize(list: Item[]): void {
  for (let i = list.length - 1; i >= 0; i--) {
    const item = list[i]!;
    if (isNull(item)) list.splice(i, 1);
    else if (item.type !== 'list') break;
  }
}

/** The item list of a version, as ComparableVersion.parseVersion builds it. */
function parse(version: string): Item[] {
  const text = version.toLowerCase();
  const root: Item[] = [];
  let list = root;
  const stack: Item[][] = [root];
  const openList = (): void => {
    const child: Item[] = [];
    list.push({ type: 'list', items: child });
    list = child;
    stack.push(child);
  };
  let digits = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text[i]!;
    if (unit === '.' || unit === '-') {
      list.push(i === start ? numberItem('0') : parseItem(digits, text.slice(start, i)));
      start = i + 1;
      if (unit === '-') openList();
    } else if (isDigit(unit)) {
      if (!digits && i > start) {
        // A qualifier followed by digits: `.X1` reads as `-X1`.
        if (list.length > 0) openList();
        list.push(stringItem(text.slice(start, i), true));
        start = i;
        openList();
      }
      digits = true;
    } else {
      if (digits && i > start) {
        list.push(parseItem(true, text.slice(start, i)));
        start = i;
        openList();
      }
      digits = false;
    }
  }
  if (text.length > start) {
    if (!digits && list.length > 0) openList();
    list.push(parseItem(digits, text.slice(start)));
  }
  while (stack.length > 0) normalize(stack.pop()!);
  return root;
}

function compareToNull(item: Item): number {
  switch (item.type) {
    case 'number': return item.value === 0n ? 0 : 1;
    case 'string': return compareText(comparableQualifier(item.value), RELEASE_INDEX);
    case 'list':
      for (const child of item.items) {
        const result = compareToNull(child);
        if (result !== 0) return result;
      }
      return 0;
  }
}

function compareLists(left: readonly Item[], right: readonly Item[]): number {
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const l = left[i];
    const r = right[i];
    const result = l === undefined ? (r === undefined ? 0 : -compareToNull(r)) : r === undefined ? compareToNull(l) : compareItems(l, r);
    if (result !== 0) return result;
  }
  return 0;
}

function compareItems(a: Item, b: Item): number {
  switch (a.type) {
    case 'number':
      if (b.type === 'number') return a.kind !== b.kind ? a.kind - b.kind : a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
      return 1; // 1.1 > 1-sp, 1.1 > 1-1
    case 'string':
      if (b.type === 'string') return compareText(comparableQualifier(a.value), comparableQualifier(b.value));
      return -1; // 1.any < 1.1, 1.any < 1-1
    case 'list':
      if (b.type === 'list') return compareLists(a.items, b.items);
      return b.type === 'number' ? -1 : 1; // 1-1 < 1.0.x, 1-1 > 1-sp
  }
}

export function compareMaven(a: string, b: string): Comparison {
  const result = compareLists(parse(a), parse(b));
  return result < 0 ? -1 : result > 0 ? 1 : 0;
}

function canonicalOf(items: readonly Item[]): string {
  let out = '';
  for (const item of items) {
    if (out !== '') out += item.type === 'list' ? '-' : '.';
    out += item.type === 'list' ? canonicalOf(item.items) : String(item.value);
  }
  return out;
}

/** ComparableVersion.getCanonical: the parsed form written back (`1.0-alpha1` → `1-alpha-1`). */
export function canonicalMaven(version: string): string {
  return canonicalOf(parse(version));
}

export function isValidMaven(version: string): boolean {
  return /^[0-9A-Za-z][0-9A-Za-z._-]*$/.test(version.trim());
}
