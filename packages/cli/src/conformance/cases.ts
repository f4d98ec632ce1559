/**
 * Hand-written cases for behavioural rules (what a back-end does, not what a table says):
 * header handling, feature order, fd hygiene, memory, ring states, config space, malformed
 * input and reconnect. Each names the spec section it checks and the rule's level.
 */
import {
  HEADER,
  ProtocolFeature,
  VHOST_USER_MAX_CONFIG_SIZE,
  VirtioFeature,
  decode,
  encode,
  featureMask,
  hasFeature,
  type MemoryRegion,
} from '@vhost-user/codec';
import { FrontendGuestMemory, UnixSocket, closeFds, native } from '@vhost-user/transport';
import { checkReplyHeader, derivedCases } from './derived.js';
import { migrationCases } from './migration-cases.js';
import type { CaseContext, ConformanceCase } from './model.js';
import { CaseFailure, CaseSkipped, replyOrFail, type Session } from './session.js';

const F_PROTOCOL = VirtioFeature.VHOST_USER_F_PROTOCOL_FEATURES;

/** GET_FEATURES bytes with its flags word replaced. */
function getFeaturesWithFlags(flags: number): Uint8Array {
  const bytes = encode('frontend', { name: 'VHOST_USER_GET_FEATURES', payload: null });
  new DataView(bytes.buffer).setUint32(HEADER.flagsOffset, flags >>> 0, true);
  return bytes;
}

const lowestReservedBit = () => (HEADER.reservedMask & -HEADER.reservedMask) >>> 0;

/**
 * Sends GET_FEATURES with the lowest reserved flag bit set and returns the reply's flags. The
 * reply is decoded leniently (reserved bits allowed), so a peer that echoes the bits still counts
 * as having answered; the echo is its own case.
 */
async function replyToReservedBits(s: Session, timeoutMs: number): Promise<number> {
  s.probe.sendRaw(getFeaturesWithFlags(HEADER.version | lowestReservedBit()));
  const r = await s.probe.next(timeoutMs);
  if (r.kind === 'closed') throw new CaseFailure('the peer closed the connection on a reserved flag bit');
  if (r.kind === 'timeout') throw new CaseFailure('no answer to GET_FEATURES with a reserved flag bit');
  let reply;
  try {
    reply = decode('frontend', r.bytes, { strictHeader: false, fds: r.fds.length });
  } catch (error) {
    throw new CaseFailure(`the answer does not decode: ${(error as Error).message}`);
  }
  if (reply.kind !== 'reply' || reply.name !== 'VHOST_USER_GET_FEATURES')
    throw new CaseFailure(`expected the GET_FEATURES reply, got ${reply.kind} ${reply.name}`);
  if (!(reply.flags & HEADER.replyFlag)) throw new CaseFailure('the answer lacks the reply flag');
  return reply.flags;
}

/** The peer either closes or keeps answering: it must not hang. */
async function closesOrAnswers(s: Session, after: string): Promise<'closed' | 'answered'> {
  const r = await s.probe.next(300);
  if (r.kind === 'closed') return 'closed';
  try {
    await s.barrier(after);
    return 'answered';
  } catch (error) {
    if (s.probe.isClosed) return 'closed';
    throw new CaseFailure(
      `the peer neither closed the connection nor answered after ${after}: ${(error as Error).message}`,
    );
  }
}

/** Sets up the profile's ring on shared memory, started and enabled (data-path cases). */
async function runningRing(s: Session, options: { enable?: boolean; protocolBit?: boolean } = {}) {
  const device = s.requireDataPath();
  await s.setFeatures({ protocolBit: options.protocolBit });
  await s.shareMemory();
  const ring = await s.setupRing(device.queue);
  if (options.enable ?? true) await s.enable(device.queue);
  return ring;
}

async function expectProcessed(
  s: Session,
  ring: Awaited<ReturnType<typeof runningRing>>,
  what: string,
  ms: number,
): Promise<void> {
  const { usedBefore } = s.submit(ring);
  if (!(await s.waitUsed(ring, usedBefore, ms)))
    throw new CaseFailure(`${what}: the request was not used within ${ms} ms (used idx stayed ${usedBefore})`);
}

