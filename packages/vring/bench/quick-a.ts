// Development helper: variant A only, for quick before/after checks.
// npx tsx packages/vring/bench/quick-a.ts [N] [rounds] [impls=c,wasm:linked,ts:fused]
// An impl is c, or engine:api[:layout] (api linked | fused | batch).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as vring from '@vhost-user/vring';
import { linkedModule } from './linked.mjs';
import { measureVariantA, type Api } from './sides.mjs';
import type { Checksum } from './workload.mjs';

const n = Number(process.argv[2] ?? 2_000_000);
const rounds = Number(process.argv[3] ?? 5);
const impls = (process.argv[4] ?? 'c,wasm:linked,ts:fused').split(',');
const dir = mkdtempSync(join(tmpdir(), 'vring-qa-'));
const binary = join(dir, 'pingpong');
execFileSync('gcc', ['-O2', '-pthread', '-o', binary, fileURLToPath(new URL('./pingpong.c', import.meta.url))]);
const module = impls.some((i) => i.includes('linked')) ? linkedModule() : undefined;
const res: Record<string, number[]> = {};
for (let r = 0; r < rounds; r++) {
  for (const name of impls) {
    let s: Checksum;
    if (name === 'c') s = JSON.parse(spawnSync(binary, ['A', String(n)], { encoding: 'utf8' }).stdout) as Checksum;
    else {
      const [engine, api, layout] = name.split(':') as ['wasm' | 'ts', Api, 'split' | 'packed' | undefined];
      const impl = { engine, api, layout: layout ?? 'split' };
      measureVariantA(vring, impl, 1_000_000, module);
      s = measureVariantA(vring, impl, n, module);
    }
    if (s.sum !== 8 * n + (n * (n - 1)) / 2 || s.errors !== 0)
      throw new Error(`${name}: bad checksum ${JSON.stringify(s)}`);
    (res[name] ??= []).push((s.seconds * 1e9) / n);
  }
}
rmSync(dir, { recursive: true, force: true });
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const c = res.c ? med(res.c) : NaN;
for (const [k, v] of Object.entries(res))
  console.log(
    `${k.padEnd(16)} median ${med(v).toFixed(1)} ns  ratio ${(med(v) / c).toFixed(2)}x  [${v.map((x) => x.toFixed(1)).join(' ')}]`,
  );
