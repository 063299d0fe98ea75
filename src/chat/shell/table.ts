import type { Table } from '../../messages/message.js';

const GAP = 2;
/** A column is never wrapped narrower than this (or its header's longest word, or its content if shorter). */
const MIN_COLUMN = 6;
/** A word longer than this does not hold its column wider: it is broken instead. */
const MAX_WORD = 20;

/** Terminal cells of a string: one per code point (labgate's tables hold no wide characters). */
const cells = (s: string) => [...s].length;

/** Splits text into lines of at most `width` cells, at spaces where it can, mid-word where it must. */
export function wrapText(text: string, width: number): string[] {
  if (cells(text) <= width) return [text];
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    let w = word;
    const candidate = line ? `${line} ${w}` : w;
    if (cells(candidate) <= width) {
      line = candidate;
      continue;
    }
    if (line) out.push(line);
    line = '';
    while (cells(w) > width) {
      out.push([...w].slice(0, width).join(''));
      w = [...w].slice(width).join('');
    }
    line = w;
  }
  if (line || !out.length) out.push(line);
  return out;
}

const longestWord = (s: string) => Math.max(0, ...s.split(' ').map(cells));

/** The narrowest a column may wrap to. */
function floorOf(column: string, values: string[], natural: number): number {
  const words = Math.min(MAX_WORD, Math.max(0, ...values.map(longestWord)));
  return Math.min(natural, Math.max(MIN_COLUMN, longestWord(column), words));
}

/** Widths that fill `budget` cells: every column keeps its floor, the rest goes to the narrowest first (water filling). */
function fill(natural: number[], floors: number[], budget: number): number[] {
  const widths = [...floors];
  let left = budget - widths.reduce((a, b) => a + b, 0);
  while (left > 0) {
    const open = widths.map((w, i) => (w < natural[i]! ? i : -1)).filter((i) => i >= 0);
    if (!open.length) break;
    const level = Math.min(...open.map((i) => widths[i]!));
    for (const i of open) {
      if (left === 0) break;
      if (widths[i] === level) {
        widths[i]!++;
        left--;
      }
    }
  }
  return widths;
}

export interface FittedTable {
  text: string;
  /** Columns left out to fit, in the order they were dropped. */
  dropped: string[];
}

/**
 * Lays a table out in `width` terminal columns. Stated order, so a reader knows what happens:
 * 1. a table that fits is printed as it is;
 * 2. otherwise cells wrap at spaces inside their column, the widest column narrowed first, none
 *    below its floor (its header's longest word, its longest word up to 20, at least 6);
 * 3. when even the floors do not fit, columns are left out: first those the table names in
 *    `dropOrder`, then from the right; the first column always stays. The caller says which.
 */
export function fitTable(t: Table, width?: number): FittedTable {
  let keep = t.columns.map((_, i) => i);
  const dropped: string[] = [];
  const order = [...(t.dropOrder ?? []).map((c) => t.columns.indexOf(c)).filter((i) => i > 0), ...t.columns.map((_, i) => t.columns.length - 1 - i).filter((i) => i > 0)];
  for (;;) {
    const columns = keep.map((i) => t.columns[i]!);
    const rows = t.rows.map((r) => keep.map((i) => r[i] ?? ''));
    const natural = columns.map((c, i) => Math.max(cells(c), ...rows.map((r) => cells(r[i]!))));
    const gaps = GAP * (columns.length - 1);
    const total = natural.reduce((a, b) => a + b, 0) + gaps;
    if (width === undefined || total <= width) return { text: layout(columns, rows, natural), dropped };
    const floors = columns.map((c, i) => floorOf(c, rows.map((r) => r[i]!), natural[i]!));
    if (floors.reduce((a, b) => a + b, 0) + gaps <= width || keep.length === 1) {
      const widths = keep.length === 1 ? [Math.max(1, width)] : fill(natural, floors, width - gaps);
      return { text: layout(columns, rows, widths), dropped };
    }
    const next = order.find((i) => keep.includes(i))!;
    keep = keep.filter((i) => i !== next);
    dropped.push(t.columns[next]!);
  }
}

function layout(columns: string[], rows: string[][], widths: number[]): string {
  const render = (row: string[]) => {
    const parts = row.map((c, i) => wrapText(c, widths[i]!));
    const height = Math.max(...parts.map((p) => p.length));
    return Array.from({ length: height }, (_, l) =>
      parts
        .map((p, i) => (i === parts.length - 1 ? (p[l] ?? '') : (p[l] ?? '').padEnd(widths[i]!)))
        .join(' '.repeat(GAP))
        .trimEnd(),
    ).join('\n');
  };
  const rule = widths.map((w) => '-'.repeat(w)).join(' '.repeat(GAP));
  // When rows wrap, a blank line between them shows where one row ends and the next begins.
  const wrapped = rows.some((r) => r.some((c, i) => cells(c) > widths[i]!));
  return [render(columns), rule, rows.map(render).join(wrapped ? '\n\n' : '\n')].join('\n');
}
