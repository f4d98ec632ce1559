// npm run bench:vring [-- --quick] [-- --json FILE] [-- --rounds R] [-- --n N] [-- --variants A,B]
// The split-pingpong workload (bench/WORKLOAD.md), variants A and B, and the same workload on a
// packed ring (README, "Benchmark"), each on a native C baseline (bench/pingpong.c, gcc -O2 at
// bench time), the WebAssembly core and the TypeScript path through the package's public API;
// every row's ratio is to the C baseline of its own ring and variant, measured in the same run.
// The wasm rows run the workload's per-chain work in AssemblyScript linked with the core's
// library (bench/assembly/pingpong.ts, compiled at bench time); the ts rows use the JavaScript
// API's fused calls; both on split and packed rings. The same workload on the JavaScript API's batch calls is measured too and
// reported as alternatives.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { linkedBytes } from './linked.mjs';
import type { Api } from './sides.mjs';
import type { Checksum } from './workload.mjs';

type Impl = 'c' | 'wasm' | 'ts';
type Variant = 'A' | 'B';
type Ring = 'split' | 'packed';
interface Config {
  impl: Impl;
  variant: Variant;
  ring: Ring;
  /** How the workload reaches the implementation ('native' for C). */
  api: Api | 'native';
  /** A row of the main table, or an alternative way through the JavaScript API. */
  main: boolean;
}

const WARMUP = 1_000_000;
/** The goals of the main rows (variant A): time per chain at most this many times C's, same ring. */
const GOALS: { impl: Impl; ring: Ring; api: Api; ratio: number }[] = [
  { impl: 'wasm', ring: 'split', api: 'linked', ratio: 1.1 },
  { impl: 'ts', ring: 'split', api: 'fused', ratio: 2.5 },
  { impl: 'wasm', ring: 'packed', api: 'linked', ratio: 1.25 },
  { impl: 'ts', ring: 'packed', api: 'fused', ratio: 3 },
];
const KNOWN_HASHES: Record<number, number> = { 1000: 0xb6513db5, 1_000_000: 0xb2f72d45, 20_000_000: 0x78c2d1c5 };

function parseArgs(argv: string[]) {
  const quick = argv.includes('--quick');
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return {
    quick,
    json: value('--json'),
    n: Number(value('--n') ?? (quick ? 2_000_000 : 20_000_000)),
    rounds: Number(value('--rounds') ?? (quick ? 3 : 9)),
    variants: (value('--variants') ?? 'A,B').split(',') as Variant[],
  };
}

