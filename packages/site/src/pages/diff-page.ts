/** The page between two consecutive versions: semantic changes, then the text changes. */
import type { ProseChapter } from '@vhost-user/generator';
import type { Element, ElementContent } from 'hast';
import { h } from 'hastscript';
import { isNormative, readableSummary } from '../history/readable.js';
import type { Change, SpecDiff } from '../history/semantic-diff.js';
import { enumAnchor, payloadAnchor } from '../render/common.js';
import { proseDiff } from './prose-diff.js';
import type { DiffInfo } from './site-types.js';

export interface DiffPageInput {
  info: DiffInfo;
  diff: SpecDiff;
  prose: { from: ProseChapter[]; to: ProseChapter[] };
  /** The page of `anchor` in the version `slug`, or undefined. */
  pageOf: (slug: string, anchor: string) => string | undefined;
}

const GROUPS: [Change['entity'][], string][] = [
  [['message'], 'Messages'],
  [['protocol-feature'], 'Protocol feature bits'],
  [['virtio-feature'], 'Virtio feature bits'],
  [['payload', 'enum', 'header', 'ring-layout'], 'Payloads and layouts'],
  [['constant', 'registry'], 'Constants and number registry'],
  [['precondition', 'ring-transition'], 'Session rules'],
  [['prose-section'], 'Sections added or removed'],
];

function anchorOf(change: Change): string {
  if (change.entity === 'payload') return payloadAnchor(change.name);
  if (change.entity === 'enum') return enumAnchor(change.name);
  return change.name;
}

function itemCell(change: Change, input: DiffPageInput): ElementContent {
  const anchor = anchorOf(change);
  const slug = change.kind === 'removed' ? input.info.from.slug : input.info.to.slug;
  const page = input.pageOf(slug, anchor);
  const name = h('code', change.name);
  return page ? h('a', { href: `../${slug}/${page}#${encodeURIComponent(anchor)}` }, name) : name;
}

function changeTable(changes: Change[], input: DiffPageInput): Element {
  return h('table', { className: ['spec-table', 'changes'] }, [
    h(
      'thead',
      h(
        'tr',
        ['Change', 'Item', 'What', 'For implementations'].map((label) => h('th', { scope: 'col' }, label)),
      ),
    ),
    h(
      'tbody',
      changes.map((c) =>
        h('tr', { className: [`change-${c.kind}`], dataEntity: c.entity, dataName: c.name }, [
          h('td', h('span', { className: ['change', `change-${c.kind}`] }, c.kind)),
          h('td', itemCell(c, input)),
          h('td', readableSummary(c)),
          h(
            'td',
            c.breaking
              ? h('span', { className: ['breaking'] }, [
                  h('strong', 'normative change'),
                  ` (breaking: ${(c.category ?? 'compatibility').toLowerCase()})`,
                  c.approved ? ` (approved: ${c.approved.reason})` : '',
                ])
              : isNormative(c)
                ? h('strong', 'normative change')
                : 'no change required',
          ),
        ]),
      ),
    ),
  ]);
}

export function diffPageMain(input: DiffPageInput): ElementContent[] {
  const { info, diff } = input;
  const count = (kind: Change['kind']) => diff.changes.filter((c) => c.kind === kind).length;
  const breaking = diff.changes.filter((c) => c.breaking).length;
  const normative = diff.changes.filter(isNormative).length;
  const groups: ElementContent[] = [];
  for (const [entities, title] of GROUPS) {
    // Changed sections are shown word by word under "Text changes".
    const changes = diff.changes.filter(
      (c) => entities.includes(c.entity) && !(c.entity === 'prose-section' && c.kind === 'changed'),
    );
    if (changes.length === 0) continue;
    groups.push(h('h3', title), changeTable(changes, input));
  }
  return [
    h('h1', ['Changes from ', info.from.label, ' to ', info.to.label]),
    h('p', { className: ['lead'] }, [
      `${count('added')} added, ${count('removed')} removed, ${count('changed')} changed; ${normative} normative, ${breaking} of them breaking. `,
      h('a', { href: `../${info.from.slug}/index.html` }, info.from.label),
      ' → ',
      h('a', { href: `../${info.to.slug}/index.html` }, info.to.label),
      '.',
    ]),
    h('h2', { id: 'semantic-changes' }, 'Semantic changes'),
    ...(groups.length ? groups : [h('p', 'No semantic changes.')]),
    h('h2', { id: 'text-changes' }, 'Text changes'),
    h(
      'p',
      { className: ['note'] },
      'Paragraph by paragraph: struck-through words were taken out, underlined words were put in. Line breaks inside a paragraph are not changes.',
    ),
    ...proseDiff(input.prose.from, input.prose.to, {
      from: (page) => `../${info.from.slug}/${page}`,
      to: (page) => `../${info.to.slug}/${page}`,
    }),
  ].filter((e): e is Element => e !== null);
}
