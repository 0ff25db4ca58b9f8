// Alpine's version order (apk-tools, src/version.c): digit{.digit}...{letter}{_suffix{#}}...
// {~hash}{-r#}. Tokens are compared in turn; where one version runs out first the other is
// newer, unless what it continues with is a pre-release suffix (_alpha, _beta, _pre, _rc).
// A version that leaves the grammar compares equal up to that point and then sorts below
// any valid continuation, which upstream documents as the invalid-version fallback
// (`1.0 < 1.0bc`): the order stays total and deterministic for malformed input.
import type { Comparison } from './compare-versions.ts';

// Token kinds in grammar order: a version may only move forward through them (several
// digits and suffixes in a row excepted).
const DIGIT = 1;
const LETTER = 2;
const SUFFIX = 3;
const HASH = 5;
const REVISION = 6;
const END = 7;
const INVALID = 8;

// Suffix ranks: pre-releases sort before the bare version (0), post-releases after.
const SUFFIXES: Readonly<Record<string, number>> = { alpha: -4, beta: -3, pre: -2, rc: -1, cvs: 1, svn: 2, git: 3, hg: 4, p: 5 };

interface Token {
  readonly kind: number;
  /** The digits, letter or hash text. */
  readonly text: string;
  /** For suffixes: the rank and the optional number. */
  readonly rank: number;
  readonly number: string;
}

function tokenize(version: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const take = (pattern: RegExp): string => {
    const start = i;
    while (i < version.length && pattern.test(version[i]!)) i++;
    return version.slice(start, i);
  };
  const invalid = (): Token[] => {
    tokens.push({ kind: INVALID, text: '', rank: 0, number: '' });
    return tokens;
  };
  const first = take(/[0-9]/);
  if (first === '') return invalid();
  tokens.push({ kind: DIGIT, text: first, rank: 0, number: '' });
  let last = DIGIT;
  while (i < version.length) {
    const c = version[i]!;
    if (c >= 'a' && c <= 'z') {
      if (last > DIGIT) return invalid();
      i++;
      tokens.push({ kind: LETTER, text: c, rank: 0, number: '' });
      last = LETTER;
    } else if (c === '.') {
      if (last > DIGIT) return invalid();
      i++;
      const digits = take(/[0-9]/);
      if (digits === '') return invalid();
      tokens.push({ kind: DIGIT, text: digits, rank: 0, number: '' });
      last = DIGIT;
    } else if (c === '_') {
      if (last > SUFFIX) return invalid();
      i++;
      const name = take(/[a-z]/);
      const rank = SUFFIXES[name];
      if (rank === undefined) return invalid();
      tokens.push({ kind: SUFFIX, text: name, rank, number: take(/[0-9]/) });
      last = SUFFIX;
    } else if (c === '~') {
      if (last >= HASH) return invalid();
      i++;
      const hash = take(/[0-9a-f]/);
      if (hash === '') return invalid();
      tokens.push({ kind: HASH, text: hash, rank: 0, number: '' });
      last = HASH;
    } else if (c === '-' && version[i + 1] === 'r') {
      if (last >= REVISION) return invalid();
      i += 2;
      const digits = take(/[0-9]/);
      if (digits === '') return invalid();
      tokens.push({ kind: REVISION, text: digits, rank: 0, number: '' });
      last = REVISION;
    } else {
      return invalid();
    }
  }
  tokens.push({ kind: END, text: '', rank: 0, number: '' });
  return tokens;
}

function sign(value: number): Comparison {
  return value < 0 ? -1 : value > 0 ? 1 : 0;
}

function compareStrings(a: string, b: string): Comparison {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareNumbers(a: string, b: string): Comparison {
  const x = a.replace(/^0+/, '');
  const y = b.replace(/^0+/, '');
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return compareStrings(x, y);
}

function compareTokens(a: Token, b: Token, first: boolean): Comparison {
  switch (a.kind) {
    case DIGIT:
      // After a dot, a component with a leading zero is a fraction: compared as text
      // (1.01 < 1.1). The first component is always a number.
      if (!first && ((a.text.length > 1 && a.text[0] === '0') || (b.text.length > 1 && b.text[0] === '0'))) return compareStrings(a.text, b.text);
      return compareNumbers(a.text, b.text);
    case REVISION:
      return compareNumbers(a.text, b.text);
    case LETTER:
    case HASH:
      return compareStrings(a.text, b.text);
    case SUFFIX:
      if (a.rank !== b.rank) return sign(a.rank - b.rank);
      return compareNumbers(a.number || '0', b.number || '0');
    default:
      return 0;
  }
}

export function isValidApk(version: string): boolean {
  return tokenize(version).at(-1)!.kind === END;
}

export function compareApk(a: string, b: string): Comparison {
  const x = tokenize(a);
  const y = tokenize(b);
  let i = 0;
  while (x[i]!.kind === y[i]!.kind && x[i]!.kind < END) {
    const result = compareTokens(x[i]!, y[i]!, i === 0);
    if (result !== 0) return result;
    i++;
  }
  const p = x[i]!;
  const q = y[i]!;
  if (p.kind === q.kind) return 0;
  // One ran out (or moved on to a later part) first: that one is older, unless the
  // other continues with a pre-release suffix.
  if (p.kind === SUFFIX && p.rank < 0) return -1;
  if (q.kind === SUFFIX && q.rank < 0) return 1;
  return p.kind > q.kind ? -1 : 1;
}
