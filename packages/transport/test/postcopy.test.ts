/** The postcopy state machine: its order and preconditions (the kernel side is a recording fake). */
import { describe, expect, it } from 'vitest';
import { PostcopyError, PostcopyMachine, type PostcopyKernel } from '../src/postcopy.js';

function kernel(): PostcopyKernel & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    openUserfaultfd: () => (log.push('open'), 42),
    register: (offset, length) => void log.push(`register ${offset}+${length}`),
    close: (fd) => void log.push(`close ${fd}`),
  };
}

const ok = { pagefault: true, memSlots: false, regionsMapped: false };
const region = { memOffset: 0x100000, length: 0x8000000, backendAddress: 0x7f0000100000n };

describe('postcopy state machine', () => {
  it('runs advise, listen, memory table, acknowledgement, end in order', () => {
    const k = kernel();
    const m = new PostcopyMachine(k);
    expect(m.advise(ok)).toBe(42);
    m.listen(ok);
    expect(m.memoryAccessAllowed).toBe(false);
    expect(m.memTable([region])).toEqual([region]);
    expect(m.state).toBe('awaiting-ack');
    expect(m.memoryAccessAllowed).toBe(false);
    m.acknowledge(new Uint8Array(8));
    expect(m.memoryAccessAllowed).toBe(true);
    expect(m.end(ok)).toBe(0n);
    expect(m.state).toBe('ended');
    expect(k.log).toEqual(['open', `register ${0x100000}+${0x8000000}`, 'close 42']);
  });

  it('refuses steps out of order', () => {
    const m = new PostcopyMachine(kernel());
    expect(() => m.listen(ok)).toThrow(/expected 'advised'/);
    expect(() => m.end(ok)).toThrow(/after POSTCOPY_LISTEN/);
    m.advise(ok);
    expect(() => m.advise(ok)).toThrow(PostcopyError);
    expect(() => m.acknowledge(new Uint8Array(8))).toThrow(/expected 'awaiting-ack'/);
    expect(m.memTable([region])).toBeNull(); // not listening yet: an ordinary table
  });

  it('checks the preconditions: PAGEFAULT, no memory slots, no memory mapped before LISTEN', () => {
    expect(() => new PostcopyMachine(kernel()).advise({ ...ok, pagefault: false })).toThrow(/PAGEFAULT/);
    expect(() => new PostcopyMachine(kernel()).advise({ ...ok, memSlots: true })).toThrow(/CONFIGURE_MEM_SLOTS/);
    const m = new PostcopyMachine(kernel());
    m.advise(ok);
    expect(() => m.listen({ ...ok, regionsMapped: true })).toThrow(/already mapped/);
  });

  it('accepts the acknowledgement as an 8-byte zero or empty, and fails on anything else', () => {
    const ready = () => {
      const m = new PostcopyMachine(kernel());
      m.advise(ok);
      m.listen(ok);
      m.memTable([region]);
      return m;
    };
    expect(() => ready().acknowledge(new Uint8Array(0))).not.toThrow();
    expect(() => ready().acknowledge(new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]))).toThrow(/failed postcopy setup/);
    expect(() => ready().acknowledge(new Uint8Array(4))).toThrow(/4 bytes/);
  });
});
