/** The reference block shown under each feature bit's heading. */
import type { ChannelMessage, ProtocolFeature, VirtioFeature } from '@vhost-user/generator';
import type { Element } from 'hast';
import { h } from 'hastscript';
import { bitMask, constant, divergenceList, facts, joined, status, text } from './common.js';
import type { HistoryEntry } from './history.js';
import { historyList } from './message.js';

/** Messages whose gate names this bit: what negotiating it unlocks. */
function gatedMessages(name: string, messages: ChannelMessage[]): Element[] {
  return messages
    .filter((m) => (m.gate.protocolFeatures ?? []).includes(name) || (m.gate.virtioFeatures ?? []).includes(name))
    .map((m) => constant(m.name));
}

export function renderProtocolFeature(
  bit: ProtocolFeature,
  messages: ChannelMessage[],
  history: HistoryEntry[],
): Element {
  return h('div', { className: ['ref', 'ref-feature'], dataName: bit.name }, [
    h('p', { className: ['ref-summary'] }, text(bit.summary)),
    facts('feature-facts', [
      [
        'Bit',
        [
          h('span', { className: ['num'] }, String(bit.bit)),
          ' (mask ',
          h('code', bitMask(bit.bit)),
          ') of the protocol features',
        ],
      ],
      ['Other names', bit.aliases?.length ? joined(bit.aliases.map(constant)) : null],
      ['Requires', bit.requires?.length ? joined(bit.requires.map(constant)) : null],
      [
        'Messages it gates',
        gatedMessages(bit.name, messages).length ? joined(gatedMessages(bit.name, messages)) : null,
      ],
      ['Since', bit.since],
      ['Status', status(bit.status)],
      ['History', historyList(history)],
      ['Divergences', divergenceList(bit.divergences)],
    ]),
  ]);
}

export function renderVirtioFeature(bit: VirtioFeature, messages: ChannelMessage[], history: HistoryEntry[]): Element {
  return h('div', { className: ['ref', 'ref-feature'], dataName: bit.name }, [
    h('p', { className: ['ref-summary'] }, text(bit.summary)),
    facts('feature-facts', [
      [
        'Bit',
        [
          h('span', { className: ['num'] }, String(bit.bit)),
          ' (mask ',
          h('code', bitMask(bit.bit)),
          ') of the virtio features',
        ],
      ],
      ['Other names', bit.aliases?.length ? joined(bit.aliases.map(constant)) : null],
      ['Scope', bit.scope],
      ['Defined in', bit.source],
      [
        'Messages it gates',
        gatedMessages(bit.name, messages).length ? joined(gatedMessages(bit.name, messages)) : null,
      ],
      ['Since', bit.since],
      ['Status', status(bit.status)],
      ['History', historyList(history)],
    ]),
  ]);
}
