// Debian version order (deb-version(7), dpkg's verrevcmp): epoch, then upstream version,
// then Debian revision, each compared as alternating non-digit and digit runs where `~`
// sorts before everything (even the end of the string) and letters before other symbols.
import type { Comparison } from './compare-versions.ts';

export interface DpkgVersion {
  readonly epoch: number;
  readonly upstream: string;
  readonly revision: string;
}

export function parseDpkg(version: string): DpkgVersion {
  const text = version.trim();
  const colon = text.indexOf(':');
  const epoch = colon >= 0 ? Number.parseInt(text.slice(0, colon), 10) || 0 : 0;
  const rest = colon >= 0 ? text.slice(colon + 1) : text;
  const dash = rest.lastIndexOf('-');
  // No revision compares as an empty one, which dpkg treats as "0"-equivalent.
  return dash >= 0 ? { epoch, upstream: rest.slice(0, dash), revision: rest.slice(dash + 1) } : { epoch, upstream: rest, revision: '' };
}

export function isValidDpkg(version: string): boolean {
  const text = version.trim();
  if (text === '' || /\s/.test(text)) return false;
  const colon = text.indexOf(':');
  if (colon >= 0 && !/^\d+$/.test(text.slice(0, colon))) return false;
  const { upstream, revision } = parseDpkg(text);
  if (!/^\d/.test(upstream)) return false;
  if (!/^[A-Za-z0-9.+~:-]*$/.test(upstream)) return false;
  return /^[A-Za-z0-9.+~]*$/.test(revision);
}

function order(char: string | undefined): number {
  if (char === undefined) return 0;
  if (char === '~') return -1;
  if (/[0-9]/.test(char)) return 0;
  if (/[A-Za-z]/.test(char)) return char.charCodeAt(0);
  return char.charCodeAt(0) + 256;
}

function isDigit(char: string | undefined): boolean {
  return char !== undefined && char >= '0' && char <= '9';
}

/** dpkg's verrevcmp on one part (upstream or revision). */
export function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const ac = order(a[i]);
      const bc = order(b[j]);
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    while (isDigit(a[i]) && isDigit(b[j])) {
      if (firstDiff === 0) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a[i])) return 1;
    if (isDigit(b[j])) return -1;
    if (firstDiff !== 0) return firstDiff;
  }
  return 0;
}

export function compareDpkg(a: string, b: string): Comparison {
  const x = parseDpkg(a);
  const y = parseDpkg(b);
  if (x.epoch !== y.epoch) return x.epoch < y.epoch ? -1 : 1;
  const upstream = verrevcmp(x.upstream, y.upstream);
  if (upstream !== 0) return upstream < 0 ? -1 : 1;
  const revision = verrevcmp(x.revision, y.revision);
  return revision < 0 ? -1 : revision > 0 ? 1 : 0;
}
