/**
 * Benchmark baseline: the blk device as it was before asynchronous I/O (readSync/writeSync on
 * the event loop, one request at a time). Kept only to measure the asynchronous device against
 * it in the same run; not exported by the package.
 */
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { VirtioFeature, featureMask } from '@vhost-user/codec';
import { VIRTIO_BLK, type Chain, type DeviceQueue, type Segment, type VhostUserDevice } from '@vhost-user/transport';

export class SyncBlkDevice implements VhostUserDevice {
  readonly features = featureMask(
    VirtioFeature.VIRTIO_F_VERSION_1,
    VIRTIO_BLK.F_FLUSH,
    VIRTIO_BLK.F_BLK_SIZE,
    VIRTIO_BLK.F_SEG_MAX,
  );
  readonly queueCount = 1;
  private readonly fd: number;
  private readonly capacityBytes: number;

  constructor(imagePath: string) {
    this.fd = openSync(imagePath, 'r+');
    this.capacityBytes = Math.floor(fstatSync(this.fd).size / 512) * 512;
  }

  getConfig(offset: number, size: number): Uint8Array {
    const config = new Uint8Array(VIRTIO_BLK.CONFIG_SIZE);
    const view = new DataView(config.buffer);
    view.setBigUint64(VIRTIO_BLK.CONFIG_CAPACITY, BigInt(this.capacityBytes / 512), true);
    view.setUint32(VIRTIO_BLK.CONFIG_SEG_MAX, 126, true);
    view.setUint32(VIRTIO_BLK.CONFIG_BLK_SIZE, 512, true);
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

  /** Header in the first readable segment, data then status in the writable ones (what the TS
   *  client sends); enough for the benchmark's reads and writes. */
  private serve(bytes: Uint8Array, chain: Chain): number {
    const h = chain.readable[0] as Segment;
    const view = new DataView(bytes.buffer, h.offset, 16);
    const type = view.getUint32(0, true);
    let position = Number(view.getBigUint64(8, true)) * 512;
    const status = chain.writable[chain.writable.length - 1] as Segment;
    let written = 0;
    let result: number = VIRTIO_BLK.S_OK;
    try {
      if (type === VIRTIO_BLK.T_IN) {
        for (const s of chain.writable.slice(0, -1)) {
          readSync(this.fd, bytes.subarray(s.offset, s.offset + s.length), 0, s.length, position);
          position += s.length;
          written += s.length;
        }
      } else if (type === VIRTIO_BLK.T_OUT) {
        for (const s of chain.readable.slice(1)) {
          writeSync(this.fd, bytes.subarray(s.offset, s.offset + s.length), 0, s.length, position);
          position += s.length;
        }
      } else if (type === VIRTIO_BLK.T_FLUSH) {
        fsyncSync(this.fd);
      } else {
        result = VIRTIO_BLK.S_UNSUPP;
      }
    } catch {
      result = VIRTIO_BLK.S_IOERR;
    }
    bytes[status.offset + status.length - 1] = result;
    return written + 1;
  }

  dispose(): void {
    closeSync(this.fd);
  }
}
