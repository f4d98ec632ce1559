/**
 * The implementation matrix: which implementation passes which section, with versions. The
 * conformance tests write it as JSON (test/conformance/results/matrix.json); `renderMatrix`
 * turns it into an HTML table the site can embed.
 */
import { escapeXml } from '../output/junit.js';
import { SECTION_ORDER } from './cases.js';
import type { CaseResult, Outcome } from './model.js';

export type Cell = 'pass' | 'fail' | 'known-divergence' | 'skip';

export interface MatrixRow {
  implementation: string;
  version: string;
  /** What the suite drove: back-end mode, and the device profile used for data-path cases. */
  mode: 'backend' | 'frontend';
  device?: string;
  sections: Record<string, { cell: Cell; pass: number; fail: number; knownDivergence: number; skip: number; failing: string[] }>;
  mustHold: boolean;
}

export interface Matrix {
  format: 1;
  generated: string;
  sections: string[];
  rows: MatrixRow[];
}

/** A section's cell: fail if any case fails, else known-divergence if any, else pass (skip when nothing ran). */
export function sectionCell(outcomes: Outcome[]): Cell {
  if (outcomes.includes('fail')) return 'fail';
  if (outcomes.includes('known-divergence')) return 'known-divergence';
  if (outcomes.includes('pass')) return 'pass';
  return 'skip';
}

export function matrixRow(implementation: string, version: string, results: readonly CaseResult[], device?: string): MatrixRow {
  const sections: MatrixRow['sections'] = {};
  for (const section of SECTION_ORDER) {
    const rs = results.filter((r) => r.section === section);
    if (rs.length === 0) continue;
    const count = (o: Outcome) => rs.filter((r) => r.outcome === o).length;
    sections[section] = { cell: sectionCell(rs.map((r) => r.outcome)), pass: count('pass'), fail: count('fail'), knownDivergence: count('known-divergence'), skip: count('skip'), failing: rs.filter((r) => r.outcome === 'fail').map((r) => `${r.level} ${r.id}`) };
  }
  return { implementation, version, mode: 'backend', device, sections, mustHold: results.every((r) => r.level !== 'MUST' || r.outcome !== 'fail') };
}

const SYMBOL: Record<Cell, string> = { pass: '✔ pass', fail: '✘ fail', 'known-divergence': '≈ known divergence', skip: '– not run' };

/** An HTML table (a fragment; class names `matrix`, `cell-pass`, `cell-fail`, ...). */
export function renderMatrix(matrix: Matrix): string {
  const head = `<tr><th>implementation</th><th>version</th>${matrix.sections.map((s) => `<th>${escapeXml(s)}</th>`).join('')}<th>all MUST</th></tr>`;
  const rows = matrix.rows.map((row) => {
    const cells = matrix.sections.map((s) => {
      const c = row.sections[s];
      if (!c) return '<td class="cell-skip">–</td>';
      const title = c.failing.length ? ` title="${escapeXml(c.failing.join('\n'))}"` : '';
      return `<td class="cell-${c.cell}"${title}>${SYMBOL[c.cell]} <small>${c.pass}/${c.pass + c.fail + c.knownDivergence}</small></td>`;
    });
    return `<tr><th scope="row">${escapeXml(row.implementation)}</th><td>${escapeXml(row.version)}</td>${cells.join('')}<td class="cell-${row.mustHold ? 'pass' : 'fail'}">${row.mustHold ? '✔' : '✘'}</td></tr>`;
  });
  return `<table class="matrix">\n<thead>${head}</thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>\n<p>Generated ${escapeXml(matrix.generated)} by <code>vhost-user conformance</code>.</p>\n`;
}
