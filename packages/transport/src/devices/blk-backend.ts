/**
 * vhost-user-blk back-end device serving an image file: read, write, flush, get-id and the
 * config space, on split or packed rings, with INDIRECT, EVENT_IDX and several queues. File I/O
 * runs on libuv's thread pool (preadv/pwritev straight between the image and guest RAM, one job
 * per batch of requests), never on the event loop; a request completes when its I/O does. A
 * transfer shorter than asked is an I/O error, never a success with stale data; FLUSH is fsync.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { constants } from 'node:os';
import { VirtioFeature, featureMask } from '@vhost-user/codec';
import type { DeviceQueue, VhostUserDevice } from '../device.js';
import { native } from '../native.js';
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

/** native.ioTryRead's answer for a read the page cache does not hold. */
const NOT_CACHED = -constants.errno.EAGAIN;

/** Operation kinds of native.ioBatch. */
const IO_READ = 0;
const IO_WRITE = 1;
const IO_FLUSH = 2;

/** A request waiting for its I/O. */
interface Io {
  head: number;
  kind: number;
  position: number;
  segments: Segment[];
  /** Bytes the operation must move (a shorter transfer is an error). */
  length: number;
  /** Where the status byte goes. */
  statusAt: number;
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

  /**
   * Starts every available request. Reads, writes and flushes of one call go to the thread pool
   * as one batch (native.ioBatch: preadv / pwritev straight between the image and guest RAM) and
   * complete together; other requests complete at once.
   */
  process(queue: DeviceQueue): void {
    const bytes = queue.bytes;
    const ops: number[] = [];
    const batch: Io[] = [];
    let answered = 0;
    for (let chain = queue.pop(); chain; chain = queue.pop()) {
      const request = this.parse(bytes, chain);
      if ('written' in request) {
        queue.push(chain.head, request.written);
        answered++;
        continue;
      }
      ops.push(request.kind, request.position, request.segments.length);
      for (const seg of request.segments) ops.push(seg.offset, seg.length);
      batch.push(request);
    }
    if (batch.length === 0) {
      if (answered > 0) queue.notify();
      return;
    }
    // Reads the page cache holds are done now (without blocking); the rest goes to the pool.
    const encoded = Float64Array.from(ops);
    const now = batch.some((io) => io.kind === IO_READ) ? native.ioTryRead(bytes, this.fd, encoded) : undefined;
    const later: Io[] = [];
    const laterOps: number[] = [];
    let at = 0;
    batch.forEach((io, i) => {
      const words = 3 + 2 * io.segments.length;
      if (now && now[i] !== NOT_CACHED) {
        this.complete(queue, io, now[i] as number);
        answered++;
      } else {
        later.push(io);
        for (let k = 0; k < words; k++) laterOps.push(ops[at + k] as number);
      }
      at += words;
    });
    if (answered > 0) queue.notify();
    if (later.length === 0) return;
    this.inFlight++;
    native.ioBatch(bytes, this.fd, Float64Array.from(laterOps), (results) => {
      later.forEach((io, i) => this.complete(queue, io, results[i] as number));
      queue.notify();
      this.inFlight--;
      if (this.inFlight === 0) for (const wake of this.idle.splice(0)) wake();
    });
  }

  /** Writes the status of a request whose I/O moved `moved` bytes (or failed: -errno) and returns it. */
  private complete(queue: DeviceQueue, io: Io, moved: number): void {
    // A transfer shorter than asked (the image shrank) or an errno is an I/O error.
    const ok = moved === io.length;
    queue.bytes[io.statusAt] = ok ? VIRTIO_BLK.S_OK : VIRTIO_BLK.S_IOERR;
    queue.push(io.head, (ok && io.kind === IO_READ ? io.length : 0) + 1);
  }

  /** A request: I/O to run, or its answer when there is none (written into the chain already). */
  private parse(bytes: Uint8Array, chain: Chain): Io | { written: number } {
    const writable = total(chain.writable);
    if (writable < 1 || total(chain.readable) < VIRTIO_BLK.HEADER_SIZE) return { written: 0 }; // nowhere to put a status
    const header = new Uint8Array(VIRTIO_BLK.HEADER_SIZE);
    let at = 0;
    for (const s of slice(chain.readable, 0, VIRTIO_BLK.HEADER_SIZE)) {
      header.set(bytes.subarray(s.offset, s.offset + s.length), at);
      at += s.length;
    }
    const hv = new DataView(header.buffer);
    const type = hv.getUint32(0, true);
    const sector = hv.getBigUint64(8, true);
    const statusAt = (slice(chain.writable, writable - 1, 1)[0] as Segment).offset;
    const answer = (status: number, written = 0) => {
      bytes[statusAt] = status;
      return { written: written + 1 };
    };
    const io = (kind: number, segments: Segment[]): Io | { written: number } => {
      const length = total(segments);
      const start = sector * BigInt(VIRTIO_BLK.SECTOR_SIZE);
      if (kind !== IO_FLUSH && start + BigInt(length) > BigInt(this.capacityBytes)) return answer(VIRTIO_BLK.S_IOERR);
      return { head: chain.head, kind, position: kind === IO_FLUSH ? 0 : Number(start), segments, length, statusAt };
    };
    switch (type) {
      case VIRTIO_BLK.T_IN:
        return io(IO_READ, slice(chain.writable, 0, writable - 1));
      case VIRTIO_BLK.T_OUT:
        if (this.options.readOnly) return answer(VIRTIO_BLK.S_IOERR);
        return io(
          IO_WRITE,
          slice(chain.readable, VIRTIO_BLK.HEADER_SIZE, total(chain.readable) - VIRTIO_BLK.HEADER_SIZE),
        );
      case VIRTIO_BLK.T_FLUSH:
        return this.options.readOnly ? answer(VIRTIO_BLK.S_OK) : io(IO_FLUSH, []);
      case VIRTIO_BLK.T_GET_ID: {
        const inData = slice(chain.writable, 0, writable - 1);
        let i = 0;
        for (const s of inData) {
          for (let k = 0; k < s.length; k++, i++) bytes[s.offset + k] = i < this.id.length ? (this.id[i] as number) : 0;
        }
        return answer(VIRTIO_BLK.S_OK, Math.min(total(inData), VIRTIO_BLK.ID_BYTES));
      }
      default:
        return answer(VIRTIO_BLK.S_UNSUPP);
    }
  }

  /** Waits for the I/O in flight, then closes the image. */
  async dispose(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
    closeSync(this.fd);
  }
}
