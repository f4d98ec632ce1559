/**
 * Front-end mode's cases: rules on what a front-end sends, judged on a recorded session. Header,
 * fd, gating and precondition cases are derived from the spec's tables (header flags, messages'
 * fd rules and gates, rules.preconditions with actor frontend); the others are written by hand,
 * each naming the section that states the rule.
 */
import {
  HEADER,
  PROTOCOL_FEATURE_NAMES,
  ProtocolFeature,
  VirtioFeature,
  PRECONDITIONS,
  allowedFds,
  frontendMessages,
  gateBreaches,
  hasFeature,
  preconditionBreaches,
  u64Value,
  type MessageInfo,
} from '@vhost-user/codec';
import { judgedLevel, type CaseInfo } from '../model.js';
import { CaseFailure, CaseSkipped } from '../session.js';
import type { RecordedMessage, RecordedSession } from './recorder.js';
import { walk, type SessionState } from './state.js';

export interface FrontendCase extends CaseInfo {
  /** Judges the recorded session; throws CaseFailure (rule broken) or CaseSkipped (rule never exercised). */
  check(session: RecordedSession): void;
}

export const FRONTEND_SECTION_ORDER = ['header', 'order', 'features', 'gating', 'fds', 'memory', 'rings'];

const short = (name: string) => name.replace(/^VHOST_USER_/, '');
const hex = (v: bigint) => `0x${v.toString(16)}`;

/** Fails with every problem found (at most five shown), or skips when no request was relevant. */
function verdict(problems: string[], relevant: number, what: string): void {
  if (relevant === 0) throw new CaseSkipped(`the front-end sent no ${what}`);
  if (problems.length) throw new CaseFailure(`${problems.length} violation(s): ${problems.slice(0, 5).join('; ')}`);
}

/** A case that judges each request; `relevant` picks the requests the rule is about. */
function perRequest(
  c: Omit<FrontendCase, 'check'> & {
    what: string;
    relevant: (m: RecordedMessage) => boolean;
    judge: (m: RecordedMessage, s: SessionState) => string | undefined;
  },
): FrontendCase {
  const { what, relevant, judge, ...rest } = c;
  return {
    ...rest,
    check(session) {
      let n = 0;
      const problems = walk(session, (m, s) => {
        if (!relevant(m)) return undefined;
        n++;
        return judge(m, s);
      });
      verdict(problems, n, what);
    },
  };
}

const named = (name: string) => (m: RecordedMessage) => m.message?.name === name;
const any = () => true;
const nameOf = (m: RecordedMessage) => (m.message ? short(m.message.name) : `id ${m.id}`);
const value = (m: RecordedMessage) => u64Value(m.message?.payload) ?? 0n;

const headerCases: FrontendCase[] = [
  perRequest({
    id: 'header/version',
    section: 'header',
    anchor: 'message-format.html#version',
    level: 'MUST',
    what: 'request',
    title: 'Every request carries version 1 in bits 0-1 of flags',
    relevant: any,
    judge: (m) =>
      (m.flags & HEADER.versionMask) !== HEADER.version
        ? `${nameOf(m)} has version ${m.flags & HEADER.versionMask}`
        : undefined,
  }),
  perRequest({
    id: 'header/no-reply-flag-on-requests',
    section: 'header',
    anchor: 'message-format.html#reply-flag',
    level: 'MUST',
    what: 'request',
    title: 'The reply flag is clear on every request',
    relevant: any,
    judge: (m) => (m.flags & HEADER.replyFlag ? `${nameOf(m)} has the reply flag set` : undefined),
  }),
  perRequest({
    id: 'header/reserved-bits-zero',
    section: 'header',
    anchor: 'message-format.html#reserved-flag-bits',
    // A clarification of this spec (upstream is silent on reserved bits): judged at SHOULD.
    level: 'SHOULD',
    what: 'request',
    title: 'Reserved flag bits (4-31) are zero',
    relevant: any,
    judge: (m) =>
      (m.flags & HEADER.reservedMask) >>> 0
        ? `${nameOf(m)} has reserved bits ${hex(BigInt((m.flags & HEADER.reservedMask) >>> 0))}`
        : undefined,
  }),
  perRequest({
    id: 'header/need-reply-only-with-reply-ack',
    section: 'header',
    anchor: 'message-format.html#need-reply-flag',
    level: 'MUST',
    what: 'request',
    title: 'need_reply is set only after REPLY_ACK was negotiated',
    relevant: any,
    judge: (m, s) =>
      m.flags & HEADER.needReplyFlag &&
      !hasFeature(s.negotiation.protocolFeatures, ProtocolFeature.VHOST_USER_PROTOCOL_F_REPLY_ACK)
        ? `${nameOf(m)} asks for an ack without REPLY_ACK`
        : undefined,
  }),
  perRequest({
    id: 'header/payload-matches-table',
    section: 'header',
    anchor: 'message-format.html#size',
    level: 'MUST',
    what: 'request',
    title: "Each request's id is known and its size fits the payload the message table gives",
    relevant: any,
    judge: (m) => (m.message ? undefined : (m.error ?? `id ${m.id} does not decode`)),
  }),
];