/** The procedure two rules share: after a handshake, a started and enabled ring serves a request. */
function processesOnRunningRing(context: string): (ctx: CaseContext) => Promise<void> {
  return async (ctx) => {
    const s = await ctx.open();
    await s.handshake();
    const ring = await runningRing(s);
    await expectProcessed(s, ring, context, 2000);
  };
}

/**
 * A started, enabled ring at `base` on the profile's queue; with a data path, one request is
 * processed on it first (so the base moves).
 */
async function startedRing(s: Session, base: number) {
  const device = s.requireQueue();
  await s.setFeatures();
  await s.shareMemory();
  const ring = await s.setupRing(device.queue, { base });
  await s.enable(device.queue);
  if (s.device.request) await expectProcessed(s, ring, 'before stopping', 2000);
  return ring;
}

/**
 * The two stop orders front-ends use: QEMU 7.2 sends SET_STATUS 0, SET_VRING_ENABLE 0,
 * GET_VRING_BASE; QEMU 10 sends SET_VRING_ENABLE 0, GET_VRING_BASE, SET_STATUS 0. Either way
 * GET_VRING_BASE returns the position and the ring stays stopped.
 */
function stopOrderCases(): ConformanceCase[] {
  const orders: { id: string; label: string; steps: ('status' | 'disable' | 'base')[] }[] = [
    {
      id: 'rings/stop-order-status-first',
      label: 'SET_STATUS 0, SET_VRING_ENABLE 0, GET_VRING_BASE (QEMU 7.2)',
      steps: ['status', 'disable', 'base'],
    },
    {
      id: 'rings/stop-order-disable-first',
      label: 'SET_VRING_ENABLE 0, GET_VRING_BASE, SET_STATUS 0 (QEMU 10)',
      steps: ['disable', 'base', 'status'],
    },
  ];
  return orders.map(({ id, label, steps }) => ({
    id,
    section: 'rings',
    anchor: 'rings.html#starting-and-stopping',
    level: 'MUST' as const,
    title: `Stopping with ${label}: GET_VRING_BASE returns the position and nothing is processed after`,
    async run(ctx) {
      const s = await ctx.open();
      await s.handshake();
      // Without STATUS the front-ends leave SET_STATUS out; the ring steps keep their order.
      const status = hasFeature(s.protocolFeatures, ProtocolFeature.VHOST_USER_PROTOCOL_F_STATUS);
      const device = s.requireQueue();
      const ring = await startedRing(s, 7);
      let base: number | undefined;
      for (const step of steps) {
        if (step === 'status' && status) await s.ack({ name: 'VHOST_USER_SET_STATUS', payload: { value: 0n } });
        if (step === 'disable') await s.enable(device.queue, false);
        if (step === 'base') base = await s.getBase(device.queue);
      }
      if (base !== ring.availIdx)
        throw new CaseFailure(`GET_VRING_BASE returned ${base}, the driver had made ${ring.availIdx} available`);
      if (s.device.request) {
        const { usedBefore } = s.submit(ring);
        if (await s.waitUsed(ring, usedBefore, 300))
          throw new CaseFailure('the ring processed a request after it was stopped');
      }
    },
  }));
}

