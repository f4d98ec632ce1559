import { describe, expect, it } from 'vitest';
import { GuestMemory, VirtqueueDevice, VirtqueueDriver, VringError } from '@vhost-user/vring';
import {
  BUFFERS,
  ENGINES,
  LAYOUTS,
  P,
  RING,
  S,
  chainsOf,
  pair,
  setup,
  writePackedDesc,
  writeSplitDesc,
} from './helpers.js';

describe.each(LAYOUTS.flatMap((layout) => ENGINES.map((engine) => ({ layout, engine }))))(
  '$layout ring, $engine engine',
  ({ layout, engine }) => {
    const WRITE = layout === 'split' ? S.WRITE : P.WRITE;

    it('popCompact gives each chain its first readable and first writable buffer; pushCompact completes it', () => {
      const s = setup(layout, engine);
      const { driver, device } = pair(s);
      expect(driver.reserve(2, 3)).toBe(2);
      for (let p = 0; p < 6; p++) driver.setSpec(p, BUFFERS + 0x100 * p, 16 + p, p % 3 === 0 ? 0 : WRITE);
      driver.setSpec(4, 2 ** 40, 16, WRITE); // second chain: a writable buffer outside guest memory
      expect(driver.publish()).toBe(2);
      const ids = [driver.chainIds[0]!, driver.chainIds[1]!];
      expect(device.popCompact()).toBe(2);
      const r = device.records;
      expect(Array.from(r.subarray(0, 7))).toEqual([
        ids[0],
        0,
        s.at(BUFFERS),
        16,
        s.at(BUFFERS + 0x100),
        17,
        layout === 'split' ? 1 : 3,
      ]);
      expect(r[8]).toBe(ids[1]);
      expect(r[9]).not.toBe(0); // rejected: no buffers exposed
      expect(Array.from(r.subarray(10, 14))).toEqual([0, 0, 0, 0]);
      expect(device.errors).toBe(1);
      r[7] = 8;
      r[15] = 0;
      expect(device.pushCompact(2)).toBe(2);
      expect(driver.reclaim()).toBe(2);
      expect([driver.completions[0], driver.completions[1], driver.completions[2], driver.completions[3]]).toEqual([
        ids[0],
        8,
        ids[1],
        0,
      ]);
      expect(driver.freeDescriptors).toBe(8);
    });

    it('carries chains of readable then writable buffers from driver to device and back', () => {
      const s = setup(layout, engine);
      const { driver, device } = pair(s);
      expect(driver.reserve(2, 3)).toBe(2);
      for (let p = 0; p < 6; p++) driver.setSpec(p, BUFFERS + 0x100 * p, 16 + p, p % 3 === 0 ? 0 : WRITE);
      s.guest.u8.fill(0xab, s.at(BUFFERS), s.at(BUFFERS) + 16);
      expect(driver.publish()).toBe(2);
      expect(driver.freeDescriptors).toBe(2);
      const ids = [driver.chainIds[0]!, driver.chainIds[1]!];

      expect(device.pop()).toBe(2);
      const chains = chainsOf(device, 2);
      expect(chains.map((c) => c.id)).toEqual(ids);
      expect(chains[0]).toMatchObject({ reason: 0, readable: 1, writable: 2 });
      expect(chains[0]!.segments).toEqual(
        [0, 1, 2].map((p) => ({ offset: s.at(BUFFERS + 0x100 * p), length: 16 + p })),
      );
      expect(chains[1]!.segments[0]).toEqual({ offset: s.at(BUFFERS + 0x300), length: 19 });
      expect(s.guest.u8[chains[0]!.segments[0]!.offset]).toBe(0xab);
      expect(device.pop()).toBe(0);

      // Complete the second chain first (out of order is allowed).
      const order = [1, 0];
      order.forEach((c, i) => {
        device.used[4 * i] = chains[c]!.id;
        device.used[4 * i + 1] = 100 + c;
        device.used[4 * i + 2] = chains[c]!.ringSlots;
      });
      expect(device.push(2)).toBe(2);
      expect(driver.reclaim()).toBe(2);
      const got = [0, 1].map((i) => [driver.completions[2 * i], driver.completions[2 * i + 1]]);
      if (layout === 'split')
        expect(got).toEqual([
          [ids[1], 101],
          [ids[0], 100],
        ]);
      else expect(got.map((g) => g[1])).toEqual([101, 100]);
      expect(driver.freeDescriptors).toBe(8);
      expect(driver.errors + device.errors).toBe(0);
    });

    it('keeps going across many wraps of the ring indices', () => {
      const s = setup(layout, engine);
      const { driver, device } = pair(s);
      let sent = 0;
      let received = 0;
      for (let round = 0; round < 20_000; round++) {
        const chains = 1 + (round % 3);
        if (driver.reserve(chains, 2) === chains) {
          for (let i = 0; i < chains; i++) {
            driver.setSpec(2 * i, BUFFERS + ((64 * (sent + i)) % 0x8000), 8, 0);
            driver.setSpec(2 * i + 1, BUFFERS + 0x8000, 8, WRITE);
          }
          driver.publish();
          sent += chains;
        }
        const n = device.pop();
        for (let i = 0; i < n; i++) {
          expect(device.chains[8 * i + 1]).toBe(0);
          expect(device.segments[2 * device.chains[8 * i + 4]!]).toBe(s.at(BUFFERS + ((64 * (received + i)) % 0x8000)));
          device.used[4 * i] = device.chains[8 * i]!;
          device.used[4 * i + 1] = 8;
          device.used[4 * i + 2] = device.chains[8 * i + 5]!;
        }
        device.push(n);
        received += n;
        driver.reclaim();
      }
      expect(received).toBe(sent);
      expect(sent).toBeGreaterThan(30_000);
      expect(driver.freeDescriptors).toBe(8);
      expect(device.errors + driver.errors).toBe(0);
    });

    it('reserves nothing when descriptors or batch slots run out', () => {
      const s = setup(layout, engine);
      const { driver } = pair(s);
      expect(driver.reserve(5, 2)).toBe(0);
      expect(driver.reserve(1, 9)).toBe(0);
      expect(driver.reserve(4, 2)).toBe(4);
      expect(driver.reserve(1, 1)).toBe(0);
      expect(driver.reservedChains).toBe(4);
    });

    it('follows an indirect table when INDIRECT is negotiated', () => {
      const s = setup(layout, engine, { indirect: true });
      const { driver, device } = pair(s);
      const table = BUFFERS + 0x4000 + 8; // deliberately not 16-byte aligned
      const write = layout === 'split' ? writeSplitDesc : writePackedDesc;
      const entries = [
        { addr: BUFFERS, len: 10, flags: 0 },
        { addr: BUFFERS + 0x100, len: 20, flags: WRITE },
        { addr: BUFFERS + 0x200, len: 30, flags: WRITE },
      ];
      entries.forEach((e, i) => {
        const flags = layout === 'split' && i < 2 ? e.flags | S.NEXT : e.flags;
        write(s.guest, s.at(table) + 16 * i, { ...e, flags, next: i + 1 });
      });
      expect(driver.reserve(1, 1)).toBe(1);
      driver.setSpec(0, table, 48, layout === 'split' ? S.INDIRECT : P.INDIRECT);
      driver.publish();
      expect(device.pop()).toBe(1);
      const [chain] = chainsOf(device, 1);
      expect(chain).toMatchObject({ reason: 0, readable: 1, writable: 2, ringSlots: 1 });
      expect(chain!.segments.map((g) => g.length)).toEqual([10, 20, 30]);
      expect(chain!.segments[2]!.offset).toBe(s.at(BUFFERS + 0x200));
    });

    it('stops and resumes through the ring base (GET/SET_VRING_BASE)', () => {
      const s = setup(layout, engine);
      const { driver, device } = pair(s);
      const served: number[] = [];
      const serve = (dev: VirtqueueDevice) => {
        const n = dev.pop();
        for (let i = 0; i < n; i++) {
          served.push(s.guest.u32[dev.segments[2 * dev.chains[8 * i + 4]!]! >>> 2]!);
          dev.used.set([dev.chains[8 * i]!, 4, dev.chains[8 * i + 5]!, 0], 4 * i);
        }
        dev.push(n);
      };
      let next = 0;
      const offer = (count: number) => {
        expect(driver.reserve(count, 1)).toBe(count);
        for (let i = 0; i < count; i++) {
          s.guest.u32[s.at(BUFFERS + 16 * driver.chainIds[i]!) >>> 2] = next++;
          driver.setSpec(i, BUFFERS + 16 * driver.chainIds[i]!, 4, 0);
        }
        driver.publish();
        driver.reclaim();
      };
      let current = device;
      for (let round = 0; round < 7; round++) {
        offer(3);
        serve(current);
        // Stop: GET_VRING_BASE; resume in a fresh device (another thread or process could).
        const base = current.getBase();
        current = new VirtqueueDevice(s.options);
        current.setBase(base);
      }
      driver.reclaim();
      expect(served).toEqual(Array.from({ length: 21 }, (_, i) => i));
      expect(driver.freeDescriptors).toBe(8);
    });

    it('decides notifications without EVENT_IDX from the flags', () => {
      const s = setup(layout, engine);
      const { driver, device } = pair(s);
      expect(driver.reserve(1, 1)).toBe(1);
      driver.setSpec(0, BUFFERS, 4, 0);
      driver.publish();
      expect(driver.needsKick()).toBe(true);
      expect(driver.needsKick()).toBe(false); // nothing new since
      device.disableNotify();
      driver.reserve(1, 1);
      driver.setSpec(0, BUFFERS, 4, 0);
      driver.publish();
      expect(driver.needsKick()).toBe(false);
      expect(device.enableNotify()).toBe(true); // chains already pending: poll again

      expect(device.pop()).toBe(2);
      device.used.set([device.chains[0]!, 0, device.chains[5]!, 0, device.chains[8]!, 0, device.chains[13]!, 0]);
      driver.disableInterrupts();
      device.push(1);
      expect(device.needsNotify()).toBe(false);
      expect(driver.enableInterrupts()).toBe(true);
      device.used.set([device.chains[8]!, 0, device.chains[13]!, 0]);
      device.push(1);
      expect(device.needsNotify()).toBe(true);
    });

    it('suppresses notifications with EVENT_IDX until the requested index', () => {
      const s = setup(layout, engine, { eventIdx: true });
      const { driver, device } = pair(s);
      const publish = (n: number) => {
        expect(driver.reserve(n, 1)).toBe(n);
        for (let i = 0; i < n; i++) driver.setSpec(i, BUFFERS, 4, 0);
        driver.publish();
      };
      device.enableNotify(); // avail event at 0: kick for the first chain
      publish(1);
      expect(driver.needsKick()).toBe(true);
      publish(1); // the device asked for index 0 only, not for 1
      expect(driver.needsKick()).toBe(false);
      expect(device.pop()).toBe(2);
      expect(device.enableNotify()).toBe(false); // event now at index 2
      publish(2);
      expect(driver.needsKick()).toBe(true);

      expect(device.pop()).toBe(2);
      driver.enableInterrupts(); // used event at 0
      const complete = (n: number) => {
        for (let i = 0; i < n; i++) device.used.set([device.chains[0]!, 0, 1, 0], 4 * i);
        device.push(n);
      };
      complete(1);
      expect(device.needsNotify()).toBe(true);
      complete(1);
      expect(device.needsNotify()).toBe(false);
    });
  },
);

