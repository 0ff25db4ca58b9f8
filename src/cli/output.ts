// How the commands print for people: the one table layout (`custody admin`, `logs`,
// `images`, `scan`, `errata`, `grade`, `vulndb status`). Byte counts are formatted by
// `formatBytes` in src/core/size.ts, which the server and the domain's messages share.

/** ANSI colour escapes (`custody scan` paints severities): they take no room on a terminal. */
const ANSI_ESCAPE = /\x1b\[[0-9;]*m/g;

function visibleWidth(cell: string): number {
  return cell.replace(ANSI_ESCAPE, '').length;
}

export interface TableOptions {
  /** Cells of every column but the last are cut to this many characters, ending with "…". */
  readonly maxColumnWidth?: number;
}

/**
 * Rows (the headings first) as columns two spaces apart. The last column is not padded,
 * so a long value there (a description, a target) does not widen the table, and no line
 * ends with blanks. No final newline: callers place the table among their lines.
 */
export function table(rows: readonly (readonly string[])[], options: TableOptions = {}): string {
  const cap = options.maxColumnWidth ?? Infinity;
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, column) => (widths[column] = Math.max(widths[column] ?? 0, visibleWidth(cell))));
  for (let column = 0; column < widths.length; column++) widths[column] = Math.min(cap, widths[column]!);
  const line = (row: readonly string[]): string =>
    row
      .map((cell, column) => {
        if (column === row.length - 1) return cell;
        const width = widths[column]!;
        const shown = visibleWidth(cell) > width ? `${cell.slice(0, width - 1)}…` : cell;
        return shown + ' '.repeat(Math.max(0, width - visibleWidth(shown)));
      })
      .join('  ')
      .trimEnd();
  return rows.map(line).join('\n');
}
