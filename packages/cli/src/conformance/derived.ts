/**
 * Cases generated from the spec's tables (the codec's message tables and generated
 * rules.preconditions): gating by feature, reply kinds, REPLY_ACK, fd rules, preconditions. Adding a row to
 * spec/ adds a case here; nothing about a message's rule is retyped.
 */
import {
  PRECONDITIONS,
  PROTOCOL_FEATURE_NAMES,
  VHOST_USER_VRING_NOFD_MASK,
  allowedFds,
  frontendMessages,
  hasFeature,
  featureMask,
  replyMeaning,
  type MessageInfo,
  type RequestOf,
} from '@vhost-user/codec';
import { ProtocolFeature, VirtioFeature } from '@vhost-user/codec';
import { EventFd } from '@vhost-user/transport';
import { judgedLevel, type ConformanceCase } from './model.js';
import { CaseFailure, CaseSkipped, type Session } from './session.js';

const page = (info: MessageInfo) => `frontend-messages.html#${info.name}`;
const short = (name: string) => name.replace(/^VHOST_USER_/, '');

/** A request with an all-zero payload of the message's fixed size (decoded from zeros). */
function zeroRequest(info: MessageInfo): RequestOf<'frontend'> | undefined {
  const codec = info.request;
  if (!codec) return { name: info.name, payload: null } as RequestOf<'frontend'>;
  if (codec.size === null) {
    if (codec.name === 'Config')
      return { name: info.name, payload: { offset: 0, flags: 0, data: new Uint8Array(4) } } as RequestOf<'frontend'>;
    return undefined;
  }
  const bytes = new Uint8Array(codec.size);
  return {
    name: info.name,
    payload: codec.decode(new DataView(bytes.buffer), 0, bytes.length, true, false),
  } as RequestOf<'frontend'>;
}

/** Eventfds for the smallest fd count the message's rule allows. */
function fdsFor(session: Session, info: MessageInfo, payload: unknown): number[] {
  const [min] = allowedFds(info, 'request', payload, { protocolFeatures: session.protocolFeatures });
  return Array.from({ length: min }, () => session.own(new EventFd()).fd);
}

/** Gating: a message whose protocol feature was not negotiated is refused (nack, empty reply, close), never acted on. */
function gatingCases(): ConformanceCase[] {
  return frontendMessages
    .filter((m) => m.protocolFeatures.length > 0 && m.status === 'stable')
    .flatMap((info) => {
      const request = zeroRequest(info);
      if (!request) return [];
      const gate = info.protocolFeatures.map((b) => PROTOCOL_FEATURE_NAMES[b] ?? `bit ${b}`).join(', ');
      const c: ConformanceCase = {
        id: `gating/${short(info.name)}`,
        section: 'gating',
        anchor: 'features.html#order-rules',
        level: 'SHOULD',
        title: `${info.name} before ${gate} is negotiated is refused`,
        derivedFrom: `messages: ${info.name}.gate`,
        async run(ctx) {
          const s = await ctx.open();
          // Select REPLY_ACK only (so refusals of ack-kind messages are visible), never the gate.
          const keep =
            featureMask(ProtocolFeature.VHOST_USER_PROTOCOL_F_REPLY_ACK) & ~featureMask(...info.protocolFeatures);
          await s.handshake({ protocol: keep });
          const ackKind = info.reply.kind === 'ack';
          if (ackKind && !s.replyAck)
            throw new CaseSkipped('without REPLY_ACK a refusal of this request is not observable');
          s.probe.send(request, { needReply: ackKind, fds: fdsFor(s, info, request.payload) });
          if (info.reply.kind === 'none') throw new CaseSkipped('the request is never answered');
          const r = await s.probe.next(ctx.timeoutMs);
          // What counts as a refusal comes from the reply column (codec's replyMeaning).
          if (r.kind === 'closed' || r.kind === 'timeout') return; // refused by closing, or ignored
          if (r.error || !r.reply) return; // an answer the codec rejects is no acceptance either
          const meaning = replyMeaning(info, {
            kind: 'reply',
            ack: r.reply.ack,
            size: r.reply.size,
            payload: r.reply.payload,
          });
          if (!meaning.refused)
            throw new CaseFailure(`${info.name} was answered with ${meaning.how} although ${gate} was not negotiated`);
        },
      };
      return [c];
    });
}

