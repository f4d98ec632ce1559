/**
 * The TS vhost-user-blk back-end as its own process, so a test can SIGKILL it mid-I/O:
 *   node --conditions=@vhost-user/source --import tsx blk-backend-process.ts SOCKET IMAGE [options]
 * --no-inflight   do not offer INFLIGHT_SHMFD (the control run: the same test must fail)
 * --hang-at N     from the Nth batch of two or more requests on, complete every request but the
 *                 first and hold that one forever, printing HELD: the back-end then has a request
 *                 in flight that was overtaken by a later one, which only the inflight buffer records.
 * --check-log     while the front-end has VHOST_F_LOG_ALL on, record every guest page the device
 *                 writes (its writable buffers, by the bytes it reports) and the used ring (at the
 *                 address SET_VRING_ADDR gave), independently of the back-end's logging code, and
 *                 every page that code marks; at the end of the session print
 *                 LOG written=<pages> marked=<pages> missing=<pages written but never marked>
 * --drop-log-marks  a back-end that claims to log and does not (the control run)
 * Prints READY once it listens, REQ <name> per request, ERROR <message> per protocol error.
 */
import {
  BlkBackendDevice,
  DirtyLog,
  VhostUserBackend,
  type Chain,
  type DeviceQueue,
  type VhostUserDevice,
} from '@vhost-user/transport';
import { SPLIT_RING_AREAS, VHOST_LOG_PAGE, VirtioFeature, VringAddrFlags, hasFeature } from '@vhost-user/codec';

const [socketPath, imagePath, ...flags] = process.argv.slice(2);
if (!socketPath || !imagePath) {
  console.error('usage: blk-backend-process.ts SOCKET IMAGE [--no-inflight] [--hang-at N]');
  process.exit(2);
}
const inflight = !flags.includes('--no-inflight');
const hangFlag = flags.indexOf('--hang-at');
const hangAt = hangFlag >= 0 ? Number(flags[hangFlag + 1]) : Infinity;
const checkLog = flags.includes('--check-log');
const dropLogMarks = flags.includes('--drop-log-marks');

/** The independent record: what the front-end asked for, what the device wrote, what got marked. */
const record = {
  logging: false,
  ringSize: 0,
  usedLog: undefined as number | undefined,
  written: new Set<number>(),
  marked: new Set<number>(),
};
const pagesOf = (gpa: number, length: number, into: Set<number>) => {
  for (let p = Math.floor(gpa / VHOST_LOG_PAGE); p <= Math.floor((gpa + length - 1) / VHOST_LOG_PAGE); p++) into.add(p);
};
const markRange = DirtyLog.prototype.markRange;
DirtyLog.prototype.markRange = function (gpa: number, length: number): void {
  if (dropLogMarks) return;
  markRange.call(this, gpa, length);
  if (length > 0) pagesOf(gpa, length, record.marked);
};

/** Guest address of a memory offset, from the session's own region table. */
function gpaOf(offset: number): number {
  for (const session of backend.sessions)
    for (const r of session.regions.list)
      if (offset >= r.memOffset && offset < r.memOffset + r.size) return r.guestAddr + offset - r.memOffset;
  throw new Error(`offset ${offset} in no region`);
}

/** Wraps the blk device: decides which popped requests it serves now and which it holds. */
class HoldingBlkDevice implements VhostUserDevice {
  private batches = 0;
  private readonly held: Chain[] = [];

  constructor(private readonly inner: BlkBackendDevice) {}

  get features(): bigint {
    return this.inner.features;
  }
  get queueCount(): number {
    return this.inner.queueCount;
  }
  getConfig(offset: number, size: number): Uint8Array {
    return this.inner.getConfig(offset, size);
  }

  process(queue: DeviceQueue): void {
    const chains: Chain[] = [];
    for (let c = queue.pop(); c; c = queue.pop()) chains.push(c);
    if (chains.length === 0) return;
    if (chains.length >= 2 && ++this.batches >= hangAt) {
      this.held.push(chains.shift() as Chain);
      this.serve(queue, chains);
      console.log(`HELD ${this.held.map((c) => c.head).join(',')}`);
      return;
    }
    this.serve(queue, chains);
  }

  /** The inner device serves exactly `chains` on the real queue. */
  private serve(queue: DeviceQueue, chains: Chain[]): void {
    const byHead = new Map(chains.map((c) => [c.head, c]));
    this.inner.process({
      index: queue.index,
      bytes: queue.bytes,
      pop: () => chains.shift() ?? null,
      push: (head, written) => {
        if (checkLog && record.logging) {
          let left = written;
          for (const s of byHead.get(head)?.writable ?? []) {
            if (left <= 0) break;
            pagesOf(gpaOf(s.offset), Math.min(left, s.length), record.written);
            left -= s.length;
          }
        }
        queue.push(head, written);
      },
      notify: () => {
        queue.notify();
        if (checkLog && record.logging && record.usedLog !== undefined)
          pagesOf(record.usedLog, SPLIT_RING_AREAS.usedRing.size(record.ringSize), record.written);
      },
      serve: () => {
        throw new Error('the blk device completes chains one by one; the fused serve is not offered here');
      },
    });
  }

  dispose(): Promise<void> {
    return this.inner.dispose();
  }
}

const backend = await VhostUserBackend.listen(socketPath, () => new HoldingBlkDevice(new BlkBackendDevice(imagePath)), {
  memoryBytes: 256 << 20,
  inflight,
  onError: (error) => console.log(`ERROR ${error.message}`),
  trace: (req) => {
    console.log(`REQ ${req.name}`);
    if (req.name === 'VHOST_USER_SET_FEATURES')
      record.logging = hasFeature(req.payload.value, VirtioFeature.VHOST_F_LOG_ALL);
    if (req.name === 'VHOST_USER_SET_VRING_NUM') record.ringSize = req.payload.num;
    if (req.name === 'VHOST_USER_SET_VRING_ADDR')
      record.usedLog = req.payload.flags & VringAddrFlags.VHOST_VRING_F_LOG ? Number(req.payload.log) : undefined;
  },
  onSessionEnd: () => {
    if (!checkLog) return;
    const missing = [...record.written].filter((p) => !record.marked.has(p));
    console.log(`LOG written=${record.written.size} marked=${record.marked.size} missing=${missing.length}`);
  },
});
console.log('READY');
process.on('SIGTERM', () => {
  backend.close();
  process.exit(0);
});
