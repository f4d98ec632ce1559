// Development helper: per-phase cost of variant A (split) on one engine, each phase replayed in isolation.
// npx tsx packages/vring/bench/phases.ts [wasm|ts]
import * as vring from '@vhost-user/vring';
import { PingpongDevice, PingpongDriver, createGuest } from './workload.mjs';

const engine = (process.argv[2] ?? 'wasm') as 'wasm' | 'ts';
const guest = createGuest(vring);
const driver = new PingpongDriver(vring, guest, 'split', engine);
const device = new PingpongDevice(vring, guest, 'split', engine);
const q = device.queue;
const R = 200_000;
function time(name: string, f: () => void): void {
  for (let i = 0; i < 20000; i++) f();
  const t = process.hrtime.bigint();
  for (let i = 0; i < R; i++) f();
  console.log(`${name.padEnd(24)} ${(Number(process.hrtime.bigint() - t) / R / 32).toFixed(2)} ns/chain`);
}
driver.submit(1 << 30);
const base = q.getBase();
time('popCompact', () => { q.setBase(base); q.popCompact(32); });
time('pushCompact', () => { q.pushCompact(32); });
time('setBase only', () => { q.setBase(base); });
time('popCompact(0)', () => { q.popCompact(0); });
