/**
 * vhost-user front-end: connects to a back-end's socket, negotiates features, claims the
 * session, shares guest memory, sets rings up (with kick and call eventfds) and stops them.
 */
import { ProtocolFeature, VirtioFeature, featureMask, hasFeature, negotiate, type VringBase } from '@vhost-user/codec';
import { Connection, type RequestHandler } from './connection.js';
import { EventFd } from './eventfd.js';
import type { FrontendGuestMemory } from './guest-memory.js';
import { closeFds } from './native.js';
import { UnixSocket } from './socket.js';

export interface FrontendOptions {
  /** Request timeout (ms). */
  timeoutMs?: number;
  /** Handles requests the back-end sends on the back-end channel (when BACKEND_REQ is used). */
  onBackendRequest?: RequestHandler<'backend'>;
  onClose?: (error?: Error) => void;
}

export interface Negotiated {
  /** Virtio features offered by the back-end. */
  offeredFeatures: bigint;
  offeredProtocolFeatures: bigint;
  /** Virtio features that will be acked with SET_FEATURES. */
  features: bigint;
  protocolFeatures: bigint;
}

export interface RingSetup {
  index: number;
  size: number;
  /** Guest-physical addresses of the three areas (sent as user addresses). */
  descAddr: number;
  availAddr: number;
  usedAddr: number;
  /** Position to resume from. */
  base?: number;
}

export interface StartedRing {
  index: number;
  kick: EventFd;
  call: EventFd;
}

/** Protocol features the front-end knows how to use. */
export const FRONTEND_PROTOCOL_FEATURES = featureMask(
  ProtocolFeature.VHOST_USER_PROTOCOL_F_MQ,
  ProtocolFeature.VHOST_USER_PROTOCOL_F_REPLY_ACK,
  ProtocolFeature.VHOST_USER_PROTOCOL_F_BACKEND_REQ,
  ProtocolFeature.VHOST_USER_PROTOCOL_F_CONFIG,
  ProtocolFeature.VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS,
  ProtocolFeature.VHOST_USER_PROTOCOL_F_RESET_DEVICE,
  ProtocolFeature.VHOST_USER_PROTOCOL_F_STATUS,
);

const F_PROTOCOL_FEATURES = VirtioFeature.VHOST_USER_F_PROTOCOL_FEATURES;

/** Virtio device status bits (virtio spec; the vhost-user spec does not list them). */
export const VIRTIO_STATUS = {
  ACKNOWLEDGE: 1,
  DRIVER: 2,
  DRIVER_OK: 4,
  FEATURES_OK: 8,
  NEEDS_RESET: 64,
  FAILED: 128,
} as const;

export class VhostUserFrontend {
  readonly conn: Connection<'frontend'>;
  private backendChannel: Connection<'backend'> | undefined;
  negotiated: Negotiated | undefined;
  private readonly rings = new Map<number, StartedRing>();

  private constructor(
    socket: UnixSocket,
    private readonly options: FrontendOptions,
  ) {
    this.conn = new Connection(socket, {
      channel: 'frontend',
      timeoutMs: options.timeoutMs ?? 5000,
      onClose: (error) => {
        this.backendChannel?.close();
        options.onClose?.(error);
      },
    });
  }

  static connect(path: string, options: FrontendOptions = {}): VhostUserFrontend {
    return new VhostUserFrontend(UnixSocket.connect(path), options);
  }

  get protocolFeatures(): bigint {
    return this.negotiated?.protocolFeatures ?? 0n;
  }

  hasProtocolFeature(bit: number): boolean {
    return hasFeature(this.protocolFeatures, bit);
  }

