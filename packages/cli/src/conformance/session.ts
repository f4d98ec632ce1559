/**
 * What the cases share: a probe plus the front-end steps every rule needs (handshake, memory,
 * ring set-up, acked requests, a data-path request), each reporting what the peer did wrong
 * as a CaseFailure so a case reads as the rule it checks.
 */
import {
  ProtocolFeature,
  SPLIT_AVAIL,
  SPLIT_DESC,
  SPLIT_RING,
  SPLIT_RING_AREAS,
  SPLIT_USED,
  VHOST_USER_VRING_NOFD_MASK,
  VirtioFeature,
  featureMask,
  hasFeature,
  messageInfo,
  type DecodedReply,
  type DecodedReplyTo,
  type MemoryRegion,
  type ReplyPayload,
  type RequestName,
  type RequestOf,
} from '@vhost-user/codec';
import { EventFd, FrontendGuestMemory } from '@vhost-user/transport';
import type { DeviceProfile } from './devices.js';
import { Probe, type Received } from './probe.js';

export { DEVICES, type DeviceProfile } from './devices.js';

export class CaseFailure extends Error {}
/** The peer does not offer what the case needs: the case is skipped. */
export class CaseSkipped extends Error {}

/** What a case that threw means: skipped, a broken rule, or an unexpected error (also a failure). */
export function outcomeOfError(error: unknown): { outcome: 'skip' | 'fail'; detail: string } {
  if (error instanceof CaseSkipped) return { outcome: 'skip', detail: error.message };
  return {
    outcome: 'fail',
    detail: error instanceof CaseFailure ? error.message : `error: ${(error as Error).message}`,
  };
}

export type Reply = DecodedReply<'frontend'>;

export interface Offer {
  features: bigint;
  protocolFeatures: bigint;
}

const F_PROTOCOL = VirtioFeature.VHOST_USER_F_PROTOCOL_FEATURES;

/** The protocol features the suite knows how to drive (it implements their messages). */
export const SUITE_PROTOCOL_FEATURES = featureMask(
  ProtocolFeature.VHOST_USER_PROTOCOL_F_MQ,
  ProtocolFeature.VHOST_USER_PROTOCOL_F_REPLY_ACK,
  ProtocolFeature.VHOST_USER_PROTOCOL_F_CONFIG,
  ProtocolFeature.VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS,
  ProtocolFeature.VHOST_USER_PROTOCOL_F_RESET_DEVICE,
  ProtocolFeature.VHOST_USER_PROTOCOL_F_STATUS,
);

export interface RingHandle {
  index: number;
  size: number;
  desc: number;
  avail: number;
  used: number;
  kick: EventFd | undefined;
  call: EventFd;
  /** Avail index the driver has published up to. */
  availIdx: number;
  /** Next free descriptor slot. */
  descNext: number;
}

export class Session {
  offer: Offer | undefined;
  memory: FrontendGuestMemory | undefined;
  readonly rings = new Map<number, RingHandle>();
  private readonly owned: { close(): void }[] = [];

  constructor(
    readonly probe: Probe,
    /** The device profile (generic when the suite knows nothing of the device). */
    readonly device: DeviceProfile,
    readonly timeoutMs: number,
    /** The device's queue count, when known (GET_QUEUE_NUM of the probe session). */
    readonly queueCount?: number,
  ) {}

  get protocolFeatures(): bigint {
    return this.probe.protocolFeatures;
  }

  get replyAck(): boolean {
    return hasFeature(this.probe.protocolFeatures, ProtocolFeature.VHOST_USER_PROTOCOL_F_REPLY_ACK);
  }

  /** Sends a request with a reply body and returns the reply, failing on anything else. */
  async query<N extends RequestName<'frontend'>>(
    message: RequestOf<'frontend'> & { name: N },
    options: { fds?: readonly number[] } = {},
  ): Promise<DecodedReplyTo<'frontend', N>> {
    this.probe.send(message, options);
    // replyOrFail checked that the reply answers `message.name`.
    return (await this.expectReply(message.name)) as DecodedReplyTo<'frontend', N>;
  }

