/**
 * The breaking-change rules: each has an id (what `Change.rule` holds), its category and one
 * line saying what it catches. The checks live next to the entities they compare; this list
 * is the catalogue the CLI prints, the approval file names, and the tests cover one by one.
 */
import type { RuleCategory } from './types.js';

export interface BreakingRule {
  id: string;
  category: RuleCategory;
  description: string;
  /** `warning`: reported in every format but does not fail `breaking` unless a config raises it. */
  level: 'error' | 'warning';
}

function rule(id: string, category: RuleCategory, description: string, level: 'error' | 'warning' = 'error') {
  return { id, category, description, level } as const;
}

export const BREAKING_RULES = [
  // Bytes and numbers on the socket.
  rule('message-id-changed', 'WIRE', 'A released message keeps its name but gets another id.'),
  rule(
    'message-removed',
    'WIRE',
    'A released message is removed without moving its id to the registry (reserved or retired).',
  ),
  rule(
    'number-reused',
    'WIRE',
    'A message id or feature bit that named one item (or was registered) now names another.',
  ),
  rule('message-channel-changed', 'WIRE', 'A message moves between the front-end and the back-end channel.'),
  rule('request-payload-changed', 'WIRE', "A message's request payload is a different struct (or gains or loses one)."),
  rule('reply-rule-changed', 'WIRE', 'When a message is answered, or with which payload, changes.'),
  rule(
    'fd-rule-changed',
    'WIRE',
    'How many file descriptors a request or reply carries, or the feature that allows them, changes.',
  ),
  rule(
    'gate-changed',
    'WIRE',
    'The features that must be negotiated before a message is sent (or a struct extension appears) change.',
  ),
  rule('field-changed', 'WIRE', "A field's offset, width, signedness, type, enum or byte order changes."),
  rule('field-removed', 'WIRE', 'A field (or a struct extension) is removed or turned into padding.'),
  rule(
    'struct-size-changed',
    'WIRE',
    "A struct's size changes other than by appending fields to a struct that is never nested.",
  ),
  rule(
    'bitfield-layout-changed',
    'WIRE',
    'A named bit range inside a field moves, changes width or disappears, or new bits take bits that were not reserved.',
  ),
  rule(
    'array-bound-changed',
    'WIRE',
    "An array's element count, its count field or its maximum (or a payload's maximum size) changes.",
  ),
  rule('feature-bit-renumbered', 'WIRE', 'A released protocol or virtio feature keeps its name but gets another bit.'),
  rule('feature-removed', 'WIRE', 'A released feature bit is removed without moving its number to the registry.'),
  rule(
    'enum-value-changed',
    'WIRE',
    'An enum value changes its number or disappears, or the enum changes between values and flags.',
  ),
  rule('header-changed', 'WIRE', 'The message header: a field, the version, or a released flag changes.'),
  rule('constant-changed', 'WIRE', 'A named constant (or a ring constant) changes its value.'),
  rule(
    'ring-layout-changed',
    'WIRE',
    "A virtqueue area's struct, alignment or size formula, or the largest queue size, changes.",
  ),
  rule(
    'reservation-dropped',
    'WIRE',
    'A reserved, retired or proposed number leaves the registry without being assigned to the item it was held for.',
  ),
  // Normative rules: always read by a person.
  rule('feature-dependency-changed', 'BEHAVIOR', 'The features a released protocol feature requires change.'),
  rule(
    'precondition-strengthened',
    'BEHAVIOR',
    'A rule about when released messages may be sent becomes stricter or different: new, wider or changed.',
  ),
  rule(
    'precondition-removed',
    'BEHAVIOR',
    'A released rule about when messages may be sent is removed; peers relied on it.',
  ),
  rule(
    'ring-state-effect-changed',
    'BEHAVIOR',
    'What a released message does to ring state (started, stopped, enabled, disabled), or when, changes.',
  ),
  rule('normative-level-changed', 'BEHAVIOR', 'A MUST, SHOULD or MAY of a released rule is weakened or strengthened.'),
  rule(
    'prose-normative-changed',
    'BEHAVIOR',
    'A sentence of the prose changes its RFC 2119 level (MUST <-> SHOULD <-> MAY), or a MUST/SHOULD is added or removed; reported at the changed line.',
    'warning',
  ),
  // The generated TypeScript API.
  rule(
    'generated-name-changed',
    'SOURCE',
    'A name the generated API exports is renamed (a message or bit via an alias, a field, bit range or enum value).',
  ),
  rule('generated-name-removed', 'SOURCE', 'A payload, enum or constant the generated API exports disappears.'),
  // Anchors and prose.
  rule('anchor-removed', 'DOC', 'A prose section anchor that links point at disappears.'),
] as const satisfies readonly BreakingRule[];

export type BreakingRuleId = (typeof BREAKING_RULES)[number]['id'];

const byId = new Map<string, BreakingRule>(BREAKING_RULES.map((r) => [r.id, r]));

export function breakingRule(id: string): BreakingRule | undefined {
  return byId.get(id);
}
