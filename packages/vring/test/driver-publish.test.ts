// The split driver's publish writes exactly the descriptors and avail entries the virtio split
// ring defines, for 2-descriptor chains (the core's fast path) mixed with other chain lengths.
import { SPLIT_AVAIL, SPLIT_DESC } from '@vhost-user/codec';
import { BUFFER_SPEC, VirtqueueDriver } from '@vhost-user/vring';
import { describe, expect, it } from 'vitest';
import { ENGINES, RING, S, setup } from './helpers.js';

describe.each(ENGINES)('split driver publish, %s engine', (engine) => {
  it('links reserved descriptors into chains with the specs they were given', () => {
    const s = setup('split', engine, { queueSize: 16 });
    const driver = new VirtqueueDriver(s.options);
    const shapes = [2, 3, 2, 1, 2];
    for (const n of shapes) expect(driver.reserve(1, n)).toBe(1);
    const words = BUFFER_SPEC.size >>> 2;
    const total = shapes.reduce((a, b) => a + b, 0);
    for (let k = 0; k < total; k++) {
      // High address bits, and flag bits the driver must drop (NEXT is its own) or keep (WRITE).
      driver.setSpec(
        k,
        (BigInt(k + 1) << 32n) | BigInt(0x1000 * (k + 1)),
        100 + k,
        (k % 2 ? S.WRITE : 0) | S.NEXT | 0x80,
      );
    }
    expect(driver.specs[words * 3 + (BUFFER_SPEC.length >>> 2)]).toBe(103);
    const heads = Array.from(driver.chainIds.subarray(0, shapes.length));
    const positions = Array.from(driver.descriptors.subarray(0, total));
    expect(new Set(positions).size).toBe(total);
    expect(driver.publish()).toBe(shapes.length);

    const v = s.guest.view;
    const table = s.at(RING.desc);
    let k = 0;
    shapes.forEach((n, c) => {
      expect(positions[k]).toBe(heads[c]);
      for (let j = 0; j < n; j++, k++) {
        const at = table + SPLIT_DESC.size * positions[k]!;
        const last = j === n - 1;
        expect(v.getBigUint64(at + SPLIT_DESC.addr, true)).toBe((BigInt(k + 1) << 32n) | BigInt(0x1000 * (k + 1)));
        expect(v.getUint32(at + SPLIT_DESC.len, true)).toBe(100 + k);
        expect(v.getUint16(at + SPLIT_DESC.flags, true)).toBe((k % 2 ? S.WRITE : 0) | (last ? 0 : S.NEXT));
        expect(v.getUint16(at + SPLIT_DESC.next, true)).toBe(last ? 0 : positions[k + 1]);
      }
    });
    const avail = s.at(RING.driverArea);
    expect(v.getUint16(avail + SPLIT_AVAIL.idx, true)).toBe(shapes.length);
    expect(heads.map((_, i) => v.getUint16(avail + SPLIT_AVAIL.ring + 2 * i, true))).toEqual(heads);
    expect(driver.freeDescriptors).toBe(16 - total);
  });
});