  /** query(), returning the reply body; an ack or an empty body fails the case. */
  async queryBody<N extends RequestName<'frontend'>>(
    message: RequestOf<'frontend'> & { name: N },
    options: { fds?: readonly number[] } = {},
  ): Promise<ReplyPayload<'frontend', N>> {
    const reply = await this.query<N>(message, options);
    if (reply.ack || reply.empty)
      throw new CaseFailure(
        `${message.name} was answered with ${reply.ack ? 'an ack' : 'an empty body'}, not its reply`,
      );
    return reply.payload as ReplyPayload<'frontend', N>;
  }

  async expectReply(name: string): Promise<Reply> {
    const r = await this.probe.next(this.timeoutMs);
    return replyOrFail(r, name);
  }

  /**
   * Sends a request without a reply body. With REPLY_ACK it asks for an ack and fails on a
   * non-zero status; without it, a GET_FEATURES round trip confirms the peer is still there.
   */
  async ack(message: RequestOf<'frontend'>, options: { fds?: readonly number[] } = {}): Promise<void> {
    const info = messageInfo('frontend', message.name);
    const acked = this.replyAck && info?.reply.kind !== 'none';
    this.probe.send(message, { ...options, needReply: acked });
    if (acked) {
      const reply = await this.expectReply(message.name);
      if (!reply.ack)
        throw new CaseFailure(
          `${message.name} with need_reply was answered with a ${reply.size}-byte body, not an 8-byte ack`,
        );
      const status = reply.payload.value;
      if (status !== 0n) throw new CaseFailure(`${message.name} was refused (ack status ${status})`);
      return;
    }
    await this.barrier(message.name);
  }

  /** A GET_FEATURES round trip: everything sent before it has been read. */
  async barrier(after: string): Promise<void> {
    this.probe.send({ name: 'VHOST_USER_GET_FEATURES', payload: null });
    const r = await this.probe.next(this.timeoutMs);
    if (r.kind === 'closed') throw new CaseFailure(`the peer closed the connection after ${after}`);
    if (r.kind === 'timeout') throw new CaseFailure(`no answer to GET_FEATURES after ${after}`);
    const reply = replyOrFail(r, 'VHOST_USER_GET_FEATURES', after);
    if (reply.name !== 'VHOST_USER_GET_FEATURES')
      throw new CaseFailure(`expected the GET_FEATURES reply after ${after}, got ${reply.name}`);
  }

  /** GET_FEATURES, then GET/SET_PROTOCOL_FEATURES (the given bits among those offered), SET_OWNER. */
  async handshake(options: { protocol?: bigint; owner?: boolean } = {}): Promise<Offer> {
    const offered = (await this.queryBody({ name: 'VHOST_USER_GET_FEATURES', payload: null })).value;
    let protocolFeatures = 0n;
    if (hasFeature(offered, F_PROTOCOL)) {
      protocolFeatures = (await this.queryBody({ name: 'VHOST_USER_GET_PROTOCOL_FEATURES', payload: null })).value;
      const selected = protocolFeatures & (options.protocol ?? SUITE_PROTOCOL_FEATURES);
      this.probe.send({ name: 'VHOST_USER_SET_PROTOCOL_FEATURES', payload: { value: selected } });
      this.probe.protocolFeatures = selected;
    }
    this.offer = { features: offered, protocolFeatures };
    if (options.owner ?? true) await this.ack({ name: 'VHOST_USER_SET_OWNER', payload: null });
    return this.offer;
  }

  requireProtocol(bit: number, what: string): void {
    if (!this.offer || !hasFeature(this.offer.protocolFeatures, bit))
      throw new CaseSkipped(`the peer does not offer ${what}`);
    if (!hasFeature(this.probe.protocolFeatures, bit)) throw new CaseSkipped(`${what} was not selected`);
  }

  /** The profile's ring, when the device has it. */
  requireQueue(): DeviceProfile {
    const { device, queueCount } = this;
    if (queueCount !== undefined && device.queue >= queueCount)
      throw new CaseSkipped(`the ${device.name} profile uses ring ${device.queue}; the device has ${queueCount}`);
    return device;
  }

