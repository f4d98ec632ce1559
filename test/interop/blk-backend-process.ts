/**
 * The TS vhost-user-blk back-end as its own process, so a test can SIGKILL it mid-I/O:
 *   node --conditions=@vhost-user/source --import tsx blk-backend-process.ts SOCKET IMAGE [options]
 * --no-inflight   do not offer INFLIGHT_SHMFD (the control run: the same test must fail)
 * --hang-at N     from the Nth batch of two or more requests on, complete every request but the
 *                 first and hold that one forever, printing HELD: the back-end then has a request
 *                 in flight that was overtaken by a later one, which only the inflight buffer records.
 * Prints READY once it listens, REQ <name> per request, ERROR <message> per protocol error.
 */
import { BlkBackendDevice, VhostUserBackend, type DeviceQueue, type VhostUserDevice } from '@vhost-user/transport';
import type { Chain } from '@vhost-user/transport';

const [socketPath, imagePath, ...flags] = process.argv.slice(2);
if (!socketPath || !imagePath) {
  console.error('usage: blk-backend-process.ts SOCKET IMAGE [--no-inflight] [--hang-at N]');
  process.exit(2);
}
const inflight = !flags.includes('--no-inflight');
const hangFlag = flags.indexOf('--hang-at');
const hangAt = hangFlag >= 0 ? Number(flags[hangFlag + 1]) : Infinity;

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
    this.inner.process({
      index: queue.index,
      bytes: queue.bytes,
      pop: () => chains.shift() ?? null,
      push: (head, written) => queue.push(head, written),
      notify: () => queue.notify(),
    });
  }

  dispose(): void {
    this.inner.dispose();
  }
}

const backend = new VhostUserBackend(socketPath, () => new HoldingBlkDevice(new BlkBackendDevice(imagePath)), {
  memoryBytes: 256 << 20,
  inflight,
  onError: (error) => console.log(`ERROR ${error.message}`),
  trace: (req) => console.log(`REQ ${req.name}`),
});
console.log('READY');
process.on('SIGTERM', () => {
  backend.close();
  process.exit(0);
});
