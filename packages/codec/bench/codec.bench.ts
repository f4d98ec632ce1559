/**
 * `npm run bench:codec`: encode and decode throughput of @vhost-user/codec on realistic mixes,
 * against a hand-written straight-line DataView decoder of the same messages, in the same run.
 * Reports medians over rounds; baseline and generated decoder alternate within each round.
 */
import { readFileSync } from 'node:fs';
// The built package, as users run it (npm run bench:codec builds it first).
import { decode, encode, type Channel } from '../dist/index.js';
import { baselineDecode } from './baseline.js';

interface Mix {
  name: string;
  channel: Channel;
  messages: Uint8Array[];
}

const session = readFileSync(new URL('../../../test/vectors/sessions/qemu-7.2-qsd-boot.jsonl', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as { hex?: string })
  .filter((l) => l.hex)
  .map((l) => new Uint8Array(Buffer.from(l.hex as string, 'hex')));

const steady: Uint8Array[] = [];
for (let i = 0; i < 64; i++) {
  steady.push(encode('frontend', { name: 'VHOST_USER_VRING_KICK', payload: { index: i % 2, num: 0 } }));
  steady.push(
    encode('frontend', {
      name: 'VHOST_USER_IOTLB_MSG',
      payload: {
        iova: BigInt(i) << 12n,
        size: 4096n,
        userAddress: 0x7f00_0000_0000n + (BigInt(i) << 12n),
        perm: 3,
        type: 2,
      },
      needReply: true,
    }),
  );
  steady.push(encode('frontend', { kind: 'reply', name: 'VHOST_USER_IOTLB_MSG', payload: { value: 0n } }));
  steady.push(encode('frontend', { kind: 'reply', ack: true, name: 'VHOST_USER_VRING_KICK', payload: { value: 0n } }));
}
const shmem = [
  encode('frontend', {
    kind: 'reply',
    name: 'VHOST_USER_GET_SHMEM_CONFIG',
    payload: { nregions: 2, memorySizes: Array.from({ length: 256 }, (_, i) => (i < 2 ? 0x10_0000n : 0n)) },
  }),
];

const mixes: Mix[] = [
  { name: 'QEMU start-up (captured, 33 msgs)', channel: 'frontend', messages: session },
  { name: 'steady state: kicks, IOTLB, acks', channel: 'frontend', messages: steady },
  { name: 'GET_SHMEM_CONFIG reply (2068 B)', channel: 'frontend', messages: shmem },
];

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 5 : 11;
const TARGET_NS = quick ? 100_000_000 : 300_000_000;
let sink = 0;

/** Times `fn` over the mix repeatedly for about TARGET_NS; returns ns per message. */
function time(messages: Uint8Array[], fn: (m: Uint8Array) => unknown): number {
  let reps = 1;
  for (;;) {
    const start = process.hrtime.bigint();
    for (let r = 0; r < reps; r++) for (const m of messages) sink += (fn(m) as object) ? 1 : 0;
    const ns = Number(process.hrtime.bigint() - start);
    if (ns > TARGET_NS / 4 || reps > 1 << 24) return ns / (reps * messages.length);
    reps *= 4;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

console.log(`codec benchmark: ${ROUNDS} rounds, medians (node ${process.version})`);
const rows: string[][] = [
  ['mix', 'baseline decode', 'generated decode', 'ratio', 'decode msgs/s', 'decode MB/s', 'encode msgs/s'],
];
let worst = 0;
let smallRate = Infinity;
for (const mix of mixes) {
  const bytes = mix.messages.reduce((n, m) => n + m.length, 0) / mix.messages.length;
  // Objects to re-encode: decoded once up front.
  const decoded = mix.messages.map((m) => decode(mix.channel, m) as unknown as Record<string, unknown>);
  const outgoing = decoded.map((d) =>
    d.kind === 'reply'
      ? { kind: 'reply', ack: d.ack, name: d.name, payload: d.payload }
      : { name: d.name, payload: d.payload, needReply: d.needReply },
  );
  const base: number[] = [];
  const gen: number[] = [];
  const enc: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    process.stdout.write(`\r  ${mix.name}: round ${round + 1}/${ROUNDS}   `);
    base.push(time(mix.messages, baselineDecode));
    gen.push(time(mix.messages, (m) => decode(mix.channel, m)));
    let i = 0;
    enc.push(
      time(mix.messages, () => encode(mix.channel, outgoing[i++ % outgoing.length] as never, { validate: false })),
    );
  }
  process.stdout.write('\r');
  const b = median(base);
  const g = median(gen);
  const e = median(enc);
  worst = Math.max(worst, g / b);
  if (!mix.name.startsWith('GET_SHMEM')) smallRate = Math.min(smallRate, 1e9 / g);
  rows.push([
    mix.name,
    `${b.toFixed(1)} ns`,
    `${g.toFixed(1)} ns`,
    `${(g / b).toFixed(2)}x`,
    `${(1e9 / g / 1e6).toFixed(2)} M`,
    `${(((1e9 / g) * bytes) / 1e6).toFixed(0)}`,
    `${(1e9 / e / 1e6).toFixed(2)} M`,
  ]);
}
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c]!)).join('  '));
console.log(
  `\nworst decode ratio to baseline: ${worst.toFixed(2)}x (target <= 1.20x) ${worst <= 1.2 ? 'OK' : 'MISSED'}`,
);
console.log(
  `slowest small-message decode rate: ${(smallRate / 1e6).toFixed(2)} M msgs/s (target >= 5 M) ${smallRate >= 5e6 ? 'OK' : 'MISSED'}`,
);
if (sink < 0) console.log(sink);
