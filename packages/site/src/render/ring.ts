/** Virtqueue layouts (areas, structs, constants) and the ring state machine. */
import type { RingLayoutFile, RulesFile } from '@vhost-user/generator';
import type { Element } from 'hast';
import { h } from 'hastscript';
import { constant, hex, payloadAnchor, table, text, type Child } from './common.js';
import { conditionText } from './condition.js';
import type { HistoryEntry, HistoryLookup } from './history.js';

export function renderRingLayout(ring: RingLayoutFile, id: string | undefined, structs: Element[]): Element {
  return h('section', { className: ['ref', 'ref-ring'], id, dataName: ring.ring }, [
    h('p', [
      ...text(ring.doc),
      ' ',
      h('span', { className: ['note'] }, `Source: ${ring.source}. Largest queue size: ${ring.maxQueueSize}.`),
    ]),
    table(
      'ring-areas',
      ['Area', 'Struct', 'Alignment', 'Size (Q = queue size)', 'Description'],
      ring.areas.map((a) => [
        h('code', a.name),
        h('a', { href: `#${payloadAnchor(a.struct)}` }, h('code', a.struct)),
        String(a.align),
        h('code', a.sizeFormula),
        text(a.doc),
      ]),
      `Areas of a ${ring.ring} ring`,
    ),
    ...structs,
    table(
      'ring-constants',
      ['Name', 'Value', 'Description'],
      ring.constants.map((c) => [h('code', c.name), h('code', hex(c.value)), text(c.doc)]),
      `Constants of the ${ring.ring} ring`,
    ),
  ]);
}

/** "1.0", and the versions that changed the rule since: "1.0; changed in 1.1". */
function sinceText(since: string, history: HistoryEntry[]): string {
  const changed = [...new Set(history.filter((e) => e.normative).map((e) => e.version))];
  return changed.length ? `${since}; changed in ${changed.join(', ')}` : since;
}

/** The condition under which a transition applies, or "always". */
function whenText(t: RulesFile['ringStates']['transitions'][number]): Child[] {
  const parts: Child[] = [];
  if (t.num !== undefined) parts.push(`num = ${t.num}`);
  if (t.condition) parts.push(...(parts.length ? ['; '] : []), ...conditionText(t.condition));
  if (t.timing === 'first-kick') parts.push(...(parts.length ? ['; '] : []), 'at the first kick');
  return parts.length ? parts : ['always'];
}

const LEVEL_CLASS = (level: string): string => `level-${level.toLowerCase().replace(' ', '-')}`;

/** A requirement level (MUST, SHOULD NOT, ...) as a coloured badge. */
export function levelBadge(level: string): Element {
  return h('span', { className: ['level', LEVEL_CLASS(level)] }, level);
}

/**
 * The ring state machine: a 2x2 grid of the two independent states (started/stopped,
 * enabled/disabled) with the behaviour in each, then the transitions.
 */
export function renderRingStates(rules: RulesFile, history: HistoryLookup = () => []): Element {
  const { initial, behaviour, transitions } = rules.ringStates;
  const behaviourOf = (run: 'stopped' | 'started', enable: 'disabled' | 'enabled'): Child[] => {
    const match = behaviour.find((b) => b.state.includes(run) && (b.state.length === 1 || b.state.includes(enable)));
    const isInitial = initial.includes(run) && initial.includes(enable);
    return [
      match ? [levelBadge(match.level), ' ', ...text(match.summary)] : '—',
      isInitial ? h('span', { className: ['initial'] }, ' (initial state)') : '',
    ].flat();
  };
  const grid = h('table', { className: ['spec-table', 'ring-grid'] }, [
    h('caption', 'Behaviour in each state'),
    h('thead', h('tr', [h('td'), h('th', { scope: 'col' }, 'disabled'), h('th', { scope: 'col' }, 'enabled')])),
    h(
      'tbody',
      (['stopped', 'started'] as const).map((run) =>
        h('tr', [
          h('th', { scope: 'row' }, run),
          h('td', behaviourOf(run, 'disabled')),
          h('td', behaviourOf(run, 'enabled')),
        ]),
      ),
    ),
  ]);
  const moves = table(
    'ring-transitions',
    ['Message', 'When', 'Rings', 'New state', 'Level', 'Effect', 'Since'],
    transitions.map((t) => [
      constant(t.message),
      whenText(t),
      t.scope === 'ring' ? 'the ring named' : 'every ring',
      t.to.join(', '),
      levelBadge(t.level),
      text(t.summary),
      sinceText(t.since, history('ring-transition', t.message)),
    ]),
    'Transitions',
  );
  return h('div', { className: ['ref', 'ref-ring-states'] }, [
    h('p', ['A ring starts ', h('strong', initial.join(' and ')), '. The two states change independently.']),
    grid,
    moves,
  ]);
}
