/**
 * vhost-user-blk back-end device serving an image file: read, write, flush, get-id and the
 * config space, on split or packed rings, with INDIRECT, EVENT_IDX and several queues. File I/O
 * runs on libuv's thread pool (readv/writev straight between the image and guest RAM), never on
 * the event loop; a request completes when its I/O does. A transfer shorter than asked is an
 * I/O error, never a success with stale data; FLUSH is fsync.
 */
import { closeSync, fstatSync, fsync, openSync, readv, writev } from 'node:fs';
import { VirtioFeature, featureMask } from '@vhost-user/codec';
import type { DeviceQueue, VhostUserDevice } from '../device.js';
import type { Chain, Segment } from '../ring/queues.js';
import { VIRTIO_BLK } from './virtio-blk.js';

export interface BlkBackendOptions {
  readOnly?: boolean;
  /** The id GET_ID returns (at most 20 bytes). */
  id?: string;
  /** Queues offered (VIRTIO_BLK_F_MQ when more than one). Default 1. */
  queues?: number;
  /** Largest ring accepted. Default 1024. */
  maxQueueSize?: number;
  /** Ring features offered; each defaults to true. */
  packed?: boolean;
  eventIdx?: boolean;
  indirect?: boolean;
}

/** Largest number of segments in one request (config seg_max). */
const SEG_MAX = 126;

/** Bytes [from, from+length) of a list of segments, as sub-segments. */
function slice(segments: readonly Segment[], from: number, length: number): Segment[] {
  const out: Segment[] = [];
  let skip = from;
  let left = length;
  for (const s of segments) {
    if (left === 0) break;
    if (skip >= s.length) {
      skip -= s.length;
      continue;
    }
    const n = Math.min(s.length - skip, left);
    out.push({ offset: s.offset + skip, length: n });
    left -= n;
    skip = 0;
  }
  return out;
}

const total = (segments: readonly Segment[]) => segments.reduce((n, s) => n + s.length, 0);

/** An I/O call that moved fewer bytes than asked, or failed: the request gets IOERR. */
class ShortTransfer extends Error {}

function transfer(
  call: typeof readv,
  fd: number,
  views: Uint8Array[],
  position: number,
  length: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    call(fd, views, position, (error: Error | null, bytes: number) => {
      if (error) reject(error);
      else if (bytes !== length) reject(new ShortTransfer(`${bytes} of ${length} bytes at ${position}`));
      else resolve();
    });
  });
}

export class BlkBackendDevice implements VhostUserDevice {
  readonly features: bigint;
  readonly queueCount: number;
  readonly maxQueueSize: number;
  private readonly fd: number;
  readonly capacityBytes: number;
  private readonly id: Uint8Array;
  private inFlight = 0;
  private idle: (() => void)[] = [];
  private readonly notifyScheduled = new Set<DeviceQueue>();
  private closed = false;

  constructor(
    readonly imagePath: string,
    private readonly options: BlkBackendOptions = {},
  ) {
    this.fd = openSync(imagePath, options.readOnly ? 'r' : 'r+');
    this.capacityBytes = Math.floor(fstatSync(this.fd).size / VIRTIO_BLK.SECTOR_SIZE) * VIRTIO_BLK.SECTOR_SIZE;
    this.queueCount = options.queues ?? 1;
    this.maxQueueSize = options.maxQueueSize ?? 1024;
    const bits: number[] = [
      VirtioFeature.VIRTIO_F_VERSION_1,
      VIRTIO_BLK.F_FLUSH,
      VIRTIO_BLK.F_BLK_SIZE,
      VIRTIO_BLK.F_SEG_MAX,
    ];
    if (this.queueCount > 1) bits.push(VIRTIO_BLK.F_MQ);
    if (options.readOnly) bits.push(VIRTIO_BLK.F_RO);
    if (options.packed ?? true) bits.push(VirtioFeature.VIRTIO_F_RING_PACKED);
    if (options.eventIdx ?? true) bits.push(VirtioFeature.VIRTIO_F_EVENT_IDX);
    if (options.indirect ?? true) bits.push(VirtioFeature.VIRTIO_F_INDIRECT_DESC);
    this.features = featureMask(...bits);
    this.id = new TextEncoder().encode((options.id ?? 'vhost-user-ts').slice(0, VIRTIO_BLK.ID_BYTES));
  }