  /** A profile that can drive the data path (one request on its ring). */
  requireDataPath(): DeviceProfile & Required<Pick<DeviceProfile, 'request'>> {
    const device = this.requireQueue();
    if (!device.request)
      throw new CaseSkipped(`the ${device.name} profile has no data path (pass --device blk|net|entropy)`);
    return device as DeviceProfile & Required<Pick<DeviceProfile, 'request'>>;
  }

  /** SET_FEATURES with what the suite can drive: the device's offer minus ring-layout options. */
  async setFeatures(options: { protocolBit?: boolean } = {}): Promise<bigint> {
    const offered = this.offer?.features ?? 0n;
    // Packed rings and the event index change the ring layout; the suite drives plain split rings.
    let mask =
      offered &
      ~featureMask(
        VirtioFeature.VIRTIO_F_RING_PACKED,
        VirtioFeature.VIRTIO_F_EVENT_IDX,
        VirtioFeature.VIRTIO_F_INDIRECT_DESC,
      );
    if (options.protocolBit === false) mask &= ~featureMask(F_PROTOCOL);
    await this.ack({ name: 'VHOST_USER_SET_FEATURES', payload: { value: mask } });
    return mask;
  }

  /** Guest RAM of `size` bytes shared with SET_MEM_TABLE (or kept for ADD_MEM_REG). */
  async shareMemory(size = 1 << 21, via: 'table' | 'none' = 'table'): Promise<FrontendGuestMemory> {
    const memory = new FrontendGuestMemory({ size, guestBase: 0 });
    this.owned.push(memory);
    this.memory = memory;
    if (via === 'table')
      await this.ack(
        { name: 'VHOST_USER_SET_MEM_TABLE', payload: { regions: [memory.memoryRegion as MemoryRegion] } },
        { fds: [memory.fd] },
      );
    return memory;
  }

  /** SET_VRING_NUM/BASE/ADDR/CALL and (unless kick: false) SET_VRING_KICK. */
  async setupRing(
    index: number,
    options: { size?: number; base?: number; kick?: boolean; reuse?: RingHandle } = {},
  ): Promise<RingHandle> {
    const memory = this.memory;
    if (!memory) throw new Error('setupRing before shareMemory');
    const size = options.reuse?.size ?? options.size ?? 64;
    const a = SPLIT_RING_AREAS;
    const ring: RingHandle = options.reuse ?? {
      index,
      size,
      desc: memory.allocate(a.descriptorTable.size(size), 4096),
      avail: memory.allocate(a.availableRing.size(size), 4096),
      used: memory.allocate(a.usedRing.size(size), 4096),
      kick: undefined,
      call: this.own(new EventFd()),
      availIdx: options.base ?? 0,
      descNext: 0,
    };
    if (!options.reuse) {
      memory.view(ring.avail, a.availableRing.size(size)).fill(0);
      memory.view(ring.used, a.usedRing.size(size)).fill(0);
      this.view16(ring.avail + SPLIT_AVAIL.idx, ring.availIdx);
      this.view16(ring.used + SPLIT_USED.idx, ring.availIdx);
    }
    await this.ack({ name: 'VHOST_USER_SET_VRING_NUM', payload: { index, num: size } });
    await this.ack({ name: 'VHOST_USER_SET_VRING_BASE', payload: { index, num: options.base ?? ring.availIdx } });
    await this.ack({
      name: 'VHOST_USER_SET_VRING_ADDR',
      payload: {
        index,
        flags: 0,
        descriptor: BigInt(memory.userAddrOf(ring.desc)),
        used: BigInt(memory.userAddrOf(ring.used)),
        available: BigInt(memory.userAddrOf(ring.avail)),
        log: 0n,
      },
    });
    await this.ack({ name: 'VHOST_USER_SET_VRING_CALL', payload: { value: BigInt(index) } }, { fds: [ring.call.fd] });
    this.rings.set(index, ring);
    if (options.kick ?? true) await this.kickFd(ring);
    return ring;
  }

  async kickFd(ring: RingHandle): Promise<void> {
    ring.kick?.close();
    ring.kick = this.own(new EventFd());
    await this.ack(
      { name: 'VHOST_USER_SET_VRING_KICK', payload: { value: BigInt(ring.index) } },
      { fds: [ring.kick.fd] },
    );
  }