/** Requests without side effects and without a payload, answered with a body: check the reply header and size. */
const SIDE_EFFECTS = new Set([
  'VHOST_USER_POSTCOPY_ADVISE',
  'VHOST_USER_POSTCOPY_END',
  'VHOST_USER_CHECK_DEVICE_STATE',
]);

function replyCases(): ConformanceCase[] {
  return frontendMessages
    .filter(
      (m) =>
        m.reply.kind === 'always' &&
        m.request === null &&
        m.reply.payload !== null &&
        m.status === 'stable' &&
        !SIDE_EFFECTS.has(m.name),
    )
    .map((info) => ({
      id: `replies/${short(info.name)}`,
      section: 'replies',
      anchor: page(info),
      level: 'MUST' as const,
      title: `${info.name} is answered with a reply header and a ${info.reply.payload?.name} body`,
      derivedFrom: `messages: ${info.name}.replyRule`,
      async run(ctx) {
        const s = await ctx.open();
        await s.handshake({ owner: info.name !== 'VHOST_USER_GET_FEATURES' });
        for (const bit of info.protocolFeatures) s.requireProtocol(bit, PROTOCOL_FEATURE_NAMES[bit] ?? `bit ${bit}`);
        for (const bit of info.virtioFeatures)
          if (!hasFeature(s.offer?.features ?? 0n, bit)) throw new CaseSkipped(`virtio bit ${bit} not offered`);
        const reply = await s.query({ name: info.name, payload: null } as RequestOf<'frontend'>);
        checkReplyHeader(reply.flags, info.name);
        const size = info.reply.payload?.size;
        if (size !== null && size !== undefined && reply.size !== size)
          throw new CaseFailure(`${info.name} reply is ${reply.size} bytes, the table says ${size}`);
        if (reply.ack) throw new CaseFailure(`${info.name} was answered with an ack instead of its body`);
      },
    }));
}

/**
 * need_reply on a request that is answered anyway changes nothing (session.html#reply-ack): the
 * reply is its body, once, with no ack besides (a GET_FEATURES barrier right after shows it).
 */
function needReplyOnAnsweredCases(): ConformanceCase[] {
  return frontendMessages
    .filter(
      (m) =>
        m.reply.kind === 'always' &&
        m.request === null &&
        m.reply.payload !== null &&
        m.status === 'stable' &&
        !SIDE_EFFECTS.has(m.name),
    )
    .map((info) => ({
      id: `reply-ack/${short(info.name)}-answered-once`,
      section: 'replies',
      anchor: 'session.html#reply-ack',
      level: 'SHOULD' as const,
      title: `${info.name} with need_reply is answered with its body only (no extra ack)`,
      derivedFrom: `messages: ${info.name}.replyRule (always)`,
      async run(ctx) {
        const s = await ctx.open();
        await s.handshake();
        s.requireProtocol(ProtocolFeature.VHOST_USER_PROTOCOL_F_REPLY_ACK, 'REPLY_ACK');
        for (const bit of info.protocolFeatures) s.requireProtocol(bit, PROTOCOL_FEATURE_NAMES[bit] ?? `bit ${bit}`);
        for (const bit of info.virtioFeatures)
          if (!hasFeature(s.offer?.features ?? 0n, bit)) throw new CaseSkipped(`virtio bit ${bit} not offered`);
        s.probe.send({ name: info.name, payload: null } as RequestOf<'frontend'>, { needReply: true });
        const reply = await s.expectReply(info.name);
        if (reply.ack)
          throw new CaseFailure(`${info.name} with need_reply was answered with an ack instead of its body`);
        await s.barrier(`${info.name} with need_reply`);
      },
    }));
}

export function checkReplyHeader(flags: number, name: string): void {
  // From the header table: version 1, REPLY set, NEED_REPLY clear, reserved bits zero.
  const expected = 0x1 | 0x4;
  if (flags !== expected)
    throw new CaseFailure(
      `the reply to ${name} has flags 0x${flags.toString(16)}, expected version 1 with only the reply bit (0x${expected.toString(16)})`,
    );
}

/** How to send each ack-kind request validly (the prerequisites are behaviour, not table data). */
type AckBuilder = (s: Session) => Promise<{ message: RequestOf<'frontend'>; fds?: number[] }>;