describe('setup checks', () => {
  it('rejects ring areas outside guest memory, misaligned, or bad queue sizes', () => {
    const s = setup('split', 'ts');
    expect(() => new VirtqueueDevice({ ...s.options, desc: 0 })).toThrow(VringError);
    expect(() => new VirtqueueDevice({ ...s.options, desc: RING.desc + 8 })).toThrow(/aligned/);
    expect(() => new VirtqueueDevice({ ...s.options, queueSize: 6 })).toThrow(/power of 2/);
    expect(() => new VirtqueueDevice({ ...s.options, layout: 'packed', queueSize: 6 })).not.toThrow();
    expect(() => new VirtqueueDriver({ ...s.options, segments: 4 })).toThrow(/segments/);
  });

  it('keeps regions out of the scratch arena and below 2^53', () => {
    const guest = GuestMemory.create({ guestBytes: 1 << 16, scratchBytes: 1 << 16 });
    expect(() => guest.setRegions([{ gpa: 0, size: 16, offset: 0 }])).toThrow(/lie in/);
    expect(() => guest.setRegions([{ gpa: 2 ** 53 - 8, size: 16, offset: guest.scratchEnd }])).toThrow(/2\^53/);
    guest.setRegions([{ gpa: 0x1000n, size: 0x100, offset: guest.scratchEnd }]);
    expect(guest.translate(0x10f0, 16)).toBe(guest.scratchEnd + 0xf0);
    expect(guest.translate(0x10f1, 16)).toBe(-1);
    expect(GuestMemory.attach(guest.memory).regions()).toEqual([
      { gpa: 0x1000, size: 0x100, offset: guest.scratchEnd },
    ]);
  });
});
