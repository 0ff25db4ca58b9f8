// Byte sizes as people write them in settings and flags (`16GiB`, `512 MiB`, `20GB`, or
// plain bytes) and as messages show them. Binary units are powers of 1024, decimal units
// powers of 1000, as their names say; a bare number is bytes.

const UNITS: Readonly<Record<string, number>> = {
  b: 1,
  k: 1024, kb: 1000, kib: 1024,
  m: 1024 ** 2, mb: 1000 ** 2, mib: 1024 ** 2,
  g: 1024 ** 3, gb: 1000 ** 3, gib: 1024 ** 3,
  t: 1024 ** 4, tb: 1000 ** 4, tib: 1024 ** 4,
};

/** Bytes from `123`, `64MiB`, `1.5 GiB`, `20GB`; null when it is not a size (or not a whole, safe number of bytes). */
export function parseSize(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  if (!match) return null;
  const factor = UNITS[match[2]!.toLowerCase() || 'b'];
  if (factor === undefined) return null;
  const bytes = Number(match[1]) * factor;
  return Number.isSafeInteger(bytes) ? bytes : null;
}

/**
 * A byte count for people, in binary units. A measured amount (the default) shows one
 * decimal past bytes: `1000 B`, `4.0 MiB`, `1.5 GiB`. A limit (`{ limit: true }`) reads as
 * it was configured when it is a whole number of its unit (`64 MiB`), and is otherwise
 * rounded down to a tenth (`1.9 GiB`), so "more than 1.9 GiB" is never an overstatement;
 * under 10 KiB it stays in bytes.
 */
export function formatBytes(bytes: number, options: { readonly limit?: boolean } = {}): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  if (options.limit !== true) return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
  if (Number.isInteger(value)) return `${value} ${units[unit]}`;
  if (unit === 1 && bytes < 10 * 1024) return `${bytes} B`;
  return `${(Math.floor(value * 10) / 10).toFixed(1)} ${units[unit]}`;
}
