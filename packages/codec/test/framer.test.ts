/** MessageFramer: partial headers and payloads, several messages per chunk, fds, limits. */
import { describe, expect, it } from 'vitest';
import { MessageFramer, encode, type FramerEvent } from '@vhost-user/codec';

const getFeatures = encode('frontend', { name: 'VHOST_USER_GET_FEATURES', payload: null });
const setFeatures = encode('frontend', { name: 'VHOST_USER_SET_FEATURES', payload: { value: 0x1_4000_0000n } });
const kick = encode('frontend', { name: 'VHOST_USER_SET_VRING_KICK', payload: { value: 1n } });
const concat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));
const ids = (events: FramerEvent[]) => events.map((e) => (e.kind === 'message' ? e.header.request : e.error.code));

describe('MessageFramer', () => {
  it('yields several whole messages from one chunk', () => {
    const events = new MessageFramer().push(concat(getFeatures, setFeatures, kick));
    expect(ids(events)).toEqual([1, 2, 12]);
    expect(events[1]).toMatchObject({ kind: 'message', bytes: setFeatures });
  });

  it('joins a header split across chunks, byte by byte', () => {
    const framer = new MessageFramer();
    const events = [...setFeatures].flatMap((byte) => framer.push(Uint8Array.of(byte)));
    expect(ids(events)).toEqual([2]);
    expect(framer.pending).toBe(0);
  });

  it('keeps fds with the message whose first byte they came with', () => {
    const framer = new MessageFramer();
    const first = framer.push(concat(kick.subarray(0, 5)), [42]);
    expect(first).toEqual([]);
    const rest = framer.push(concat(kick.subarray(5), getFeatures));
    expect(rest.map((e) => (e.kind === 'message' ? e.fds : 'error'))).toEqual([[42], []]);
  });

  it('reports fds that arrive mid-message instead of dropping them', () => {
    const framer = new MessageFramer();
    framer.push(kick.subarray(0, 4));
    const events = framer.push(kick.subarray(4), [7, 8]);
    expect(events[0]).toMatchObject({ kind: 'error', fds: [7, 8] });
    expect(ids(events)).toEqual(['FD_MISPLACED', 12]);
  });

  it('skips an oversized payload without buffering it and stays in sync', () => {
    const framer = new MessageFramer({ maxPayloadSize: 16 });
    const big = new Uint8Array(12 + 1000);
    new DataView(big.buffer).setUint32(0, 24, true);
    new DataView(big.buffer).setUint32(4, 1, true);
    new DataView(big.buffer).setUint32(8, 1000, true);
    const events = [...framer.push(big.subarray(0, 500), [3]), ...framer.push(concat(big.subarray(500), getFeatures))];
    expect(ids(events)).toEqual(['PAYLOAD_TOO_LARGE', 1]);
    expect(events[0]).toMatchObject({ fds: [3] });
  });

  it('reports a stream that ends inside a message, with its fds', () => {
    const framer = new MessageFramer();
    framer.push(kick.subarray(0, 13), [9]);
    expect(framer.end()).toMatchObject([{ kind: 'error', fds: [9], error: { code: 'TRUNCATED' } }]);
    expect(framer.end()).toEqual([]);
  });

  it('copies message bytes so the caller can reuse its buffer', () => {
    const chunk = concat(setFeatures);
    const [event] = new MessageFramer().push(chunk);
    chunk.fill(0);
    expect(event).toMatchObject({ bytes: setFeatures });
  });

  it('says how far the next read may go so it ends at a header or payload boundary', () => {
    const framer = new MessageFramer();
    expect(framer.bytesToBoundary).toBe(12);
    framer.push(kick.subarray(0, 5));
    expect(framer.bytesToBoundary).toBe(7);
    framer.push(kick.subarray(5, 12));
    expect(framer.bytesToBoundary).toBe(8);
    framer.push(kick.subarray(12));
    expect(framer.bytesToBoundary).toBe(12);
  });
});