  async enable(index: number, on = true): Promise<void> {
    await this.ack({ name: 'VHOST_USER_SET_VRING_ENABLE', payload: { index, num: on ? 1 : 0 } });
  }

  async getBase(index: number): Promise<number> {
    const reply = await this.query({ name: 'VHOST_USER_GET_VRING_BASE', payload: { index, num: 0 } });
    if (reply.payload === null) throw new CaseFailure('GET_VRING_BASE was answered with an empty body');
    const p = reply.payload as { index: number; num: number };
    if (p.index !== index) throw new CaseFailure(`GET_VRING_BASE for ring ${index} answered for ring ${p.index}`);
    return p.num;
  }

  private view16(addr: number, value?: number): number {
    const memory = this.memory as FrontendGuestMemory;
    const view = new DataView(memory.bytes.buffer, memory.offsetOf(addr, 2), 2);
    if (value !== undefined) view.setUint16(0, value, true);
    return view.getUint16(0, true);
  }

  usedIdx(ring: RingHandle): number {
    return this.view16(ring.used + SPLIT_USED.idx);
  }

  /** Makes one device request available on `ring` and kicks; returns what to watch. */
  submit(ring: RingHandle, kick = true): { marker?: { addr: number; length: number }; usedBefore: number } {
    const memory = this.memory as FrontendGuestMemory;
    const device = this.requireDataPath();
    const { buffers, marker } = device.request(memory);
    const head = ring.descNext;
    buffers.forEach((b, i) => {
      const slot = (head + i) % ring.size;
      const d = new DataView(
        memory.bytes.buffer,
        memory.offsetOf(ring.desc + slot * SPLIT_DESC.size, SPLIT_DESC.size),
        SPLIT_DESC.size,
      );
      d.setBigUint64(SPLIT_DESC.addr, BigInt(b.addr), true);
      d.setUint32(SPLIT_DESC.len, b.length, true);
      d.setUint16(
        SPLIT_DESC.flags,
        (b.writable ? SPLIT_RING.VIRTQ_DESC_F_WRITE : 0) | (i < buffers.length - 1 ? SPLIT_RING.VIRTQ_DESC_F_NEXT : 0),
        true,
      );
      d.setUint16(SPLIT_DESC.next, (slot + 1) % ring.size, true);
    });
    ring.descNext = (head + buffers.length) % ring.size;
    const usedBefore = this.usedIdx(ring);
    this.view16(ring.avail + SPLIT_RING.AVAIL_RING_HEADER_SIZE + 2 * (ring.availIdx % ring.size), head);
    ring.availIdx = (ring.availIdx + 1) & 0xffff;
    this.view16(ring.avail + SPLIT_AVAIL.idx, ring.availIdx);
    if (kick) ring.kick?.signal();
    return { marker, usedBefore };
  }

  /** Waits until the used index moves past `before`; false after `ms`. */
  async waitUsed(ring: RingHandle, before: number, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (this.usedIdx(ring) !== before) return true;
      await new Promise((r) => setTimeout(r, 5));
    }
    return this.usedIdx(ring) !== before;
  }

  own<T extends { close(): void }>(thing: T): T {
    this.owned.push(thing);
    return thing;
  }

  close(): void {
    this.probe.close();
    for (const r of this.rings.values()) r.kick?.close();
    for (const o of this.owned.splice(0).reverse()) {
      try {
        o.close();
      } catch {
        // already released
      }
    }
  }
}

export function replyOrFail(r: Received, name: string, after?: string): Reply {
  const context = after ? ` (after ${after})` : '';
  if (r.kind === 'closed')
    throw new CaseFailure(`the peer closed the connection instead of answering ${name}${context}`);
  if (r.kind === 'timeout') throw new CaseFailure(`no reply to ${name}${context}`);
  if (r.error || !r.reply)
    throw new CaseFailure(`a bad reply to ${name}${context}: ${r.error?.message ?? 'not a reply'}`);
  if (r.reply.name !== name)
    throw new CaseFailure(
      `expected the reply to ${name}${context}, got ${r.reply.name}${r.reply.ack ? ' (an ack)' : ''}`,
    );
  return r.reply;
}

export const NOFD = BigInt(VHOST_USER_VRING_NOFD_MASK);