const MEMORY = new Set(['VHOST_USER_SET_MEM_TABLE', 'VHOST_USER_ADD_MEM_REG']);
const RING_SETUP = new Set([
  'VHOST_USER_SET_VRING_NUM',
  'VHOST_USER_SET_VRING_BASE',
  'VHOST_USER_SET_VRING_ADDR',
  'VHOST_USER_SET_VRING_KICK',
]);

const orderCases: FrontendCase[] = [
  {
    id: 'order/set-owner-once-before-memory-and-rings',
    section: 'order',
    anchor: 'session.html#typical-order-of-messages',
    level: 'SHOULD',
    title: 'SET_OWNER is sent once per connection, before the memory map and any ring',
    check(session) {
      const names = session.requests.map((m) => m.message?.name);
      const owners = names.filter((n) => n === 'VHOST_USER_SET_OWNER').length;
      if (owners !== 1) throw new CaseFailure(`SET_OWNER was sent ${owners} times`);
      const owner = names.indexOf('VHOST_USER_SET_OWNER');
      const early = names.findIndex((n) => n !== undefined && (MEMORY.has(n) || RING_SETUP.has(n)));
      if (early >= 0 && early < owner) throw new CaseFailure(`${names[early]} came before SET_OWNER`);
    },
  },
  {
    id: 'order/set-features-before-rings',
    section: 'order',
    anchor: 'features.html#order-rules',
    level: 'SHOULD',
    title: 'SET_FEATURES is sent before any ring is set up and started',
    check(session) {
      const names = session.requests.map((m) => m.message?.name);
      const ring = names.findIndex((n) => n !== undefined && RING_SETUP.has(n));
      if (ring < 0) throw new CaseSkipped('no ring was set up');
      const features = names.indexOf('VHOST_USER_SET_FEATURES');
      if (features < 0 || features > ring) throw new CaseFailure(`${names[ring]} came before SET_FEATURES`);
    },
  },
];

