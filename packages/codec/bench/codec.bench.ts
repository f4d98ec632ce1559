/**
 * `npm run bench:codec`: decode and encode throughput of @vhost-user/codec on realistic mixes,
 * against a hand-written straight-line DataView decoder and encoder of the same messages, in the
 * same run. Each round alternates short samples of baseline and generated code and keeps the
 * median of each and of the per-pair ratios (robust to preemption and drift on a busy machine);
 * the table shows medians over rounds.
 *
 *   npm run bench:codec [-- --quick] [-- --json FILE]
 */
import { readFileSync, writeFileSync } from 'node:fs';
// The built package, as users run it (npm run bench:codec builds it first).
import {
  decode,
  encode,
  encodeAck,
  encodeInto,
  encodeReply,
  type Channel,
  type OutgoingMessage,
} from '../dist/index.js';
import { baselineDecode, baselineEncode } from './baseline.js';

interface Mix {
  name: string;
  channel: Channel;
  /** Whether it counts for the small-message rate targets. */
  small: boolean;
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
  steady.push(encodeReply('frontend', 'VHOST_USER_IOTLB_MSG', { value: 0n }));
  steady.push(encodeAck('frontend', 'VHOST_USER_VRING_KICK', 0n));
}
const shmem = [
  encodeReply('frontend', 'VHOST_USER_GET_SHMEM_CONFIG', {
    nregions: 2,
    memorySizes: Array.from({ length: 256 }, (_, i) => (i < 2 ? 0x10_0000n : 0n)),
  }),
];

const mixes: Mix[] = [
  { name: 'QEMU start-up (captured, 33 msgs)', channel: 'frontend', small: true, messages: session },
  { name: 'steady state: kicks, IOTLB, acks', channel: 'frontend', small: true, messages: steady },
  { name: 'GET_SHMEM_CONFIG reply (2068 B)', channel: 'frontend', small: false, messages: shmem },
];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const jsonAt = args.indexOf('--json');
const jsonFile = jsonAt >= 0 ? args[jsonAt + 1] : undefined;
if (jsonAt >= 0 && !jsonFile) {
  console.error('--json needs a file name, e.g. --json codec-bench.json');
  process.exit(2);
}
const ROUNDS = quick ? 5 : 11;
/** Sample pairs per round: short batches, baseline and generated alternating. */
const PAIRS = quick ? 24 : 48;
/** Nanoseconds one sample aims for: short enough that most samples run in one time slice of
 *  a busy machine, so the median of a round ignores the ones that were preempted. */
const SAMPLE_NS = 1_000_000;
let sink = 0;

/** One sample: ns per item of `reps` passes of `fn` over `count` items. */
function sample(count: number, reps: number, fn: (i: number) => unknown): number {
  const start = process.hrtime.bigint();
  for (let r = 0; r < reps; r++) for (let i = 0; i < count; i++) sink += fn(i) ? 1 : 0;
  return Number(process.hrtime.bigint() - start) / (reps * count);
}

/** Repetitions of `fn` over `count` items that take about SAMPLE_NS. */
function calibrate(count: number, fn: (i: number) => unknown): number {
  for (let reps = 1; ; reps *= 2) {
    const ns = sample(count, reps, fn) * reps * count;
    if (ns > SAMPLE_NS / 2 || reps > 1 << 20) return Math.max(1, Math.round((reps * SAMPLE_NS) / Math.max(ns, 1)));
  }
}

/**
 * One round of `a` against `b` over alternating samples: the median ns per item of each, and
 * the median of the per-pair ratios b / a (each pair ran back to back, so a slow stretch of the
 * machine cancels out of its ratio).
 */
