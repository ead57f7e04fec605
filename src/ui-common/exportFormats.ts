/**
 * Text exports of charts and tables: CSV (RFC 4180), Markdown (GFM tables) and LaTeX (booktabs).
 */

/** A table ready for export: header cells, body rows and, per body cell, whether it is bold (best). */
export interface TextTable {
  header: string[];
  rows: string[][];
  /** Column alignment; default: first column left, the others right. */
  align?: ('l' | 'r')[];
  bold?: boolean[][];
  caption?: string;
}

export interface Series {
  name: string;
  points: readonly { x: number; y: number }[];
}

export function csvCell(value: string | number | undefined | null): string {
  if (value === undefined || value === null) return '';
  const s = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : value;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(header: readonly string[], rows: readonly (readonly (string | number | undefined | null)[])[]): string {
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
}

/** Curves as one CSV: a column for x (`step`) and one per series, joined on x. */
export function seriesToCsv(series: readonly Series[], xName = 'step'): string {
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const lookups = series.map((s) => new Map(s.points.map((p) => [p.x, p.y])));
  const rows = xs.map((x) => [x, ...lookups.map((m) => m.get(x))]);
  return toCsv([xName, ...series.map((s) => s.name)], rows);
}

function alignments(t: TextTable): ('l' | 'r')[] {
  return t.align ?? t.header.map((_, i) => (i === 0 ? 'l' : 'r'));
}

function markdownCell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function toMarkdownTable(t: TextTable): string {
  const rule = alignments(t).map((a) => (a === 'r' ? '---:' : ':---'));
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  const body = t.rows.map((r, i) => line(r.map((c, j) => (t.bold?.[i]?.[j] && c ? `**${markdownCell(c)}**` : markdownCell(c)))));
  const caption = t.caption ? `${markdownCell(t.caption)}\n\n` : '';
  return caption + [line(t.header.map(markdownCell)), line(rule), ...body].join('\n') + '\n';
}

const LATEX_SPECIALS: Record<string, string> = {
  '\\': '\\textbackslash{}',
  '&': '\\&',
  '%': '\\%',
  $: '\\$',
  '#': '\\#',
  _: '\\_',
  '{': '\\{',
  '}': '\\}',
  '~': '\\textasciitilde{}',
  '^': '\\textasciicircum{}',
  '±': '$\\pm$',
  '−': '$-$',
  '—': '--',
  'Δ': '$\\Delta$',
};

export function latexEscape(s: string): string {
  return s.replace(/[\\&%$#_{}~^±−—Δ]/g, (c) => LATEX_SPECIALS[c] ?? c);
}

export function toLatexTable(t: TextTable): string {
  const cols = alignments(t).join('');
  const row = (cells: string[]): string => `    ${cells.join(' & ')} \\\\`;
  const body = t.rows.map((r, i) => row(r.map((c, j) => (t.bold?.[i]?.[j] && c ? `\\textbf{${latexEscape(c)}}` : latexEscape(c)))));
  const lines = [
    '\\begin{table}[t]',
    '  \\centering',
    ...(t.caption ? [`  \\caption{${latexEscape(t.caption)}}`] : []),
    `  \\begin{tabular}{${cols}}`,
    '    \\toprule',
    row(t.header.map(latexEscape)),
    '    \\midrule',
    ...body,
    '    \\bottomrule',
    '  \\end{tabular}',
    '\\end{table}',
  ];
  return lines.join('\n') + '\n';
}