const handWritten: ConformanceCase[] = [
  {
    id: 'header/reply-flags',
    section: 'header',
    anchor: 'message-format.html#reply-flag',
    level: 'MUST',
    title: 'A reply carries version 1, the reply bit, and the request id',
    async run(ctx) {
      const s = await ctx.open();
      const reply = await s.query({ name: 'VHOST_USER_GET_FEATURES', payload: null });
      checkReplyHeader(reply.flags, reply.name);
    },
  },
  {
    id: 'header/bad-version',
    section: 'header',
    anchor: 'message-format.html#version',
    level: 'SHOULD',
    title: 'A message with a version other than 1 is treated as an error (connection closed)',
    async run(ctx) {
      const s = await ctx.open();
      s.probe.sendRaw(getFeaturesWithFlags((HEADER.version + 1) & HEADER.versionMask));
      const r = await s.probe.next(ctx.timeoutMs);
      if (r.kind === 'closed') return;
      if (r.kind === 'message') throw new CaseFailure('a GET_FEATURES with version 2 was answered');
      throw new CaseFailure('the connection stayed open after a version-2 message');
    },
  },
  {
    id: 'header/reserved-flags-ignored',
    section: 'header',
    anchor: 'message-format.html#reserved-flag-bits',
    level: 'SHOULD',
    title: 'A request with a reserved header flag bit set is answered as usual (the bits are ignored)',
    async run(ctx) {
      const s = await ctx.open();
      await replyToReservedBits(s, ctx.timeoutMs);
    },
  },
  {
    id: 'header/reply-reserved-bits-zero',
    section: 'header',
    anchor: 'message-format.html#reserved-flag-bits',
    // This spec's MUST is a clarification: upstream says nothing about reserved bits, so the
    // suite holds an implementation to SHOULD (never higher than upstream states).
    level: 'SHOULD',
    title: 'A reply has its reserved flag bits zero, even when the request had some set (no echo)',
    async run(ctx) {
      const s = await ctx.open();
      let flags: number;
      try {
        flags = await replyToReservedBits(s, ctx.timeoutMs);
      } catch (error) {
        // A peer that refuses reserved bits (header/reserved-flags-ignored) sends no reply to judge.
        if (error instanceof CaseFailure) throw new CaseSkipped(`no reply to judge: ${error.message}`);
        throw error;
      }
      const echoed = (flags & HEADER.reservedMask) >>> 0;
      if (echoed)
        throw new CaseFailure(
          `the reply carries reserved bits 0x${echoed.toString(16)} (copied from the request's flags 0x${(HEADER.version | lowestReservedBit()).toString(16)})`,
        );
    },
  },
  {
    id: 'features/unoffered-virtio-bit-refused',
    section: 'features',
    anchor: 'features.html#selecting-protocol-features',
    level: 'SHOULD',
    title: 'SET_FEATURES with a bit that was not offered is a protocol error',
    async run(ctx) {
      const s = await ctx.open();
      const offer = await s.handshake();
      if (!s.replyAck) throw new CaseSkipped('without REPLY_ACK a refusal is only visible as a close');
      let bit = 0;
      while (hasFeature(offer.features, bit)) bit++;
      s.probe.send(
        { name: 'VHOST_USER_SET_FEATURES', payload: { value: offer.features | featureMask(bit) } },
        { needReply: true },
      );
      const r = await s.probe.next(ctx.timeoutMs);
      if (r.kind === 'closed') return;
      const reply = replyOrFail(r, 'VHOST_USER_SET_FEATURES');
      if (reply.ack && reply.payload.value !== 0n) return;
      throw new CaseFailure(`SET_FEATURES with unoffered bit ${bit} was accepted`);
    },
  },
  {
    id: 'features/no-protocol-bit-enables-rings',
    section: 'rings',
    anchor: 'features.html#bit-30-and-ring-enabling',
    level: 'MUST',
    title: 'Without VHOST_USER_F_PROTOCOL_FEATURES acked, a ring is enabled when it starts',
    async run(ctx) {
      const s = await ctx.open();
      await s.handshake({ protocol: 0n });
      const ring = await runningRing(s, { enable: false, protocolBit: false });
      await expectProcessed(s, ring, 'ring started without SET_VRING_ENABLE', 2000);
    },
  },
  {
    id: 'fds/unexpected-fd-closed',
    section: 'fds',
    anchor: 'message-format.html#ancillary-data-limits',
    level: 'MUST',
    title: 'An fd sent with a message that takes none is closed by the receiver',
    async run(ctx) {
      const s = await ctx.open();
      await s.handshake();
      const [ours, theirs] = native.socketpair();
      const watch = new UnixSocket(ours);
      const hangup = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 2000);
        watch.start({ onData: () => undefined, onClose: () => (clearTimeout(timer), resolve(true)) });
      });
      try {
        s.probe.send({ name: 'VHOST_USER_GET_FEATURES', payload: null }, { fds: [theirs] });
        closeFds([theirs]);
        const r = await s.probe.next(ctx.timeoutMs);
        if (r.kind === 'message' && r.reply && r.reply.name !== 'VHOST_USER_GET_FEATURES')
          throw new CaseFailure(`unexpected ${r.reply.name}`);
        if (!(await hangup)) throw new CaseFailure('the fd sent with GET_FEATURES was still open 2 s later (leaked)');
      } finally {
        watch.close();
      }
    },
  },
  {
    id: 'memory/set-mem-table-data-path',
    section: 'memory',
    anchor: 'memory.html#two-ways-to-send-the-map',
    level: 'MUST',
    title: 'Rings work on memory shared with SET_MEM_TABLE',
    run: processesOnRunningRing('after SET_MEM_TABLE'),
  },
  {
    id: 'memory/add-remove-region',
    section: 'memory',
    anchor: 'frontend-messages.html#VHOST_USER_ADD_MEM_REG',
    level: 'MUST',
    title: 'ADD_MEM_REG maps a region (usable by rings), REM_MEM_REG removes it, and it can be added again',
    async run(ctx) {
      const s = await ctx.open();
      await s.handshake();
      s.requireProtocol(ProtocolFeature.VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS, 'CONFIGURE_MEM_SLOTS');
      const slots = await s.queryBody({ name: 'VHOST_USER_GET_MAX_MEM_SLOTS', payload: null });
      if (slots.value < 1n) throw new CaseFailure('GET_MAX_MEM_SLOTS reported no slots');
      await s.setFeatures();
      const memory = await s.shareMemory(1 << 21, 'none');
      const region = memory.memoryRegion as MemoryRegion;
      await s.ack({ name: 'VHOST_USER_ADD_MEM_REG', payload: { region } }, { fds: [memory.fd] });
      if (s.device.request && (s.queueCount === undefined || s.device.queue < s.queueCount)) {
        const ring = await s.setupRing(s.device.queue);
        await s.enable(s.device.queue);
        await expectProcessed(s, ring, 'after ADD_MEM_REG', 2000);
        await s.getBase(s.device.queue);
      }
      await s.ack({ name: 'VHOST_USER_REM_MEM_REG', payload: { region } });
      await s.ack({ name: 'VHOST_USER_ADD_MEM_REG', payload: { region } }, { fds: [memory.fd] });
    },
  },
  {
    id: 'memory/live-replacement',
    section: 'memory',
    anchor: 'memory.html#changing-the-map-while-rings-run',
    level: 'MUST',
    title: 'A new SET_MEM_TABLE while a ring runs replaces the map; the ring keeps working on the new memory',
    async run(ctx) {
      const s = await ctx.open();
      await s.handshake();
      const ring = await runningRing(s);
      await expectProcessed(s, ring, 'before the replacement', 2000);
      const old = s.memory as FrontendGuestMemory;
      const fresh = s.own(
        new FrontendGuestMemory({ size: old.size, guestBase: old.guestBase, userBase: old.userBase }),
      );
      fresh.view(fresh.guestBase, fresh.size).set(old.view(old.guestBase, old.size));
      // Later allocations continue where the old memory's allocator stopped.
      fresh.allocate(ring.used + 4096 - fresh.guestBase);
      await s.ack(
        { name: 'VHOST_USER_SET_MEM_TABLE', payload: { regions: [fresh.memoryRegion] } },
        { fds: [fresh.fd] },
      );
      s.memory = fresh;
      old.view(old.guestBase, old.size).fill(0); // the old pages no longer matter
      await expectProcessed(s, ring, 'on the replaced memory', 2000);
    },
  },
  {
    id: 'rings/get-vring-base-returns-base',
    section: 'rings',
    anchor: 'frontend-messages.html#VHOST_USER_GET_VRING_BASE',
    level: 'MUST',
    title: 'GET_VRING_BASE answers a VringState with the position SET_VRING_BASE gave (nothing processed)',
    async run(ctx) {
      const s = await ctx.open();
      await s.handshake();
      await s.setFeatures();
      await s.shareMemory();
      await s.setupRing(0, { base: 5, kick: false });
      const base = await s.getBase(0);
      if (base !== 5) throw new CaseFailure(`GET_VRING_BASE returned ${base}, SET_VRING_BASE set 5`);
    },
  },
  {
    id: 'rings/start-on-kick',
    section: 'rings',
    anchor: 'rings.html#start-on-kick',
    level: 'MUST',
    title: 'SET_VRING_KICK starts the ring; enabled, it processes what the driver makes available',
    run: processesOnRunningRing('started and enabled ring'),
  },
  {
    id: 'rings/disabled-until-enable',
    section: 'rings',
    anchor: 'features.html#bit-30-and-ring-enabling',
    level: 'MUST',
    title:
      'With VHOST_USER_F_PROTOCOL_FEATURES acked a started ring stays disabled (no device side effects) until SET_VRING_ENABLE 1',
    async run(ctx) {
      const s = await ctx.open();
      await s.handshake();
      if (!hasFeature(s.offer?.features ?? 0n, F_PROTOCOL)) throw new CaseSkipped('protocol features not offered');
      const device = s.requireDataPath();
      if (device.name !== 'blk') throw new CaseSkipped('side effects are observed on a blk GET_ID buffer');
      const ring = await runningRing(s, { enable: false });
      const { marker, usedBefore } = s.submit(ring);
      await new Promise((r) => setTimeout(r, 300));
      const memory = s.memory as FrontendGuestMemory;
      if (marker && memory.view(marker.addr, marker.length)[0] !== 0xff)
        throw new CaseFailure('a disabled ring was processed: the request completed before SET_VRING_ENABLE');
      await s.enable(device.queue);
      ring.kick?.signal();
      if (!(await s.waitUsed(ring, usedBefore, 2000)))
        throw new CaseFailure('the request was not processed after SET_VRING_ENABLE 1 and a kick');
    },
  },
  {
    id: 'rings/stop-on-get-vring-base',
    section: 'rings',
    anchor: 'rings.html#starting-and-stopping',
    level: 'MUST',
    title: 'GET_VRING_BASE stops the ring and returns the next available index to process',
    async run(ctx) {
      const s = await ctx.open();
      await s.handshake();
      const ring = await runningRing(s);
      await expectProcessed(s, ring, 'first request', 2000);
      const base = await s.getBase(ring.index);
      if (base !== ring.availIdx)
        throw new CaseFailure(`GET_VRING_BASE returned ${base} after ${ring.availIdx} request(s)`);
      const { usedBefore } = s.submit(ring);
      if (await s.waitUsed(ring, usedBefore, 300))
        throw new CaseFailure('the ring processed a request after GET_VRING_BASE stopped it');
    },
  },
  {
    id: 'rings/resume-with-set-vring-base',
    section: 'rings',
    anchor: 'frontend-messages.html#VHOST_USER_SET_VRING_BASE',
    level: 'MUST',
    title: 'After GET_VRING_BASE, the ring set up again with SET_VRING_BASE resumes from that position',
    async run(ctx) {
      const s = await ctx.open();
      await s.handshake();
      const ring = await runningRing(s);
      await expectProcessed(s, ring, 'first request', 2000);
      const base = await s.getBase(ring.index);
      await s.setupRing(ring.index, { reuse: ring, base });
      await s.enable(ring.index);
      await expectProcessed(s, ring, 'after resuming', 2000);
      const again = await s.getBase(ring.index);
      if (again !== base + 1) throw new CaseFailure(`GET_VRING_BASE returned ${again}, expected ${base + 1}`);
    },
  },
  ...stopOrderCases(),
  {
    id: 'rings/reset-device-reinitialises',
    section: 'rings',
    anchor: 'frontend-messages.html#VHOST_USER_RESET_DEVICE',
    level: 'MUST',
    title:
      'RESET_DEVICE (as around a system reset) stops every ring and returns the device to its initial state; it can be set up again',
    async run(ctx) {
      const s = await ctx.open();
      await s.handshake();
      s.requireProtocol(ProtocolFeature.VHOST_USER_PROTOCOL_F_RESET_DEVICE, 'RESET_DEVICE');
      const device = s.requireQueue();
      const ring = await startedRing(s, 3);
      await s.ack({ name: 'VHOST_USER_RESET_DEVICE', payload: null });
      if (s.device.request) {
        const { usedBefore } = s.submit(ring);
        if (await s.waitUsed(ring, usedBefore, 300))
          throw new CaseFailure('a ring was still processed after RESET_DEVICE');
      }
      // Re-initialisation as after a guest reset: features, memory and the ring from scratch.
      await s.setFeatures();
      await s.shareMemory();
      const again = await s.setupRing(device.queue, { kick: true });
      await s.enable(device.queue);
      if (s.device.request) await expectProcessed(s, again, 'after RESET_DEVICE and a fresh set-up', 2000);
      const base = await s.getBase(device.queue);
      if (base !== again.availIdx)
        throw new CaseFailure(`GET_VRING_BASE after the fresh set-up returned ${base}, expected ${again.availIdx}`);
    },
  },
  ...configCases(),
  {
    id: 'malformed/unknown-request',
    section: 'malformed',
    anchor: 'session.html#errors',
    level: 'SHOULD',
    title: 'An unknown request id closes the connection',
    async run(ctx) {
      const s = await ctx.open();
      await s.handshake();
      const bytes = encode('frontend', { name: 'VHOST_USER_GET_FEATURES', payload: null });
      new DataView(bytes.buffer).setUint32(HEADER.requestOffset, 0xfff0, true);
      s.probe.sendRaw(bytes);
      if ((await closesOrAnswers(s, 'an unknown request id')) !== 'closed')
        throw new CaseFailure('the connection stayed open after an unknown request id');
    },
  },
  {
    id: 'malformed/short-payload-no-hang',
    section: 'malformed',
    anchor: 'session.html#errors',
    level: 'MUST',
    title: 'A payload shorter than the request calls for does not hang the peer (it closes or goes on)',
    async run(ctx) {
      const s = await ctx.open();
      await s.handshake();
      const bytes = encode('frontend', { name: 'VHOST_USER_SET_VRING_NUM', payload: { index: 0, num: 64 } });
      const short = bytes.slice(0, HEADER.size + 4);
      new DataView(short.buffer).setUint32(HEADER.sizeOffset, 4, true);
      s.probe.sendRaw(short);
      await closesOrAnswers(s, 'a 4-byte SET_VRING_NUM');
    },
  },
  {
    id: 'malformed/oversized-size-closes',
    section: 'malformed',
    anchor: 'message-format.html#framing-on-a-stream-socket',
    level: 'SHOULD',
    title: 'A size larger than any payload is a fatal error (connection closed)',
    async run(ctx) {
      const s = await ctx.open();
      await s.handshake();
      const bytes = encode('frontend', { name: 'VHOST_USER_GET_FEATURES', payload: null });
      new DataView(bytes.buffer).setUint32(HEADER.sizeOffset, 0x100000, true);
      s.probe.sendRaw(bytes);
      const r = await s.probe.next(ctx.timeoutMs);
      if (r.kind !== 'closed') throw new CaseFailure(`the peer did not close after a 1 MiB size field (${r.kind})`);
    },
  },
  {
    id: 'reconnect/new-session',
    section: 'reconnect',
    anchor: 'session.html#disconnect-and-reconnect',
    level: 'SHOULD',
    title: 'After a front-end disconnects mid-session, a new connection starts a fresh session',
    async run(ctx) {
      const first = await ctx.open();
      await first.handshake();
      await first.setFeatures();
      await first.shareMemory();
      await first.setupRing(0, { base: 9 });
      first.close();
      await new Promise((r) => setTimeout(r, 100));
      const second = await ctx.open();
      await second.handshake();
      await second.setFeatures();
      await second.shareMemory();
      await second.setupRing(0, { kick: false });
      const base = await second.getBase(0);
      if (base !== 0)
        throw new CaseFailure(`the new session's ring reports base ${base}: state of the old session leaked`);
    },
  },
];

