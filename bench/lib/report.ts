// The results table: one row per metric with Distribution's and Custody's values, the
// ratio Custody/Distribution and a verdict, as plain text for the terminal and as Markdown.

export interface Row {
  readonly section: string;
  readonly metric: string;
  readonly unit: string;
  /** One value, or [p50, p99] for latency rows. Empty when the metric is Custody-only. */
  readonly distribution: readonly number[];
  readonly custody: readonly number[];
  /** true: higher is better; false: lower is better; null: informational (no verdict). */
  readonly higherIsBetter: boolean | null;
  readonly note?: string;
  /** What the "Distribution" column holds in this row, when it is something else (e.g. "skopeo"). */
  readonly baseline?: string;
}

/** Ratios within this band of 1.0 are reported as a tie (run-to-run noise is about this big). */
const TIE_BAND = 0.05;

export function ratios(row: Row): number[] {
  if (row.distribution.length === 0) return [];
  return row.custody.map((value, index) => value / row.distribution[index]!);
}

export type Verdict = 'better' | 'worse' | 'mixed' | '≈' | '';

export function verdict(row: Row): Verdict {
  if (row.higherIsBetter === null) return '';
  const values = ratios(row).filter((ratio) => Number.isFinite(ratio));
  if (values.length === 0) return '';
  const judged = values.map((ratio) => {
    if (Math.abs(ratio - 1) <= TIE_BAND) return 0;
    const custodyHigher = ratio > 1;
    return custodyHigher === row.higherIsBetter ? 1 : -1;
  });
  if (judged.every((value) => value === 0)) return '≈';
  if (judged.every((value) => value >= 0)) return 'better';
  if (judged.every((value) => value <= 0)) return 'worse';
  return 'mixed';
}

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  const magnitude = Math.abs(value);
  if (magnitude >= 1000) return Math.round(value).toLocaleString('en-US');
  if (magnitude >= 100) return value.toFixed(0);
  if (magnitude >= 10) return value.toFixed(1);
  if (magnitude >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

function cell(values: readonly number[]): string {
  return values.length === 0 ? '—' : values.map(formatNumber).join(' / ');
}

function ratioCell(row: Row): string {
  const values = ratios(row);
  return values.length === 0 ? '—' : values.map((ratio) => (Number.isFinite(ratio) ? ratio.toFixed(2) : 'n/a')).join(' / ');
}

function metricCell(row: Row): string {
  return `${row.metric} (${row.unit})`;
}

const HEADERS = ['metric', 'Distribution', 'Custody', 'Custody/Distribution', 'verdict'] as const;

function tableCells(rows: readonly Row[]): string[][] {
  return rows.map((row) => [metricCell(row), cell(row.distribution), cell(row.custody), ratioCell(row), verdict(row) + (row.note ? ` ${row.note}` : '')]);
}

/** A fixed-width table for the terminal, sections separated by a blank row. */
export function renderText(rows: readonly Row[]): string {
  const cells = tableCells(rows);
  const widths = HEADERS.map((header, column) => Math.max(header.length, ...cells.map((line) => line[column]!.length)));
  const line = (values: readonly string[]): string =>
    values.map((value, column) => (column === 0 || column === 4 ? value.padEnd(widths[column]!) : value.padStart(widths[column]!))).join('  ').trimEnd();
  const out = [line(HEADERS), widths.map((width) => '-'.repeat(width)).join('  ')];
  let section = '';
  rows.forEach((row, index) => {
    if (row.section !== section) {
      if (section !== '') out.push('');
      out.push(`[${row.section}]${row.baseline ? ` (the Distribution column is ${row.baseline}; ratio = Custody/${row.baseline})` : ''}`);
      section = row.section;
    }
    out.push(line(cells[index]!));
  });
  return out.join('\n');
}

export function renderMarkdown(rows: readonly Row[]): string {
  const escape = (text: string): string => text.replace(/\|/g, '\\|');
  const out: string[] = [];
  let section = '';
  const cells = tableCells(rows);
  rows.forEach((row, index) => {
    if (row.section !== section) {
      if (section !== '') out.push('');
      const headers = row.baseline ? ['metric', row.baseline, 'Custody', `Custody/${row.baseline}`, 'verdict'] : HEADERS;
      out.push(`### ${row.section}`, '', `| ${headers.join(' | ')} |`, '|---|---:|---:|---:|---|');
      section = row.section;
    }
    out.push(`| ${cells[index]!.map(escape).join(' | ')} |`);
  });
  return out.join('\n');
}
