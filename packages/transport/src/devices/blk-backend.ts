/**
 * vhost-user-blk back-end device serving an image file: read, write, flush, get-id and the
 * config space. Requests are served in place: file reads land directly in guest RAM.
 */
import { closeSync, fdatasyncSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { VirtioFeature, featureMask } from '@vhost-user/codec';
import type { DeviceQueue, VhostUserDevice } from '../backend.js';
import type { Chain, Segment } from '../ring/queues.js';
import { VIRTIO_BLK } from './virtio-blk.js';

export interface BlkBackendOptions {
  readOnly?: boolean;
  /** The id GET_ID returns (at most 20 bytes). */
  id?: string;
  /** Queues offered. Default 1. */
  queues?: number;
}

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

export class BlkBackendDevice implements VhostUserDevice {
  readonly features: bigint;
  readonly queueCount: number;
  private readonly fd: number;
  readonly capacityBytes: number;
  private readonly id: Uint8Array;

  constructor(
    readonly imagePath: string,
    private readonly options: BlkBackendOptions = {},
  ) {
    this.fd = openSync(imagePath, options.readOnly ? 'r' : 'r+');
    this.capacityBytes = Math.floor(fstatSync(this.fd).size / VIRTIO_BLK.SECTOR_SIZE) * VIRTIO_BLK.SECTOR_SIZE;
    this.queueCount = options.queues ?? 1;
    this.features = featureMask(
      VirtioFeature.VIRTIO_F_VERSION_1,
      VIRTIO_BLK.F_FLUSH,
      VIRTIO_BLK.F_BLK_SIZE,
      VIRTIO_BLK.F_SEG_MAX,
    );
    this.id = new TextEncoder().encode((options.id ?? 'vhost-user-ts').slice(0, VIRTIO_BLK.ID_BYTES));
  }

  getConfig(offset: number, size: number): Uint8Array {
    const config = new Uint8Array(VIRTIO_BLK.CONFIG_SIZE);
    const view = new DataView(config.buffer);
    view.setBigUint64(VIRTIO_BLK.CONFIG_CAPACITY, BigInt(this.capacityBytes / VIRTIO_BLK.SECTOR_SIZE), true);
    view.setUint32(VIRTIO_BLK.CONFIG_SEG_MAX, 126, true);
    view.setUint32(VIRTIO_BLK.CONFIG_BLK_SIZE, VIRTIO_BLK.SECTOR_SIZE, true);
    if (offset < 0 || offset + size > config.length)
      throw new RangeError(`config window ${offset}+${size} is past ${config.length} bytes`);
    return config.slice(offset, offset + size);
  }

  process(queue: DeviceQueue): void {
    let served = 0;
    for (let chain = queue.pop(); chain; chain = queue.pop()) {
      queue.push(chain.head, this.serve(queue.bytes, chain));
      served++;
    }
    if (served > 0) queue.notify();
  }

  /** Serves one request; returns the bytes written into the chain (data + status). */
  private serve(bytes: Uint8Array, chain: Chain): number {
    const writable = total(chain.writable);
    if (writable < 1 || total(chain.readable) < VIRTIO_BLK.HEADER_SIZE) return 0; // malformed: nothing to report status in
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
          written = this.transfer(bytes, inData, sector, 'read');
          break;
        case VIRTIO_BLK.T_OUT:
          if (this.options.readOnly) status = VIRTIO_BLK.S_IOERR;
          else this.transfer(bytes, outData, sector, 'write');
          break;
        case VIRTIO_BLK.T_FLUSH:
          if (!this.options.readOnly) fdatasyncSync(this.fd);
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
    }
    bytes[statusAt.offset] = status;
    return written + 1;
  }

  private transfer(bytes: Uint8Array, segments: Segment[], sector: bigint, direction: 'read' | 'write'): number {
    const length = total(segments);
    const start = sector * BigInt(VIRTIO_BLK.SECTOR_SIZE);
    if (start + BigInt(length) > BigInt(this.capacityBytes)) throw new RangeError('request past the end of the disk');
    let position = Number(start);
    for (const s of segments) {
      const view = bytes.subarray(s.offset, s.offset + s.length);
      if (direction === 'read') readSync(this.fd, view, 0, s.length, position);
      else writeSync(this.fd, view, 0, s.length, position);
      position += s.length;
    }
    return length;
  }

  dispose(): void {
    closeSync(this.fd);
  }
}