const featureCases: FrontendCase[] = [
  perRequest({
    id: 'features/set-features-offered-only',
    section: 'features',
    anchor: 'features.html#virtio-features',
    level: 'MUST',
    what: 'SET_FEATURES',
    title: 'SET_FEATURES selects only bits GET_FEATURES offered',
    relevant: named('VHOST_USER_SET_FEATURES'),
    judge: (m, s) => {
      const offered = s.negotiation.offeredFeatures;
      if (offered === undefined) return 'SET_FEATURES before GET_FEATURES was answered';
      const extra = value(m) & ~offered;
      return extra ? `SET_FEATURES ${hex(value(m))} selects unoffered bits ${hex(extra)}` : undefined;
    },
  }),
  perRequest({
    id: 'features/set-protocol-features-offered-only',
    section: 'features',
    anchor: 'features.html#selecting-protocol-features',
    level: 'MUST',
    what: 'SET_PROTOCOL_FEATURES',
    title: 'SET_PROTOCOL_FEATURES selects only bits GET_PROTOCOL_FEATURES offered',
    relevant: named('VHOST_USER_SET_PROTOCOL_FEATURES'),
    judge: (m, s) => {
      const offered = s.negotiation.offeredProtocolFeatures;
      if (offered === undefined) return 'SET_PROTOCOL_FEATURES before GET_PROTOCOL_FEATURES was answered';
      const extra = value(m) & ~offered;
      return extra ? `SET_PROTOCOL_FEATURES ${hex(value(m))} selects unoffered bits ${hex(extra)}` : undefined;
    },
  }),
  perRequest({
    id: 'features/bit-30-kept',
    section: 'features',
    anchor: 'features.html#bit-30-and-ring-enabling',
    level: 'SHOULD',
    what: 'SET_FEATURES after protocol features were negotiated',
    title: 'Once protocol features are negotiated, every SET_FEATURES keeps VHOST_USER_F_PROTOCOL_FEATURES',
    relevant: (m) => named('VHOST_USER_SET_FEATURES')(m),
    judge: (m, s) =>
      s.negotiation.sent.has('VHOST_USER_SET_PROTOCOL_FEATURES') &&
      !hasFeature(value(m), VirtioFeature.VHOST_USER_F_PROTOCOL_FEATURES)
        ? `SET_FEATURES ${hex(value(m))} drops bit 30`
        : undefined,
  }),
];

/** Gating (message tables): a message gated by a protocol feature is sent only once it is negotiated. */
function gatingCases(): FrontendCase[] {
  return frontendMessages
    .filter((m) => m.protocolFeatures.length > 0)
    .map((info) =>
      perRequest({
        id: `gating/${short(info.name)}`,
        section: 'gating',
        anchor: 'features.html#order-rules',
        level: 'MUST',
        what: short(info.name),
        title: `${info.name} is sent only after ${info.protocolFeatures.map((b) => PROTOCOL_FEATURE_NAMES[b] ?? `bit ${b}`).join(' and ')} was negotiated`,
        derivedFrom: `messages: ${info.name}.gate`,
        relevant: named(info.name),
        judge: (_m, s) => {
          const breaches = gateBreaches({ ...info, virtioFeatures: [] }, s.negotiation);
          return breaches.length ? breaches.map((b) => b.reason).join('; ') : undefined;
        },
      }),
    );
}

function fdProblem(info: MessageInfo, m: RecordedMessage, s: SessionState): string | undefined {
  const [min, max] = allowedFds(info, 'request', m.message?.payload ?? null, {
    protocolFeatures: s.negotiation.protocolFeatures,
  });
  return m.fds < min || m.fds > max
    ? `${short(info.name)} carried ${m.fds} fd(s), the ${info.fds.request.rule} rule allows ${min === max ? min : `${min}-${max}`}`
    : undefined;
}

/** fd rules (message tables): one case per message that takes fds, and one for all that take none. */
function fdCases(): FrontendCase[] {
  const byName = new Map(frontendMessages.map((m) => [m.name, m]));
  const takesFds = frontendMessages.filter((m) => m.fds.request.rule !== 'none');
  return [
    ...takesFds.map((info) =>
      perRequest({
        id: `fds/${short(info.name)}`,
        section: 'fds',
        anchor: `frontend-messages.html#${info.name}`,
        level: 'MUST' as const,
        what: short(info.name),
        title: `${info.name} carries the fds its rule (${info.fds.request.rule}) asks for`,
        derivedFrom: `messages: ${info.name}.fds`,
        relevant: named(info.name),
        judge: (m, s) => fdProblem(info, m, s),
      }),
    ),
    perRequest({
      id: 'fds/none-where-none-taken',
      section: 'fds',
      anchor: 'message-format.html#ancillary-data-limits',
      level: 'MUST',
      what: 'request without fds in its rule',
      title: 'Requests whose fd rule is none carry no fd',
      derivedFrom: 'messages: *.fds (none)',
      relevant: (m) => byName.get(m.message?.name ?? '')?.fds.request.rule === 'none',
      judge: (m, s) => fdProblem(byName.get(m.message?.name ?? '') as MessageInfo, m, s),
    }),
  ];
}

const overlaps = (a0: bigint, aLen: bigint, b0: bigint, bLen: bigint) => a0 < b0 + bLen && b0 < a0 + aLen;

