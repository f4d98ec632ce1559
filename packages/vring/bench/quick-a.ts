// Development helper: variant A only (C, wasm split, ts split), for quick before/after checks.
// npx tsx packages/vring/bench/quick-a.ts [N] [rounds] [impls=c,wasm,ts]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as vring from '@vhost-user/vring';
import { measureVariantA } from './workload.mjs';

const n = Number(process.argv[2] ?? 2_000_000);
const rounds = Number(process.argv[3] ?? 5);
const impls = (process.argv[4] ?? 'c,wasm,ts').split(',');
const dir = mkdtempSync(join(tmpdir(), 'vring-qa-'));
const binary = join(dir, 'pingpong');
execFileSync('gcc', ['-O2', '-pthread', '-o', binary, fileURLToPath(new URL('./pingpong.c', import.meta.url))]);
const res: Record<string, number[]> = {};
for (let r = 0; r < rounds; r++) {
  for (const impl of impls) {
    let s: { seconds: number; sum: number; hash: number; errors: number };
    if (impl === 'c') s = JSON.parse(spawnSync(binary, ['A', String(n)], { encoding: 'utf8' }).stdout);
    else {
      const [engine, layout] = impl.split(':') as ['wasm' | 'ts', 'split' | 'packed' | undefined];
      measureVariantA(vring, layout ?? 'split', engine, 1_000_000);
      s = measureVariantA(vring, layout ?? 'split', engine, n);
    }
    if (s.sum !== 8 * n + (n * (n - 1)) / 2 || s.errors !== 0) throw new Error(`${impl}: bad checksum ${JSON.stringify(s)}`);
    (res[impl] ??= []).push((s.seconds * 1e9) / n);
  }
}
rmSync(dir, { recursive: true, force: true });
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const c = res.c ? med(res.c) : NaN;
for (const [k, v] of Object.entries(res)) console.log(`${k.padEnd(12)} median ${med(v).toFixed(1)} ns  ratio ${(med(v) / c).toFixed(2)}x  [${v.map((x) => x.toFixed(1)).join(' ')}]`);
