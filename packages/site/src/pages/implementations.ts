/**
 * The Implementations page, as a compatibility table: for each mode of the conformance suite,
 * one row per section of the suite and one column per implementation, the MUST verdict first.
 * Every cell says its result in words and links to the details below it: the failing cases,
 * visible, with the spec section of each, and the divergences the spec records for that
 * implementation with links to their upstream discussion. The page is pinned to the spec
 * version the suite checked. It renders test/conformance/results/matrix.json (written by the
 * conformance peer tests) when the build finds it, else says how to produce it.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Divergence } from '@vhost-user/generator';
import type { Element, ElementContent } from 'hast';
import { h } from 'hastscript';
import type { Cell, Matrix, MatrixRow, SectionResult } from '@vhost-user/generator/matrix-format';
import { payloadAnchor, text } from '../render/common.js';
import type { SpecView } from '../spec-view.js';

export type { Matrix, MatrixRow } from '@vhost-user/generator/matrix-format';

export const MATRIX_PATH = 'test/conformance/results/matrix.json';
export const RUN_COMMAND = 'npx vitest run test/conformance';

const CELLS: Cell[] = ['pass', 'fail', 'known-divergence', 'skip'];

/** A matrix may name the spec version its cases came from; without it they are the draft's. */
type PinnedMatrix = Matrix & { spec?: string };

