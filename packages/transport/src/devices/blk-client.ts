/**
 * vhost-user-blk front-end client: reads, writes, flushes and asks the id of a disk served by
 * any vhost-user-blk back-end, through split or packed virtqueues (one or several) in shared
 * guest memory. Every offset and length is in bytes (multiples of the block size).
 */
import { ProtocolFeature, VirtioFeature, featureMask, hasFeature } from '@vhost-user/codec';
import { FrontendGuestMemory } from '../guest-memory.js';
import { VhostUserFrontend } from '../frontend.js';
import { DriverQueue, type DriverBuffer } from '../ring/driver-queue.js';
import { splitRingFootprint, type EngineName } from '../ring/queues.js';
import { VIRTIO_BLK } from './virtio-blk.js';

export interface BlkClientOptions {
  /** Descriptors in the request queue (3 per request). Default 128. */
  queueSize?: number;
  /** Largest transfer of one request, bytes. Default 128 KiB. */
  maxTransfer?: number;
  timeoutMs?: number;
  /** Ring core: vring's WebAssembly core ('wasm', default) or its TypeScript path ('ts'). */
  engine?: EngineName;
  /** Request queues to use (VIRTIO_BLK_F_MQ), at most what the back-end has. Default 1. */
  queues?: number;
  /** Use packed rings (VIRTIO_F_RING_PACKED) when the back-end offers them. Default false. */
  packed?: boolean;
  /** Use EVENT_IDX notification suppression when offered. Default false. */
  eventIdx?: boolean;
}

export class BlkIoError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'BlkIoError';
  }
}

interface Slot {
  header: number;
  data: number;
  status: number;
}

export class VhostUserBlkClient {
  /** Disk size in bytes, from the config space. */
  sizeBytes = 0;
  blockSize: number = VIRTIO_BLK.SECTOR_SIZE;
  config: Uint8Array = new Uint8Array(0);
  /** The request queues in use (requests go round-robin). */
  queues: DriverQueue[] = [];
  private nextQueue = 0;
  private readonly freeSlots: Slot[] = [];
  private readonly waiting: (() => void)[] = [];
  private closed = false;

  private constructor(
    readonly frontend: VhostUserFrontend,
    readonly memory: FrontendGuestMemory,
    private readonly maxTransfer: number,
  ) {}

  static async open(path: string, options: BlkClientOptions = {}): Promise<VhostUserBlkClient> {
    const queueSize = options.queueSize ?? 128;
    const maxTransfer = options.maxTransfer ?? 128 * 1024;
    const queues = options.queues ?? 1;
    const slots = Math.floor(queueSize / 3) * queues;
    const f = splitRingFootprint(queueSize);
    const ringBytes = (f.desc[0] + f.avail[0] + f.used[0] + 3 * 4096) * queues;
    const memory = new FrontendGuestMemory({ size: ringBytes + slots * (maxTransfer + 4096 + 64) + 65536 });
    const frontend = VhostUserFrontend.connect(path, { timeoutMs: options.timeoutMs });
    const client = new VhostUserBlkClient(frontend, memory, maxTransfer);
    try {
      await client.start(queueSize, slots, queues, options);
    } catch (error) {
      client.close();
      throw error;
    }
    return client;
  }

  private async start(queueSize: number, slots: number, queues: number, options: BlkClientOptions): Promise<void> {
    const fe = this.frontend;
    const want = featureMask(
      VirtioFeature.VIRTIO_F_VERSION_1,
      VIRTIO_BLK.F_FLUSH,
      VIRTIO_BLK.F_BLK_SIZE,
      VIRTIO_BLK.F_SEG_MAX,
      ...(queues > 1 ? [VIRTIO_BLK.F_MQ] : []),
      ...(options.packed ? [VirtioFeature.VIRTIO_F_RING_PACKED] : []),
      ...(options.eventIdx ? [VirtioFeature.VIRTIO_F_EVENT_IDX] : []),
    );
    const negotiated = await fe.handshake(want);
    if (hasFeature(negotiated.protocolFeatures, ProtocolFeature.VHOST_USER_PROTOCOL_F_CONFIG)) {
      this.config = await fe.getConfig(0, VIRTIO_BLK.CONFIG_SIZE);
      const view = new DataView(this.config.buffer, this.config.byteOffset, this.config.byteLength);
      this.sizeBytes = Number(view.getBigUint64(VIRTIO_BLK.CONFIG_CAPACITY, true)) * VIRTIO_BLK.SECTOR_SIZE;
      if (hasFeature(negotiated.features, VIRTIO_BLK.F_BLK_SIZE))
        this.blockSize = view.getUint32(VIRTIO_BLK.CONFIG_BLK_SIZE, true);
    }
    const count = hasFeature(negotiated.features, VIRTIO_BLK.F_MQ) ? Math.min(queues, await fe.queueCount()) : 1;
    await fe.setFeatures();
    await fe.setMemory(this.memory);
    const ring = {
      packed: hasFeature(negotiated.features, VirtioFeature.VIRTIO_F_RING_PACKED),
      eventIdx: hasFeature(negotiated.features, VirtioFeature.VIRTIO_F_EVENT_IDX),
    };
    for (let i = 0; i < count; i++)
      this.queues.push(await DriverQueue.start(fe, this.memory, i, queueSize, options.engine ?? 'wasm', ring));
    await fe.driverReady();
    for (let i = 0; i < slots; i++) {
      this.freeSlots.push({
        header: this.memory.allocate(VIRTIO_BLK.HEADER_SIZE),
        data: this.memory.allocate(this.maxTransfer, 4096),
        status: this.memory.allocate(1, 1),
      });
    }
  }

