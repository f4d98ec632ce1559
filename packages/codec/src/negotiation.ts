/**
 * Negotiation state and the rules that depend on it, in one place for every role: what each side
 * offered and acked, whether a message's gate (message tables) and preconditions (rules.preconditions)
 * hold, and what a reply means (acceptance or refusal). The back-end, the tracer and both
 * conformance modes use these; nothing here is retyped from the spec.
 */
import { hasFeature } from './features.js';
import { PROTOCOL_FEATURE_NAMES, VIRTIO_FEATURE_NAMES } from './generated/protocol.js';
import { PRECONDITIONS, type Precondition, type PreconditionCondition } from './generated/rules.js';
import type { MessageInfo } from './runtime/types.js';

export type RuleLevel = Precondition['level'];

/** What a session has negotiated so far, as seen between the two sides. */
export interface NegotiationState {
  /** GET_FEATURES answer (undefined until answered). */
  readonly offeredFeatures: bigint | undefined;
  /** GET_PROTOCOL_FEATURES answer (undefined until answered). */
  readonly offeredProtocolFeatures: bigint | undefined;
  /** SET_FEATURES value (0 until sent). */
  readonly features: bigint;
  /** SET_PROTOCOL_FEATURES value (0 until sent). */
  readonly protocolFeatures: bigint;
  /** Names of the front-end requests sent so far. */
  readonly sent: ReadonlySet<string>;
}

/** A rule a message breaks: which rule, at what level, and why. */
export interface RuleBreach {
  /** `gate` for the message table's gate, else the precondition's id. */
  rule: string;
  level: RuleLevel;
  reason: string;
}

const protocolName = (bit: number) => PROTOCOL_FEATURE_NAMES[bit] ?? `protocol bit ${bit}`;
const virtioName = (bit: number) => VIRTIO_FEATURE_NAMES[bit] ?? `virtio bit ${bit}`;

/** Preconditions that bind the front-end's sending of `name`. */
function frontendPreconditions(name: string): Precondition[] {
  return PRECONDITIONS.filter((p) => p.actor === 'frontend' && p.messages.includes(name));
}

/**
 * How a gate's virtio bit is judged for a message: `precondition` where a front-end precondition
 * on the same bit states the rule at its own level (SET_VRING_ENABLE: bit 30 acked, SHOULD;
 * GET/SET_PROTOCOL_FEATURES: bit 30 offered, MUST) and reports it; `offered` where an
 * allowed-before precondition lets the message precede SET_FEATURES; else `acked`.
 */
function virtioGate(name: string, bit: number): 'offered' | 'acked' | 'precondition' {
  const refined = frontendPreconditions(name).some((p) => {
    const c = p.condition;
    if (p.kind !== 'send-only-when' || c === undefined) return false;
    return (
      ('virtioFeature' in c && c.virtioFeature === bit) ||
      ('virtioFeatureOffered' in c && c.virtioFeatureOffered === bit)
    );
  });
  if (refined) return 'precondition';
  const early = PRECONDITIONS.some((p) => p.kind === 'allowed-before' && p.messages.includes(name));
  return early ? 'offered' : 'acked';
}

/** The message table's gate: protocol features negotiated, virtio features acked (or offered, see virtioGate). */
export function gateBreaches(info: MessageInfo, state: NegotiationState): RuleBreach[] {
  const breaches: RuleBreach[] = [];
  for (const bit of info.protocolFeatures)
    if (!hasFeature(state.protocolFeatures, bit))
      breaches.push({
        rule: 'gate',
        level: 'MUST',
        reason: `${info.name} sent before ${protocolName(bit)} was negotiated`,
      });
  for (const bit of info.virtioFeatures) {
    const how = virtioGate(info.name, bit);
    if (how === 'precondition') continue;
    const mask = how === 'offered' ? (state.offeredFeatures ?? 0n) : state.features;
    if (!hasFeature(mask, bit))
      breaches.push({ rule: 'gate', level: 'MUST', reason: `${info.name} sent before ${virtioName(bit)} was ${how}` });
  }
  return breaches;
}

/**
 * Whether a precondition's condition holds. `selecting` is the value of a SET_PROTOCOL_FEATURES
 * being judged: such a message is judged on the bits it selects.
 */
export function conditionHolds(c: PreconditionCondition, state: NegotiationState, selecting?: bigint): boolean {
  if ('all' in c) return c.all.every((x) => conditionHolds(x, state, selecting));
  if ('any' in c) return c.any.some((x) => conditionHolds(x, state, selecting));
  if ('not' in c) return !conditionHolds(c.not, state, selecting);
  if ('virtioFeatureOffered' in c) return hasFeature(state.offeredFeatures ?? 0n, c.virtioFeatureOffered);
  if ('virtioFeature' in c) return hasFeature(state.features, c.virtioFeature);
  if ('protocolFeature' in c) return hasFeature(selecting ?? state.protocolFeatures, c.protocolFeature);
  return state.sent.has(c.receivedBefore);
}