function regionProblems(regions: { guestAddress: bigint; size: bigint; userAddress: bigint }[]): string | undefined {
  for (let i = 0; i < regions.length; i++) {
    for (let j = i + 1; j < regions.length; j++) {
      const a = regions[i] as (typeof regions)[number];
      const b = regions[j] as (typeof regions)[number];
      if (overlaps(a.guestAddress, a.size, b.guestAddress, b.size))
        return `regions at guest ${hex(a.guestAddress)} and ${hex(b.guestAddress)} overlap`;
      if (overlaps(a.userAddress, a.size, b.userAddress, b.size))
        return `regions at user ${hex(a.userAddress)} and ${hex(b.userAddress)} overlap`;
    }
  }
  return undefined;
}

const memoryCases: FrontendCase[] = [
  perRequest({
    id: 'memory/no-overlaps',
    section: 'memory',
    anchor: 'memory.html#no-overlaps',
    level: 'MUST',
    what: 'memory map',
    title: 'No two regions of the map overlap, in guest or in user addresses',
    relevant: (m) => MEMORY.has(m.message?.name ?? ''),
    judge: (m, s) => {
      const p = m.message?.payload as { regions?: unknown[]; region?: unknown };
      const regions = (
        m.message?.name === 'VHOST_USER_SET_MEM_TABLE' ? (p.regions ?? []) : [...s.regions, p.region]
      ) as { guestAddress: bigint; size: bigint; userAddress: bigint }[];
      return regionProblems(
        regions.map((r) => ({
          guestAddress: BigInt(r.guestAddress),
          size: BigInt(r.size),
          userAddress: BigInt(r.userAddress),
        })),
      );
    },
  }),
  perRequest({
    id: 'memory/slots-respected',
    section: 'memory',
    anchor: 'memory.html#two-ways-to-send-the-map',
    level: 'MUST',
    what: 'ADD_MEM_REG',
    title: 'ADD_MEM_REG never makes the map larger than GET_MAX_MEM_SLOTS',
    relevant: named('VHOST_USER_ADD_MEM_REG'),
    judge: (_m, s) =>
      s.maxMemSlots === undefined
        ? 'ADD_MEM_REG without asking GET_MAX_MEM_SLOTS first'
        : BigInt(s.regions.length + 1) > s.maxMemSlots
          ? `region ${s.regions.length + 1} exceeds ${s.maxMemSlots} slots`
          : undefined,
  }),
  perRequest({
    id: 'memory/ring-addresses-in-regions',
    section: 'memory',
    anchor: 'memory.html#address-kinds',
    level: 'MUST',
    what: 'SET_VRING_ADDR',
    title: 'The ring addresses of SET_VRING_ADDR (user addresses) lie inside a region of the map sent before',
    relevant: named('VHOST_USER_SET_VRING_ADDR'),
    judge: (m, s) => {
      const p = m.message?.payload as { index: number; descriptor: bigint; used: bigint; available: bigint };
      const outside = (['descriptor', 'available', 'used'] as const).filter(
        (k) => !s.regions.some((r) => p[k] >= r.userAddress && p[k] < r.userAddress + r.size),
      );
      return outside.length
        ? `ring ${p.index}: ${outside.map((k) => `${k} ${hex(p[k])}`).join(', ')} outside the map (${s.regions.length} region(s))`
        : undefined;
    },
  }),
];

/**
 * Without REPLY_ACK, a kick right after SET_VRING_ENABLE 1, before a GET_FEATURES barrier was
 * answered, may reach a back-end that still sees the ring disabled. (With REPLY_ACK the ack is the
 * wait; a kick the front-end left pending from the ring's start cannot be told from a new one.)
 */