  /** Reads `length` bytes at byte `offset`. */
  async read(offset: number, length: number): Promise<Uint8Array> {
    const sector = this.sectorOf(offset, length);
    return this.submit(VIRTIO_BLK.T_IN, sector, length, undefined, (slot) =>
      this.memory.view(slot.data, length).slice(),
    );
  }

  /** Writes `data` at byte `offset`. */
  async write(offset: number, data: Uint8Array): Promise<void> {
    const sector = this.sectorOf(offset, data.length);
    await this.submit(VIRTIO_BLK.T_OUT, sector, data.length, data, () => undefined);
  }

  /** Sector of a byte range that must be whole blocks. */
  private sectorOf(offset: number, length: number): bigint {
    const unit = Math.max(this.blockSize, VIRTIO_BLK.SECTOR_SIZE);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset % unit !== 0 || length % unit !== 0)
      throw new RangeError(`offset ${offset} and length ${length} must be multiples of the ${unit}-byte block`);
    return BigInt(offset / VIRTIO_BLK.SECTOR_SIZE);
  }

  async flush(): Promise<void> {
    await this.submit(VIRTIO_BLK.T_FLUSH, 0n, 0, undefined, () => undefined);
  }

  /** The device id string (up to 20 bytes, NUL-padded). */
  async getId(): Promise<string> {
    return this.submit(VIRTIO_BLK.T_GET_ID, 0n, VIRTIO_BLK.ID_BYTES, undefined, (slot) => {
      const bytes = this.memory.view(slot.data, VIRTIO_BLK.ID_BYTES);
      const end = bytes.indexOf(0);
      return Buffer.from(bytes.subarray(0, end < 0 ? bytes.length : end)).toString('latin1');
    });
  }

  private async submit<R>(
    type: number,
    sector: bigint,
    length: number,
    out: Uint8Array | undefined,
    finish: (slot: Slot) => R,
  ): Promise<R> {
    if (this.closed) throw new Error('client closed');
    if (length > this.maxTransfer) throw new RangeError(`transfer of ${length} bytes exceeds ${this.maxTransfer}`);
    const slot = await this.takeSlot();
    try {
      const header = new DataView(
        this.memory.bytes.buffer,
        this.memory.offsetOf(slot.header, VIRTIO_BLK.HEADER_SIZE),
        VIRTIO_BLK.HEADER_SIZE,
      );
      header.setUint32(0, type, true);
      header.setUint32(4, 0, true);
      header.setBigUint64(8, sector, true);
      if (out) this.memory.view(slot.data, out.length).set(out);
      this.memory.view(slot.status, 1)[0] = 0xff;
      const buffers: DriverBuffer[] = [{ guestAddr: slot.header, length: VIRTIO_BLK.HEADER_SIZE, writable: false }];
      if (length > 0) buffers.push({ guestAddr: slot.data, length, writable: type !== VIRTIO_BLK.T_OUT });
      buffers.push({ guestAddr: slot.status, length: 1, writable: true });
      const queue = this.queues[this.nextQueue++ % this.queues.length] as DriverQueue;
      await queue.submit(buffers);
      const status = this.memory.view(slot.status, 1)[0] as number;
      if (status !== VIRTIO_BLK.S_OK)
        throw new BlkIoError(
          status,
          `virtio-blk request type ${type} at byte ${sector * BigInt(VIRTIO_BLK.SECTOR_SIZE)} failed with status ${status}`,
        );
      return finish(slot);
    } finally {
      this.releaseSlot(slot);
    }
  }

  private takeSlot(): Promise<Slot> {
    const slot = this.freeSlots.pop();
    if (slot) return Promise.resolve(slot);
    return new Promise((resolve) => this.waiting.push(() => resolve(this.freeSlots.pop() as Slot)));
  }

  private releaseSlot(slot: Slot): void {
    this.freeSlots.push(slot);
    this.waiting.shift()?.();
  }

  /** Stops the rings (GET_VRING_BASE); returns the index each back-end ring reached. */
  async stop(): Promise<number[]> {
    const bases: number[] = [];
    for (const q of this.queues) {
      q.close();
      bases.push(await this.frontend.stopRing(q.index));
    }
    return bases;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.frontend.close();
    this.memory.close();
  }
}