/** Front-end preconditions (rules.preconditions, actor frontend) that sending `name` now breaks. */
export function preconditionBreaches(name: string, payload: unknown, state: NegotiationState): RuleBreach[] {
  const selecting =
    name === 'VHOST_USER_SET_PROTOCOL_FEATURES' && typeof payload === 'object' && payload !== null
      ? (payload as { value?: bigint }).value
      : undefined;
  return frontendPreconditions(name).flatMap((p) => {
    if (!p.condition || p.kind === 'allowed-before') return [];
    const holds = conditionHolds(p.condition, state, selecting);
    if (p.kind === 'send-only-when' && !holds)
      return [{ rule: p.id, level: p.level, reason: `${name} sent while ${p.id} does not allow it: ${p.summary}` }];
    if (p.kind === 'never-when' && holds)
      return [{ rule: p.id, level: p.level, reason: `${name} sent while ${p.id} forbids it: ${p.summary}` }];
    return [];
  });
}

/** The negotiation of one session, updated from the messages as they pass. */
export class Negotiation implements NegotiationState {
  offeredFeatures: bigint | undefined;
  offeredProtocolFeatures: bigint | undefined;
  features = 0n;
  protocolFeatures = 0n;
  readonly sent = new Set<string>();

  /** Everything sending this request now breaks: its gate, then the front-end's preconditions. */
  check(info: MessageInfo, payload: unknown = null): RuleBreach[] {
    return [...gateBreaches(info, this), ...preconditionBreaches(info.name, payload, this)];
  }

  /** Records a front-end request (after it was judged). */
  onRequest(name: string, payload: unknown): void {
    this.sent.add(name);
    const value = u64Of(payload);
    if (value === undefined) return;
    if (name === 'VHOST_USER_SET_FEATURES') this.features = value;
    if (name === 'VHOST_USER_SET_PROTOCOL_FEATURES') this.protocolFeatures = value;
  }

  /** Records a back-end reply: the offers. */
  onReply(name: string, payload: unknown, ack = false): void {
    const value = ack ? undefined : u64Of(payload);
    if (value === undefined) return;
    if (name === 'VHOST_USER_GET_FEATURES') this.offeredFeatures = value;
    if (name === 'VHOST_USER_GET_PROTOCOL_FEATURES') this.offeredProtocolFeatures = value;
  }
}

function u64Of(payload: unknown): bigint | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const value = (payload as { value?: unknown }).value;
  return typeof value === 'bigint' ? value : undefined;
}

/** What the peer did with a request: a reply (decoded), a close, or nothing. */
export type ReplyEvent =
  { kind: 'reply'; ack: boolean; size: number; payload: unknown } | { kind: 'closed' } | { kind: 'silence' };

export interface ReplyMeaning {
  refused: boolean;
  /** How it reads, for reports ("ack status 0x1", "an empty body", ...). */
  how: string;
}

/**
 * What a reply means, read through the message table's reply column: a close is a refusal; an
 * ack refuses with a non-zero status; a reply whose table payload is missing (size 0) refuses;
 * where the table names a refusal field (`refusal: { nonzero }`), that field non-zero refuses.
 * Any other body is acceptance; silence refuses nothing (the request may have been ignored).
 */
export function replyMeaning(info: MessageInfo, event: ReplyEvent): ReplyMeaning {
  if (event.kind === 'closed') return { refused: true, how: 'the connection was closed' };
  if (event.kind === 'silence') return { refused: false, how: 'no answer' };
  if (event.ack) {
    const status = u64Of(event.payload);
    return status === 0n
      ? { refused: false, how: 'ack status 0' }
      : { refused: true, how: `ack status 0x${(status ?? 0n).toString(16)}` };
  }
  if (event.size === 0 && info.reply.payload !== null) return { refused: true, how: 'an empty body' };
  const refusal = info.reply.refusal;
  if (refusal && typeof event.payload === 'object' && event.payload !== null) {
    const field = (event.payload as Record<string, unknown>)[refusal.nonzero];
    if (typeof field === 'bigint' && (field & (refusal.mask ?? ~0n)) !== 0n)
      return { refused: true, how: `${refusal.nonzero} 0x${field.toString(16)} (non-zero: an error)` };
  }
  return { refused: false, how: `a ${event.size}-byte body` };
}