  /**
   * GET_FEATURES, GET_PROTOCOL_FEATURES and SET_PROTOCOL_FEATURES (when the back-end offers
   * VHOST_USER_F_PROTOCOL_FEATURES), then SET_OWNER and the back-end channel. SET_FEATURES is
   * sent by `setFeatures` (at device start, as QEMU does).
   */
  async handshake(wantFeatures: bigint, wantProtocol: bigint = FRONTEND_PROTOCOL_FEATURES): Promise<Negotiated> {
    const offeredFeatures = (await this.conn.call({ name: 'VHOST_USER_GET_FEATURES', payload: null })).value;
    let offeredProtocolFeatures = 0n;
    let protocolFeatures = 0n;
    if (hasFeature(offeredFeatures, F_PROTOCOL_FEATURES)) {
      offeredProtocolFeatures = (await this.conn.call({ name: 'VHOST_USER_GET_PROTOCOL_FEATURES', payload: null }))
        .value;
      protocolFeatures = negotiate(offeredProtocolFeatures, wantProtocol);
      await this.conn.request({ name: 'VHOST_USER_SET_PROTOCOL_FEATURES', payload: { value: protocolFeatures } });
      this.conn.protocolFeatures = protocolFeatures;
    }
    const features = negotiate(offeredFeatures, wantFeatures | featureMask(F_PROTOCOL_FEATURES));
    this.negotiated = { offeredFeatures, offeredProtocolFeatures, features, protocolFeatures };
    await this.conn.request({ name: 'VHOST_USER_SET_OWNER', payload: null });
    if (hasFeature(protocolFeatures, ProtocolFeature.VHOST_USER_PROTOCOL_F_BACKEND_REQ))
      await this.openBackendChannel();
    return this.negotiated;
  }

  /** A socket pair: one end goes to the back-end, the other answers its requests here. */
  private async openBackendChannel(): Promise<void> {
    const [ours, theirs] = UnixSocket.pair();
    try {
      this.backendChannel = new Connection(new UnixSocket(ours), {
        channel: 'backend',
        onRequest: this.options.onBackendRequest ?? (() => undefined),
      });
      this.backendChannel.protocolFeatures = this.protocolFeatures;
      await this.conn.request({ name: 'VHOST_USER_SET_BACKEND_REQ_FD', payload: null }, { fds: [theirs] });
    } finally {
      closeFds([theirs]); // the back-end has its own copy now
    }
  }

  async queueCount(): Promise<number> {
    if (!this.hasProtocolFeature(ProtocolFeature.VHOST_USER_PROTOCOL_F_MQ)) return 1;
    return Number((await this.conn.call({ name: 'VHOST_USER_GET_QUEUE_NUM', payload: null })).value);
  }

  async setFeatures(features = this.negotiated?.features ?? 0n): Promise<void> {
    await this.conn.request({ name: 'VHOST_USER_SET_FEATURES', payload: { value: features } });
  }

  /**
   * Resolves once the back-end has processed every request sent before. With REPLY_ACK each
   * request was already acked; without it a request that has a reply (GET_FEATURES, as QEMU
   * does) stands in for the ack, since the back-end answers in order.
   */
  async barrier(): Promise<void> {
    if (this.conn.replyAck) return;
    await this.conn.call({ name: 'VHOST_USER_GET_FEATURES', payload: null });
  }

  /** Shares guest RAM: ADD_MEM_REG when CONFIGURE_MEM_SLOTS is in use, else SET_MEM_TABLE. */
  async setMemory(memory: FrontendGuestMemory): Promise<void> {
    if (this.hasProtocolFeature(ProtocolFeature.VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS)) {
      await this.conn.request(
        { name: 'VHOST_USER_ADD_MEM_REG', payload: { region: memory.memoryRegion } },
        { fds: [memory.fd] },
      );
    } else {
      await this.conn.request(
        { name: 'VHOST_USER_SET_MEM_TABLE', payload: { regions: [memory.memoryRegion] } },
        { fds: [memory.fd] },
      );
    }
    // Buffers placed in the new memory may be kicked right after: the table must be in place.
    await this.barrier();
  }

  async getConfig(offset: number, size: number): Promise<Uint8Array> {
    const reply = await this.conn.call({
      name: 'VHOST_USER_GET_CONFIG',
      payload: { offset, flags: 0, data: new Uint8Array(size) },
    });
    return reply.data;
  }

  async setConfig(offset: number, data: Uint8Array): Promise<void> {
    await this.conn.request({ name: 'VHOST_USER_SET_CONFIG', payload: { offset, flags: 0, data } });
  }

