/** The reference block shown under each message's heading. */
import type { ChannelMessage, FdSpec, ReplyRule } from '@vhost-user/generator';
import type { Element } from 'hast';
import { h } from 'hastscript';
import { constant, divergenceList, facts, joined, payloadAnchor, status, text, type Child } from './common.js';
import type { HistoryEntry } from './history.js';

export interface MessageRenderOptions {
  hasStruct: (name: string) => boolean;
  history: HistoryEntry[];
}

function payloadRef(name: string, options: MessageRenderOptions): Element {
  return options.hasStruct(name) ? h('a', { href: `#${payloadAnchor(name)}` }, h('code', name)) : h('code', name);
}

function replyText(reply: ReplyRule, options: MessageRenderOptions): Child[] {
  const doc: Child[] = reply.doc ? [' ', ...text(reply.doc)] : [];
  switch (reply.kind) {
    case 'always':
      return reply.payload
        ? ['Always, with ', payloadRef(reply.payload, options), '.', ...doc]
        : ['Always, without a body.', ...doc];
    case 'ack':
      return [
        'Only an ack (u64), when ',
        constant('VHOST_USER_PROTOCOL_F_REPLY_ACK'),
        ' is negotiated and need_reply is set.',
        ...doc,
      ];
    case 'conditional': {
      // The condition may already start with its connective ("after ...", "when ...") and name
      // the feature: say each once.
      const condition = reply.condition.trim().replace(/\.$/, '');
      const connected = /^(when|if|after|once|while|unless|only)\b/i.test(condition);
      const feature =
        reply.protocolFeature && !condition.includes(reply.protocolFeature)
          ? [constant(reply.protocolFeature), ' is negotiated and ']
          : [];
      return [
        reply.payload ? ['With ', payloadRef(reply.payload, options)] : 'A reply',
        ', only ',
        feature.length ? ['when ', ...feature] : connected ? '' : 'when ',
        ...text(condition),
        '.',
        ...doc,
      ].flat();
    }
    case 'none':
      return ['Never, not even with reply-ack. ', ...text(reply.doc)];
  }
}

const FD_RULES: Record<FdSpec['rule'], string> = {
  none: 'none',
  one: 'one',
  'one-per-region': 'one per memory region, in region order',
  'one-unless-invalid-fd': 'one, unless the invalid-fd bit is set',
  'one-if-feature': 'one when the feature is negotiated',
  'one-on-success': 'one on success, none on failure',
  'none-tolerate-one': 'none; one is tolerated and closed unused',
  'up-to-eight': 'zero to eight',
};

function fdText(label: string, fds: FdSpec): Child[] {
  const parts: Child[] = [`${label}: ${FD_RULES[fds.rule]}`];
  if (fds.protocolFeature) parts.push(' (', constant(fds.protocolFeature), ')');
  if (fds.doc) parts.push('. ', ...text(fds.doc));
  return parts;
}

export function historyList(history: HistoryEntry[]): Element | null {
  if (history.length === 0) return null;
  return h(
    'ul',
    { className: ['history'] },
    history.map((entry) =>
      h(
        'li',
        [
          h('span', { className: ['hist-version'] }, entry.version),
          ' ',
          h('span', { className: ['hist-kind', `hist-${entry.kind}`] }, entry.kind),
          ': ',
          entry.summary,
          entry.normative ? [' ', h('span', { className: ['hist-normative'] }, 'normative change')] : '',
        ].flat(),
      ),
    ),
  );
}

export function renderMessage(message: ChannelMessage, options: MessageRenderOptions): Element {
  const gates = [...(message.gate.protocolFeatures ?? []), ...(message.gate.virtioFeatures ?? [])].map(constant);
  const channel =
    message.channel === 'frontend'
      ? 'front-end → back-end, on the main socket'
      : 'back-end → front-end, on the back-end channel';
  return h('div', { className: ['ref', 'ref-message'], dataName: message.name }, [
    h('p', { className: ['ref-summary'] }, text(message.summary)),
    facts('message-facts', [
      ['Id', h('span', { className: ['num'] }, String(message.id))],
      ['Channel', channel],
      ['Former names', message.aliases?.length ? joined(message.aliases.map(constant)) : null],
      ['Kernel ioctl', message.ioctl ? h('code', message.ioctl) : null],
      ['Request payload', message.request ? payloadRef(message.request, options) : 'none'],
      ['Reply', replyText(message.reply, options)],
      ['File descriptors', [...fdText('request', message.fds.request), h('br'), ...fdText('reply', message.fds.reply)]],
      ['Gated by', gates.length ? joined(gates) : 'always available'],
      ['Since', message.since],
      ['Status', status(message.status)],
      ['History', historyList(options.history)],
      ['Divergences', divergenceList(message.divergences)],
    ]),
  ]);
}
