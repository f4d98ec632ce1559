/**
 * A byte-layout diagram of a struct: rows of eight bytes, each field a box spanning its bytes.
 * Long arrays are folded into one row, so a 256-byte buffer does not take 32 rows.
 */
import type { Element } from 'hast';
import { h } from 'hastscript';

export interface DiagramField {
  name: string;
  offset: number;
  /** Bytes, or undefined for a variable-length tail. */
  size: number | undefined;
  padding?: boolean;
  extension?: boolean;
}

interface Cell {
  span: number;
  label: string;
  kind: 'field' | 'padding' | 'extension' | 'gap' | 'variable';
}
interface Row {
  label: string;
  cells: Cell[];
}

const ROW = 8;
/** Fields longer than this are folded. */
const FOLD_AFTER = 3 * ROW;

function kindOf(field: DiagramField): Cell['kind'] {
  if (field.padding) return 'padding';
  if (field.extension) return 'extension';
  return 'field';
}

/** Splits [start, end) into boxes at row boundaries, folding the middle of long runs. */
function place(rows: Row[], start: number, end: number, label: string, kind: Cell['kind']): void {
  const rowAt = (offset: number): Row => {
    const key = String(offset - (offset % ROW));
    let row = rows[rows.length - 1];
    if (!row || row.label !== key) {
      row = { label: key, cells: [] };
      rows.push(row);
    }
    return row;
  };
  let pos = start;
  const firstRowEnd = Math.min(end, pos - (pos % ROW) + ROW);
  if (end - start > FOLD_AFTER) {
    if (pos % ROW !== 0) {
      rowAt(pos).cells.push({ span: firstRowEnd - pos, label, kind });
      pos = firstRowEnd;
    }
    const lastRowStart = end - (end % ROW);
    if (lastRowStart > pos) {
      rows.push({
        label: `${pos}–${lastRowStart - 1}`,
        cells: [{ span: ROW, label: `${label} · ${end - start} bytes`, kind }],
      });
      pos = lastRowStart;
    }
    if (end > pos) rowAt(pos).cells.push({ span: end - pos, label, kind });
    return;
  }
  while (pos < end) {
    const rowEnd = Math.min(end, pos - (pos % ROW) + ROW);
    rowAt(pos).cells.push({ span: rowEnd - pos, label, kind });
    pos = rowEnd;
  }
}

export function byteDiagram(title: string, fields: DiagramField[]): Element {
  const rows: Row[] = [];
  let pos = 0;
  for (const field of [...fields].sort((a, b) => a.offset - b.offset)) {
    if (field.offset > pos) place(rows, pos, field.offset, 'gap', 'gap');
    if (field.size === undefined) {
      if (pos % ROW !== 0) place(rows, field.offset, field.offset + (ROW - (pos % ROW)), `${field.name}…`, 'variable');
      else
        rows.push({
          label: String(field.offset),
          cells: [{ span: ROW, label: `${field.name} … (variable length)`, kind: 'variable' }],
        });
      pos = Number.POSITIVE_INFINITY;
      break;
    }
    place(rows, field.offset, field.offset + field.size, field.name, kindOf(field));
    pos = field.offset + field.size;
  }
  return h('div', { className: ['bytes'], role: 'img', ariaLabel: `Byte layout of ${title}` }, [
    h('div', { className: ['bytes-row', 'bytes-scale'], ariaHidden: 'true' }, [
      h('span', { className: ['bytes-off'] }, 'byte'),
      ...Array.from({ length: ROW }, (_, i) => h('span', { className: ['bytes-index'] }, String(i))),
    ]),
    ...rows.map((row) =>
      h('div', { className: ['bytes-row'] }, [
        h('span', { className: ['bytes-off'] }, row.label),
        ...row.cells.map((cell) =>
          h(
            'span',
            { className: ['cell', `cell-${cell.kind}`], style: `grid-column: span ${cell.span}`, title: cell.label },
            cell.label,
          ),
        ),
      ]),
    ),
  ]);
}
