/**
 * A real session, captured between QEMU 7.2 and qemu-storage-daemon while SeaBIOS booted a
 * sector through the virtqueue (test/vectors/sessions/), decodes completely: every message,
 * every reply, every fd count, through the framer as one stream per direction.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  MessageFramer,
  ProtocolFeature,
  decode,
  featureMask,
  type DecodedMessage,
  type FramerEvent,
} from '@vhost-user/codec';

interface Line {
  dir: string;
  hex: string;
  fds: number;
}
const lines = readFileSync(new URL('../vectors/sessions/qemu-7.2-qsd-boot.jsonl', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as Line | { meta: unknown })
  .filter((l): l is Line => 'hex' in l);

describe('QEMU 7.2 <-> qemu-storage-daemon boot session', () => {
  let negotiated = 0n;
  const decoded: DecodedMessage<'frontend'>[] = [];

  it('decodes every message with its fds', () => {
    for (const line of lines) {
      const bytes = Buffer.from(line.hex, 'hex');
      const msg = decode('frontend', new Uint8Array(bytes), { fds: line.fds, protocolFeatures: negotiated });
      expect(msg.kind).toBe(line.dir === 'frontend->backend' ? 'request' : 'reply');
      if (msg.kind === 'request' && msg.name === 'VHOST_USER_SET_PROTOCOL_FEATURES') negotiated = msg.payload.value;
      decoded.push(msg);
    }
    expect(decoded.length).toBe(lines.length);
  });

  it('carries the values qemu-storage-daemon is known to answer', () => {
    const reply = (name: string) => decoded.find((m) => m.kind === 'reply' && m.name === name)?.payload;
    expect(reply('VHOST_USER_GET_FEATURES')).toEqual({ value: 0x175007e46n });
    expect(reply('VHOST_USER_GET_PROTOCOL_FEATURES')).toEqual({ value: 0x8f2bn });
    expect(reply('VHOST_USER_GET_QUEUE_NUM')).toEqual({ value: 1n });
    expect(reply('VHOST_USER_GET_MAX_MEM_SLOTS')).toEqual({ value: 32n });
    const config = reply('VHOST_USER_GET_CONFIG') as { size?: number; data: Uint8Array };
    expect(new DataView(config.data.buffer).getBigUint64(0, true)).toBe(32768n);
    expect(negotiated & featureMask(ProtocolFeature.VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS)).not.toBe(0n);
  });

  it('frames each direction as one stream, chunked arbitrarily', () => {
    for (const dir of ['frontend->backend', 'backend->frontend']) {
      const ours = lines.filter((l) => l.dir === dir);
      const stream = Buffer.concat(ours.map((l) => Buffer.from(l.hex, 'hex')));
      const framer = new MessageFramer();
      const events: FramerEvent[] = [];
      let offset = 0;
      ours.forEach((line, i) => {
        // Deliver each message in two reads, the fds with the first, as recvmsg would.
        const length = line.hex.length / 2;
        const cut = 1 + (i % Math.max(1, length - 1));
        events.push(
          ...framer.push(
            stream.subarray(offset, offset + cut),
            Array.from({ length: line.fds }, (_, k) => 100 + k),
          ),
        );
        events.push(...framer.push(stream.subarray(offset + cut, offset + length)));
        offset += length;
      });
      expect(events.map((e) => (e.kind === 'message' ? e.fds.length : -1))).toEqual(ours.map((l) => l.fds));
    }
  });
});
