/**
 * The implementation matrix: which implementation passes which section, with versions. The
 * conformance tests write it as JSON (test/conformance/results/matrix.json); `renderMatrix`
 * turns it into an HTML table the site can embed.
 */
import { escapeXml } from '../output/junit.js';
import { SECTION_ORDER } from './cases.js';
import { FRONTEND_SECTION_ORDER } from './frontend/cases.js';
import type { Cell, Matrix, MatrixRow, SectionResult } from '@vhost-user/generator/matrix-format';
import type { CaseResult, Outcome } from './model.js';

export type { Cell, Matrix, MatrixRow, SectionResult } from '@vhost-user/generator/matrix-format';

/** A section's cell: fail if any case fails, else known-divergence if any, else pass (skip when nothing ran). */
export function sectionCell(outcomes: Outcome[]): Cell {
  if (outcomes.includes('fail')) return 'fail';
  if (outcomes.includes('known-divergence')) return 'known-divergence';
  if (outcomes.includes('pass')) return 'pass';
  return 'skip';
}

const ORDER: Record<MatrixRow['mode'], string[]> = { backend: SECTION_ORDER, frontend: FRONTEND_SECTION_ORDER };

export function matrixRow(
  implementation: string,
  version: string,
  results: readonly CaseResult[],
  device?: string,
  mode: MatrixRow['mode'] = 'backend',
): MatrixRow {
  const sections: MatrixRow['sections'] = {};
  for (const section of ORDER[mode]) {
    const rs = results.filter((r) => r.section === section);
    if (rs.length === 0) continue;
    const count = (o: Outcome) => rs.filter((r) => r.outcome === o).length;
    sections[section] = {
      cell: sectionCell(rs.map((r) => r.outcome)),
      pass: count('pass'),
      fail: count('fail'),
      knownDivergence: count('known-divergence'),
      skip: count('skip'),
      failing: rs.filter((r) => r.outcome === 'fail').map((r) => `${r.level} ${r.id}`),
    };
    const notRun = count('not-run');
    if (notRun) (sections[section] as SectionResult).notRun = notRun;
    const stale = rs.filter((r) => r.stale).map((r) => r.id);
    if (stale.length) (sections[section] as SectionResult).stale = stale;
  }
  return {
    implementation,
    version,
    mode,
    device,
    sections,
    mustHold: results.every((r) => r.level !== 'MUST' || r.outcome !== 'fail'),
    complete: results.every((r) => r.outcome !== 'not-run'),
  };
}

const SYMBOL: Record<Cell, string> = {
  pass: '✔ pass',
  fail: '✘ fail',
  'known-divergence': '≈ known divergence',
  skip: '– not run',
};

const HEADING: Record<MatrixRow['mode'], string> = {
  backend: 'Back-ends (the suite drives them as a front-end: <code>--backend</code>)',
  frontend: 'Front-ends (the suite serves them a device: <code>--frontend</code>)',
};

function table(rows: MatrixRow[], sections: string[]): string {
  const head = `<tr><th>implementation</th><th>version</th>${sections.map((s) => `<th>${escapeXml(s)}</th>`).join('')}<th>all MUST</th></tr>`;
  const body = rows.map((row) => {
    const cells = sections.map((s) => {
      const c = row.sections[s];
      if (!c) return '<td class="cell-skip">–</td>';
      const notes = [...c.failing, ...(c.stale ?? []).map((id) => `stale expectation: ${id}`)];
      const title = notes.length ? ` title="${escapeXml(notes.join('\n'))}"` : '';
      const flags = [
        c.stale?.length ? ` <span class="stale">⚠ ${c.stale.length} stale</span>` : '',
        c.notRun ? ` <span class="not-run">${c.notRun} not run</span>` : '',
      ].join('');
      return `<td class="cell-${c.cell}"${title}>${SYMBOL[c.cell]} <small>${c.pass}/${c.pass + c.fail + c.knownDivergence}</small>${flags}</td>`;
    });
    return `<tr><th scope="row">${escapeXml(row.implementation)}</th><td>${escapeXml(row.version)}</td>${cells.join('')}<td class="cell-${row.mustHold ? 'pass' : 'fail'}">${row.mustHold ? '✔' : '✘'}${row.complete === false ? ' (incomplete: the peer exited)' : ''}</td></tr>`;
  });
  return `<table class="matrix">\n<thead>${head}</thead>\n<tbody>\n${body.join('\n')}\n</tbody>\n</table>`;
}

/** HTML tables, one per mode (a fragment; class names `matrix`, `cell-pass`, `cell-fail`, ...). */
export function renderMatrix(matrix: Matrix): string {
  const parts: string[] = [];
  for (const mode of ['backend', 'frontend'] as const) {
    const rows = matrix.rows.filter((r) => (r.mode ?? 'backend') === mode);
    if (rows.length === 0) continue;
    const sections = ORDER[mode].filter((s) => rows.some((r) => r.sections[s]));
    parts.push(`<h2>${HEADING[mode]}</h2>\n${table(rows, sections)}`);
  }
  return `${parts.join('\n')}\n<p>Generated ${escapeXml(matrix.generated)} by <code>vhost-user conformance</code>.</p>\n`;
}
