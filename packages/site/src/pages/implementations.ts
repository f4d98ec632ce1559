/**
 * The implementation matrix page: which implementation passes which section of `vhost-user
 * conformance`, with versions. It renders test/conformance/results/matrix.json (written by the
 * conformance peer tests) when the build finds it, else says how to produce it.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { ElementContent } from 'hast';
import { h } from 'hastscript';
import type { Cell, Matrix, MatrixRow, SectionResult } from '@vhost-user/generator/matrix-format';

export type { Matrix, MatrixRow } from '@vhost-user/generator/matrix-format';

export const MATRIX_PATH = 'test/conformance/results/matrix.json';
export const RUN_COMMAND = 'npx vitest run test/conformance';

const CELLS: Cell[] = ['pass', 'fail', 'known-divergence', 'skip'];

function isMatrix(value: unknown): value is Matrix {
  const m = value as Matrix;
  return (
    typeof m === 'object' &&
    m !== null &&
    m.format === 1 &&
    typeof m.generated === 'string' &&
    Array.isArray(m.rows) &&
    m.rows.every(
      (r) =>
        typeof r.implementation === 'string' &&
        typeof r.version === 'string' &&
        typeof r.mustHold === 'boolean' &&
        typeof r.sections === 'object' &&
        r.sections !== null &&
        Object.values(r.sections).every((s) => CELLS.includes(s.cell) && Array.isArray(s.failing)),
    )
  );
}

/** The matrix at `path`, undefined when absent; a malformed file is an error (not a silent empty page). */
export function loadMatrix(path: string): Matrix | undefined {
  if (!existsSync(path)) return undefined;
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (!isMatrix(parsed)) throw new Error(`${path} is not a conformance matrix (format 1)`);
  return parsed;
}

const LABEL: Record<Cell, string> = {
  pass: '✔ pass',
  fail: '✘ fail',
  'known-divergence': '≈ known divergence',
  skip: '– not run',
};

const MODES = [
  {
    mode: 'backend',
    title: 'Back-ends',
    how: 'The suite acts as a front-end and drives each back-end through the rules (vhost-user conformance --backend).',
  },
  {
    mode: 'frontend',
    title: 'Front-ends',
    how: 'The suite serves a device and judges what each front-end sends (vhost-user conformance --frontend --listen).',
  },
] as const;

function cell(result: SectionResult | undefined): ElementContent {
  if (!result) return h('td', { className: ['cell-skip'] }, '–');
  const ran = result.pass + result.fail + result.knownDivergence;
  return h(
    'td',
    { className: [`cell-${result.cell}`], title: result.failing.length ? result.failing.join('\n') : undefined },
    [LABEL[result.cell], ' ', h('small', `${result.pass}/${ran}`)],
  );
}

function table(rows: MatrixRow[], sections: string[]): ElementContent {
  return h('table', { className: ['spec-table', 'matrix'] }, [
    h(
      'thead',
      h(
        'tr',
        ['Implementation', 'Version', ...sections, 'All MUST cases'].map((label) => h('th', { scope: 'col' }, label)),
      ),
    ),
    h(
      'tbody',
      rows.map((row) =>
        h('tr', [
          h('th', { scope: 'row' }, row.device ? `${row.implementation} (${row.device})` : row.implementation),
          h('td', row.version),
          ...sections.map((s) => cell(row.sections[s])),
          h('td', { className: [row.mustHold ? 'cell-pass' : 'cell-fail'] }, row.mustHold ? '✔ hold' : '✘ fail'),
        ]),
      ),
    ),
  ]);
}

export function implementationsMain(matrix: Matrix | undefined): ElementContent[] {
  const intro = h(
    'p',
    { className: ['lead'] },
    'Which implementation passes which section of the conformance suite. Each case is one rule of the spec, at its level (MUST, SHOULD, MAY); a known divergence is a failure recorded, with links to the upstream discussion, as expected for that implementation.',
  );
  if (!matrix || matrix.rows.length === 0) {
    return [
      h('h1', 'Implementations'),
      intro,
      h('p', { className: ['matrix-missing'] }, [
        'The conformance suite has not been run for this build. Run it (real peers are used when installed), then build the site again:',
      ]),
      h('pre', h('code', `${RUN_COMMAND}\nnpm run site`)),
    ];
  }
  const main: ElementContent[] = [h('h1', 'Implementations'), intro];
  for (const { mode, title, how } of MODES) {
    const rows = matrix.rows.filter((r) => (r.mode ?? 'backend') === mode);
    if (rows.length === 0) continue;
    // Columns: the sections these rows report, in the order they first appear.
    const sections = [...new Set(rows.flatMap((r) => Object.keys(r.sections)))];
    main.push(
      h('h2', { id: mode === 'backend' ? 'backends' : 'frontends' }, title),
      h('p', how),
      table(rows, sections),
    );
  }
  main.push(
    h('p', [
      'Generated ',
      h('time', { dateTime: matrix.generated }, matrix.generated),
      ' by ',
      h('code', RUN_COMMAND),
      '.',
    ]),
  );
  return main;
}
