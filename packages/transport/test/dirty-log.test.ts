/** The dirty log bitmap and the per-ring logger of device writes. */
import { describe, expect, it } from 'vitest';
import { VHOST_LOG_PAGE } from '@vhost-user/codec';
import { DirtyLog, DirtyLogError, RingWriteLogger } from '../src/dirty-log.js';

const PAGE = VHOST_LOG_PAGE;

describe('dirty log', () => {
  it('sets bit p % 8 of byte p / 8 for every page a write touches', () => {
    const buffer = new ArrayBuffer(4);
    const log = new DirtyLog(buffer);
    log.markRange(9 * PAGE + 100, 1); // page 9: byte 1, bit 1
    log.markRange(3 * PAGE - 1, 2); // pages 2 and 3
    expect([...new Uint8Array(buffer)]).toEqual([0b00001100, 0b00000010, 0, 0]);
    expect(log.isMarked(9)).toBe(true);
    expect(log.isMarked(8)).toBe(false);
  });

  it('keeps bits the front-end has not cleared (OR, not store)', () => {
    const buffer = new ArrayBuffer(1);
    new Uint8Array(buffer)[0] = 0b10000000;
    new DirtyLog(buffer).markRange(0, 1);
    expect(new Uint8Array(buffer)[0]).toBe(0b10000001);
  });

  it('refuses a write past the end of the log', () => {
    const log = new DirtyLog(new ArrayBuffer(1)); // 8 pages
    expect(() => log.markRange(8 * PAGE, 1)).toThrow(DirtyLogError);
    expect(() => log.markRange(7 * PAGE, PAGE + 1)).toThrow(/past the log/);
    expect(() => log.markRange(7 * PAGE, PAGE)).not.toThrow();
  });
});

describe('ring write logger', () => {
  const chain = {
    head: 4,
    readable: [{ offset: 0x10000, length: 16 }],
    writable: [
      { offset: 0x20000, length: 512 },
      { offset: 0x30ffe, length: 4 }, // crosses a page boundary
    ],
  };
  // Guest RAM mapped at memory offset 0, guest address 0x100000.
  const gpaOf = (offset: number) => offset + 0x100000;

  it('marks the first `written` bytes of the writable buffers and the used ring, only while logging', () => {
    const log = new DirtyLog(new ArrayBuffer(64));
    let on = false;
    const logger = new RingWriteLogger(gpaOf, () =>
      on ? { log, usedRing: { gpa: 0x5000, bytes: 0x1006 } } : undefined,
    );
    logger.popped(chain);
    on = true; // logging turned on while the request was in flight
    logger.pushed(4, 512 + 3);
    logger.published();
    const marked = Array.from({ length: 512 }, (_, p) => p).filter((p) => log.isMarked(p));
    expect(marked).toEqual([5, 6, 0x120, 0x130, 0x131]);
  });

  it('marks nothing while logging is off, and a write of 1 byte marks one page', () => {
    const log = new DirtyLog(new ArrayBuffer(64));
    let on = false;
    const logger = new RingWriteLogger(gpaOf, () => (on ? { log, usedRing: undefined } : undefined));
    logger.popped(chain);
    logger.pushed(4, 516);
    expect(Array.from({ length: 512 }, (_, p) => log.isMarked(p)).some(Boolean)).toBe(false);
    on = true;
    logger.popped(chain);
    logger.pushed(4, 1);
    logger.published(); // no used ring logging asked
    expect(Array.from({ length: 512 }, (_, p) => p).filter((p) => log.isMarked(p))).toEqual([0x120]);
  });
});