/** The C baseline (gcc -O2) and the linked AssemblyScript program, built into a temporary directory. */
function buildPrograms(): { binary: string; wasm: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'vring-bench-'));
  const binary = join(dir, 'pingpong');
  const source = fileURLToPath(new URL('./pingpong.c', import.meta.url));
  execFileSync('gcc', ['-O2', '-pthread', '-o', binary, source], { stdio: 'inherit' });
  process.stderr.write('compiling bench/assembly/pingpong.ts (AssemblyScript, linked with wasm/lib)\n');
  const wasm = join(dir, 'pingpong.wasm');
  writeFileSync(wasm, linkedBytes());
  return { binary, wasm, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const MEASURE = fileURLToPath(new URL('./measure.mjs', import.meta.url));

/** One JavaScript measurement in a fresh process (bench/measure.mjs), like the C baseline's. */
function runJs(c: Config, n: number, wasm: string): Checksum {
  const job = {
    impl: { layout: c.ring, engine: c.impl, api: c.api },
    variant: c.variant,
    n,
    warmup: WARMUP,
    wasm: c.api === 'linked' ? wasm : undefined,
  };
  const r = spawnSync(process.execPath, [MEASURE, JSON.stringify(job)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${c.impl} ${c.variant} ${c.ring} ${c.api} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Checksum;
}

function runC(binary: string, variant: Variant, ring: Ring, n: number): Checksum {
  const r = spawnSync(binary, [variant, String(n), ring], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`C baseline (${variant} ${ring}) failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Checksum;
}

function runOnce(c: Config, n: number, binary: string, wasm: string): Checksum {
  if (c.impl === 'c' || c.api === 'native') return runC(binary, c.variant, c.ring, n);
  return runJs(c, n, wasm);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function main(): number {
  const args = parseArgs(process.argv.slice(2));
  const { n, rounds } = args;
  if (!(rounds >= 1) || !(n >= 1) || args.variants.some((v) => v !== 'A' && v !== 'B')) {
    console.error('usage: run.ts [--quick] [--json FILE] [--rounds R >= 1] [--n N >= 1] [--variants A,B]');
    return 2;
  }
  const configs: Config[] = [];
  for (const variant of args.variants) {
    for (const ring of ['split', 'packed'] as const) {
      configs.push({ impl: 'c', variant, ring, api: 'native', main: true });
      configs.push({ impl: 'wasm', variant, ring, api: 'linked', main: true });
      configs.push({ impl: 'ts', variant, ring, api: 'fused', main: true });
    }
    for (const ring of ['split', 'packed'] as const) {
      for (const impl of ['wasm', 'ts'] as const) configs.push({ impl, variant, ring, api: 'batch', main: false });
    }
  }
  if (args.variants.includes('A'))
    configs.push({ impl: 'wasm', variant: 'A', ring: 'split', api: 'fused', main: false });
  const { binary, wasm, cleanup } = buildPrograms();
  const samples = new Map<Config, Checksum[]>(configs.map((c) => [c, []]));
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const c of configs) {
        const r = runOnce(c, n, binary, wasm);
        samples.get(c)!.push(r);
        process.stderr.write(
          `round ${round}/${rounds}  ${c.impl.padEnd(4)} ${c.variant} ${c.ring.padEnd(6)} ${c.api.padEnd(6)}  ${((r.seconds * 1e9) / n).toFixed(1).padStart(7)} ns/chain\n`,
        );
      }
    }
  } finally {
    cleanup();
  }

  const expectedSum = 8 * n + (n * (n - 1)) / 2;
  const baseline = (variant: Variant, ring: Ring) =>
    configs.find((c) => c.impl === 'c' && c.variant === variant && c.ring === ring)!;
  const results = configs.map((c) => {
    const runs = samples.get(c)!;
    const seconds = median(runs.map((r) => r.seconds));
    const cSeconds = median(samples.get(baseline(c.variant, c.ring))!.map((r) => r.seconds));
    const cSplitSeconds = median(samples.get(baseline(c.variant, 'split'))!.map((r) => r.seconds));
    // CPU time (variant A): the same ratio without the time other processes held the core.
    const cpu = (runs: Checksum[]) =>
      runs.every((r) => r.cpuSeconds !== undefined) ? median(runs.map((r) => r.cpuSeconds!)) : undefined;
    const cpuSeconds = cpu(runs);
    const cCpuSeconds = cpu(samples.get(baseline(c.variant, c.ring))!);
    const last = runs[runs.length - 1]!;
    return {
      main: c.main,
      impl: c.impl,
      variant: c.variant,
      ring: c.ring,
      api: c.api,
      chainsPerSec: n / seconds,
      nsPerChain: (seconds * 1e9) / n,
      ratioToC: seconds / cSeconds,
      ratioToCSplit: seconds / cSplitSeconds,
      cpuNsPerChain: cpuSeconds === undefined ? undefined : (cpuSeconds * 1e9) / n,
      cpuRatioToC: cpuSeconds === undefined || cCpuSeconds === undefined ? undefined : cpuSeconds / cCpuSeconds,
      roundsNsPerChain: runs.map((r) => (r.seconds * 1e9) / n),
      sum: last.sum,
      hash: last.hash,
      errors: Math.max(...runs.map((r) => r.errors)),
    };
  });

  const referenceHash = KNOWN_HASHES[n] ?? results[0]!.hash;
  let ok = true;
  const table = (rows: typeof results) => {
    console.log(
      '| impl | variant | ring | api | M chains/s | ns/chain | ratio to C | to C split | CPU ns/chain | CPU ratio to C | sum | hash | errors |',
    );
    console.log('| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |');
    for (const r of rows) {
      const good = r.sum === expectedSum && r.hash === referenceHash && r.errors === 0;
      ok &&= good;
      console.log(
        `| ${r.impl} | ${r.variant} | ${r.ring} | ${r.api} | ${(r.chainsPerSec / 1e6).toFixed(1)} | ${r.nsPerChain.toFixed(1)} | ${r.ratioToC.toFixed(2)}x | ${r.ratioToCSplit.toFixed(2)}x | ${r.cpuNsPerChain?.toFixed(1) ?? '-'} | ${r.cpuRatioToC === undefined ? '-' : `${r.cpuRatioToC.toFixed(2)}x`} | ${r.sum} | 0x${r.hash.toString(16).padStart(8, '0')} | ${r.errors}${good ? '' : ' CHECKSUM MISMATCH'} |`,
      );
    }
  };
  console.log(
    `\nsplit-pingpong, N = ${n.toLocaleString('en-US')}, median of ${rounds} rounds (ratio: time per chain / C's, same ring and variant)\n`,
  );
  table(results.filter((r) => r.main));
  console.log('\nthe same workload on the JavaScript batch calls (and the fused calls on the WebAssembly core):\n');
  table(results.filter((r) => !r.main));
  const goals = GOALS.flatMap((g) => {
    const row = results.find(
      (r) => r.main && r.variant === 'A' && r.impl === g.impl && r.ring === g.ring && r.api === g.api,
    );
    return row
      ? [{ ...g, variant: 'A', measured: row.ratioToC, met: row.ratioToC <= g.ratio, cpuMeasured: row.cpuRatioToC }]
      : [];
  });
  if (goals.length > 0) {
    console.log('\ngoals (variant A, ratio to C of the same ring):\n');
    for (const g of goals) {
      console.log(
        `  ${g.impl.padEnd(4)} ${g.ring.padEnd(6)} ${g.api.padEnd(6)} <= ${g.ratio.toFixed(2)}x: ${g.measured.toFixed(2)}x ${g.met ? 'met' : 'MISSED'} (CPU time: ${g.cpuMeasured?.toFixed(2) ?? '-'}x)`,
      );
    }
  }
  if (args.json) {
    const strip = ({ main: _main, ...row }: (typeof results)[number]) => row;
    const report = {
      workload: 'split-pingpong',
      n,
      rounds,
      goals,
      results: results.filter((r) => r.main).map(strip),
      alternatives: results.filter((r) => !r.main).map(strip),
    };
    writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nwrote ${args.json}`);
  }
  return ok ? 0 : 1;
}

process.exitCode = main();