function kickProblems(session: RecordedSession): { problems: string[]; relevant: number } {
  const problems: string[] = [];
  let relevant = 0;
  let replyAck = false;
  const ms = session.messages;
  ms.forEach((m, i) => {
    if (m.direction !== 'front>back') return;
    if (m.message?.name === 'VHOST_USER_SET_PROTOCOL_FEATURES')
      replyAck = hasFeature(value(m), ProtocolFeature.VHOST_USER_PROTOCOL_F_REPLY_ACK);
    if (replyAck || m.message?.name !== 'VHOST_USER_SET_VRING_ENABLE') return;
    const p = m.message.payload as { index: number; num: number };
    if (p.num !== 1) return;
    const kick = session.kicks.find((k) => k.ring === p.index && k.seq > i);
    if (!kick) return;
    relevant++;
    let barrierAsked = false;
    const settled = ms.slice(i + 1, kick.seq).some((r) => {
      if (r.direction === 'front>back' && r.message?.name === 'VHOST_USER_GET_FEATURES') barrierAsked = true;
      return (
        barrierAsked &&
        r.direction === 'back>front' &&
        r.message?.kind === 'reply' &&
        r.message.name === 'VHOST_USER_GET_FEATURES'
      );
    });
    if (!settled)
      problems.push(
        `#${m.seq} SET_VRING_ENABLE ring ${p.index} was followed by a kick before a GET_FEATURES barrier came back (no REPLY_ACK)`,
      );
  });
  return { problems, relevant };
}

const ringCases: FrontendCase[] = [
  {
    id: 'rings/kick-after-enable-waits',
    section: 'rings',
    anchor: 'frontend-messages.html#VHOST_USER_SET_VRING_ENABLE',
    level: 'SHOULD',
    title:
      'Without REPLY_ACK, the front-end waits for SET_VRING_ENABLE to be processed (a GET_FEATURES barrier) before it kicks the ring',
    check(session) {
      const { problems, relevant } = kickProblems(session);
      verdict(problems, relevant, 'kick after SET_VRING_ENABLE without REPLY_ACK');
    },
  },
  perRequest({
    id: 'rings/no-change-while-started',
    section: 'rings',
    anchor: 'rings.html#setting-up-a-ring',
    level: 'MUST',
    what: 'ring set-up request',
    title:
      'Size, base and addresses of a ring are not changed while it is started (between SET_VRING_KICK and GET_VRING_BASE)',
    relevant: (m) =>
      ['VHOST_USER_SET_VRING_NUM', 'VHOST_USER_SET_VRING_BASE', 'VHOST_USER_SET_VRING_ADDR'].includes(
        m.message?.name ?? '',
      ),
    judge: (m, s) => {
      const index = (m.message?.payload as { index: number }).index;
      // Logging (migration) may update the addresses of a started ring.
      if (m.message?.name === 'VHOST_USER_SET_VRING_ADDR' && (m.message.payload as { flags: number }).flags & 1)
        return undefined;
      return s.started.has(index) ? `${nameOf(m)} for started ring ${index}` : undefined;
    },
  }),
];

/** rules.preconditions with actor frontend, as cases (the codec's check, on the state before each message). */
function preconditionCases(): FrontendCase[] {
  return PRECONDITIONS.filter((p) => p.actor === 'frontend' && p.kind !== 'allowed-before').map((p) =>
    perRequest({
      id: `features/${p.id}`,
      section: 'features',
      anchor: 'session.html#preconditions',
      level: judgedLevel(p.upstreamLevel ?? p.level),
      what: p.messages.map(short).join(' or '),
      title: p.summary,
      derivedFrom: `rules.preconditions: ${p.id}`,
      relevant: (m) => p.messages.includes(m.message?.name ?? ''),
      judge: (m, s) => {
        const name = m.message?.name ?? '';
        const breach = preconditionBreaches(name, m.message?.payload, s.negotiation).find((b) => b.rule === p.id);
        return breach
          ? `${nameOf(m)} sent while ${p.kind === 'never-when' ? 'it is forbidden' : 'the condition does not hold'}`
          : undefined;
      },
    }),
  );
}

export function frontendCases(): FrontendCase[] {
  const all = [
    ...headerCases,
    ...orderCases,
    ...featureCases,
    ...preconditionCases(),
    ...gatingCases(),
    ...fdCases(),
    ...memoryCases,
    ...ringCases,
  ];
  return all.sort((a, b) => FRONTEND_SECTION_ORDER.indexOf(a.section) - FRONTEND_SECTION_ORDER.indexOf(b.section));
}