function configCases(): ConformanceCase[] {
  const needConfig = async (ctx: CaseContext) => {
    const s = await ctx.open();
    await s.handshake();
    s.requireProtocol(ProtocolFeature.VHOST_USER_PROTOCOL_F_CONFIG, 'CONFIG');
    return s;
  };
  const read = async (s: Session, offset: number, size: number) => {
    const reply = await s.query({
      name: 'VHOST_USER_GET_CONFIG',
      payload: { offset, flags: 0, data: new Uint8Array(size) },
    });
    return reply;
  };
  return [
    {
      id: 'config/read-window',
      section: 'config',
      anchor: 'config-space.html#reading',
      level: 'MUST',
      title: 'GET_CONFIG is answered with the same offset and size and the window filled in',
      async run(ctx) {
        const s = await needConfig(ctx);
        const reply = await read(s, 0, 8);
        const p = reply.payload as { offset: number; data: Uint8Array } | null;
        if (!p) throw new CaseFailure('an 8-byte window at offset 0 was refused (empty reply)');
        if (p.offset !== 0 || p.data.length !== 8)
          throw new CaseFailure(`the reply window is ${p.offset}+${p.data.length}, asked 0+8`);
      },
    },
    {
      id: 'config/offset-window',
      section: 'config',
      anchor: 'config-space.html#the-configuration-window',
      level: 'MUST',
      title: 'A window at a non-zero offset returns the bytes at that offset',
      async run(ctx) {
        const s = await needConfig(ctx);
        const whole = (await read(s, 0, 16)).payload as { data: Uint8Array } | null;
        const part = (await read(s, 8, 8)).payload as { offset: number; data: Uint8Array } | null;
        if (!whole || !part) throw new CaseFailure('a window inside the config space was refused');
        if (part.offset !== 8) throw new CaseFailure(`the reply says offset ${part.offset}, asked 8`);
        if (Buffer.compare(Buffer.from(whole.data.subarray(8, 16)), Buffer.from(part.data)) !== 0)
          throw new CaseFailure(
            `bytes at offset 8 differ: ${Buffer.from(part.data).toString('hex')} vs ${Buffer.from(whole.data.subarray(8)).toString('hex')} read from offset 0`,
          );
      },
    },
    {
      id: 'config/too-large',
      section: 'config',
      anchor: 'config-space.html#size-and-offset-rules',
      level: 'MUST',
      title: `A window larger than the config space (${VHOST_USER_MAX_CONFIG_SIZE} bytes) gets the error reply (no payload)`,
      async run(ctx) {
        const s = await needConfig(ctx);
        const reply = await read(s, 0, VHOST_USER_MAX_CONFIG_SIZE);
        if (reply.size !== 0)
          throw new CaseFailure(`a ${VHOST_USER_MAX_CONFIG_SIZE}-byte window was answered with ${reply.size} bytes`);
      },
    },
    {
      id: 'config/offset-wraps',
      section: 'config',
      anchor: 'config-space.html#size-and-offset-rules',
      level: 'MUST',
      title: 'A window whose offset + size wraps 32 bits is outside the config space',
      async run(ctx) {
        const s = await needConfig(ctx);
        const reply = await read(s, 0xffff_fffc, 8);
        if (reply.size !== 0) throw new CaseFailure(`a window at 0xfffffffc+8 was answered with ${reply.size} bytes`);
      },
    },
  ];
}

/** Every case, derived ones first, in a stable order. */
export function allCases(): ConformanceCase[] {
  return [...handWritten, ...migrationCases(), ...derivedCases()].sort(
    (a, b) => SECTION_ORDER.indexOf(a.section) - SECTION_ORDER.indexOf(b.section),
  );
}

export const SECTION_ORDER = [
  'header',
  'features',
  'replies',
  'fds',
  'memory',
  'rings',
  'config',
  'gating',
  'malformed',
  'reconnect',
  'inflight',
  'migration',
  'reset',
  'device-state',
];