  /** NUM, BASE, ADDR, KICK, CALL, then ENABLE when protocol features are in use. */
  async startRing(memory: Pick<FrontendGuestMemory, 'userAddrOf'>, ring: RingSetup): Promise<StartedRing> {
    const { index } = ring;
    await this.conn.request({ name: 'VHOST_USER_SET_VRING_NUM', payload: { index, num: ring.size } });
    // A fresh packed ring starts with both wrap counters at 1 (bit 15 of each 16-bit half).
    const packed = hasFeature(this.negotiated?.features ?? 0n, VirtioFeature.VIRTIO_F_RING_PACKED);
    const base = ring.base ?? (packed ? 0x8000_8000 : 0);
    await this.conn.request({ name: 'VHOST_USER_SET_VRING_BASE', payload: { index, num: base } });
    await this.conn.request({
      name: 'VHOST_USER_SET_VRING_ADDR',
      payload: {
        index,
        flags: 0,
        descriptor: BigInt(memory.userAddrOf(ring.descAddr)),
        used: BigInt(memory.userAddrOf(ring.usedAddr)),
        available: BigInt(memory.userAddrOf(ring.availAddr)),
        log: 0n,
      },
    });
    const kick = new EventFd();
    const call = new EventFd();
    try {
      await this.conn.request(
        { name: 'VHOST_USER_SET_VRING_KICK', payload: { value: BigInt(index) } },
        { fds: [kick.fd] },
      );
      await this.conn.request(
        { name: 'VHOST_USER_SET_VRING_CALL', payload: { value: BigInt(index) } },
        { fds: [call.fd] },
      );
      if (hasFeature(this.negotiated?.features ?? 0n, F_PROTOCOL_FEATURES)) {
        await this.conn.request({ name: 'VHOST_USER_SET_VRING_ENABLE', payload: { index, num: 1 } });
      }
      // The caller kicks next: the ring must be enabled in the back-end before that.
      await this.barrier();
    } catch (error) {
      kick.close();
      call.close();
      throw error;
    }
    const started = { index, kick, call };
    this.rings.set(index, started);
    return started;
  }

  /** Forwards the device status (SET_STATUS) when STATUS is negotiated; DPDK waits for
   *  DRIVER_OK before it processes any ring. */
  async setStatus(status: number): Promise<void> {
    if (this.hasProtocolFeature(ProtocolFeature.VHOST_USER_PROTOCOL_F_STATUS))
      await this.conn.request({ name: 'VHOST_USER_SET_STATUS', payload: { value: BigInt(status) } });
  }

  /** Every ring is set up: the driver is ready (ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK). */
  async driverReady(): Promise<void> {
    await this.setStatus(
      VIRTIO_STATUS.ACKNOWLEDGE | VIRTIO_STATUS.DRIVER | VIRTIO_STATUS.FEATURES_OK | VIRTIO_STATUS.DRIVER_OK,
    );
  }

  /** The back-end's view of the device status (GET_STATUS); needs STATUS. */
  async getStatus(): Promise<number> {
    const reply = await this.conn.call({ name: 'VHOST_USER_GET_STATUS', payload: null });
    return Number(reply.value & 0xffn);
  }

  /** RESET_DEVICE (needs RESET_DEVICE): the rings are gone on both sides, the session stays. */
  async resetDevice(): Promise<void> {
    await this.conn.request({ name: 'VHOST_USER_RESET_DEVICE', payload: null });
    for (const ring of this.rings.values()) {
      ring.kick.close();
      ring.call.close();
    }
    this.rings.clear();
  }

  /** Disables the ring and stops it: GET_VRING_BASE returns the next available index it would
   *  have processed. */
  async stopRing(index: number): Promise<number> {
    if (hasFeature(this.negotiated?.features ?? 0n, F_PROTOCOL_FEATURES)) {
      await this.conn.request({ name: 'VHOST_USER_SET_VRING_ENABLE', payload: { index, num: 0 } });
    }
    const base = await this.conn.call({ name: 'VHOST_USER_GET_VRING_BASE', payload: { index, num: 0 } });
    const ring = this.rings.get(index);
    ring?.kick.close();
    ring?.call.close();
    this.rings.delete(index);
    return base.num;
  }

  get backend(): Connection<'backend'> | undefined {
    return this.backendChannel;
  }

  close(): void {
    for (const ring of this.rings.values()) {
      ring.kick.close();
      ring.call.close();
    }
    this.rings.clear();
    this.backendChannel?.close();
    this.conn.close();
  }
}