function pairRound(count: number, a: (i: number) => unknown, b: (i: number) => unknown): [number, number, number] {
  const ra = calibrate(count, a);
  const rb = calibrate(count, b);
  const sa: number[] = [];
  const sb: number[] = [];
  const ratios: number[] = [];
  for (let k = 0; k < PAIRS; k++) {
    const x = sample(count, ra, a);
    const y = sample(count, rb, b);
    sa.push(x);
    sb.push(y);
    ratios.push(y / x);
  }
  return [median(sa), median(sb), median(ratios)];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const rate = (ns: number) => `${(1e9 / ns / 1e6).toFixed(2)} M`;

console.log(`codec benchmark: ${ROUNDS} rounds, medians (node ${process.version})`);
const rows: string[][] = [
  [
    'mix',
    'decode: baseline',
    'generated',
    'ratio',
    'msgs/s',
    'MB/s',
    'encode: baseline',
    'generated',
    'ratio',
    'msgs/s',
  ],
];
const results: Record<string, unknown>[] = [];
let worstDecode = 0;
let worstEncode = 0;
let smallDecode = Infinity;
let smallEncode = Infinity;
const target = new Uint8Array(4096);
const noValidation = { validate: false } as const;
const check = new Uint8Array(4096);
for (const mix of mixes) {
  const bytes = mix.messages.reduce((n, m) => n + m.length, 0) / mix.messages.length;
  // Objects to re-encode: decoded once up front, then checked to encode back to the same bytes.
  const outgoing = mix.messages.map((m) => {
    const d = decode(mix.channel, m);
    return (
      d.kind === 'reply'
        ? { kind: 'reply', ack: d.ack, name: d.name, payload: d.payload }
        : { name: d.name, payload: d.payload, needReply: d.needReply }
    ) as OutgoingMessage<Channel>;
  });
  outgoing.forEach((o, i) => {
    const want = Buffer.from(mix.messages[i] as Uint8Array);
    const n = encodeInto(mix.channel, o, target, 0, noValidation);
    const b = baselineEncode(o, check);
    if (!want.equals(target.subarray(0, n)) || !want.equals(check.subarray(0, b)))
      throw new Error(`${mix.name}: message ${i} (${o.name}) does not encode back to its captured bytes`);
  });
  const base: number[] = [];
  const gen: number[] = [];
  const baseEnc: number[] = [];
  const enc: number[] = [];
  const decodeRatios: number[] = [];
  const encodeRatios: number[] = [];
  const n = mix.messages.length;
  for (let round = 0; round < ROUNDS; round++) {
    process.stdout.write(`\r  ${mix.name}: round ${round + 1}/${ROUNDS}   `);
    const [bd, gd, dr] = pairRound(
      n,
      (i) => baselineDecode(mix.messages[i] as Uint8Array),
      (i) => decode(mix.channel, mix.messages[i] as Uint8Array),
    );
    const [be, ge, er] = pairRound(
      n,
      (i) => baselineEncode(outgoing[i] as never, target),
      (i) => encodeInto(mix.channel, outgoing[i] as OutgoingMessage<Channel>, target, 0, noValidation),
    );
    base.push(bd);
    gen.push(gd);
    decodeRatios.push(dr);
    baseEnc.push(be);
    enc.push(ge);
    encodeRatios.push(er);
  }
  process.stdout.write('\r');
  const b = median(base);
  const g = median(gen);
  const be = median(baseEnc);
  const e = median(enc);
  const dRatio = median(decodeRatios);
  const eRatio = median(encodeRatios);
  worstDecode = Math.max(worstDecode, dRatio);
  worstEncode = Math.max(worstEncode, eRatio);
  if (mix.small) {
    smallDecode = Math.min(smallDecode, 1e9 / g);
    smallEncode = Math.min(smallEncode, 1e9 / e);
  }
  rows.push([
    mix.name,
    `${b.toFixed(1)} ns`,
    `${g.toFixed(1)} ns`,
    `${dRatio.toFixed(2)}x`,
    rate(g),
    `${(((1e9 / g) * bytes) / 1e6).toFixed(0)}`,
    `${be.toFixed(1)} ns`,
    `${e.toFixed(1)} ns`,
    `${eRatio.toFixed(2)}x`,
    rate(e),
  ]);
  results.push({
    mix: mix.name,
    messages: n,
    meanBytes: bytes,
    decodeNs: {
      baseline: b,
      generated: g,
      ratio: dRatio,
      rounds: { baseline: base, generated: gen, ratio: decodeRatios },
    },
    encodeNs: {
      baseline: be,
      generated: e,
      ratio: eRatio,
      rounds: { baseline: baseEnc, generated: enc, ratio: encodeRatios },
    },
  });
}
process.stdout.write(' '.repeat(60) + '\r');
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c]!)).join('  '));
const verdict = (ok: boolean) => (ok ? 'OK' : 'MISSED');
const goals = {
  decodeRatio: { value: worstDecode, target: 1.2, ok: worstDecode <= 1.2 },
  decodeRate: { value: smallDecode, target: 5e6, ok: smallDecode >= 5e6 },
  encodeRatio: { value: worstEncode, target: 1.5, ok: worstEncode <= 1.5 },
  encodeRate: { value: smallEncode, target: 5e6, ok: smallEncode >= 5e6 },
};
console.log(
  `\nworst decode ratio to baseline: ${worstDecode.toFixed(2)}x (target <= 1.20x) ${verdict(goals.decodeRatio.ok)}`,
);
console.log(
  `slowest small-message decode rate: ${(smallDecode / 1e6).toFixed(2)} M msgs/s (target >= 5 M) ${verdict(goals.decodeRate.ok)}`,
);
console.log(
  `worst encode ratio to baseline: ${worstEncode.toFixed(2)}x (target <= 1.50x) ${verdict(goals.encodeRatio.ok)}`,
);
console.log(
  `slowest small-message encode rate: ${(smallEncode / 1e6).toFixed(2)} M msgs/s (target >= 5 M) ${verdict(goals.encodeRate.ok)}`,
);
if (jsonFile) {
  writeFileSync(
    jsonFile,
    `${JSON.stringify({ bench: 'codec', node: process.version, rounds: ROUNDS, results, goals }, null, 2)}\n`,
  );
  console.log(`wrote ${jsonFile}`);
}
if (sink < 0) console.log(sink);