async function withRing(s: Session): Promise<void> {
  await s.setFeatures();
  await s.shareMemory();
}

const ACK_BUILDERS: Record<string, AckBuilder> = {
  VHOST_USER_SET_FEATURES: async (s) => ({
    message: { name: 'VHOST_USER_SET_FEATURES', payload: { value: s.offer?.features ?? 0n } },
  }),
  VHOST_USER_SET_MEM_TABLE: async (s) => {
    await s.setFeatures();
    const memory = await s.shareMemory(1 << 21, 'none');
    return {
      message: { name: 'VHOST_USER_SET_MEM_TABLE', payload: { regions: [memory.memoryRegion] } },
      fds: [memory.fd],
    };
  },
  VHOST_USER_SET_VRING_NUM: async (s) => (
    await withRing(s),
    { message: { name: 'VHOST_USER_SET_VRING_NUM', payload: { index: 0, num: 64 } } }
  ),
  VHOST_USER_SET_VRING_BASE: async (s) => (
    await withRing(s),
    { message: { name: 'VHOST_USER_SET_VRING_BASE', payload: { index: 0, num: 0 } } }
  ),
  VHOST_USER_SET_VRING_CALL: async (s) => (
    await withRing(s),
    { message: { name: 'VHOST_USER_SET_VRING_CALL', payload: { value: 0n } }, fds: [s.own(new EventFd()).fd] }
  ),
  VHOST_USER_SET_VRING_ERR: async (s) => (
    await withRing(s),
    { message: { name: 'VHOST_USER_SET_VRING_ERR', payload: { value: 0n } }, fds: [s.own(new EventFd()).fd] }
  ),
  VHOST_USER_SET_VRING_ENABLE: async (s) => {
    await withRing(s);
    await s.setupRing(0);
    return { message: { name: 'VHOST_USER_SET_VRING_ENABLE', payload: { index: 0, num: 1 } } };
  },
  VHOST_USER_ADD_MEM_REG: async (s) => {
    await s.setFeatures();
    const memory = await s.shareMemory(1 << 21, 'none');
    return { message: { name: 'VHOST_USER_ADD_MEM_REG', payload: { region: memory.memoryRegion } }, fds: [memory.fd] };
  },
  VHOST_USER_SET_STATUS: async () => ({ message: { name: 'VHOST_USER_SET_STATUS', payload: { value: 1n } } }),
};

function replyAckCases(): ConformanceCase[] {
  return frontendMessages
    .filter((m) => m.reply.kind === 'ack' && ACK_BUILDERS[m.name])
    .map((info) => ({
      id: `reply-ack/${short(info.name)}`,
      section: 'replies',
      anchor: 'session.html#reply-ack',
      level: 'MUST' as const,
      title: `${info.name} with need_reply is answered with an 8-byte ack once it took effect`,
      derivedFrom: `messages: ${info.name}.replyRule (ack)`,
      async run(ctx) {
        const s = await ctx.open();
        await s.handshake();
        s.requireProtocol(ProtocolFeature.VHOST_USER_PROTOCOL_F_REPLY_ACK, 'REPLY_ACK');
        for (const bit of info.protocolFeatures) s.requireProtocol(bit, PROTOCOL_FEATURE_NAMES[bit] ?? `bit ${bit}`);
        const { message, fds } = await (ACK_BUILDERS[info.name] as AckBuilder)(s);
        s.probe.send(message, { needReply: true, fds });
        const reply = await s.expectReply(info.name);
        checkReplyHeader(reply.flags, info.name);
        if (!reply.ack) throw new CaseFailure(`the reply to ${info.name} is ${reply.size} bytes, not an 8-byte ack`);
        const status = reply.payload.value;
        if (status !== 0n) throw new CaseFailure(`${info.name} was refused (status ${status})`);
      },
    }));
}