  getConfig(offset: number, size: number): Uint8Array {
    const config = new Uint8Array(VIRTIO_BLK.CONFIG_SIZE);
    const view = new DataView(config.buffer);
    view.setBigUint64(VIRTIO_BLK.CONFIG_CAPACITY, BigInt(this.capacityBytes / VIRTIO_BLK.SECTOR_SIZE), true);
    view.setUint32(VIRTIO_BLK.CONFIG_SEG_MAX, SEG_MAX, true);
    view.setUint32(VIRTIO_BLK.CONFIG_BLK_SIZE, VIRTIO_BLK.SECTOR_SIZE, true);
    view.setUint16(VIRTIO_BLK.CONFIG_NUM_QUEUES, this.queueCount, true);
    if (offset < 0 || offset + size > config.length)
      throw new RangeError(`config window ${offset}+${size} is past ${config.length} bytes`);
    return config.slice(offset, offset + size);
  }

  /** Starts every available request; each completes (push + notify) when its I/O does. */
  process(queue: DeviceQueue): void {
    for (let chain = queue.pop(); chain; chain = queue.pop()) {
      const head = chain.head;
      this.inFlight++;
      void this.serve(queue.bytes, chain).then((written) => {
        this.inFlight--;
        if (this.inFlight === 0) for (const wake of this.idle.splice(0)) wake();
        queue.push(head, written);
        this.scheduleNotify(queue);
      });
    }
  }

  /** One notification for the completions of one turn of the event loop. */
  private scheduleNotify(queue: DeviceQueue): void {
    if (this.notifyScheduled.has(queue)) return;
    this.notifyScheduled.add(queue);
    queueMicrotask(() => {
      this.notifyScheduled.delete(queue);
      queue.notify();
    });
  }

  /** Serves one request; resolves with the bytes written into the chain (data + status). */
  private async serve(bytes: Uint8Array, chain: Chain): Promise<number> {
    const writable = total(chain.writable);
    if (writable < 1 || total(chain.readable) < VIRTIO_BLK.HEADER_SIZE) return 0; // nowhere to put a status
    const header = new Uint8Array(VIRTIO_BLK.HEADER_SIZE);
    let at = 0;
    for (const s of slice(chain.readable, 0, VIRTIO_BLK.HEADER_SIZE)) {
      header.set(bytes.subarray(s.offset, s.offset + s.length), at);
      at += s.length;
    }
    const hv = new DataView(header.buffer);
    const type = hv.getUint32(0, true);
    const sector = hv.getBigUint64(8, true);
    const statusAt = slice(chain.writable, writable - 1, 1)[0] as Segment;
    const inData = slice(chain.writable, 0, writable - 1);
    const outData = slice(chain.readable, VIRTIO_BLK.HEADER_SIZE, total(chain.readable) - VIRTIO_BLK.HEADER_SIZE);
    let status: number = VIRTIO_BLK.S_OK;
    let written = 0;
    try {
      switch (type) {
        case VIRTIO_BLK.T_IN:
          await this.io(bytes, inData, sector, 'read');
          written = total(inData);
          break;
        case VIRTIO_BLK.T_OUT:
          if (this.options.readOnly) status = VIRTIO_BLK.S_IOERR;
          else await this.io(bytes, outData, sector, 'write');
          break;
        case VIRTIO_BLK.T_FLUSH:
          if (!this.options.readOnly)
            await new Promise<void>((ok, fail) => fsync(this.fd, (e) => (e ? fail(e) : ok())));
          break;
        case VIRTIO_BLK.T_GET_ID: {
          let i = 0;
          for (const s of inData) {
            for (let k = 0; k < s.length; k++, i++)
              bytes[s.offset + k] = i < this.id.length ? (this.id[i] as number) : 0;
          }
          written = Math.min(total(inData), VIRTIO_BLK.ID_BYTES);
          break;
        }
        default:
          status = VIRTIO_BLK.S_UNSUPP;
      }
    } catch {
      status = VIRTIO_BLK.S_IOERR;
      written = 0;
    }
    bytes[statusAt.offset] = status;
    return written + 1;
  }

  private async io(bytes: Uint8Array, segments: Segment[], sector: bigint, direction: 'read' | 'write'): Promise<void> {
    const length = total(segments);
    const start = sector * BigInt(VIRTIO_BLK.SECTOR_SIZE);
    if (start + BigInt(length) > BigInt(this.capacityBytes)) throw new RangeError('request past the end of the disk');
    if (length === 0) return;
    const views = segments.map((s) => bytes.subarray(s.offset, s.offset + s.length));
    await transfer(
      direction === 'read' ? readv : (writev as unknown as typeof readv),
      this.fd,
      views,
      Number(start),
      length,
    );
  }

  /** Waits for the I/O in flight, then closes the image. */
  async dispose(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
    closeSync(this.fd);
  }
}
