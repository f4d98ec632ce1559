/**
 * Property tests: decode(encode(x)) == x for every payload and message; the framer gives the
 * same messages whatever the chunking; random and mutated bytes give messages or typed errors,
 * never a crash.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MessageFramer,
  VhostUserError,
  decode,
  encode,
  featureMask,
  ProtocolFeature,
  isVhostUserError,
  type Channel,
} from '@vhost-user/codec';
import * as generated from '@vhost-user/codec';
import { hasExtension, messageArbitrary, payloadArbitrary, spec } from './arbitraries.js';

type Codec = { decode: Function; encode: Function; sizeOf: Function };
const codecOf = (name: string) => (generated as unknown as Record<string, Codec>)[`${name}Codec`] as Codec;

/** Runs scale with VHOST_USER_FUZZ_SCALE (the long fuzz script sets it). */
const scale = Number(process.env.VHOST_USER_FUZZ_SCALE ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * scale));

describe('every payload round-trips', () => {
  const names = spec.payloads.map((p) => p.name);
  it.each(names)('%s', (name) => {
    const codec = codecOf(name);
    for (const ext of hasExtension(name) ? [false, true] : [false]) {
      fc.assert(
        fc.property(payloadArbitrary(name, ext, 16), fc.boolean(), (value, littleEndian) => {
          const size = codec.sizeOf(value, ext) as number;
          const bytes = new Uint8Array(size + 3);
          const view = new DataView(bytes.buffer, 3);
          codec.encode(view, 0, value, littleEndian, ext);
          expect(codec.decode(view, 0, size, littleEndian, ext)).toEqual(value);
        }),
        { numRuns: runs(150) },
      );
    }
  });
});

function stream(
  channel: Channel,
  messages: { message: Record<string, unknown> }[],
): { bytes: Uint8Array; starts: number[] } {
  const parts = messages.map((m) => encode(channel, m.message as never, { validate: false }));
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  const starts: number[] = [];
  let at = 0;
  for (const p of parts) {
    starts.push(at);
    bytes.set(p, at);
    at += p.length;
  }
  return { bytes, starts };
}

/** Splits [0, length) at random cut points, always cutting at message starts that carry fds. */
const cuts = (length: number) =>
  fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, length - 1) }), { maxLength: 12 });

for (const channel of ['frontend', 'backend'] as const) {
  describe(`${channel} messages`, () => {
    it('round-trip through encode and decode', () => {
      fc.assert(
        fc.property(messageArbitrary(channel), ({ message }) => {
          const bytes = encode(channel, message as never);
          const decoded = decode(channel, bytes) as unknown as Record<string, unknown>;
          expect(decoded.name).toBe(message.name);
          expect(decoded.payload).toEqual(message.payload);
          expect(decoded.kind).toBe(message.kind === 'reply' ? 'reply' : 'request');
        }),
        { numRuns: runs(4000) },
      );
    });

    it('frame the same whatever the chunking, fds staying with their message', () => {
      fc.assert(
        fc.property(
          fc.array(messageArbitrary(channel), { minLength: 1, maxLength: 8 }),
          fc.integer({ min: 1, max: 200 }),
          (messages, seed) => {
            const { bytes, starts } = stream(channel, messages);
            // Fd i travels with message i (at its first byte); chunks are cut at every message start
            // that carries fds, as the kernel does, plus random cuts.
            const withFds = new Set(starts.filter((_, i) => (i + seed) % 3 === 0));
            const points = new Set<number>([...withFds]);
            let x = seed;
            for (let i = 0; i < 6; i++) {
              x = (x * 1103515245 + 12345) % 2147483648;
              points.add(1 + (x % Math.max(1, bytes.length - 1)));
            }
            const sorted = [...points].filter((p) => p > 0 && p < bytes.length).sort((a, b) => a - b);
            const bounds = [0, ...sorted, bytes.length];
            const framer = new MessageFramer();
            const events = [];
            for (let i = 0; i + 1 < bounds.length; i++) {
              const start = bounds[i]!;
              const fds = withFds.has(start) ? [1000 + starts.indexOf(start)] : [];
              events.push(...framer.push(bytes.subarray(start, bounds[i + 1]), fds));
            }
            const whole = new MessageFramer().push(bytes);
            expect(events.map((e) => (e.kind === 'message' ? Buffer.from(e.bytes).toString('hex') : e.kind))).toEqual(
              whole.map((e) => (e.kind === 'message' ? Buffer.from(e.bytes).toString('hex') : e.kind)),
            );
            events.forEach((e, i) =>
              expect(e.kind === 'message' ? e.fds : []).toEqual(withFds.has(starts[i]!) ? [1000 + i] : []),
            );
            expect(framer.pending).toBe(0);
          },
        ),
        { numRuns: runs(20000) },
      );
    });

    it('mutated streams give messages or typed errors only', () => {
      fc.assert(
        fc.property(
          fc.array(messageArbitrary(channel), { minLength: 1, maxLength: 4 }),
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
          cuts(64),
          fc.bigInt({ min: 0n, max: (1n << 24n) - 1n }),
          (messages, flips, cutPoints, features) => {
            const { bytes } = stream(channel, messages);
            for (const [at, value] of flips) bytes[at % bytes.length] = value;
            const framer = new MessageFramer({ maxPayloadSize: 4096 });
            const bounds = [0, ...cutPoints.filter((c) => c < bytes.length).sort((a, b) => a - b), bytes.length];
            const events = [];
            for (let i = 0; i + 1 < bounds.length; i++)
              events.push(...framer.push(bytes.subarray(bounds[i], bounds[i + 1])));
            events.push(...framer.end());
            for (const event of events) {
              if (event.kind === 'error') {
                expect(event.error).toBeInstanceOf(VhostUserError);
                continue;
              }
              try {
                decode(channel, event.bytes, { protocolFeatures: features, fds: event.fds.length });
              } catch (error) {
                if (!isVhostUserError(error)) throw error;
              }
            }
          },
        ),
        { numRuns: runs(25000) },
      );
    });

    it('random bytes give typed errors only', () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 0, maxLength: 120 }), fc.boolean(), (bytes, xen) => {
          try {
            decode(channel, bytes, {
              protocolFeatures: xen ? featureMask(ProtocolFeature.VHOST_USER_PROTOCOL_F_XEN_MMAP) : 0n,
              fds: bytes.length % 3,
            });
          } catch (error) {
            if (!isVhostUserError(error)) throw error;
          }
        }),
        { numRuns: runs(25000) },
      );
    });
  });
}