/** Requests never answered (reply kind none): nothing comes back, even with REPLY_ACK being selected. */
function noReplyCases(): ConformanceCase[] {
  return frontendMessages
    .filter((m) => m.reply.kind === 'none')
    .map((info) => ({
      id: `replies/${short(info.name)}-unanswered`,
      section: 'replies',
      anchor: page(info),
      level: 'MUST' as const,
      title: `${info.name} is never answered`,
      derivedFrom: `messages: ${info.name}.replyRule (none)`,
      async run(ctx) {
        const s = await ctx.open();
        await s.handshake({ owner: false });
        // Send it again (REPLY_ACK now selected): the next message must answer the barrier.
        s.probe.send({ name: info.name, payload: zeroRequest(info)?.payload ?? null } as RequestOf<'frontend'>, {
          needReply: false,
        });
        if (info.name === 'VHOST_USER_SET_PROTOCOL_FEATURES') s.probe.protocolFeatures = 0n;
        await s.barrier(info.name);
      },
    }));
}

/** fd rule one-unless-invalid-fd: the invalid-fd bit replaces the fd; without either, the request is malformed. */
function invalidFdCases(): ConformanceCase[] {
  return frontendMessages
    .filter((m) => m.fds.request.rule === 'one-unless-invalid-fd')
    .flatMap((info) => [
      {
        id: `fds/${short(info.name)}-invalid-fd-bit`,
        section: 'fds',
        anchor: page(info),
        level: 'MUST' as const,
        title: `${info.name} with the invalid-fd bit and no fd is accepted`,
        derivedFrom: `messages: ${info.name}.fds (one-unless-invalid-fd)`,
        async run(ctx) {
          const s = await ctx.open();
          await s.handshake();
          await withRing(s);
          if (info.name === 'VHOST_USER_SET_VRING_KICK') await s.setupRing(0, { kick: false });
          await s.ack({
            name: info.name,
            payload: { value: BigInt(VHOST_USER_VRING_NOFD_MASK) },
          } as RequestOf<'frontend'>);
        },
      },
      {
        id: `fds/${short(info.name)}-missing-fd`,
        section: 'fds',
        anchor: 'session.html#errors',
        level: 'SHOULD' as const,
        title: `${info.name} without its fd and without the invalid-fd bit is refused`,
        derivedFrom: `messages: ${info.name}.fds (one-unless-invalid-fd)`,
        async run(ctx) {
          const s = await ctx.open();
          await s.handshake();
          await withRing(s);
          s.probe.send({ name: info.name, payload: { value: 0n } } as RequestOf<'frontend'>, { needReply: s.replyAck });
          const r = await s.probe.next(ctx.timeoutMs);
          if (r.kind === 'closed') return;
          if (r.kind === 'message' && r.reply?.ack && r.reply.payload.value !== 0n) return;
          if (r.kind === 'timeout' && !s.replyAck) {
            // Without REPLY_ACK only a close shows the refusal.
            await s.barrier(info.name).catch(() => undefined);
            if (s.probe.isClosed) return;
          }
          throw new CaseFailure(`${info.name} without an fd was accepted (${r.kind === 'message' ? 'ack 0' : r.kind})`);
        },
      },
    ]);
}

/** Preconditions of the back-end (rules.preconditions with actor backend), as cases. */
function preconditionCases(): ConformanceCase[] {
  return PRECONDITIONS.filter(
    (p) => p.actor === 'backend' && p.kind === 'allowed-before' && p.before !== undefined,
  ).map((p) => ({
    id: `features/${p.id}`,
    section: 'features',
    anchor: 'features.html#order-rules',
    level: judgedLevel(p.upstreamLevel ?? p.level),
    title: p.summary,
    derivedFrom: `rules.preconditions: ${p.id}`,
    async run(ctx) {
      const s = await ctx.open();
      // handshake() sends exactly these messages, and SET_FEATURES only later.
      const offer = await s.handshake({ owner: false });
      for (const name of p.messages)
        if (!hasFeature(offer.features, VirtioFeature.VHOST_USER_F_PROTOCOL_FEATURES))
          throw new CaseSkipped(`no protocol features offered, so ${name} is not allowed`);
      await s.barrier(p.messages.join(', '));
      await s.ack({ name: 'VHOST_USER_SET_OWNER', payload: null });
      await s.setFeatures();
    },
  }));
}

export function derivedCases(): ConformanceCase[] {
  return [
    ...preconditionCases(),
    ...replyCases(),
    ...noReplyCases(),
    ...replyAckCases(),
    ...needReplyOnAnsweredCases(),
    ...invalidFdCases(),
    ...gatingCases(),
  ];
}
