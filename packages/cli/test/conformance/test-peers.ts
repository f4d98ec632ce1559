/**
 * Back-ends the suite must judge fairly, built on the transport's back-end: a writable-only
 * device like virtio-rng (one ring, buffers the device only fills), and a proxy that refuses
 * requests whose feature was not negotiated the way rust-vmm's vhost-user-backend does (a
 * u64 error value where the reply column names a refusal field, a non-zero ack, else a close).
 */
import { randomFillSync } from 'node:crypto';
import {
  HEADER,
  VirtioFeature,
  decode,
  featureMask,
  hasFeature,
  messageInfo,
  type MessageInfo,
} from '@vhost-user/codec';
import {
  UnixListener,
  UnixSocket,
  VhostUserBackend,
  closeFds,
  type DeviceQueue,
  type VhostUserDevice,
} from '@vhost-user/transport';
import { pipeMessages } from '../../src/trace/proxy.js';

/** virtio-rng: one ring of device-writable buffers, filled with random bytes; no config space. */
export class EntropyDevice implements VhostUserDevice {
  readonly features = featureMask(VirtioFeature.VIRTIO_F_VERSION_1);
  readonly queueCount = 1;
  /** Chains that carried a driver-to-device buffer (a real virtio-rng has none to read). */
  readableSeen = 0;

  process(queue: DeviceQueue): void {
    let used = 0;
    for (let chain = queue.pop(); chain; chain = queue.pop()) {
      if (chain.readable.length > 0) this.readableSeen++;
      let written = 0;
      for (const s of chain.writable) {
        randomFillSync(queue.bytes.subarray(s.offset, s.offset + s.length));
        written += s.length;
      }
      queue.push(chain.head, written);
      used++;
    }
    if (used > 0) queue.notify();
  }
}

export function entropyBackend(socket: string): Promise<VhostUserBackend> {
  return VhostUserBackend.listen(socket, () => new EntropyDevice(), { memoryBytes: 64 << 20 });
}

/** A reply carrying a u64, as raw bytes (the body a refusal field is read from). */
function u64Reply(request: number, value: bigint): Uint8Array {
  const bytes = new Uint8Array(HEADER.size + 8);
  const view = new DataView(bytes.buffer);
  view.setUint32(HEADER.requestOffset, request, true);
  view.setUint32(HEADER.flagsOffset, HEADER.version | HEADER.replyFlag, true);
  view.setUint32(HEADER.sizeOffset, 8, true);
  view.setBigUint64(HEADER.size, value, true);
  return bytes;
}

/** The u64 error a rust-vmm back-end sends for a refused request of this kind, or undefined (it closes). */
function errorValue(info: MessageInfo, needReply: boolean): bigint | undefined {
  if (info.reply.kind === 'ack') return needReply ? 1n : undefined;
  if (info.reply.refusal) return info.reply.refusal.mask ? 0x101n : 1n;
  return undefined;
}

/**
 * In front of the TS blk-less back-end: requests whose protocol-feature gate is not met are
 * refused with a non-zero u64 (or a close where no u64 can say it), never forwarded.
 */
export class RefusingProxy {
  private readonly listener: UnixListener;
  private readonly sockets: UnixSocket[] = [];

  constructor(
    readonly socket: string,
    private readonly inner: string,
  ) {
    this.listener = new UnixListener(socket, (front) => this.accept(front));
  }

  private accept(front: UnixSocket): void {
    const back = UnixSocket.connect(this.inner);
    this.sockets.push(front, back);
    let protocolFeatures = 0n;
    pipeMessages(
      front,
      (bytes, fds) => {
        const m = decode('frontend', bytes, { strictHeader: false, fds: fds.length });
        const info = messageInfo('frontend', m.id);
        if (m.kind === 'request' && m.name === 'VHOST_USER_SET_PROTOCOL_FEATURES') protocolFeatures = m.payload.value;
        if (m.kind === 'request' && info && info.protocolFeatures.some((b) => !hasFeature(protocolFeatures, b))) {
          closeFds(fds);
          const value = errorValue(info, m.needReply);
          if (value === undefined) {
            front.close();
            back.close();
          } else front.send(u64Reply(m.id, value));
          return;
        }
        back.send(bytes, fds);
        closeFds(fds);
      },
      () => back.close(),
    );
    pipeMessages(
      back,
      (bytes, fds) => {
        front.send(bytes, fds);
        closeFds(fds);
      },
      () => front.close(),
    );
  }

  close(): void {
    this.listener.close();
    for (const s of this.sockets) s.close();
  }
}