function isMatrix(value: unknown): value is PinnedMatrix {
  const m = value as PinnedMatrix;
  return (
    typeof m === 'object' &&
    m !== null &&
    m.format === 1 &&
    typeof m.generated === 'string' &&
    (m.spec === undefined || typeof m.spec === 'string') &&
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
export function loadMatrix(path: string): PinnedMatrix | undefined {
  if (!existsSync(path)) return undefined;
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (!isMatrix(parsed)) throw new Error(`${path} is not a conformance matrix (format 1)`);
  return parsed;
}

/** What the page links to: the pinned version's folder, its spec, and the page of each anchor. */
export interface PinnedSpec {
  /** `latest` or a release number: the folder of the version the suite checked. */
  slug: string;
  label: string;
  spec: SpecView;
  pageOf: (anchor: string) => string | undefined;
}

const SYMBOL: Record<Cell, string> = { pass: '✔', fail: '✘', 'known-divergence': '≈', skip: '–' };
const WORD: Record<Cell, string> = {
  pass: 'pass',
  fail: 'fail',
  'known-divergence': 'known divergence',
  skip: 'not run',
};

/**
 * The chapter each section of the suite checks (the cases of a section cite that chapter's
 * rules). A section not listed links to the contents.
 */
const SECTION_CHAPTERS: Record<string, string> = {
  header: 'message-format.html',
  features: 'features.html',
  gating: 'features.html',
  replies: 'message-format.html',
  fds: 'message-format.html',
  memory: 'memory.html',
  rings: 'rings.html',
  config: 'config-space.html',
  malformed: 'message-format.html',
  reconnect: 'session.html',
};

const MODES = [
  {
    mode: 'backend',
    id: 'backends',
    title: 'Back-ends',
    how: 'The suite acts as a front-end and drives each back-end through the rules (vhost-user conformance --backend).',
  },
  {
    mode: 'frontend',
    id: 'frontends',
    title: 'Front-ends',
    how: 'The suite serves a device and judges what each front-end sends (vhost-user conformance --frontend --listen).',
  },
] as const;

const rowName = (row: MatrixRow): string => (row.device ? `${row.implementation} (${row.device})` : row.implementation);
const detailId = (mode: string, i: number): string => `${mode}-${i + 1}`;

/** `MUST rings/stop-on-get-vring-base` with a link to the spec when the rule names a section. */
function caseItem(id: string, section: string, pinned: PinnedSpec): Element {
  const [level = '', caseId = id] = id.includes(' ') ? id.split(' ', 2) : ['', id];
  const rule = caseId.slice(caseId.indexOf('/') + 1);
  const page = pinned.pageOf(rule);
  const where = page
    ? h('a', { href: `${pinned.slug}/${page}#${encodeURIComponent(rule)}` }, h('code', rule))
    : h('a', { href: `${pinned.slug}/${SECTION_CHAPTERS[section] ?? 'index.html'}` }, 'the section’s chapter');
  return h('li', [level ? h('span', { className: ['level'] }, level) : '', ' ', h('code', caseId), ' — see ', where]);
}

function verdictCell(row: MatrixRow, href: string): Element {
  const cell: Cell = row.mustHold ? 'pass' : 'fail';
  return h('td', { className: [`cell-${cell}`] }, [
    h('a', { href: `#${href}` }, [
      h('span', { ariaHidden: 'true' }, `${SYMBOL[cell]} `),
      row.mustHold ? 'hold' : 'fail',
    ]),
  ]);
}

function sectionCell(result: SectionResult | undefined, href: string): Element {
  if (!result) return h('td', { className: ['cell-skip'] }, 'not run');
  const ran = result.pass + result.fail + result.knownDivergence;
  return h('td', { className: [`cell-${result.cell}`] }, [
    h('a', { href: `#${href}` }, [h('span', { ariaHidden: 'true' }, `${SYMBOL[result.cell]} `), WORD[result.cell]]),
    ' ',
    h('small', `${result.pass}/${ran}`),
    result.failing.length
      ? h('span', { className: ['cell-failing'] }, [h('br'), result.failing.map((f) => f.split(' ').pop()).join(', ')])
      : '',
  ]);
}

function compatTable(mode: string, rows: MatrixRow[], sections: string[], pinned: PinnedSpec): Element {
  return h('table', { className: ['spec-table', 'compat'] }, [
    h('caption', `${mode === 'backend' ? 'Back-ends' : 'Front-ends'}: result per section of the suite`),
    h(
      'thead',
      h('tr', [h('th', { scope: 'col' }, 'Section'), ...rows.map((r) => h('th', { scope: 'col' }, rowName(r)))]),
    ),
    h('tbody', [
      h('tr', { className: ['verdict'] }, [
        h('th', { scope: 'row' }, 'All MUST cases'),
        ...rows.map((r, i) => verdictCell(r, detailId(mode, i))),
      ]),
      ...sections.map((s) =>
        h('tr', [
          h('th', { scope: 'row' }, [h('a', { href: `${pinned.slug}/${SECTION_CHAPTERS[s] ?? 'index.html'}` }, s)]),
          ...rows.map((r, i) => sectionCell(r.sections[s], `${detailId(mode, i)}-${s}`)),
        ]),
      ),
    ]),
  ]);
}

/** Where the spec records a divergence: message, bit, payload or enum. */
function divergencesOf(spec: SpecView): { item: string; anchor: string; divergence: Divergence }[] {
  const out: { item: string; anchor: string; divergence: Divergence }[] = [];
  const add = (item: string, anchor: string, list: Divergence[] | undefined): void => {
    for (const divergence of list ?? []) out.push({ item, anchor, divergence });
  };
  for (const m of spec.messages) add(m.name, m.name, m.divergences);
  for (const b of spec.protocolFeatures) add(b.name, b.name, b.divergences);
  for (const p of spec.structs) add(p.name, payloadAnchor(p.name), p.divergences);
  return out;
}

/** Divergence keys (`qemu`, `dpdk`, `libvhost-user`, `rust-vmm`) that an implementation's name contains. */
function recordedFor(row: MatrixRow, pinned: PinnedSpec): Element | null {
  const name = row.implementation.toLowerCase();
  const matches = divergencesOf(pinned.spec).filter(({ divergence }) =>
    divergence.implementations.some((key) => key !== 'spec-text' && name.includes(key)),
  );
  if (matches.length === 0) return null;
  return h('details', { className: ['recorded'] }, [
    h('summary', `Divergences the spec records for this implementation (${matches.length})`),
    h(
      'ul',
      matches.map(({ item, anchor, divergence }) => {
        const page = pinned.pageOf(anchor);
        return h('li', [
          page
            ? h('a', { href: `${pinned.slug}/${page}#${encodeURIComponent(anchor)}` }, h('code', item))
            : h('code', item),
          ': ',
          ...text(divergence.summary),
          ' Upstream: ',
          ...divergence.links.flatMap((url, i) => [
            i ? ', ' : '',
            h('a', { href: url, className: ['external'], rel: 'external' }, `${new URL(url).hostname} [${i + 1}]`),
          ]),
        ]);
      }),
    ),
  ]);
}

function details(mode: string, rows: MatrixRow[], sections: string[], pinned: PinnedSpec): Element[] {
  return rows.map((row, i) =>
    h('section', { className: ['impl-detail'], id: detailId(mode, i) }, [
      h('h3', [rowName(row), ' ', h('small', row.version)]),
      h('p', [
        row.mustHold
          ? 'Every MUST case passes or is a recorded divergence.'
          : 'At least one MUST case fails (listed below).',
      ]),
      h(
        'ul',
        { className: ['impl-sections'] },
        sections.map((s) => {
          const result = row.sections[s];
          const ran = result ? result.pass + result.fail + result.knownDivergence : 0;
          return h('li', { id: `${detailId(mode, i)}-${s}` }, [
            h('strong', s),
            ': ',
            result ? `${WORD[result.cell]}, ${result.pass} of ${ran} cases passed` : 'not run',
            result?.knownDivergence ? `, ${result.knownDivergence} known divergence(s)` : '',
            result?.skip ? `, ${result.skip} skipped` : '',
            '.',
            result?.failing.length
              ? h(
                  'ul',
                  result.failing.map((f) => caseItem(f, s, pinned)),
                )
              : '',
          ]);
        }),
      ),
      recordedFor(row, pinned),
    ]),
  );
}

function legend(): Element {
  return h('dl', { className: ['facts', 'legend'] }, [
    h('dt', '✔ pass'),
    h('dd', 'Every case of the section that ran passed.'),
    h('dt', '✘ fail'),
    h('dd', 'At least one case failed; the failing rules are named in the cell and listed below the table.'),
    h('dt', '≈ known divergence'),
    h(
      'dd',
      'Cases failed, but each failure is a divergence recorded for that implementation (with its upstream discussion).',
    ),
    h('dt', '– not run'),
    h('dd', 'The suite did not run the section for that implementation (no such device, or a skipped group).'),
    h('dt', '3/4'),
    h('dd', 'Cases passed out of cases run (skipped cases not counted).'),
    h('dt', 'hold'),
    h('dd', 'Every MUST case passed or is a recorded divergence: the suite’s exit verdict for the implementation.'),
  ]);
}

export function implementationsMain(matrix: PinnedMatrix | undefined, pinned: PinnedSpec): ElementContent[] {
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
  const main: ElementContent[] = [
    h('h1', 'Implementations'),
    intro,
    h('p', { className: ['pinned'] }, [
      'Checked against ',
      h('a', { href: `${pinned.slug}/index.html` }, `spec ${pinned.label}`),
      matrix.spec ? '' : ' (the suite’s cases come from the working draft)',
      '; run ',
      h('time', { dateTime: matrix.generated }, matrix.generated),
      ' by ',
      h('code', RUN_COMMAND),
      '.',
    ]),
    h('h2', { id: 'legend' }, 'How to read the tables'),
    legend(),
  ];
  for (const { mode, id, title, how } of MODES) {
    const rows = matrix.rows.filter((r) => (r.mode ?? 'backend') === mode);
    if (rows.length === 0) continue;
    // Rows: the sections these implementations report, in the order they first appear.
    const sections = [...new Set(rows.flatMap((r) => Object.keys(r.sections)))];
    main.push(
      h('h2', { id }, title),
      h('p', how),
      compatTable(mode, rows, sections, pinned),
      ...details(mode, rows, sections, pinned),
    );
  }
  return main;
}
