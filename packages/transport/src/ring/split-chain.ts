/**
 * Reads one split-ring chain straight from the descriptor table, given its head. The ring core
 * pops chains from the available ring; a back-end that takes over in-flight requests knows only
 * their heads, so it rebuilds them here, with the checks the core applies to what the driver wrote.
 */
import type { GuestMemory } from '@vhost-user/vring';
import { RingError, type Chain } from './queues.js';

const DESC_SIZE = 16;
const F_NEXT = 1;
const F_WRITE = 2;
const F_INDIRECT = 4;

/** Reason code for chains rebuilt here (the core's own codes are its business). */
export const RESUBMIT_REJECTED = -1;

function reject(message: string): never {
  throw new RingError(RESUBMIT_REJECTED, message);
}

export interface SplitTable {
  /** Guest physical address of the descriptor table. */
  desc: number;
  size: number;
  indirect: boolean;
}

/** The chain whose head is `head`; throws RingError on anything the driver could not have meant. */
export function readSplitChain(guest: GuestMemory, table: SplitTable, head: number): Chain {
  if (!Number.isInteger(head) || head < 0 || head >= table.size) reject(`head ${head} is outside the ring`);
  const chain: Chain = { head, readable: [], writable: [] };
  const walk = (tableOffset: number, entries: number, first: number, nested: boolean): void => {
    let index = first;
    for (let steps = 0; ; steps++) {
      if (steps >= entries) reject(`chain from head ${head} loops`);
      if (index >= entries) reject(`descriptor ${index} is outside its table of ${entries}`);
      const at = tableOffset + index * DESC_SIZE;
      const addr = guest.view.getBigUint64(at, true);
      const len = guest.view.getUint32(at + 8, true);
      const flags = guest.view.getUint16(at + 12, true);
      const next = guest.view.getUint16(at + 14, true);
      if (flags & F_INDIRECT) {
        if (!table.indirect || nested) reject(`indirect descriptor in chain ${head} not allowed here`);
        if (len === 0 || len % DESC_SIZE !== 0) reject(`indirect table of ${len} bytes in chain ${head}`);
        const offset = guest.translate(addr, len);
        if (offset < 0) reject(`indirect table of chain ${head} is outside guest memory`);
        walk(offset, len / DESC_SIZE, 0, true);
      } else {
        const offset = guest.translate(addr, len);
        if (offset < 0) reject(`buffer of chain ${head} is outside guest memory`);
        if (flags & F_WRITE) chain.writable.push({ offset, length: len });
        else if (chain.writable.length > 0) reject(`chain ${head} has a readable buffer after a writable one`);
        else chain.readable.push({ offset, length: len });
      }
      if (!(flags & F_NEXT)) return;
      index = next;
    }
  };
  const tableOffset = guest.translate(table.desc, table.size * DESC_SIZE);
  if (tableOffset < 0) reject('descriptor table is outside guest memory');
  walk(tableOffset, table.size, head, false);
  return chain;
}
